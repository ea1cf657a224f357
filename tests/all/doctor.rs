//! `srt doctor`: the real probes pass on a machine that can sandbox, and each failure names
//! its cause and fix.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;

fn doctor(settings: Option<&std::path::Path>) -> (i32, serde_json::Value) {
    let mut cmd = Command::cargo_bin("srt").unwrap();
    cmd.args(["doctor", "--format", "json"]);
    if let Some(s) = settings {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn this_machine_passes() {
    let (code, doc) = doctor(None);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["ok"], true);
    let starts = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "sandbox starts")
        .unwrap();
    assert_eq!(starts["status"], "ok");
    // The filesystem observer's real probe: a child's call waits for srt and continues.
    let observer = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "filesystem violation reports")
        .unwrap();
    assert_eq!(observer["status"], "ok", "{observer:#}");
}

#[test]
fn a_bwrap_that_cannot_create_namespaces_fails_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("bwrap");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo bubblewrap 0.8.0; exit 0; }\necho 'bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let settings = dir.path().join("s.json");
    std::fs::write(
        &settings,
        format!("{{\"bwrapPath\": \"{}\"}}", fake.display()),
    )
    .unwrap();
    let (code, doc) = doctor(Some(&settings));
    assert_eq!(code, 1);
    let starts = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "sandbox starts")
        .unwrap();
    assert_eq!(starts["status"], "fail");
    assert!(
        starts["fix"].as_str().unwrap().contains("AppArmor"),
        "{starts:#}"
    );
}

#[test]
fn a_missing_bwrap_is_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("s.json");
    std::fs::write(&settings, "{\"bwrapPath\": \"/nonexistent/bwrap\"}").unwrap();
    let (code, doc) = doctor(Some(&settings));
    assert_eq!(code, 1);
    assert_eq!(doc["checks"][0]["status"], "fail");
    assert!(doc["checks"][0]["fix"]
        .as_str()
        .unwrap()
        .contains("apt-get install bubblewrap"));
}

/// Which bwrap and why: the system's, even when an earlier PATH entry has one.
#[test]
fn the_bwrap_used_and_why_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("planted-ran");
    let planted = dir.path().join("bin/bwrap");
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(
        &planted,
        format!(
            "#!/bin/sh\ntouch {}\nexec /usr/bin/bwrap \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        planted.parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::cargo_bin("srt")
        .unwrap()
        .args(["doctor", "--format", "json"])
        .env("PATH", path)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &doc["checks"][0];
    assert_eq!(first["check"], "bubblewrap installed");
    let detail = first["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("/usr/bin/bwrap (") && detail.contains("system location"),
        "{first:#}"
    );
    assert!(!marker.exists(), "doctor ran the bwrap planted on PATH");
}

/// With settings, a bwrap their sandbox could replace fails, and is not run.
#[test]
fn a_bwrap_under_a_write_root_fails_and_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("planted-ran");
    let planted = dir.path().join("project/tools/bwrap");
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(
        &planted,
        format!(
            "#!/bin/sh\ntouch {}\nexec /usr/bin/bwrap \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
    let settings = dir.path().join("project/.srt.json");
    std::fs::write(
        &settings,
        format!(
            "{{\"bwrapPath\": \"{}\", \"filesystem\": {{\"allowWrite\": [\"{}\"]}}}}",
            planted.display(),
            dir.path().join("project").display()
        ),
    )
    .unwrap();
    let (code, doc) = doctor(Some(&settings));
    assert_eq!(code, 1, "{doc:#}");
    let reach = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "bubblewrap out of the sandbox's reach")
        .unwrap();
    assert_eq!(reach["status"], "fail");
    assert!(
        reach["detail"].as_str().unwrap().contains("allowWrite[0]"),
        "{reach:#}"
    );
    assert!(
        !marker.exists(),
        "doctor ran a bwrap the sandbox could replace"
    );
}
