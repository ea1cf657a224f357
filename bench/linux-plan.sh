#!/usr/bin/env bash
# Linux plan benchmark: HostFacts (the one walk) and planning, against the npm srt's ripgrep
# scan of the same tree, measured in the same run.
#
#   bench/linux-plan.sh [RUNS]
#
# 1. A generated tree of 200,000 files (10,000 directories, mandatory-deny names and a
#    node_modules among them): srt's mandatory-deny scan, and a full walk for a `**/*.pem`
#    deny glob, against the peer's command line (`rg --files … --max-depth 4 …`, from
#    linux-sandbox-utils.js) and `rg --files` with the same glob.
# 2. This repository as a repo-sized project: resolve + HostFacts + plan for a typical policy.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
TREE=${SRT_BENCH_TREE:-/tmp/srt-bench-tree-200k}

if [ ! -f "$TREE/.complete" ]; then
  echo "generating $TREE (200,000 files)…" >&2
  rm -rf "$TREE"
  python3 - "$TREE" <<'PY'
import os, sys
root = sys.argv[1]
n = 0
for a in range(20):
    for b in range(20):
        for c in range(25):
            d = os.path.join(root, f"pkg{a:02}", f"mod{b:02}", f"dir{c:02}")
            os.makedirs(d, exist_ok=True)
            for f in range(20):
                name = f"f{f:02}.pem" if f == 0 and c == 0 else f"f{f:02}.rs"
                open(os.path.join(d, name), "w").close()
                n += 1
for p in ["pkg01/.bashrc", "pkg02/mod03/.zshrc", "pkg03/.vscode/settings.json",
          "pkg04/mod01/dir01/.mcp.json", ".gitconfig"]:
    full = os.path.join(root, p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    open(full, "w").close()
os.makedirs(os.path.join(root, ".git", "hooks"), exist_ok=True)
open(os.path.join(root, ".git", "HEAD"), "w").close()
open(os.path.join(root, ".complete"), "w").close()
print(n, "files")
PY
fi

cargo build --release --quiet -p srt-compiler --example linux_plan_bench
BIN=target/release/examples/linux_plan_bench

echo "(each srt line: name median_ms min_ms)" >&2
# median wall-clock milliseconds of a command over RUNS runs
time_cmd() {
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t) * 1e3)
ts.sort()
print(f"{ts[len(ts)//2]:.2f}")
PY
}

MANDATORY_ONLY='{"filesystem":{"allowWrite":["."]}}'
WITH_GLOB='{"filesystem":{"denyRead":["**/*.pem"],"allowWrite":["."],"denyWrite":["*.lock"]}}'

PEER_SCAN=(rg --files --hidden --no-ignore --no-config --line-buffered --max-depth 4
  --iglob .gitconfig --iglob .gitmodules --iglob .bashrc --iglob .bash_profile --iglob .zshrc
  --iglob .zprofile --iglob .profile --iglob .ripgreprc --iglob .mcp.json
  --iglob '**/.vscode/**' --iglob '**/.idea/**' --iglob '**/.claude/commands/**'
  --iglob '**/.claude/agents/**' --iglob '**/.git/hooks/**' --iglob '**/.git/HEAD'
  --iglob '**/.git/config' -g '!**/node_modules/**' "$TREE")
RG_GLOB=(rg --files --hidden --no-ignore --no-config --iglob '*.pem' "$TREE")

echo "== 200k-file tree ($RUNS runs, median ms)"
srt_scan=$("$BIN" "$TREE" "$MANDATORY_ONLY" "$RUNS" | awk '$1=="gather"{print $2}')
peer_scan=$(time_cmd "${PEER_SCAN[@]}")
echo "mandatory-deny scan: srt HostFacts ${srt_scan} ms, peer rg scan ${peer_scan} ms (process included)"
srt_glob=$("$BIN" "$TREE" "$WITH_GLOB" "$RUNS" | awk '$1=="gather"{print $2}')
rg_glob=$(time_cmd "${RG_GLOB[@]}")
echo "full walk (**/*.pem + scan): srt HostFacts ${srt_glob} ms, rg --files --iglob '*.pem' ${rg_glob} ms"

echo "== this repository ($(git ls-files | wc -l) tracked files; target/ excluded from the glob by the policy below)"
REPO_POLICY='{"filesystem":{"denyRead":["~/.ssh","src/**/*.pem","compiler/**/*.key"],"allowWrite":[".","/tmp"],"denyWrite":["*.lock",".env"]}}'
"$BIN" . "$REPO_POLICY" "$RUNS"
echo "== this repository, with a deny glob over the whole tree (target/ included)"
"$BIN" . "$WITH_GLOB" "$RUNS"
