//! `srt explain --path/--host`: the decision and the exact rule, as a user sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use assert_cmd::Command;

const POLICY: &str = r#"{
  "network": {
    "allowedDomains": ["example.com", "*.npmjs.org"],
    "deniedDomains": ["bad.npmjs.org"]
  },
  "filesystem": {
    "denyRead": ["~/.ssh"],
    "allowRead": ["~/.ssh/known_hosts"],
    "allowWrite": ["."],
    "denyWrite": [".env"]
  }
}
"#;

fn explain(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = Command::cargo_bin("srt")
        .unwrap()
        .current_dir(dir)
        .args([
            "explain",
            "-s",
            ".srt.json",
            "--home",
            "/home/dev",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn path_decisions_name_the_rule_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".srt.json"), POLICY).unwrap();
    let d = explain(dir.path(), &["--path", "~/.ssh/id_rsa", "--access", "read"]);
    let rule = &d["decisions"][0]["rule"];
    assert_eq!(d["decisions"][0]["allowed"], false);
    assert_eq!(rule["key"], "filesystem.denyRead");
    assert_eq!(rule["location"]["line"], 7);
    assert_eq!(rule["location"]["column"], 18);
    assert_eq!(rule["covers"], "/home/dev/.ssh");

    let d = explain(
        dir.path(),
        &["--path", "~/.ssh/known_hosts", "--access", "read"],
    );
    assert_eq!(d["decisions"][0]["allowed"], true);
    assert_eq!(d["decisions"][0]["rule"]["key"], "filesystem.allowRead");

    let d = explain(dir.path(), &["--path", ".env"]);
    assert_eq!(d["decisions"][0]["allowed"], true); // read
    assert_eq!(d["decisions"][1]["allowed"], false); // write
    assert_eq!(d["decisions"][1]["rule"]["key"], "filesystem.denyWrite");

    let d = explain(
        dir.path(),
        &["--path", ".git/hooks/pre-commit", "--access", "write"],
    );
    assert_eq!(d["decisions"][0]["rule"]["built_in"], "mandatory-deny");

    let d = explain(dir.path(), &["--path", "/etc/passwd", "--access", "write"]);
    assert_eq!(d["decisions"][0]["allowed"], false);
    assert!(d["decisions"][0]["rule"].is_null());
    assert!(d["decisions"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("denied by default"));
}

#[test]
fn host_decisions_canonicalise_and_name_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".srt.json"), POLICY).unwrap();
    let d = explain(dir.path(), &["--host", "Registry.NPMJS.org.:443"]);
    assert_eq!(d["decisions"][0]["allowed"], true);
    assert_eq!(d["decisions"][0]["subject"], "registry.npmjs.org:443");
    assert_eq!(d["decisions"][0]["rule"]["spelled"], "*.npmjs.org");
    let d = explain(dir.path(), &["--host", "bad.npmjs.org"]);
    assert_eq!(d["decisions"][0]["allowed"], false);
    assert_eq!(d["decisions"][0]["rule"]["key"], "network.deniedDomains");
    assert_eq!(d["decisions"][0]["reason"], "host is on the deny list");
    let d = explain(dir.path(), &["--host", "npmjs.org"]);
    assert_eq!(d["decisions"][0]["allowed"], false);
    assert!(d["decisions"][0]["rule"].is_null());
    let d = explain(dir.path(), &["--host", "exa mple.com"]);
    assert!(d["decisions"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("malformed host"));
}

#[test]
fn human_output_shows_the_snippet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".srt.json"), POLICY).unwrap();
    let out = Command::cargo_bin("srt")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args([
            "explain",
            "-s",
            ".srt.json",
            "--home",
            "/home/dev",
            "--host",
            "example.com",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("connect example.com:443: ALLOWED\n"),
        "{text}"
    );
    assert!(
        text.contains(".srt.json:3:24]") && text.contains("this rule decides"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".srt.json"), POLICY).unwrap();
    let run = |args: &[&str]| {
        Command::cargo_bin("srt")
            .unwrap()
            .current_dir(dir.path())
            .arg("explain")
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["--host", "example.com:0"]).status.code(), Some(2));
    assert_eq!(
        run(&["--host", "x.com", "-s", "/nonexistent.json"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn target_linux_says_what_the_plan_cannot_express_for_the_deciding_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".srt.json"),
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":["**/*.pem"],"allowWrite":["."],"denyWrite":[]}}"#,
    )
    .unwrap();
    let notes = |args: &[&str]| -> Vec<String> {
        let d = explain(dir.path(), args);
        d["decisions"][0]["target_notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["code"].as_str().unwrap().to_string())
            .collect()
    };
    // No .pem exists yet: on Linux the glob covers nothing in this plan.
    assert_eq!(
        notes(&["--path", "a.pem", "--access", "read", "--target", "linux"]),
        ["glob-matches-nothing"]
    );
    // Without --target, or for macOS (whose profile matches the decision exactly), no notes.
    assert!(notes(&["--path", "a.pem", "--access", "read"]).is_empty());
    assert!(notes(&["--path", "a.pem", "--access", "read", "--target", "macos"]).is_empty());
    // Once a match exists the plan mounts over it; what remains is that later files are not
    // covered, and (the command may write its directory) that a replacement by rename shows.
    std::fs::write(dir.path().join("a.pem"), "k").unwrap();
    assert_eq!(
        notes(&["--path", "a.pem", "--access", "read", "--target", "linux"]),
        ["deny-glob-existing-only", "deny-read-file-replaceable"]
    );
}
