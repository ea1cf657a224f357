//! `srt run` and the files git reads config, hooks and commands from (threat model, item 5,
//! the mount side): with `.git/config` and `.git/hooks` read-only, the command must not be
//! able to make the host's next `git status` or `git commit` run its code through a
//! submodule's config, a nested `.git` file, a worktree's config or `commondir`, or a
//! `core.hooksPath` inside the working tree. Each test plants what the command would and runs
//! the real `git` on the host afterwards, looking for the marker the planted command leaves.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ok, Sandbox};

const WRITE_DOT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args([
            "-c",
            "protocol.file.allow=always",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
        ])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

fn git_ok(dir: &Path, args: &[&str]) {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The project as a repository with a submodule `lib` (its git dir in `.git/modules/lib`, a
/// `.git` file in `lib`). Returns the marker path planted commands touch.
fn repository_with_submodule(sb: &Sandbox) -> PathBuf {
    let root = sb.root.path();
    let src = root.join("lib-src");
    std::fs::create_dir(&src).unwrap();
    git_ok(&src, &["init", "-q"]);
    git_ok(&src, &["commit", "-q", "--allow-empty", "-m", "init"]);
    let p = sb.project();
    git_ok(&p, &["init", "-q"]);
    git_ok(&p, &["submodule", "add", "-q", "../lib-src", "lib"]);
    git_ok(&p, &["commit", "-q", "-m", "sub"]);
    root.join("MARK")
}

fn assert_no_marker(marker: &Path, what: &str) {
    assert!(
        !marker.exists(),
        "{what}: the host's git ran the planted command"
    );
}

#[test]
fn a_submodules_config_and_git_file_cannot_make_the_hosts_git_run_code() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let marker = repository_with_submodule(&sb);
    let m = marker.display();
    let out = sb.run(&format!(
        "printf '[core]\\n\\tfsmonitor = touch {m}; false\\n' >> .git/modules/lib/config 2>/dev/null || echo modules-config-denied; \
         printf '#!/bin/sh\\ntouch {m}\\n' > .git/modules/lib/hooks/pre-commit 2>/dev/null || echo modules-hook-denied; \
         mkdir -p evil && cp -r .git/modules/lib/. evil/ && printf '[core]\\n\\tfsmonitor = touch {m}; false\\n' >> evil/config; \
         echo \"gitdir: $PWD/evil\" > lib/.git 2>/dev/null || echo git-file-denied; \
         rm -f lib/.git 2>/dev/null; test -f lib/.git && echo git-file-kept"
    ));
    assert_eq!(
        ok(&out),
        "modules-config-denied\nmodules-hook-denied\ngit-file-denied\ngit-file-kept\n"
    );
    let status = git(&sb.project(), &["status", "--short"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_no_marker(&marker, "git status after the run");
}

/// `core.hooksPath` pointing into the working tree (husky's `.husky/_`, whose scripts run
/// `.husky/<hook>`): the directory is protected like `.git/hooks`.
#[test]
fn a_hooks_path_inside_the_working_tree_is_protected() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    git_ok(&p, &["init", "-q"]);
    std::fs::create_dir_all(p.join(".husky/_")).unwrap();
    std::fs::write(p.join(".husky/_/h"), "#!/bin/sh\n").unwrap();
    git_ok(&p, &["config", "core.hooksPath", ".husky/_"]);
    let marker = sb.root.path().join("MARK");
    let m = marker.display();
    let out = sb.run(&format!(
        "printf '#!/bin/sh\\ntouch {m}\\n' > .husky/_/pre-commit 2>/dev/null || echo hookspath-denied; \
         printf 'touch {m}\\n' > .husky/pre-commit 2>/dev/null || echo husky-denied; \
         mv .husky .husky-old 2>/dev/null || echo move-denied"
    ));
    assert_eq!(ok(&out), "hookspath-denied\nhusky-denied\nmove-denied\n");
    std::fs::write(p.join("f"), "x").unwrap();
    git_ok(&p, &["add", "f"]);
    let _ = git(&p, &["commit", "-q", "-m", "x"]);
    assert_no_marker(&marker, "git commit after the run");
}

/// With `extensions.worktreeConfig`, git reads `.git/config.worktree` (and each linked
/// worktree's); a linked worktree's `commondir` says where its config and hooks are.
#[test]
fn worktree_config_and_commondir_are_protected() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    git_ok(&p, &["init", "-q"]);
    git_ok(&p, &["commit", "-q", "--allow-empty", "-m", "init"]);
    git_ok(&p, &["config", "extensions.worktreeConfig", "true"]);
    git_ok(&p, &["worktree", "add", "-q", "wt/feature"]);
    let marker = sb.root.path().join("MARK");
    let m = marker.display();
    let out = sb.run(&format!(
        "printf '[core]\\n\\tfsmonitor = touch {m}; false\\n' >> .git/config.worktree 2>/dev/null || echo main-worktree-config-denied; \
         printf '[core]\\n\\tfsmonitor = touch {m}; false\\n' >> .git/worktrees/feature/config.worktree 2>/dev/null || echo linked-worktree-config-denied; \
         echo /tmp > .git/worktrees/feature/commondir 2>/dev/null || echo commondir-denied"
    ));
    assert_eq!(
        ok(&out),
        "main-worktree-config-denied\nlinked-worktree-config-denied\ncommondir-denied\n"
    );
    for dir in [p.clone(), p.join("wt/feature")] {
        let status = git(&dir, &["status", "--short"]);
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    assert_no_marker(&marker, "git status after the run");
    assert!(
        !p.join(".git/config.worktree").exists(),
        "the stub is removed"
    );
}

/// A hook manager's configuration, read by the hooks it installed, is protected while the
/// hook is installed (pre-commit's `.pre-commit-config.yaml`, lefthook's `lefthook.yml`).
#[test]
fn hook_manager_configuration_is_protected() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    git_ok(&p, &["init", "-q"]);
    std::fs::write(
        p.join(".git/hooks/pre-commit"),
        "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexec pre-commit hook-impl\n",
    )
    .unwrap();
    std::fs::write(
        p.join(".git/hooks/pre-push"),
        "#!/bin/sh\nlefthook run pre-push\n",
    )
    .unwrap();
    std::fs::write(p.join(".pre-commit-config.yaml"), "repos: []\n").unwrap();
    std::fs::write(p.join("lefthook.yml"), "pre-push: {}\n").unwrap();
    let out = sb.run(
        "echo '- repo: local' >> .pre-commit-config.yaml 2>/dev/null || echo pre-commit-denied; \
         echo 'x: 1' >> lefthook.yml 2>/dev/null || echo lefthook-denied; echo ok > other.yml && echo other-ok",
    );
    assert_eq!(ok(&out), "pre-commit-denied\nlefthook-denied\nother-ok\n");
}

/// A nested repository the scan finds (`vendor/lib`, its own `.git`) gets the same: here its
/// `core.hooksPath` inside its working tree.
#[test]
fn a_nested_repositorys_hooks_path_is_protected() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let lib = sb.project().join("vendor/lib");
    std::fs::create_dir_all(lib.join("githooks")).unwrap();
    git_ok(&lib, &["init", "-q"]);
    git_ok(&lib, &["config", "core.hooksPath", "githooks"]);
    let marker = sb.root.path().join("MARK");
    let out = sb.run(&format!(
        "printf '#!/bin/sh\\ntouch {}\\n' > vendor/lib/githooks/pre-commit 2>/dev/null || echo nested-hookspath-denied",
        marker.display()
    ));
    assert_eq!(ok(&out), "nested-hookspath-denied\n");
    std::fs::write(lib.join("f"), "x").unwrap();
    git_ok(&lib, &["add", "f"]);
    let _ = git(&lib, &["commit", "-q", "-m", "x"]);
    assert_no_marker(&marker, "git commit in the nested repository");
}
