//! Exit statuses, against the table in `book/src/migrating.md` ("Exit statuses"): every row
//! is a command line, run for real with `sh -c` where `srt` is this srt, once with no host to
//! reach and once with proxies running; srt must exit with the row's `srt` column.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{text, Sandbox};

const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
const ONLINE: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

/// The rows of migrating.md's exit-status table: (command line, npm srt's, srt's).
fn table() -> Vec<(String, String, i32)> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/migrating.md"),
    )
    .unwrap();
    let section = doc.split("\n## Exit statuses\n").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "{l}");
            let command = cells[0].trim_matches('`').to_string();
            (command, cells[1].to_string(), cells[2].parse().unwrap())
        })
        .collect()
}

/// A project with the files the table's rows name, and `srt` first on `PATH`.
fn project(policy: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.settings(policy);
    let p = sb.project();
    std::fs::write(p.join("noexec.sh"), "#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(p.join("noexec.sh"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        p.join("invalid.json"),
        r#"{"network":{"allowedDomains":"example.com","deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#,
    )
    .unwrap();
    std::fs::write(
        p.join("refused.json"),
        r#"{"network":{"allowedDomains":[],"deniedDomains":[],"stripResponseHeaders":["set-cookie"]},
 "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#,
    )
    .unwrap();
    std::fs::write(
        p.join("nobwrap.json"),
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]},"bwrapPath":"/nonexistent/bwrap"}"#,
    )
    .unwrap();
    let bin = sb.root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_srt"), bin.join("srt")).unwrap();
    sb
}

fn run_row(sb: &Sandbox, row: &str) -> std::process::Output {
    let path = format!(
        "{}:{}",
        sb.root.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A signal ignored when srt starts stays ignored (`nohup srt`): the rows that send SIGHUP
    // need it at its default whatever this test process inherited.
    Command::new("env")
        .args(["--default-signal=HUP", "/bin/sh", "-c", row])
        .current_dir(sb.project())
        .env("PATH", path)
        .env("HOME", sb.home())
        .env("XDG_STATE_HOME", sb.state())
        .env("XDG_RUNTIME_DIR", sb.root.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn exit_statuses_match_the_table_in_migrating_md() {
    let rows = table();
    assert!(rows.len() >= 20, "{rows:?}");
    for needed in ["no-such-command", "./noexec.sh", "missing.json"] {
        assert!(rows.iter().any(|r| r.0.contains(needed)), "{needed}");
    }
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = [OFFLINE, ONLINE]
            .into_iter()
            .map(|policy| {
                let rows = &rows;
                s.spawn(move || {
                    let sb = project(policy);
                    let mut failed = Vec::new();
                    for (row, _npm, want) in rows {
                        let out = run_row(&sb, row);
                        if out.status.code() != Some(*want) {
                            failed.push(format!(
                                "{row}: exit {:?}, the table says {want} (policy {policy})\n{}",
                                out.status.code(),
                                text(&out.stderr)
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        runs.into_iter().flat_map(|r| r.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the command-not-found and not-executable rows print: the command's name and why.
#[test]
fn a_command_that_cannot_run_is_named() {
    let sb = project(OFFLINE);
    let out = run_row(&sb, "srt -s .srt.json no-such-command");
    assert_eq!(out.status.code(), Some(127));
    assert!(
        text(&out.stderr).contains("srt: no-such-command: command not found"),
        "{}",
        text(&out.stderr)
    );
    let out = run_row(&sb, "srt -s .srt.json ./noexec.sh");
    assert_eq!(out.status.code(), Some(126));
    assert!(
        text(&out.stderr).contains("srt: ./noexec.sh: Permission denied"),
        "{}",
        text(&out.stderr)
    );
}
