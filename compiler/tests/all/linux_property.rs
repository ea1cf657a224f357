//! Property: for generated policies and filesystems, what the plan's mounts let a command do
//! to a path (hidden, read-only, writable) is what `decide_path` says, for every path that
//! exists and for a new name in every directory, except where the plan says (with a coded
//! note) that bwrap cannot express it: a name a deny glob or a nested mandatory deny would
//! cover only once it is created.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{decided, plan_with, simulate, state_at, State, CWD};
use proptest::prelude::*;
use srt_compiler::{FakeFs, FsView, Ir, PathPattern};

/// Files that may exist (their directories come with them).
const FILES: &[&str] = &[
    "/home/dev/project/src/main.rs",
    "/home/dev/project/src/k.pem",
    "/home/dev/project/Cargo.lock",
    "/home/dev/project/a/x.lock",
    "/home/dev/project/.env",
    "/home/dev/project/secrets/key",
    "/home/dev/project/a/.bashrc",
    "/home/dev/project/.bashrc",
    "/home/dev/project/a/b/c.txt",
    "/home/dev/project/a/b/d.pem",
    "/home/dev/project/out/o.txt",
    "/home/dev/project/.git/HEAD",
    "/home/dev/project/.git/config",
    "/home/dev/project/a/.vscode/settings.json",
    "/home/dev/project/node_modules/m/index.js",
    "/home/dev/.ssh/id_rsa",
    "/home/dev/.ssh/known_hosts",
    "/home/dev/.profile",
    "/home/dev/notes.txt",
    "/etc/passwd",
    "/tmp/t.txt",
    "/srv/data/x",
];

const DENY_READ: &[&str] = &[
    "~/.ssh",
    "secrets",
    "**/*.pem",
    "/etc/passwd",
    "~",
    "a/b",
    "/srv",
];
const ALLOW_READ: &[&str] = &["~/.ssh/known_hosts", "a", ".", "src/main.rs", "/srv/data"];
/// Allow entries are given existing targets (a missing one is a coded note, not a mount).
const ALLOW_WRITE: &[&str] = &[
    ".",
    "out/**",
    "src",
    "/tmp",
    "~",
    "a/b",
    "*.lock",
    "/srv/data",
];
const DENY_WRITE: &[&str] = &[
    "*.lock",
    ".env",
    "a",
    "src/**",
    "out/o.txt",
    "missing/file",
    "**/*.txt",
];

fn subset(all: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(all, 0..=all.len().min(4))
}

fn json_list(v: &[&str]) -> String {
    serde_json::to_string(v).unwrap()
}

fn glob_covers_new_path(ir: &Ir, p: &Path) -> bool {
    let globs = ir
        .fs
        .deny_read
        .iter()
        .chain(&ir.fs.deny_write)
        .chain(&ir.fs.mandatory_deny);
    globs
        .filter(|r| r.pattern.is_glob())
        .any(|r| r.pattern.covers(p, true))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn mounts_agree_with_decide_path(
        files in proptest::sample::subsequence(FILES, 0..=FILES.len()),
        deny_read in subset(DENY_READ),
        allow_read in subset(ALLOW_READ),
        allow_write in subset(ALLOW_WRITE),
        deny_write in subset(DENY_WRITE),
        allow_git_config in any::<bool>(),
        depth in 2u8..=4,
    ) {
        let mut fs = FakeFs::new().file(format!("{CWD}/.srt.json"));
        for f in &files {
            fs = fs.file(f);
        }
        for a in allow_read.iter().chain(&allow_write) {
            let p = match *a {
                "." | "out/**" => format!("{CWD}/out"),
                "~" => "/home/dev".into(),
                s if s.starts_with("~/") => format!("/home/dev/{}", &s[2..]),
                s if s.starts_with('/') => s.to_string(),
                s if s.contains('*') => continue,
                s => format!("{CWD}/{s}"),
            };
            fs = fs.dir(p);
        }
        let json = format!(
            r#"{{"network":{{"allowedDomains":[],"deniedDomains":[]}},
               "filesystem":{{"denyRead":{},"allowRead":{},"allowWrite":{},"denyWrite":{},"allowGitConfig":{allow_git_config}}},
               "mandatoryDenySearchDepth":{depth}}}"#,
            json_list(&deny_read), json_list(&allow_read), json_list(&allow_write), json_list(&deny_write)
        );
        let (ir, plan) = plan_with(&json, &fs);
        let table = simulate(&plan);

        // Every existing path, and a new name in every directory.
        let mut samples: BTreeSet<PathBuf> = BTreeSet::new();
        let mut stack = vec![PathBuf::from("/")];
        while let Some(d) = stack.pop() {
            samples.insert(d.join("zz-new"));
            for e in fs.list(&d).unwrap_or_default() {
                let p = d.join(&e.name);
                samples.insert(p.clone());
                if fs.kind(&p) == Some(srt_compiler::FileKind::Dir) {
                    stack.push(p);
                }
            }
        }
        // The names the plan stubs exist on the host when it runs.
        let stubs: BTreeSet<PathBuf> = plan.stubs.iter().map(|s| s.path.clone()).collect();
        for s in &stubs {
            samples.insert(s.clone());
        }
        for p in &samples {
            let exists = fs.kind(p).is_some() || stubs.contains(p);
            if !exists && glob_covers_new_path(&ir, p) {
                continue; // coded notes: deny-glob-existing-only, mandatory-deny-depth
            }
            let nested_mandatory = ir.fs.mandatory_deny.iter().any(|r| {
                r.pattern.covers(p, true) && !matches!(&r.pattern, PathPattern::Literal(_))
            });
            if exists && nested_mandatory && mandatory_too_deep(&ir, p) {
                continue; // coded note: mandatory-deny-depth
            }
            let got = state_at(&table, p);
            if got == State::Kernel {
                continue;
            }

            prop_assert_eq!(got, decided(&ir, p), "path {} with policy {}\nargv {:?}", p.display(), json, plan.argv());
        }
    }
}

/// A mandatory-deny name deeper than the search depth (or under node_modules), which the scan
/// does not look for.
fn mandatory_too_deep(ir: &Ir, p: &Path) -> bool {
    let depth = usize::from(ir.fs.mandatory_deny_search_depth);
    ir.fs.mandatory_deny_roots.iter().any(|root| {
        let Ok(rel) = p.strip_prefix(root) else {
            return false;
        };
        let comps: Vec<_> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if comps.iter().any(|c| c == "node_modules") {
            return true;
        }
        // index of the first component that starts a mandatory name
        let at = comps.iter().position(|c| {
            ir.fs
                .mandatory_deny_names
                .iter()
                .any(|n| n.split('/').next() == Some(c.as_str()))
        });
        at.is_some_and(|i| i > depth - 1)
    })
}
