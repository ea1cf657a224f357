//! `srt compile --target macos` as a user runs it: the bar from the issue (the reference
//! config s2 compiled with the reference cwd and home decides every request of the comparison
//! table as the npm srt's profile does, apart from the documented differences), byte-identical
//! output, the annotated and command forms, and refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use srt_snapshots::peer_table::{self, proxy_port, Difference, REFERENCE};
use srt_snapshots::sbpl::{self, decide_both};

fn reference_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/reference/peer-sbpl")
        .join(name)
}

fn compile(extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("srt")
        .unwrap()
        .args(["compile", "--target", "macos"])
        .args(extra)
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap()
}

fn s2_args(port: &str) -> Vec<String> {
    let file = reference_file("s2.json").display().to_string();
    [
        "-s",
        &file,
        "--cwd",
        "/Users/dev/project",
        "--home",
        "/Users/dev",
        "--proxy-port",
        port,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn s2_decides_like_the_npm_srt_and_is_byte_identical() {
    let (_, _, sb) = REFERENCE[1];
    let port = proxy_port(sb).to_string();
    let args = s2_args(&port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = compile(&args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = compile(&args);
    assert_eq!(first.stdout, second.stdout, "two runs differ");
    let text = String::from_utf8(first.stdout).unwrap();
    let ours = sbpl::validate(&text).unwrap();
    let reference = sbpl::parse(sb).unwrap();
    let rows = peer_table::rows(&|_| proxy_port(sb));
    let mut checked = 0;
    for row in rows.iter().filter(|r| r.config == "s2") {
        // The table puts the settings file in the project; here it is the -s file.
        let want = if row.difference == Some(Difference::SettingsFileNotWritable) {
            row.reference
        } else {
            row.srt
        };
        assert_eq!(
            decide_both(&ours, &row.request),
            Ok(want),
            "{:?}",
            row.request
        );
        assert_eq!(
            decide_both(&reference, &row.request),
            Ok(row.reference),
            "{:?}",
            row.request
        );
        if want != row.reference {
            assert!(row.difference.is_some(), "{:?}", row.request);
        }
        checked += 1;
    }
    assert!(checked >= 100, "{checked}");
}

#[test]
fn annotate_and_log_tag() {
    let mut args = s2_args("4000");
    args.extend(["--annotate", "--log-tag", "MY_TAG"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = compile(&args);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    sbpl::validate(&text).unwrap();
    assert!(text.contains("(deny default (with message \"MY_TAG\"))"));
    assert!(
        text.contains("  ; filesystem.denyRead[0] (")
            && text.contains("s2.json:2:28) as \"~/.ssh\"\n")
    );
    assert!(text.contains("  ; built-in mandatory-deny: .bashrc under /Users/dev/project\n"));
    assert!(text.contains("(remote ip \"localhost:4000\")"));
}

#[test]
fn command_format_is_a_script_around_the_same_profile() {
    let args = s2_args("4000");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let profile = String::from_utf8(compile(&args).stdout).unwrap();
    let mut with_format = args.clone();
    with_format.extend(["--format", "command"]);
    let out = compile(&with_format);
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        script,
        String::from_utf8(compile(&with_format).stdout).unwrap()
    );
    assert!(script.starts_with("#!/bin/sh\n"));
    // The address the run gives the command: the literal 127.0.0.1, as `srt run` sets it.
    assert!(script.contains("  HTTPS_PROXY=http://127.0.0.1:4000 \\\n"));
    assert!(script.contains("  SANDBOX_RUNTIME=1 \\\n"));
    let quoted = srt_compiler::backend::macos::command::shell_quote(&profile);
    assert!(script.ends_with(&format!(
        "  /usr/bin/sandbox-exec -p {quoted} /bin/sh -c \"$1\"\n"
    )));
    // The script is valid sh: `sh -n` parses it without running it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.sh");
    std::fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("sh")
        .arg("-n")
        .arg(&path)
        .status()
        .unwrap();
    assert!(check.success());
}

#[test]
fn refusals() {
    let args = s2_args("4000");
    let mut json = args.iter().map(String::as_str).collect::<Vec<_>>();
    json.extend(["--format", "json"]);
    let out = compile(&json);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a macOS format"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"network":{"allowedDomains":[]},"filesystem":{"denyRead":["/p/a\u0007b"]}}"#,
    )
    .unwrap();
    let out = compile(&["-s", bad.to_str().unwrap(), "--cwd", "/Users/dev/project"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be written into a Seatbelt profile"),
        "{err}"
    );

    let out = compile(&["-s", "/nonexistent/x.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = compile(&["--proxy-port", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The command script withholds the credential variables (`deny` and `mask`: a hand-run script
/// has no proxy to put a masked value back), as `srt run` does: run with a stand-in for
/// `sandbox-exec` that prints its environment, the real values are not there.
#[test]
fn command_format_withholds_credential_variables() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.json");
    std::fs::write(
        &policy,
        r#"{"network":{"allowedDomains":["api.example.com"],"deniedDomains":[],"tlsTerminate":{}},
 "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]},
 "credentials":{"envVars":[{"name":"SRT_T_MASKED","mode":"mask"},{"name":"SRT_T_DENIED","mode":"deny"}]}}"#,
    )
    .unwrap();
    let out = compile(&["-s", policy.to_str().unwrap(), "--format", "command"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout).unwrap();
    let stand_in = dir.path().join("sandbox-exec");
    std::fs::write(&stand_in, "#!/bin/sh\nenv\n").unwrap();
    std::fs::set_permissions(
        &stand_in,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let script = script.replace("/usr/bin/sandbox-exec", stand_in.to_str().unwrap());
    let path = dir.path().join("run.sh");
    std::fs::write(&path, &script).unwrap();
    let run = std::process::Command::new("sh")
        .arg(&path)
        .arg("true")
        .env("SRT_T_MASKED", "real-masked-value")
        .env("SRT_T_DENIED", "real-denied-value")
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&run.stdout);
    assert!(env.contains("SANDBOX_RUNTIME=1"), "{env}");
    assert!(
        !env.contains("real-masked-value") && !env.contains("real-denied-value"),
        "{env}"
    );
}
