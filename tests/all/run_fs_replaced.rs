//! Protected files replaced on the host during a run (threat model, item 12, the mount side).
//! Protections are mounts on the entries that existed at the start; when the host replaces a
//! file by rename (git's `config.lock`, an editor's atomic save, `sed -i`), a mount on the file
//! stays on the old one. Where the directory need not be writable, srt protects by directory,
//! and the new file is covered too. Each test has the command wait on a fifo while the host
//! replaces the file, then try again.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

use common::{text, Sandbox};

const POLICY: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.aws/credentials"],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

fn mkfifo(p: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `before; (signal ready, wait for go); after` in the sandbox, doing `replace` on the
/// host in between. Returns the command's stdout.
fn run_around(sb: &Sandbox, before: &str, after: &str, replace: impl FnOnce()) -> String {
    let (ready, go) = (sb.root.path().join("ready"), sb.root.path().join("go"));
    mkfifo(&ready);
    mkfifo(&go);
    let script = format!(
        "{before}; echo ready > {r}; read x < {g}; {after}",
        r = ready.display(),
        g = go.display()
    );
    let child = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::fs::File::open(&ready)
        .unwrap()
        .read_to_string(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    replace();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&go)
        .unwrap()
        .write_all(b"go\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Replaces `path` by rename, as an editor's atomic save does.
fn replace_by_rename(path: &Path, contents: &str) {
    let tmp = path.with_extension("srt-test-new");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A denied file in a directory the command may not write: the directory is rebuilt in the
/// sandbox (its other entries bound one by one), so a file the host renames into place under
/// the denied name is not visible either.
#[test]
fn a_denied_file_replaced_on_the_host_stays_unreadable() {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let aws = sb.home().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(aws.join("credentials"), "OLD-SECRET").unwrap();
    std::fs::write(aws.join("config"), "[default]\n").unwrap();
    std::os::unix::fs::symlink("config", aws.join("config-link")).unwrap();
    let creds = aws.join("credentials");
    let stdout = run_around(
        &sb,
        "cat ~/.aws/credentials 2>/dev/null; cat ~/.aws/config-link",
        "cat ~/.aws/credentials 2>/dev/null; cat ~/.aws/config; echo end",
        || replace_by_rename(&creds, "NEW-SECRET"),
    );
    assert!(!stdout.contains("SECRET"), "a secret leaked:\n{stdout}");
    assert_eq!(stdout, "[default]\n[default]\nend\n");
}

/// Files inside a protected directory (`.git/hooks`) are covered by the directory's mount:
/// a hook the host replaces during the run stays read-only.
#[test]
fn a_hook_replaced_on_the_host_stays_read_only() {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let hooks = sb.project().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(sb.project().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\n").unwrap();
    let hook = hooks.join("pre-commit");
    let stdout = run_around(
        &sb,
        "true",
        "echo evil >> .git/hooks/pre-commit 2>/dev/null || echo hook-denied",
        || replace_by_rename(&hook, "#!/bin/sh\n# new\n"),
    );
    assert_eq!(stdout, "hook-denied\n");
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\n# new\n"
    );
}
