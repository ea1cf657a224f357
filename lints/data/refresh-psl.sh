#!/usr/bin/env bash
# Refreshes public_suffix_list.dat and its licence from PyPI's `publicsuffixlist` package,
# which ships the Public Suffix List (MPL-2.0). Uses only the package registry; srt itself never
# touches the network. Usage: lints/data/refresh-psl.sh [VERSION]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "publicsuffixlist${1:+==$1}"
python3 - "$here" "$tmp"/publicsuffixlist-*.whl <<'PY'
import pathlib, sys, zipfile
here, wheel = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    dat = next(n for n in names if n.endswith("/public_suffix_list.dat"))
    lic = next(n for n in names if n.endswith("LICENSE"))
    text = z.read(dat).decode("utf-8")
    if "BEGIN ICANN DOMAINS" not in text or "BEGIN PRIVATE DOMAINS" not in text:
        sys.exit(f"{dat}: not a Public Suffix List")
    (here / "public_suffix_list.dat").write_text(text, encoding="utf-8")
    (here / "public_suffix_list.LICENSE").write_bytes(z.read(lic))
    version = next((l for l in text.splitlines() if l.startswith("// VERSION:")), "// VERSION: ?")
    print(f"public_suffix_list.dat from {pathlib.Path(wheel).name}: {version[3:]}")
PY
