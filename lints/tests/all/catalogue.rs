//! The catalogue is complete and its documentation is true: every declaration is well formed,
//! every lint's doc examples behave as documented (the bad one fires, the good one does not),
//! and every code the schema, the compiler and its backends can emit is registered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use srt_compiler::backend::linux::{NOTE_CODES, REFUSAL_CODES};
use srt_compiler::backend::macos::ERROR_CODES;
use srt_compiler::{FakeFs, ResolveOptions};
use srt_lints::{check, registry, Kind, Level, LevelConfig, Target};

fn options() -> ResolveOptions {
    ResolveOptions {
        cwd: "/home/dev/project".into(),
        home: "/home/dev".into(),
        settings_path: Some("/home/dev/project/.srt.json".into()),
    }
}

fn fs() -> FakeFs {
    FakeFs::new()
        .dir("/home/dev/project/src")
        .dir("/home/dev/.ssh")
        .dir("/home/dev/.cargo/registry")
        .dir("/home/dev/.cargo/git")
        .dir("/home/dev/certs")
        .dir("/tmp")
        .file("/var/run/docker.sock")
        // credential-readable-elsewhere's example: a credential file with a backup beside it.
        .file("/home/dev/.api-key")
        .file("/home/dev/.api-key.bak")
}

fn codes_of(json: &str) -> Vec<String> {
    let loaded = srt_schema::load_str(".srt.json", None, json);
    check(
        &loaded,
        &options(),
        &fs(),
        Target::Linux,
        &LevelConfig::default(),
    )
    .into_iter()
    .map(|d| d.code.to_string())
    .collect()
}

#[test]
fn declarations_are_well_formed() {
    let mut seen = HashSet::new();
    for l in registry() {
        assert!(seen.insert(l.code), "duplicate code {}", l.code);
        assert!(
            l.code.split('-').all(|w| !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
            "{} is not kebab-case",
            l.code
        );
        assert!(
            !l.summary.is_empty() && !l.summary.ends_with('.'),
            "{}: summary",
            l.code
        );
        let doc = l.doc();
        for section in ["### What it does", "### Why is this bad", "### Example"] {
            assert!(doc.contains(section), "{}: doc lacks `{section}`", l.code);
        }
        assert_eq!(l.kind == Kind::Lint, l.check.is_some(), "{}", l.code);
    }
    let lints = registry().iter().filter(|l| l.kind == Kind::Lint).count();
    assert!(lints >= 20, "only {lints} lints");
}

#[test]
fn the_design_cards_lints_are_all_there() {
    for code in [
        "exfiltration-surface",
        "claude-session-env-not-writable",
        "mcp-cache-not-writable",
        "unknown-key",
        "wildcard-over-public-suffix",
        "domain-fronting-surface",
        "private-or-metadata-host",
        "dangerous-unix-socket",
        "write-allows-host-code-execution",
        "weaker-sandbox-option",
        "sensitive-paths-readable",
        "invalid-domain-pattern",
        "redundant-entry",
        "shadowed-allow",
        "overridden-by-mandatory-deny",
        "platform-no-op",
        "missing-path",
        "incomplete-ecosystem-allowlist",
        "peer-incompatible",
        "unsupported-key",
        "costly-glob",
    ] {
        assert!(srt_lints::find(code).is_some(), "{code} is missing");
    }
}

#[test]
fn doc_examples_do_what_the_docs_say() {
    for l in registry() {
        let (bad, good) = l.examples();
        if l.kind == Kind::Lint {
            assert!(
                !bad.is_empty() && !good.is_empty(),
                "{}: needs a bad and a good JSON example",
                l.code
            );
        }
        for b in &bad {
            let codes = codes_of(b);
            assert!(
                codes.iter().any(|c| c == l.code),
                "{}: bad example does not fire:\n{b}\ngot {codes:?}",
                l.code
            );
        }
        for g in &good {
            let codes = codes_of(g);
            assert!(
                !codes.iter().any(|c| c == l.code),
                "{}: good example fires:\n{g}",
                l.code
            );
            let loaded = srt_schema::load_str(".srt.json", None, g);
            assert!(
                !loaded.has_errors(),
                "{}: good example is invalid: {:#?}",
                l.code,
                loaded.diagnostics
            );
        }
    }
}

#[test]
fn every_code_the_front_end_emits_is_registered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The front end's codes: a diagnostic is made from a `Code`, and the front end's are
    // declared in one list (no string at a call site compiles).
    let mut found: HashSet<String> = srt_schema::code::FRONT_END_CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    // The backends' codes, which they list themselves.
    found.extend(
        NOTE_CODES
            .iter()
            .chain(REFUSAL_CODES)
            .chain(ERROR_CODES)
            .map(|c| c.to_string()),
    );
    // Codes the bad fixtures produce.
    for entry in std::fs::read_dir(root.join("snapshots/policies/bad")).unwrap() {
        let path = entry.unwrap().path();
        let loaded = srt_schema::load_bytes("x.json", None, &std::fs::read(&path).unwrap());
        found.extend(loaded.diagnostics.iter().map(|d| d.code.to_string()));
    }
    for code in found {
        assert!(
            srt_lints::find(&code).is_some(),
            "`{code}` is emitted but not registered"
        );
    }
}

#[test]
fn the_backend_codes_are_exactly_the_backends_lists() {
    let registered: BTreeSet<(&str, Level)> = registry()
        .iter()
        .filter(|l| l.kind == Kind::Backend)
        .map(|l| (l.code, l.level))
        .collect();
    let listed: BTreeSet<(&str, Level)> = NOTE_CODES
        .iter()
        .map(|c| (*c, Level::Note))
        .chain(ERROR_CODES.iter().map(|c| (*c, Level::Deny)))
        .chain(REFUSAL_CODES.iter().map(|c| (*c, Level::Deny)))
        .collect();
    assert_eq!(registered, listed);
}
