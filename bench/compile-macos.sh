#!/usr/bin/env bash
# `srt compile --target macos` against the npm srt producing the same profile, measured in the
# same run: median wall-clock milliseconds over RUNS runs.
#
#   bench/compile-macos.sh [RUNS]
#
# The npm srt side is snapshots/reference/peer-sbpl/generate.mjs (node, the package's library,
# platform faked as darwin, initialize + wrapWithSandbox), which is how its profile comes to be
# inside `srt -c …`; `node -e ''` is shown as the floor of any node program. Needs node and the
# npm package (SRT_PACKAGE, default /work/peer/node_modules/@anthropic-ai/sandbox-runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
CFG=snapshots/reference/peer-sbpl/s2.json
cargo build --release --quiet --bin srt

time_cmd() {
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}")
    ts.append((time.perf_counter() - t) * 1e3)
ts.sort()
print(f"{ts[len(ts)//2]:.2f}")
PY
}

srt=$(time_cmd target/release/srt compile --target macos -s "$CFG" --cwd /Users/dev/project --home /Users/dev)
echo "srt compile --target macos (s2):        ${srt} ms"
if command -v node >/dev/null && [ -d "${SRT_PACKAGE:-/work/peer/node_modules/@anthropic-ai/sandbox-runtime}" ]; then
  npm=$(time_cmd node snapshots/reference/peer-sbpl/generate.mjs "$CFG")
  floor=$(time_cmd node -e '')
  echo "npm srt generating the same profile:    ${npm} ms"
  echo "node -e '' (floor of any node program): ${floor} ms"
  python3 -c "print(f'ratio npm srt / srt: {$npm / $srt:.1f}x')"
else
  echo "node or the npm package is missing: no comparison"
fi
