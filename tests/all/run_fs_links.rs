//! `srt run` against symlinks in front of protected names (threat model, items 2 and 16b): a
//! protected name that is a symlink, or a deny spelled through one, keeps its name protected,
//! not just the link's target; a dangling link where a protected name goes refuses the run.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{ok, text, Sandbox};

const WRITE_DOT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":["cfg/app.json"]}}"#;

/// The same with a host allowed: srt's init runs, with its bridges.
const WRITE_DOT_ONLINE: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":["cfg/app.json"]}}"#;

fn is_link_to(p: &Path, to: &str) -> bool {
    std::fs::read_link(p).is_ok_and(|t| t == Path::new(to))
}

/// A project whose `.git`, `.claude` and `.vscode` are symlinks (to directories outside the
/// project, as a repository shared by worktree-like setups or dotfiles managers make them),
/// with `cfg` a symlinked directory holding a denied file, and `chain -> a -> realgit` a chain.
fn linked_project(sb: &Sandbox) {
    let root = sb.root.path();
    for d in [
        "realgit/hooks",
        "shared-claude/commands",
        "shared-vscode",
        "real-cfg",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("realgit/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(root.join("real-cfg/app.json"), "{}").unwrap();
    let p = sb.project();
    symlink("../realgit", p.join(".git")).unwrap();
    symlink("../shared-claude", p.join(".claude")).unwrap();
    symlink("../shared-vscode", p.join(".vscode")).unwrap();
    symlink("../real-cfg", p.join("cfg")).unwrap();
}

/// The command replaces each symlinked protected name with a directory of its own and plants
/// what the host runs later. Each attempt must fail, and the links must be the same after.
fn replacing_links_fails(policy: &str) {
    let sb = Sandbox::new();
    sb.settings(policy);
    linked_project(&sb);
    let out = sb.run(
        "rm .git 2>/dev/null || echo git-rm-denied; mv .git g 2>/dev/null || echo git-mv-denied; \
         mkdir -p .git/hooks 2>/dev/null; echo evil > .git/hooks/pre-commit 2>/dev/null || echo hook-denied; \
         rm .claude 2>/dev/null || echo claude-rm-denied; mkdir -p .claude/commands 2>/dev/null; \
         echo evil > .claude/commands/x.md 2>/dev/null || echo command-denied; \
         rm .vscode 2>/dev/null || echo vscode-rm-denied; mkdir .vscode 2>/dev/null; \
         echo evil > .vscode/tasks.json 2>/dev/null || echo tasks-denied; \
         rm cfg 2>/dev/null || echo cfg-rm-denied; mkdir cfg 2>/dev/null; \
         echo evil > cfg/app.json 2>/dev/null || echo app-denied; \
         ls .git/hooks >/dev/null && echo git-still-readable",
    );
    assert_eq!(
        ok(&out),
        "git-rm-denied\ngit-mv-denied\nhook-denied\nclaude-rm-denied\ncommand-denied\n\
         vscode-rm-denied\ntasks-denied\ncfg-rm-denied\napp-denied\ngit-still-readable\n"
    );
    let p = sb.project();
    assert!(is_link_to(&p.join(".git"), "../realgit"));
    assert!(is_link_to(&p.join(".claude"), "../shared-claude"));
    assert!(is_link_to(&p.join(".vscode"), "../shared-vscode"));
    assert!(is_link_to(&p.join("cfg"), "../real-cfg"));
    let root = sb.root.path();
    assert!(!root.join("realgit/hooks/pre-commit").exists());
    assert!(!root.join("shared-claude/commands/x.md").exists());
    assert!(!root.join("shared-vscode/tasks.json").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("real-cfg/app.json")).unwrap(),
        "{}"
    );
}

#[test]
fn symlinked_protected_names_cannot_be_replaced_offline() {
    replacing_links_fails(WRITE_DOT);
}

#[test]
fn symlinked_protected_names_cannot_be_replaced_with_the_init() {
    replacing_links_fails(WRITE_DOT_ONLINE);
}

/// `.git -> chain-a`, `chain-a -> ../realgit`: replacing the middle link would move `.git`.
#[test]
fn every_link_of_a_chain_is_pinned() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let root = sb.root.path();
    std::fs::create_dir_all(root.join("realgit/hooks")).unwrap();
    std::fs::write(root.join("realgit/HEAD"), "ref: refs/heads/main\n").unwrap();
    let p = sb.project();
    symlink("../realgit", p.join("chain-a")).unwrap();
    symlink("chain-a", p.join(".git")).unwrap();
    let out = sb.run(
        "rm chain-a 2>/dev/null || echo rm-denied; mv chain-a x 2>/dev/null || echo mv-denied; \
         mkdir -p chain-a/hooks 2>/dev/null; echo evil > .git/hooks/pre-commit 2>/dev/null || echo hook-denied",
    );
    assert_eq!(ok(&out), "rm-denied\nmv-denied\nhook-denied\n");
    assert!(is_link_to(&p.join("chain-a"), "../realgit"));
    assert!(!root.join("realgit/hooks/pre-commit").exists());
}

/// A link below a plain subdirectory: renaming the subdirectory away would take the link with
/// it, so the directories between the write root and the link are pinned too.
#[test]
fn the_directories_above_a_link_are_pinned() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let root = sb.root.path();
    std::fs::create_dir_all(root.join("realgit/hooks")).unwrap();
    std::fs::write(root.join("realgit/HEAD"), "ref: refs/heads/main\n").unwrap();
    let sub = sb.project().join("sub");
    std::fs::create_dir(&sub).unwrap();
    symlink("../../realgit", sub.join(".git")).unwrap();
    let out = sb.run(
        "mv sub sub2 2>/dev/null || echo mv-denied; rm sub/.git 2>/dev/null || echo rm-denied; \
         touch sub/ok && echo sub-writable",
    );
    assert_eq!(ok(&out), "mv-denied\nrm-denied\nsub-writable\n");
    assert!(is_link_to(&sub.join(".git"), "../../realgit"));
}

/// `srt compile` shows what `srt run` does about the links: the init's link pins, and the
/// capability it needs for them.
#[test]
fn compile_shows_the_link_pins() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    linked_project(&sb);
    let out = sb
        .srt()
        .args(["compile", "--target", "linux", "-s", ".srt.json"])
        .output()
        .unwrap();
    let plan = ok(&out);
    let p = sb.project();
    for link in [".git", ".claude", ".vscode", "cfg"] {
        let line = format!("--pin-link {}", p.join(link).display());
        assert!(plan.contains(&line), "{line} missing from:\n{plan}");
    }
    assert!(plan.contains("--cap-add CAP_SYS_ADMIN"), "{plan}");
}

/// A dangling symlink at a protected name (left by an earlier run, or planted) cannot carry a
/// mount. When the command could create its target, the run refuses, naming the link and
/// saying to remove it.
#[test]
fn a_dangling_link_at_a_protected_name_refuses_the_run_and_says_what_to_remove() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let link = sb.project().join(".bashrc");
    symlink(sb.project().join("rc-target"), &link).unwrap();
    let out = sb.run("echo ran");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty(), "the command ran");
    let err = text(&out.stderr);
    assert!(
        err.contains(&link.display().to_string()) && err.contains("remove"),
        "{err}"
    );
    assert!(
        !sb.project().join("rc-target").exists(),
        "srt created the target"
    );
    assert_eq!(sb.leftovers(), Vec::<String>::new());
}

/// When the command cannot create the target (its directory is read-only in the sandbox), the
/// name leads nowhere for the whole run: the link is pinned and the run goes on. Anyone can
/// leave such a link under a shared write root such as /tmp; it must not stop every run.
#[test]
fn a_dangling_link_whose_target_cannot_be_created_is_pinned_and_the_run_goes_on() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let link = sb.project().join(".bashrc");
    symlink("/nonexistent-srt-test/rc", &link).unwrap();
    let out = sb.run(
        "echo ran; rm -f .bashrc 2>/dev/null; mv .bashrc x 2>/dev/null; \
         echo evil > .bashrc 2>/dev/null || echo write-denied; \
         mkdir -p /nonexistent-srt-test 2>/dev/null || echo mkdir-denied",
    );
    assert_eq!(ok(&out), "ran\nwrite-denied\nmkdir-denied\n");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        PathBuf::from("/nonexistent-srt-test/rc")
    );
    assert!(!sb.project().join("x").exists());
    assert_eq!(sb.leftovers(), Vec::<String>::new());
}
