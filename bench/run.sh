#!/usr/bin/env bash
# Wall time of `srt run -- true` against bare bubblewrap with the same mounts, measured in the
# same run; with and without the network proxies; the npm srt too when it is installed; and
# srt's host RSS.
#
#   bench/run.sh [RUNS]
#   SRT_BENCH_RT=1 bench/run.sh      # as root: real-time priority (chrt -f 50) against noise
#   NPM_SRT=/path/to/cli.js bench/run.sh   # compare with the npm srt (default: npm's global root)
#
# Bars (issue "srt run on Linux"): no network ≤ 2× bare bwrap; with proxies ≤ 3×.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
command -v hyperfine >/dev/null 2>&1 || apt-get install -y -qq hyperfine >/dev/null
cargo build --release --locked --quiet
srt="$PWD/target/release/srt"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project" "$work/bare" "$work/home" "$work/state"
cd "$work/project"
export HOME="$work/home" XDG_STATE_HOME="$work/state"
cat > nonet.json <<'JSON'
{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh"],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON
cat > net.json <<'JSON'
{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh"],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON

# The baseline: bwrap with exactly the plan's mounts and namespaces, running `true` directly
# (no init, no proxies, no seccomp), in a twin project directory whose stubs are created once,
# up front; srt runs in the pristine one and pays for its stubs on every run.
cp nonet.json "$work/bare/"
(cd "$work/bare" && "$srt" compile --target linux -s nonet.json --format json) > plan.json
python3 - plan.json > bare.args <<'PY'
import json, os, sys
plan = json.load(open(sys.argv[1]))
for s in plan["stubs"]:
    p = s["path"]
    if s["kind"] == "dir":
        os.makedirs(p, exist_ok=True)
    elif not os.path.exists(p):
        open(p, "w").close()
args, skip = [], 0
argv = plan["bwrap"]
i = 0
while i < len(argv):
    # Drop the init's own mounts (srt binary, proxy sockets) and `--as-pid-1`: the baseline
    # runs no init, so bwrap keeps its own PID 1.
    if argv[i] == "--ro-bind" and i + 2 < len(argv) and ("srt-" in argv[i + 1] or argv[i + 1].endswith("/srt")):
        i += 3
        continue
    if argv[i] == "--as-pid-1":
        i += 1
        continue
    args.append(argv[i])
    i += 1
print("\n".join(args))
PY
mapfile -t bare < bare.args
bwrap "${bare[@]}" -- /bin/true || { echo "bench: the bare bwrap baseline does not run"; exit 1; }
bare_cmd="bwrap $(printf '%q ' "${bare[@]}") -- /bin/true"

npm_cli="${NPM_SRT:-$(npm root -g 2>/dev/null)/@anthropic-ai/sandbox-runtime/dist/cli.js}"
npm_args=()
if [ -f "$npm_cli" ]; then
  npm_args=(--command-name "npm srt -c true (proxies)" "node $npm_cli -s net.json -c true")
fi

rt=()
if [ "${SRT_BENCH_RT:-0}" = 1 ]; then rt=(chrt -f 50); fi
json="$work/results.json"
"${rt[@]}" hyperfine -N ${SRT_BENCH_SHOW:+--show-output} --warmup 5 --runs "$runs" --export-json "$json" \
  --command-name "bare bwrap, same mounts" "$bare_cmd" \
  --command-name "srt run -- true (no network)" "$srt run -s nonet.json -- /bin/true" \
  --command-name "srt run -- true (proxies)" "$srt run -s net.json -- /bin/true" \
  "${npm_args[@]}" >/dev/null

python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
base = results["bare bwrap, same mounts"]["median"] * 1000
print(f"{'command':<32} {'median':>9} {'min':>9}  vs bare bwrap")
for name, r in results.items():
    med, low = r["median"] * 1000, r["min"] * 1000
    print(f"{name:<32} {med:8.2f}ms {low:8.2f}ms  {med / base:5.2f}x")
nonet = results["srt run -- true (no network)"]["median"] * 1000 / base
proxies = results["srt run -- true (proxies)"]["median"] * 1000 / base
print(f"bars: no network {nonet:.2f}x (<= 2x: {'ok' if nonet <= 2 else 'MISSED'}), proxies {proxies:.2f}x (<= 3x: {'ok' if proxies <= 3 else 'MISSED'})")
PY

for policy in nonet net; do
  rss=$( { /usr/bin/time -f '%M' "$srt" run -s "$policy.json" -- /bin/true; } 2>&1 | tail -1)
  echo "srt host RSS ($policy): ${rss} KiB (max resident, srt process only)"
done
