#!/usr/bin/env bash
# 1 GiB through the proxy's CONNECT tunnel against direct loopback TCP, in one run; prints MB/s,
# the ratios, the proxy's RSS and descriptor counts. Extra arguments go to the binary
# (--bytes N, --rounds N).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p srt-bench --bin tunnel --quiet
exec target/release/tunnel "$@"
