#!/usr/bin/env bash
# What the filesystem observer costs `srt run`: write-heavy jobs with and without it
# (`--no-fs-violations`), in the same run, as ratios; and a read-heavy job under a policy that
# hides a path with `--fs-violations all` (then every open is observed; the default, `writes`,
# observes only the calls that can write).
#
#   bench/fs-violations.sh [RUNS]
#   SRT_BENCH_RT=1 bench/fs-violations.sh     # as root: real-time priority against noise
#
# Jobs: unpack a tarball of 10,000 small files (100 directories) into the project, a write
# root; `git clone` of a local repository of 2,000 files (`--no-hardlinks`, so every object
# is written); read every one of 10,000 files (`tar cf - | wc -c`) where `~/.ssh` is hidden.
# The work directory is `mktemp -d` (set TMPDIR to a tmpfs to take the disk out of it).
# Bar (issue 13): the observer costs at most 10% on the write-heavy jobs to be on by default.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
command -v hyperfine >/dev/null 2>&1 || apt-get install -y -qq hyperfine >/dev/null
cargo build --release --locked --quiet
srt="$PWD/target/release/srt"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project" "$work/home/.ssh" "$work/state" "$work/data/src"
export HOME="$work/home" XDG_STATE_HOME="$work/state"
cd "$work/data/src"
for d in $(seq 0 99); do
  mkdir "d$d"
  for f in $(seq 0 99); do echo "file $d $f" > "d$d/f$f"; done
done
tar cf "$work/data/files.tar" .
git init -q "$work/data/repo"
cp -r "$work/data/src/d"{0..19} "$work/data/repo/"
git -C "$work/data/repo" add -A
git -C "$work/data/repo" -c user.name=b -c user.email=b@b commit -qm files

cd "$work/project"
cat > writes.json <<'JSON'
{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON
cat > hides.json <<'JSON'
{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh"],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}
JSON

# Each run starts from an empty project: the host removes what the last one made (inside
# the sandbox a clone's .git/hooks and .git/config are protected names, rightly).
untar="mkdir out && tar xf $work/data/files.tar -C out"
clone="git clone -q --no-hardlinks $work/data/repo clone"
# GNU tar reads nothing when the archive is /dev/null; a pipe makes it read every file.
reads="tar cf - -C $work/data/src . | wc -c >/dev/null"

rt=()
if [ "${SRT_BENCH_RT:-0}" = 1 ]; then rt=(chrt -f 50); fi
json="$work/results.json"
"${rt[@]}" hyperfine -N ${SRT_BENCH_SHOW:+--show-output} --warmup 2 --runs "$runs" --export-json "$json" \
  --prepare "rm -rf $work/project/out $work/project/clone" \
  --command-name "untar, no observer" "$srt run --no-fs-violations -s writes.json -c '$untar'" \
  --command-name "untar, observer" "$srt run -s writes.json -c '$untar'" \
  --command-name "git clone, no observer" "$srt run --no-fs-violations -s writes.json -c '$clone'" \
  --command-name "git clone, observer" "$srt run -s writes.json -c '$clone'" \
  --command-name "read 10k files, no observer" "$srt run --no-fs-violations -s hides.json -c '$reads'" \
  --command-name "read 10k files, observer (reads)" "$srt run --fs-violations all -s hides.json -c '$reads'" \
  >/dev/null

python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def cpu(x):
    return (x["user"] + x["system"]) * 1000
print(f"{'job':<34} {'median ms':>10} {'cpu ms':>8}  ratio (median)")
for job in ["untar", "git clone", "read 10k files"]:
    off = next(v for k, v in r.items() if k.startswith(job) and "no observer" in k)
    on = next(v for k, v in r.items() if k.startswith(job) and "no observer" not in k)
    for name, x in [(off["command"], off), (on["command"], on)]:
        print(f"{name:<34} {x['median']*1000:>10.1f} {cpu(x):>8.1f}")
    print(f"{'  observer / none':<34} {'':>10} {'':>8}  {on['median']/off['median']:.2f}x")
PY
