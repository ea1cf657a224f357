//! Host stubs and run records under attack (issue 10, items 8, 9 and 16b): concurrent runs in
//! one project share stubs, a command cannot plant run records, and a dangling symlink at a
//! protected name is refused with the path to remove.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{exists, ok, text, Sandbox};

const WRITE_DOT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

fn wait_for(path: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !exists(path) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(sb: &Sandbox, script: &str) -> Child {
    sb.srt()
        .args(["run", "-s", ".srt.json", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Run A creates the stubs (`.mcp.json`, `.vscode`, `.git/hooks`); run B starts meanwhile and
/// mounts over them; A ends; B then tries to create what the stubs protected.
#[test]
fn stubs_shared_by_concurrent_runs_outlive_every_run_using_them() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    std::fs::create_dir(p.join(".git")).unwrap();
    std::fs::write(p.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();

    let a = spawn(
        &sb,
        "touch a-ready; while [ ! -e release-a ]; do sleep 0.02; done",
    );
    wait_for(&p.join("a-ready"), "run A to start");
    for stub in [".mcp.json", ".vscode", ".git/hooks"] {
        assert!(exists(&p.join(stub)), "run A made no stub {stub}");
    }
    let b = spawn(
        &sb,
        "touch b-ready; while [ ! -e a-gone ]; do sleep 0.02; done; \
         echo evil > .mcp.json 2>/dev/null && echo mcp-written || echo mcp-denied; \
         mkdir -p .vscode 2>/dev/null; echo evil > .vscode/tasks.json 2>/dev/null && echo vscode-written || echo vscode-denied; \
         mkdir -p .git/hooks 2>/dev/null; echo evil > .git/hooks/pre-commit 2>/dev/null && echo hook-written || echo hook-denied",
    );
    wait_for(&p.join("b-ready"), "run B to start");
    std::fs::write(p.join("release-a"), "").unwrap();
    let a = a.wait_with_output().unwrap();
    ok(&a);
    std::fs::write(p.join("a-gone"), "").unwrap();
    let b = b.wait_with_output().unwrap();
    assert_eq!(
        ok(&b),
        "mcp-denied\nvscode-denied\nhook-denied\n",
        "stderr: {}",
        text(&b.stderr)
    );
    for planted in [".mcp.json", ".vscode/tasks.json", ".git/hooks/pre-commit"] {
        assert!(!exists(&p.join(planted)), "{planted} was planted");
    }
    // The last run out removed the stubs.
    for stub in [".mcp.json", ".vscode", ".git/hooks"] {
        assert!(!exists(&p.join(stub)), "stub {stub} left behind");
    }
    assert_eq!(sb.leftovers(), Vec::<String>::new());
}

/// A write root covers the state directory: the command plants a record of a "dead run" naming
/// an empty file and an empty directory of the user's; the next run's cleanup must not delete
/// them.
#[test]
fn a_command_cannot_plant_run_records_for_the_next_cleanup() {
    let sb = Sandbox::new();
    let state = sb.state();
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":[],"deniedDomains":[]}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":[".", "{}"],"denyWrite":[]}}}}"#,
        state.display()
    ));
    let victim = sb.home().join("victim");
    let victim_dir = sb.home().join("victim-dir");
    std::fs::write(&victim, "").unwrap();
    std::fs::create_dir(&victim_dir).unwrap();
    let plant = format!(
        "runs={state}/srt/runs; mkdir -p $runs 2>/dev/null; \
         {{ echo '999999999 1'; echo \"file $(stat -c '%d %i' {v}) {v}\"; echo \"dir $(stat -c '%d %i' {d}) {d}\"; }} \
           > $runs/999999999-1.stubs 2>/dev/null && chmod 600 $runs/999999999-1.stubs && echo planted || echo refused",
        state = state.display(),
        v = victim.display(),
        d = victim_dir.display()
    );
    let out = sb.run(&plant);
    // The next run cleans up after dead runs: the user's files stay.
    ok(&sb.run("true"));
    assert!(
        exists(&victim),
        "the next run's cleanup deleted {}",
        victim.display()
    );
    assert!(
        exists(&victim_dir),
        "the next run's cleanup deleted {}",
        victim_dir.display()
    );
    assert_eq!(ok(&out), "refused\n", "{}", text(&out.stderr));
    // Nor can it be renamed away and replaced by a directory of the command's.
    let out = sb.run(&format!(
        "mv {0}/srt {0}/srt-moved 2>/dev/null && echo moved || echo move-refused",
        state.display()
    ));
    assert_eq!(ok(&out), "move-refused\n", "{}", text(&out.stderr));
    // `srt explain` says the same, with the built-in origin.
    let out = sb
        .srt()
        .args(["explain", "-s", ".srt.json", "--access", "write", "--path"])
        .arg(state.join("srt/runs/x.stubs"))
        .output()
        .unwrap();
    let explained = ok(&out);
    assert!(
        explained.contains("built-in srt-state") && explained.contains("DENIED"),
        "{explained}"
    );
}

/// A dangling symlink where srt must create a mount point (a protected name that does not
/// exist): srt refuses, naming the path to remove.
#[test]
fn a_dangling_symlink_at_a_protected_name_is_refused_with_the_path_to_remove() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let link = sb.project().join(".mcp.json");
    std::os::unix::fs::symlink(sb.project().join("nowhere"), &link).unwrap();
    let out = sb.run("echo ran");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).is_empty());
    assert!(
        stderr.contains(&link.display().to_string()) && stderr.contains("remove"),
        "{stderr}"
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(
        !exists(&sb.project().join("nowhere")),
        "srt created the link's target"
    );
}
