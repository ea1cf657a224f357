#!/usr/bin/env bash
# The cost of a large project: `srt run -- true` in a 200,000-file project (with `allowWrite:
# ["."]`, and with a `denyRead` of `**/*.pem` too) against the same in an empty project, with
# srt's indexes cold (removed before each run) and warm, and the audit's own time as srt
# measures it (`-d` prints it), over RUNS runs each.
#
#   bench/audit.sh [RUNS]
#   SRT_BENCH_AUDIT_TREE=/path bench/audit.sh     # where the tree is built (default under /tmp)
#   SRT_BENCH_RT=1 bench/audit.sh                 # as root: real-time priority (chrt -f 50)
#
# The tree (200,011 files): 10,000 directories of 19 files (pkgNN/modNN/dirNN), a node_modules
# of 2,000 packages (4 files each), a git repository at the top with 2,000 loose objects, and a
# few protected names at depth 1–5 (older than every run, so nothing is reported).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
TREE=${SRT_BENCH_AUDIT_TREE:-/tmp/srt-bench-audit-200k-v2}

if [ ! -f "$TREE/.complete" ]; then
  echo "generating $TREE (200,000 files)…" >&2
  rm -rf "$TREE"
  python3 - "$TREE" <<'PY'
import os, sys
root = sys.argv[1]
n = 0
def touch(p):
    global n
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").close()
    n += 1
for a in range(20):
    for b in range(20):
        for c in range(25):
            d = os.path.join(root, f"pkg{a:02}", f"mod{b:02}", f"dir{c:02}")
            for f in range(19):
                touch(os.path.join(d, f"f{f:02}.rs"))
for p in range(2000):
    for f in ["package.json", "index.js", "lib/a.js", "lib/b.js"]:
        touch(os.path.join(root, "node_modules", f"p{p:04}", f))
for i in range(2000):
    touch(os.path.join(root, ".git", "objects", f"{i % 256:02x}", f"{i:038x}"))
for f in ["HEAD", "config", "description", "hooks/pre-commit.sample", "refs/heads/main"]:
    touch(os.path.join(root, ".git", f))
for p in ["pkg01/.bashrc", "pkg02/mod03/.zshrc", "pkg03/.vscode/settings.json",
          "pkg04/mod01/dir01/.mcp.json", "pkg05/mod02/dir03/x/.vscode/tasks.json", ".gitconfig"]:
    touch(os.path.join(root, p))
open(os.path.join(root, ".complete"), "w").close()
print(n, "files", file=sys.stderr)
PY
  sleep 1.1  # older than the second any run starts in
fi

cargo build --release --locked --quiet
srt="$PWD/target/release/srt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty" "$work/home" "$work/state"
export HOME="$work/home" XDG_STATE_HOME="$work/state"
policy="$work/policy.json"
cat > "$policy" <<'JSON'
{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON
pem="$work/pem.json"
cat > "$pem" <<'JSON'
{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["**/*.pem"],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON
rt=()
if [ "${SRT_BENCH_RT:-0}" = 1 ]; then rt=(chrt -f 50); fi

# median and minimum wall-clock milliseconds, and median CPU milliseconds (user + system, srt
# and every process it started), of a command over RUNS runs, in DIR. The CPU time does not
# move with the load of other processes; the wall time does. With COLD=1 srt's indexes are
# removed before each run (the first run in a project, or after a change of policy).
time_in() {
  local dir=$1; shift
  (cd "$dir" && COLD="${COLD:-0}" "${rt[@]}" python3 - "$RUNS" "$XDG_STATE_HOME/srt/audit" "$@" <<'PY'
import os, resource, shutil, subprocess, sys, time
runs = int(sys.argv[1]); index = sys.argv[2]; cmd = sys.argv[3:]
cold = os.environ.get("COLD") == "1"
def run():
    if cold:
        shutil.rmtree(index, ignore_errors=True)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
run()  # warm the page cache (and the index)
if not cold:
    time.sleep(3.5)  # past the index's settling time
    run()
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
ts, cs = [], []
for _ in range(runs):
    if cold:
        shutil.rmtree(index, ignore_errors=True)
    c = cpu(); t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1e3); cs.append((cpu() - c) * 1e3)
ts.sort(); cs.sort()
print(f"{ts[len(ts)//2]:.1f} {ts[0]:.1f} {cs[len(cs)//2]:.1f}")
PY
  )
}

# the audit's own time, from `-d`'s summary line, median over RUNS runs (index warm)
audit_ms() {
  (cd "$1" && for _ in $(seq "$RUNS"); do
    "${rt[@]}" "$srt" run -d -s "$policy" -- true 2>&1 >/dev/null | sed -n 's/^srt: audit: nothing found under .* directories, [0-9]* listed, \([0-9.]*\) ms.*$/\1/p'
  done | sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "none"; exit 1}; print a[int((NR+1)/2)]}')
}

summary=$(cd "$TREE" && "$srt" run -d -s "$policy" -- true 2>&1 >/dev/null | grep '^srt: audit:' || true)
echo "== $summary"
case "$summary" in *"nothing found"*) ;; *) echo "bench: the audit reported something in the bench tree" >&2; exit 1;; esac
sleep 3.5
echo "srt run -- true, median of $RUNS (wall median / min, CPU median):"
for p in "$policy" "$pem"; do
  name=$([ "$p" = "$pem" ] && echo 'denyRead **/*.pem' || echo 'allowWrite . only ')
  read -r cold_med cold_min cold_cpu <<<"$(COLD=1 time_in "$TREE" "$srt" run -s "$p" -- true)"
  read -r warm_med warm_min warm_cpu <<<"$(time_in "$TREE" "$srt" run -s "$p" -- true)"
  echo "  200k-file project, $name  index cold ${cold_med} / ${cold_min} ms, CPU ${cold_cpu} ms;  warm ${warm_med} / ${warm_min} ms, CPU ${warm_cpu} ms"
done
read -r empty_med empty_min empty_cpu <<<"$(time_in "$work/empty" "$srt" run -s "$policy" -- true)"
echo "  empty project                          ${empty_med} / ${empty_min} ms, CPU ${empty_cpu} ms"
echo "the audit alone, index warm (srt's own clock, -d): 200k-file project $(audit_ms "$TREE") ms, empty project $(audit_ms "$work/empty") ms"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
