//! `srt compile --target linux` end to end: flags, both formats, determinism.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;

fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("out")).unwrap();
    std::fs::write(d.path().join("Cargo.lock"), "").unwrap();
    std::fs::write(
        d.path().join("policy.json"),
        r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
            "filesystem":{"denyRead":[],"allowWrite":["out/**"],"denyWrite":["*.lock"]}}"#,
    )
    .unwrap();
    d
}

fn compile(dir: &std::path::Path, format: &str) -> String {
    let out = Command::cargo_bin("srt")
        .unwrap()
        .args(["compile", "--target", "linux", "-s"])
        .arg(dir.join("policy.json"))
        .arg("--cwd")
        .arg(dir)
        .args(["--format", format, "--arch", "aarch64"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn json_has_the_documented_shape_and_is_deterministic() {
    let d = project();
    let a = compile(d.path(), "json");
    assert_eq!(a, compile(d.path(), "json"));
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let bwrap: Vec<&str> = v["bwrap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(&bwrap[..3], ["--ro-bind", "/", "/"]);
    let out = std::fs::canonicalize(d.path().join("out")).unwrap();
    let out = out.to_str().unwrap();
    assert!(bwrap.windows(3).any(|w| w == ["--bind", out, out]));
    assert!(bwrap.contains(&"--unshare-net"));
    assert_eq!(v["env"]["HTTP_PROXY"], "http://localhost:3128");
    assert!(v["stubs"].is_array());
    assert_eq!(v["seccomp"]["arch"], "aarch64");
    assert!(v["seccomp"]["instructions"].as_u64().unwrap() > 20);
    assert!(v["seccomp"]["rules"].as_array().unwrap().len() >= 18);
    assert!(v["notes"].is_array());
}

#[test]
fn text_lists_mounts_env_and_bpf() {
    let d = project();
    let t = compile(d.path(), "text");
    assert_eq!(t, compile(d.path(), "text"));
    for section in [
        "# bwrap arguments",
        "# environment",
        "# seccomp (aarch64)",
        "# seccomp BPF",
        "# notes",
    ] {
        assert!(t.contains(section), "{section} missing:\n{t}");
    }
    assert!(t.contains("<- filesystem.allowWrite[0]"));
    assert!(t.contains("ret  KILL_PROCESS"));
}

#[test]
fn a_bad_format_is_a_usage_error() {
    let d = project();
    Command::cargo_bin("srt")
        .unwrap()
        .args(["compile", "--target", "linux", "--format", "sbpl", "-s"])
        .arg(d.path().join("policy.json"))
        .assert()
        .code(2);
}
