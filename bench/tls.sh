#!/usr/bin/env bash
# Throughput through a TLS-terminated tunnel against an opaque one (both over TLS to a local
# origin), and the CPU per GiB of each; the bar is terminated >= 0.5x opaque. Extra arguments
# go to the binary (--bytes N, --rounds N). Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p srt-bench --bin tls --quiet
exec target/release/tls "$@"
