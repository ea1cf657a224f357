//! `diff` compares effective permissions through the decision procedure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use srt_compiler::diff::{diff, Change, Direction, Subject};
use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};

fn ir(json: &str) -> Ir {
    let loaded = srt_schema::load_str("p.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/home/dev/project".into(),
        home: "/home/dev".into(),
        settings_path: None,
    };
    resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &FakeFs::new(),
    )
    .0
}

fn summary(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|c| format!("{:?} {:?} {}", c.direction, c.subject, c.what))
        .collect()
}

const RUST_MINIMAL: &str = r#"{
  "network": {"allowedDomains": ["api.anthropic.com", "crates.io", "*.crates.io", "static.crates.io", "index.crates.io", "static.rust-lang.org"]},
  "filesystem": {"denyRead": ["~/.ssh", "~/.gnupg", "~/.aws/credentials"], "allowWrite": [".", "~/.cargo/registry", "~/.cargo/git", "/tmp"]}
}"#;

const RUST_GITHUB: &str = r#"{
  "network": {"allowedDomains": ["api.anthropic.com", "crates.io", "*.crates.io", "static.crates.io", "index.crates.io", "github.com", "*.github.com", "static.rust-lang.org"]},
  "filesystem": {"denyRead": ["~/.ssh", "~/.gnupg", "~/.aws/credentials"], "allowWrite": [".", "~/.cargo/registry", "~/.cargo/git", "/tmp"]}
}"#;

#[test]
fn adding_github_widens_exactly_the_github_hosts() {
    let changes = diff(&ir(RUST_MINIMAL), &ir(RUST_GITHUB));
    assert_eq!(
        summary(&changes),
        [
            "Widened Host *.github.com (any port)",
            "Widened Host github.com (any port)"
        ]
    );
    assert!(
        changes[1]
            .because
            .contains("network.allowedDomains[5] (p.json:2:"),
        "{}",
        changes[1].because
    );
    // and back: the same hosts narrow
    let back = diff(&ir(RUST_GITHUB), &ir(RUST_MINIMAL));
    assert_eq!(
        summary(&back),
        [
            "Narrowed Host *.github.com (any port)",
            "Narrowed Host github.com (any port)"
        ]
    );
    assert!(
        back[0]
            .because
            .starts_with("removed: network.allowedDomains[6]"),
        "{}",
        back[0].because
    );
}

#[test]
fn reordering_duplicates_and_covered_entries_are_no_change() {
    let old = ir(
        r#"{"network":{"allowedDomains":["*.x.com","a.com"]},"filesystem":{"denyRead":["~/.ssh"],"allowWrite":["."]}}"#,
    );
    let new = ir(
        r#"{"network":{"allowedDomains":["a.com","a.x.com","*.x.com","a.com"]},"filesystem":{"denyRead":["~/.ssh/","~/.ssh"],"allowWrite":["./","."]}}"#,
    );
    assert_eq!(summary(&diff(&old, &new)), Vec::<String>::new());
}

#[test]
fn path_and_option_changes_are_found_and_widening_sorts_first() {
    let old = ir(
        r#"{"network":{"allowedDomains":["example.com:443"]},"filesystem":{"denyRead":["~/.ssh"],"allowWrite":["."],"denyWrite":[".env"]}}"#,
    );
    let new = ir(
        r#"{"network":{"allowedDomains":["example.com"],"allowAllUnixSockets":true},"filesystem":{"denyRead":[],"allowWrite":[".","/srv"],"denyWrite":[".env","dist"]}}"#,
    );
    let got = summary(&diff(&old, &new));
    assert_eq!(
        got,
        [
            "Widened Host example.com (any port but 443)",
            "Widened Read /home/dev/.ssh",
            "Widened Read /home/dev/.ssh/*",
            "Widened Write /srv",
            "Widened Write /srv/*",
            "Widened Option network.allowAllUnixSockets",
            "Narrowed Write /home/dev/project/dist",
            "Narrowed Write /home/dev/project/dist/*",
        ]
    );
    let changes = diff(&old, &new);
    assert!(
        changes
            .iter()
            .take_while(|c| c.direction == Direction::Widened)
            .count()
            == 6
    );
    assert!(changes.iter().any(|c| c.subject == Subject::Option));
}
