//! `srt lint`, `srt lint --fix`, `srt lint --list` and `srt explain` as a user runs them: real
//! binary, real files, exit codes, formats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const MINIMAL: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#;

const DOCKER_AND_HOME: &str = r#"{
  "network": {
    "allowedDomains": [],
    "deniedDomains": [],
    "allowUnixSockets": ["/var/run/docker.sock"]
  },
  "filesystem": {
    "denyRead": [],
    "allowWrite": ["~"],
    "denyWrite": []
  }
}
"#;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        // Not under /tmp: policies that allow writing /tmp must not cover the test's home.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        Env { dir }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join("project").join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `srt` with a private home and project, so findings do not depend on this machine.
    fn srt(&self) -> Command {
        let mut c = Command::cargo_bin("srt").unwrap();
        c.current_dir(self.dir.path().join("project"))
            .env("HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100");
        c
    }

    fn lint(&self, args: &[&str]) -> (i32, String, String) {
        let out = self
            .srt()
            .arg("lint")
            .args(["--target", "linux"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`, and of its end.
fn position(text: &str, needle: &str) -> ((usize, usize), (usize, usize)) {
    let start = text.find(needle).unwrap();
    let lc = |at: usize| {
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
        (line, col)
    };
    (lc(start), lc(start + needle.len()))
}

#[test]
fn docker_socket_and_home_write_fail_with_both_findings_at_the_elements() {
    let env = Env::new();
    let f = env.file("bad.srt.json", DOCKER_AND_HOME);
    let (code, stdout, _) = env.lint(&["--format", "json", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let diags = report["diagnostics"].as_array().unwrap();
    for (lint, element) in [
        ("dangerous-unix-socket", "\"/var/run/docker.sock\""),
        ("write-allows-host-code-execution", "\"~\""),
    ] {
        let d = diags
            .iter()
            .find(|d| d["code"] == lint)
            .unwrap_or_else(|| panic!("{lint} missing: {stdout}"));
        assert_eq!(d["severity"], "error");
        let ((l, c), (el, ec)) = position(DOCKER_AND_HOME, element);
        assert_eq!(
            (
                d["line"].as_u64().unwrap() as usize,
                d["column"].as_u64().unwrap() as usize
            ),
            (l, c),
            "{lint}"
        );
        assert_eq!(
            (
                d["end_line"].as_u64().unwrap() as usize,
                d["end_column"].as_u64().unwrap() as usize
            ),
            (el, ec),
            "{lint}"
        );
    }
    // The human format shows both, with their codes.
    let (code, _, stderr) = env.lint(&[f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("dangerous-unix-socket")
            && stderr.contains("write-allows-host-code-execution"),
        "{stderr}"
    );
}

#[test]
fn a_clean_minimal_policy_prints_nothing_and_exits_zero() {
    let env = Env::new();
    let f = env.file(".srt.json", MINIMAL);
    let (code, stdout, stderr) = env.lint(&[f.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    // Without a FILE: the npm srt's default, ~/.srt-settings.json (not ./.srt.json), named.
    let (code, _, stderr) = env.lint(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("home/.srt-settings.json does not exist"),
        "{stderr}"
    );
    let home = env.dir.path().join("home/.srt-settings.json");
    std::fs::write(&home, MINIMAL).unwrap();
    let (code, stdout, stderr) = env.lint(&[]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert_eq!(
        stderr,
        format!(
            "srt: linting {} (the default; pass FILE for another)\n",
            home.display()
        )
    );
}

#[test]
fn levels_from_the_command_line() {
    let env = Env::new();
    // Only warnings: exit 0, unless -D warnings.
    let f = env.file("warn.srt.json", r#"{"network":{"allowedDomains":["github.com"],"deniedDomains":[]},"filesystem":{"denyRead":["~"],"allowWrite":[],"denyWrite":[]}}"#);
    let p = f.to_str().unwrap();
    let (code, _, stderr) = env.lint(&[p]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("exfiltration-surface"));
    assert_eq!(env.lint(&["-D", "warnings", p]).0, 1);
    assert_eq!(env.lint(&["-D", "exfiltration-surface", p]).0, 1);
    // A code named explicitly keeps its level under -D warnings.
    assert_eq!(
        env.lint(&["-D", "warnings", "-W", "exfiltration-surface", p])
            .0,
        0
    );
    let (code, _, stderr) = env.lint(&["-A", "exfiltration-surface", p]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    // Errors can be lowered.
    let bad = env.file("bad.srt.json", DOCKER_AND_HOME);
    let b = bad.to_str().unwrap();
    assert_eq!(
        env.lint(&[
            "-W",
            "dangerous-unix-socket,write-allows-host-code-execution",
            b
        ])
        .0,
        0
    );
}

#[test]
fn usage_errors_exit_two() {
    let env = Env::new();
    let f = env.file(".srt.json", MINIMAL);
    let p = f.to_str().unwrap();
    let (code, _, stderr) = env.lint(&["-A", "exfiltraton-surface", p]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean `exfiltration-surface`"),
        "{stderr}"
    );
    let (code, _, stderr) = env.lint(&["-A", "unknown-key", p]);
    assert_eq!(code, 2);
    assert!(stderr.contains("validation error"), "{stderr}");
    assert_eq!(
        env.lint(&["-A", "costly-glob", "-D", "costly-glob", p]).0,
        2
    );
    assert_eq!(env.lint(&["missing.json"]).0, 2);
    assert_eq!(env.lint(&["--dry-run", p]).0, 2);
    assert_eq!(
        env.srt()
            .args(["explain", "no-such-lint"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn validation_errors_stop_before_lints() {
    let env = Env::new();
    let (code, _, stderr) = env.lint(&[Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/broken.srt.json")
        .to_str()
        .unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown-key") && stderr.contains("out-of-range"),
        "{stderr}"
    );
    assert!(!stderr.contains("exfiltration-surface"));
}

#[test]
fn the_example_policy_is_lint_clean() {
    let env = Env::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rust-minimal.srt.json");
    for target in ["linux", "macos"] {
        let out = env
            .srt()
            .args(["lint", "--format", "json", "--target", target])
            .arg(&example)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let above_note: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] != "note")
            .collect();
        assert!(above_note.is_empty(), "{target}: {above_note:#?}");
    }
}

#[test]
fn target_selects_platform_specific_findings() {
    let env = Env::new();
    let f = env.file(
        "mcp.srt.json",
        r#"{"network":{"allowedDomains":["context7.com"],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":["~/Library/Caches/claude-cli-nodejs"],"denyWrite":[]}}"#,
    );
    let run = |target: &str| {
        let out = env
            .srt()
            .args(["lint", "--target", target, f.to_str().unwrap()])
            .output()
            .unwrap();
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(run("linux").contains("mcp-cache-not-writable"));
    assert!(!run("macos").contains("mcp-cache-not-writable"));
}

#[test]
fn fix_rewrites_in_place_keeping_formatting_and_dry_run_prints_a_diff() {
    let env = Env::new();
    let original = "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"crates.io\", \"crates.io\"\n    ]\n  },\n  \"filesystem\": {\n    \"denyRead\": [\"~/.ssh\"],\n    \"allowWrite\": [\n      \".\",\n      \"/srv/cache\",\n      \"~/.claude/todos\"\n    ]\n  }\n}\n";
    let f = env.file(".srt.json", original);
    let p = f.to_str().unwrap();
    // Dry run: a diff on stdout, exit 1, the file untouched.
    let (code, stdout, _) = env.lint(&["--fix", "--dry-run", "-A", "sensitive-paths-readable", p]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("--- a/") && stdout.contains("+      \"~/.claude/session-env\""),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), original);
    // The fix itself.
    let (code, _, stderr) = env.lint(&["--fix", "-A", "sensitive-paths-readable", p]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("fixed:"), "{stderr}");
    let fixed = std::fs::read_to_string(&f).unwrap();
    insta::assert_snapshot!(fixed);
    // Nothing left to fix: a second run changes nothing, and a dry run has no diff.
    env.lint(&["--fix", "-A", "sensitive-paths-readable", p]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), fixed);
    let (code, stdout, stderr) =
        env.lint(&["--fix", "--dry-run", "-A", "sensitive-paths-readable", p]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert!(stderr.contains("nothing to fix"), "{stderr}");
}

/// `--fix` of a CRLF file with a long addition: one entry per line, every line ending CRLF,
/// the file's indentation kept.
#[test]
fn fix_keeps_crlf_and_writes_one_entry_per_line() {
    let env = Env::new();
    let original = "{\r\n    \"network\": {\r\n        \"allowedDomains\": [\"crates.io\"],\r\n        \"deniedDomains\": []\r\n    },\r\n    \"filesystem\": {\r\n        \"denyRead\": [],\r\n        \"allowWrite\": [\".\"],\r\n        \"denyWrite\": []\r\n    }\r\n}\r\n";
    let f = env.file("crlf.srt.json", original);
    let (code, _, stderr) = env.lint(&["--fix", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let fixed = std::fs::read_to_string(&f).unwrap();
    assert_ne!(fixed, original);
    assert!(
        !fixed.replace("\r\n", "").contains('\n'),
        "mixed line endings: {fixed:?}"
    );
    assert!(fixed.lines().all(|l| l.len() <= 100), "{fixed}");
    assert!(
        fixed.contains("        \"denyRead\": [\r\n            \"~/.ssh\",\r\n"),
        "{fixed:?}"
    );
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let env = Env::new();
    let files = [
        env.file("bad.srt.json", DOCKER_AND_HOME),
        env.file("seed.srt.json", "{\"network\": {\"allowedDomains\": [\n  \"api.anthropic.com\",\n  \"crates.io\", \"*.crates.io\", \"static.crates.io\", \"index.crates.io\",\n  \"github.com\", \"*.github.com\",\n  \"static.rust-lang.org\",\n  \"*.cloudfront.net\"\n]}}"),
        env.file("dup.srt.json", r#"{"network":{"allowedDomains":["crates.io","crates.io"],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#),
        env.file("invalid.srt.json", r#"{"network":{"allowedDomain":["https://x"]}}"#),
    ];
    let out = env
        .srt()
        .args(["lint", "--format", "sarif", "--target", "linux"])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("lints/data/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is strict enough to catch a broken log.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
    // Rules carry every code's help text; results point into them.
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 30);
    assert!(rules.iter().all(|r| r["help"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("WHAT IT DOES"))));
    let results = run["results"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    for code in [
        "dangerous-unix-socket",
        "exfiltration-surface",
        "wildcard-over-public-suffix",
        "redundant-entry",
        "unknown-key",
    ] {
        assert!(results.iter().any(|r| r["ruleId"] == code), "{code}");
    }
    assert!(results
        .iter()
        .any(|r| r["fixes"].as_array().is_some_and(|f| !f.is_empty())));
}

#[test]
fn list_and_explain_document_every_code() {
    let env = Env::new();
    let out = env.srt().args(["lint", "--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let list = String::from_utf8(out.stdout).unwrap();
    for l in srt_lints_codes() {
        assert!(list.contains(&l), "{l} not listed");
        let out = env.srt().args(["explain", &l]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{l}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(&l) && text.contains("WHY IS THIS BAD"),
            "{text}"
        );
    }
}

/// The codes as `srt lint --list` prints them, read back from the book's index.
fn srt_lints_codes() -> Vec<String> {
    let index = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/lints/index.md"),
    )
    .unwrap();
    index
        .lines()
        .filter_map(|l| l.strip_prefix("| [`"))
        .map(|l| l.split('`').next().unwrap().to_string())
        .collect()
}

/// `srt lint --format sarif F | head`: a reader that goes away is not a crash (exit 101).
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let env = Env::new();
    let f = env.file("bad.srt.json", DOCKER_AND_HOME);
    for format in ["sarif", "json"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_srt"))
            .current_dir(env.dir.path().join("project"))
            .env("HOME", env.dir.path().join("home"))
            .args(["lint", "--format", format, f.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before srt writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
    }
}

/// A missing or unreadable file is an error in every format, so a CI upload step sees a
/// failure rather than "no problems".
#[test]
fn a_missing_file_is_an_error_in_every_format() {
    let env = Env::new();
    let missing = env.dir.path().join("project/missing.srt.json");
    let dir = env.dir.path().join("project");
    for file in [&missing, &dir] {
        let out = env
            .srt()
            .args(["lint", "--format", "json"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &report["diagnostics"][0];
        assert_eq!(d["code"], "unreadable-file", "{report}");
        assert_eq!(d["severity"], "error");
        let out = env
            .srt()
            .args(["lint", "--format", "sarif"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = &sarif["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "unreadable-file", "{sarif}");
        assert_eq!(r["level"], "error");
        let (code, _, stderr) = env.lint(&[file.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(stderr.contains("unreadable-file"), "{stderr}");
    }
}

/// `srt lint --control-lines`: each line of a `--control-fd` stream is linted on its own, with
/// the same front end as a settings file; stdin is `-`.
#[test]
fn control_lines_are_linted_one_by_one() {
    let good = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#;
    let bad = r#"{"network":{"allowedDomains":"example.com"}}"#;
    let out = Command::cargo_bin("srt")
        .unwrap()
        .args(["lint", "--control-lines", "--format", "json", "-"])
        .write_stdin(format!("{good}\n\n{bad}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(!errors.is_empty(), "{doc:#}");
    assert!(
        errors.iter().all(|d| d["file"] == "control:3"),
        "only the third line is wrong: {doc:#}"
    );
    let out = Command::cargo_bin("srt")
        .unwrap()
        .args(["lint", "--control-lines", "-"])
        .write_stdin(format!("{good}\n"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
