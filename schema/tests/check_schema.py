#!/usr/bin/env python3
"""Dev aid: check schema/srt-settings.schema.json.

Checks that the schema is a valid JSON Schema draft 2020-12 document, that
every property and every $defs entry has a description, that known-good
settings files validate and that known-bad ones fail.

Good files come from the reference material when it is present
(SRT_REFERENCE_DIR, default /work/shared/reference): every ```json block of
seed-srt-skill.md (a block that is a bare `"allowedDomains": [...]` fragment
is wrapped as {"network": {...}}) and sbpl/s1.json, s2.json, s3.json.
Every ```json block of the book (book/src) must validate too: blocks that
are a `{ "path": ..., "literal": true }` entry against $defs/pathEntry, the
others as whole settings files. Inline cases below are always checked.

Usage: python3 schema/tests/check_schema.py   (needs `pip install jsonschema`)
Exit status 0 when every check passes, 1 otherwise.
"""

import json
import os
import re
import sys
from pathlib import Path

try:
    import jsonschema
except ImportError:
    sys.exit("check_schema.py needs the jsonschema package: pip install jsonschema")

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE.parent / "srt-settings.schema.json"
BOOK_SRC = HERE.parent.parent / "book" / "src"
REFERENCE = Path(os.environ.get("SRT_REFERENCE_DIR", "/work/shared/reference"))

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg)


def missing_descriptions(schema):
    """Paths of properties and $defs entries without a description."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            for key in ("properties", "$defs"):
                for name, sub in node.get(key, {}).items():
                    p = f"{path}/{key}/{name}"
                    if isinstance(sub, dict) and "description" not in sub:
                        out.append(p)
                    walk(sub, p)
            for key, sub in node.items():
                if key in ("properties", "$defs"):
                    continue
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}/{i}")

    walk(schema, "#")
    return out


def seed_blocks(text):
    """JSON blocks of the seed skill file, fragments wrapped as a network object."""
    docs = []
    for i, m in enumerate(re.finditer(r"```json\n(.*?)```", text, re.S)):
        body = m.group(1).strip()
        if body.startswith("{"):
            docs.append((f"seed block {i}", json.loads(body)))
        elif body.startswith('"allowedDomains"'):
            docs.append((f"seed block {i} (fragment)", json.loads("{\"network\":{" + body + "}}")))
        else:
            fail(f"seed block {i}: neither an object nor an allowedDomains fragment")
    return docs


GOOD = [
    ("empty object (srt treats missing lists as empty)", {}),
    ("npm srt built-in default", {
        "network": {"allowedDomains": [], "deniedDomains": []},
        "filesystem": {"denyRead": [], "allowRead": [], "allowWrite": [], "denyWrite": []},
    }),
    ("literal path entry", {
        "filesystem": {"denyRead": [{"path": "/tmp/[weird]", "literal": True}, "~/.ssh"]},
    }),
    ("every key", {
        "$schema": "https://srt.dev/srt-settings.schema.json",
        "network": {
            "allowedDomains": ["example.com", "*.example.com:443", "[::1]:8080"],
            "deniedDomains": ["*:22", "evil.example.com"],
            "deniedDomainReasons": {"*:22": "no SSH"},
            "allowUnixSockets": ["/var/run/docker.sock"],
            "allowAllUnixSockets": False,
            "allowLocalBinding": True,
            "httpProxyPort": 3128,
            "socksProxyPort": 1080,
            "strictAllowlist": True,
            "deniedResolvedAddresses": ["10.0.0.0/8", "fc00::/7"],
            "allowMachLookup": ["com.1password.*", "com.apple.foo", "*"],
            "mitmProxy": {"socketPath": "/tmp/mitm.sock", "domains": ["api.example.com"]},
            "allowPlaintextHeaderSet": False,
            "stripResponseHeaders": ["set-cookie"],
            "refuseOpaqueTunnels": True,
            "requireHostMatch": True,
            "ambiguousRequestTarget": "normalize",
            "tlsTerminate": {
                "caCertPath": "/etc/ca.pem", "caKeyPath": "/etc/ca.key",
                "excludeDomains": ["mtls.example.com"], "extraCaCertPaths": ["/etc/roots.pem"],
                "maxTunnels": 256, "handshakeTimeoutMs": 10000,
            },
            "parentProxy": {"http": "http://proxy:8080", "https": "http://proxy:8443", "noProxy": "localhost,10.0.0.0/8"},
        },
        "filesystem": {
            "denyRead": ["~/.ssh"], "allowRead": ["~/.ssh/known_hosts"],
            "allowWrite": ["."], "denyWrite": [".env"],
            "allowGitConfig": True, "disabled": False,
        },
        "credentials": {
            "files": [{"path": "~/.netrc", "mode": "mask", "extract": "password (\\S+)",
                       "onExtractNoMatch": "deny", "maskDuplicates": True, "injectHosts": ["example.com"]},
                      {"path": "~/.token", "mode": "mask", "decode": "jwt", "maskClaims": ["sub"]}],
            "envVars": [{"name": "GITHUB_TOKEN", "mode": "deny"},
                        {"name": "MY_KEY_ID", "mode": "mask"}, {"name": "MY_SECRET", "mode": "mask"}],
            "allowPlaintextInject": False,
            "awsPairs": [{"accessKeyIdVar": "MY_KEY_ID", "secretAccessKeyVar": "MY_SECRET"}],
            "sigv4": {"streaming": "deny", "presigned": "passthrough", "sigv4a": "deny"},
        },
        "ignoreViolations": {"*": ["/dev/tty"], "npm": ["registry.npmjs.org"]},
        "enableWeakerNestedSandbox": False,
        "enableWeakerNetworkIsolation": False,
        "allowPty": True,
        "allowAppleEvents": False,
        "allowNestedUserNamespaces": False,
        "mandatoryDenySearchDepth": 10,
        "ripgrep": {"command": "rg", "args": [], "argv0": "rg"},
        "seccomp": {"applyPath": "/opt/apply-seccomp", "argv0": "apply-seccomp"},
        "bwrapPath": "/usr/bin/bwrap",
        "socatPath": "/usr/bin/socat",
        "javaAgentJarPath": "/opt/srt-proxy-agent.jar",
        "windows": {"backend": "srt-win", "sandboxUser": "srt-sandbox",
                    "sublayerGuid": "6f1c9a6e-2f0b-4c39-9d1e-0a6c3a1f2b7d",
                    "proxyPortRange": [60080, 60089], "srtWin": {"path": "C:\\srt-win.exe"}},
        "git": {"safeDirectories": ["/work/repo"]},
    }),
]

BAD = [
    ("unknown key allowedDomain in network", {"network": {"allowedDomain": []}}),
    ("unknown top-level key", {"bogusKey": 1}),
    ("typo denywrite in filesystem", {"filesystem": {"denywrite": [".env"]}}),
    ("httpProxyPort 70000", {"network": {"httpProxyPort": 70000}}),
    ("socksProxyPort 0", {"network": {"socksProxyPort": 0}}),
    ("httpProxyPort not an integer", {"network": {"httpProxyPort": 3128.5}}),
    ("allowPty \"yes\"", {"allowPty": "yes"}),
    ("empty path string", {"filesystem": {"denyRead": [""]}}),
    ("literal false", {"filesystem": {"denyRead": [{"path": "x", "literal": False}]}}),
    ("literal entry without literal", {"filesystem": {"denyRead": [{"path": "x"}]}}),
    ("literal entry with extra key", {"filesystem": {"denyWrite": [{"path": "x", "literal": True, "extra": 1}]}}),
    ("literal entry with empty path", {"filesystem": {"denyWrite": [{"path": "", "literal": True}]}}),
    ("number path entry", {"filesystem": {"allowWrite": [7]}}),
    ("allowedDomains a string", {"network": {"allowedDomains": "example.com"}}),
    ("mandatoryDenySearchDepth 0", {"mandatoryDenySearchDepth": 0}),
    ("mandatoryDenySearchDepth 11", {"mandatoryDenySearchDepth": 11}),
    ("ignoreViolations value a string", {"ignoreViolations": {"*": "x"}}),
    ("deniedDomainReasons empty reason", {"network": {"deniedDomainReasons": {"*": ""}}}),
    ("root is an array", []),
    ("root is null", None),
    ("mitmProxy without domains", {"network": {"mitmProxy": {"socketPath": "/s"}}}),
    ("mitmProxy with empty domains", {"network": {"mitmProxy": {"socketPath": "/s", "domains": []}}}),
    ("tlsTerminate cert without key", {"network": {"tlsTerminate": {"caCertPath": "/c.pem"}}}),
    ("tlsTerminate maxTunnels 0", {"network": {"tlsTerminate": {"maxTunnels": 0}}}),
    ("ambiguousRequestTarget unknown value", {"network": {"ambiguousRequestTarget": "drop"}}),
    ("credentials unknown key", {"credentials": {"injectHosts": []}}),
    ("credentials env var bad name", {"credentials": {"envVars": [{"name": "1X", "mode": "deny"}]}}),
    ("credentials file bad mode", {"credentials": {"files": [{"path": "/x", "mode": "hide"}]}}),
    ("awsPairs extra key", {"credentials": {"awsPairs": [{"accessKeyIdVar": "A", "secretAccessKeyVar": "B", "x": 1}]}}),
    ("sigv4 extra key", {"credentials": {"sigv4": {"chunked": "deny"}}}),
    ("allowMachLookup interior wildcard", {"network": {"allowMachLookup": ["com.*.foo"]}}),
    ("ripgrep without command", {"ripgrep": {"args": []}}),
    ("bwrapPath empty", {"bwrapPath": ""}),
    ("windows sandboxUser too long", {"windows": {"sandboxUser": "x" * 21}}),
    ("windows proxyPortRange three items", {"windows": {"proxyPortRange": [1, 2, 3]}}),
    ("git unknown key", {"git": {"safeDirectory": []}}),
]


def main():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        fail(f"schema is not a valid draft 2020-12 schema: {e.message}")
        return
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        fail("$schema is not draft 2020-12")
    for p in missing_descriptions(schema):
        fail(f"no description: {p}")

    validator = jsonschema.Draft202012Validator(schema)

    good = list(GOOD)
    seed = REFERENCE / "seed-srt-skill.md"
    if seed.is_file():
        good += seed_blocks(seed.read_text(encoding="utf-8"))
    else:
        print(f"note: {seed} not found, seed blocks skipped")
    for name in ("s1.json", "s2.json", "s3.json"):
        f = REFERENCE / "sbpl" / name
        if f.is_file():
            good.append((f"sbpl/{name}", json.loads(f.read_text(encoding="utf-8"))))
        else:
            print(f"note: {f} not found, skipped")

    for name, doc in good:
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            for e in errors:
                loc = "/".join(str(x) for x in e.absolute_path) or "(root)"
                fail(f"good document rejected: {name}: {loc}: {e.message}")
        else:
            print("ok  accepts", name)

    path_entry = jsonschema.Draft202012Validator({"$ref": "#/$defs/pathEntry", "$defs": schema["$defs"]})
    for md in sorted(BOOK_SRC.rglob("*.md")) if BOOK_SRC.is_dir() else []:
        for i, m in enumerate(re.finditer(r"```json\n(.*?)```", md.read_text(encoding="utf-8"), re.S)):
            name = f"book {md.relative_to(BOOK_SRC)} block {i}"
            try:
                doc = json.loads(m.group(1))
            except json.JSONDecodeError as e:
                fail(f"{name}: not JSON: {e}")
                continue
            v = path_entry if isinstance(doc, dict) and set(doc) == {"path", "literal"} else validator
            errors = list(v.iter_errors(doc))
            for e in errors:
                loc = "/".join(str(x) for x in e.absolute_path) or "(root)"
                fail(f"{name}: {loc}: {e.message}")
            if not errors:
                print("ok  accepts", name)

    for name, doc in BAD:
        if validator.is_valid(doc):
            fail(f"bad document accepted: {name}")
        else:
            print("ok  rejects", name)


if __name__ == "__main__":
    main()
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")
