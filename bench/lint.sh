#!/usr/bin/env bash
# Wall time of `srt lint`, against a baseline measured in the same run.
#
#   bench/lint.sh [RUNS]
#   SRT_BENCH_RT=1 bench/lint.sh     # as root: run under real-time priority (chrt -f 50), so
#                                    # other load on a shared machine disturbs the numbers less
#
# Policies: bench/policies/clean-minimal.srt.json (no finding at all; its wildcard makes the
# Public Suffix List load) and examples/rust-minimal.srt.json (typical: notes only). Baselines,
# in the same run: `cat` of the same file (process start-up plus reading the file), and
# `srt --version` (start-up of the same binary, no work). Reports medians and ratios, and exits
# 1 if the clean policy's median is above the 10 ms budget. On a shared or loaded machine wall
# times swing; `valgrind --tool=callgrind` instruction counts are the stable measure.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release --locked --quiet
srt="$PWD/target/release/srt"
clean=bench/policies/clean-minimal.srt.json
typical=examples/rust-minimal.srt.json

# The clean policy must really be clean: nothing printed, exit 0.
out="$("$srt" lint --target linux "$clean" 2>&1)" || { echo "bench: $clean is not clean:"; echo "$out"; exit 1; }
[ -z "$out" ] || { echo "bench: $clean printed findings:"; echo "$out"; exit 1; }

json="$(mktemp)"
trap 'rm -f "$json"' EXIT
rt=()
if [ "${SRT_BENCH_RT:-0}" = 1 ]; then rt=(chrt -f 50); fi
"${rt[@]}" hyperfine -N --warmup 10 --runs "$runs" --export-json "$json" \
  --command-name "cat (baseline)" "cat $clean" \
  --command-name "srt --version (baseline)" "$srt --version" \
  --command-name "srt lint clean-minimal" "$srt lint --target linux $clean" \
  --command-name "srt lint rust-minimal" "$srt lint --target linux -A missing-path $typical" \
  >/dev/null

python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["cat (baseline)"]["median"] * 1000
print(f"{'command':<26} {'median':>9} {'mean':>9} {'min':>9}  vs baseline")
for name, r in results.items():
    med, mean, low = (r[k] * 1000 for k in ("median", "mean", "min"))
    print(f"{name:<26} {med:8.2f}ms {mean:8.2f}ms {low:8.2f}ms  {med / base:5.1f}x")
clean = results["srt lint clean-minimal"]["median"] * 1000
budget = 10.0
print(f"clean policy median {clean:.2f} ms: {'within' if clean <= budget else 'OVER'} the {budget:.0f} ms budget")
sys.exit(0 if clean <= budget else 1)
PY
