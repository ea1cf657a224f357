//! Test helpers: lint a policy against a fixed home, project and fake filesystem, and render
//! findings the way the CLI does (fixed width, no colour) for snapshots.

use srt_compiler::{FakeFs, ResolveOptions};
use srt_schema::render::{render_human, Style};
use srt_schema::{load_str, Diagnostic};

use crate::{check, LevelConfig, Target};

pub(crate) const HOME: &str = "/home/dev";
pub(crate) const CWD: &str = "/home/dev/project";

/// The machine every lint test runs on.
pub(crate) fn fake_fs() -> FakeFs {
    FakeFs::new()
        .dir("/home/dev/project/src")
        .dir("/home/dev/project/.git/hooks")
        .file("/home/dev/project/.git/config")
        .file("/home/dev/project/.srt.json")
        .dir("/home/dev/.ssh")
        .file("/home/dev/.ssh/known_hosts")
        .dir("/home/dev/.cargo/registry")
        .dir("/home/dev/.cargo/git")
        .dir("/home/dev/.claude/session-env")
        .dir("/home/dev/.cache")
        .dir("/tmp")
        .dir("/usr/local/bin")
        .file("/var/run/docker.sock")
}

pub(crate) fn options() -> ResolveOptions {
    ResolveOptions {
        cwd: CWD.into(),
        home: HOME.into(),
        settings_path: Some(format!("{CWD}/.srt.json").into()),
    }
}

/// Every diagnostic for `json` at default levels.
pub(crate) fn all(json: &str, target: Target) -> Vec<Diagnostic> {
    let loaded = load_str(".srt.json", None, json);
    assert!(
        !loaded.has_errors(),
        "test policy does not validate: {:#?}\n{json}",
        loaded.diagnostics
    );
    check(
        &loaded,
        &options(),
        &fake_fs(),
        target,
        &LevelConfig::default(),
    )
}

/// The findings of one code.
pub(crate) fn findings(code: &str, json: &str, target: Target) -> Vec<Diagnostic> {
    all(json, target)
        .into_iter()
        .filter(|d| d.code == code)
        .collect()
}

#[track_caller]
pub(crate) fn assert_clean(code: &str, json: &str, target: Target) {
    let f = findings(code, json, target);
    assert!(
        f.is_empty(),
        "{code} should not fire on\n{json}\nbut gave {f:#?}"
    );
}

/// Renders each case's findings of `code` (and the file after its fixes), asserting that every
/// case has at least one.
pub(crate) fn render_cases(code: &str, cases: &[(&str, &str)], target: Target) -> String {
    let mut out = String::new();
    for (name, json) in cases {
        let loaded = load_str(".srt.json", None, json);
        let found = findings(code, json, target);
        assert!(
            !found.is_empty(),
            "{code} should fire on case `{name}`:\n{json}"
        );
        out.push_str(&format!("=== {name} ({}) ===\n", target.name()));
        for d in &found {
            out.push_str(&render_human(d, &loaded.source, Style::plain(100)));
            out.push('\n');
        }
        let fixed = crate::fix::fix_content(".srt.json", json, |l| {
            check(l, &options(), &fake_fs(), target, &LevelConfig::default())
                .into_iter()
                .filter(|d| d.code == code)
                .collect()
        })
        .expect("fixes keep the file valid");
        if !fixed.applied.is_empty() {
            out.push_str("--- after `srt lint --fix` ---\n");
            out.push_str(&fixed.content);
            out.push_str("\n\n");
        }
    }
    out
}
