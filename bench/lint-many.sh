#!/usr/bin/env bash
# Wall time of one `srt lint` call on 500 policy files, against `cat` of the same files.
#
#   bench/lint-many.sh [RUNS]
#   SRT_BENCH_RT=1 bench/lint-many.sh     # as root: real-time priority (chrt -f 50)
#
# The files are the lint corpus (snapshots/corpus/*.json: realistic policies with findings of
# every kind), copied until there are 500. Measured as CI and pre-commit run it (`--portable`:
# the same findings on every machine) and as a user runs it by hand (the local-disk group too,
# which resolves each file a second time against this machine). Reports medians and CPU time
# (user + system, which a loaded machine inflates less than wall time), and exits 1 if the
# portable call's median is above the 100 ms budget (issue 12).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release --locked --quiet
srt="$PWD/target/release/srt"

dir="$(mktemp -d)"
json="$(mktemp)"
trap 'rm -rf "$dir" "$json"' EXIT
corpus=(snapshots/corpus/*.json)
n=0
while [ "$n" -lt 500 ]; do
  for f in "${corpus[@]}"; do
    [ "$(basename "$f")" = expected.json ] && continue
    [ "$n" -ge 500 ] && break
    cp "$f" "$dir/$n-$(basename "$f")"
    n=$((n + 1))
  done
done
files=("$dir"/*.json)
echo "${#files[@]} policy files, $(cat "${files[@]}" | wc -c) bytes"

rt=()
if [ "${SRT_BENCH_RT:-0}" = 1 ]; then rt=(chrt -f 50); fi
# `srt lint` exits 1 when a file has an error-level finding, as corpus files do.
"${rt[@]}" hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$json" \
  --command-name "cat (baseline)" "cat ${files[*]}" \
  --command-name "srt lint --portable (CI, pre-commit)" "$srt lint --portable --format json ${files[*]}" \
  --command-name "srt lint (by hand: local-disk group too)" "$srt lint --local --format json ${files[*]}" \
  >/dev/null

python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print(f"{'command':<42} {'median':>9} {'mean':>9} {'min':>9} {'CPU':>9}  per file")
for name, r in results.items():
    med, mean, low = (r[k] * 1000 for k in ("median", "mean", "min"))
    cpu = (r["user"] + r["system"]) * 1000
    print(f"{name:<42} {med:8.2f}ms {mean:8.2f}ms {low:8.2f}ms {cpu:8.2f}ms  {med / 500 * 1000:6.1f} us")
portable = results["srt lint --portable (CI, pre-commit)"]["median"] * 1000
budget = 100.0
print(f"500 files, portable: {portable:.1f} ms median: {'within' if portable <= budget else 'OVER'} the {budget:.0f} ms budget")
sys.exit(0 if portable <= budget else 1)
PY
