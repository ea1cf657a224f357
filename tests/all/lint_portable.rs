//! `srt lint` gives the same findings on every machine: the real binary, run for the same file
//! on two made-up machines with different homes, working directories and disks. Only the
//! local-disk group differs, and it is left out in CI and under pre-commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

/// Written on a Mac by alice, with paths under her home spelled out, a relative write root and
/// a missing directory; `/home` is every home on Linux.
const POLICY: &str = r#"{
  "network": {
    "allowedDomains": ["registry.npmjs.org", "index.crates.io", "static.crates.io", "lvh.me"],
    "deniedDomains": []
  },
  "filesystem": {
    "denyRead": ["/Users/alice/.ssh", "/home/alice/.aws", "~/.gnupg"],
    "allowWrite": [".", "./build", "/Users/alice/.npm", "/home", "~/.cargo/registry", "/Users/alice/.cargo/git"],
    "denyWrite": [".git/hooks", "/home/alice/.bashrc"]
  }
}
"#;

struct Machine {
    _dir: tempfile::TempDir,
    home: PathBuf,
    cwd: PathBuf,
    file: PathBuf,
}

/// A machine whose `$HOME` is `home` (as spelled: it need not exist here, nothing but the
/// local-disk group reads it) and whose working directory is `cwd` under a private directory,
/// with `dirs` created in it.
fn machine(home: &str, cwd: &str, dirs: &[&str]) -> Machine {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let home = PathBuf::from(home);
    let cwd = dir.path().join(cwd);
    std::fs::create_dir_all(&cwd).unwrap();
    for d in dirs {
        std::fs::create_dir_all(cwd.join(d)).unwrap();
    }
    let file = cwd.join(".srt.json");
    std::fs::write(&file, POLICY).unwrap();
    Machine {
        _dir: dir,
        home,
        cwd,
        file,
    }
}

/// `srt lint --format json` of the machine's file, as (code, severity, line, column, message).
fn lint(
    m: &Machine,
    env: &[(&str, &str)],
    args: &[&str],
) -> Vec<(String, String, u64, u64, String)> {
    let mut c = Command::cargo_bin("srt").unwrap();
    c.current_dir(&m.cwd)
        .env("HOME", &m.home)
        .env_remove("CI")
        .env_remove("PRE_COMMIT")
        .envs(env.iter().copied())
        .args(["lint", "--format", "json"])
        .args(args)
        .arg(&m.file);
    let out = c.output().unwrap();
    assert!(out.status.code().unwrap() <= 1, "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn codes(found: &[(String, String, u64, u64, String)]) -> Vec<&str> {
    found.iter().map(|f| f.0.as_str()).collect()
}

fn without_local(
    found: &[(String, String, u64, u64, String)],
) -> Vec<(String, String, u64, u64, String)> {
    found
        .iter()
        .filter(|f| !srt_lints::registry::is_local_disk(&f.0))
        .cloned()
        .collect()
}

#[test]
fn two_machines_give_the_same_findings_apart_from_the_local_disk_group() {
    // alice's laptop: $HOME is /Users/alice, the project has a build directory.
    let laptop = machine("/Users/alice", "src/app", &["build", ".git/hooks"]);
    // A CI runner: $HOME is /root, the checkout elsewhere, nothing built yet.
    let ci = machine("/root", "builds/app", &[]);
    assert_ne!(laptop.home, ci.home);
    assert_ne!(laptop.cwd, ci.cwd);

    let here = lint(&laptop, &[], &[]);
    let there = lint(&ci, &[], &[]);
    // The local-disk group runs by hand, and sees each machine's disk.
    assert!(codes(&there).contains(&"missing-path"), "{there:#?}");
    assert_eq!(without_local(&here), without_local(&there));

    // In CI and under pre-commit the local-disk group is left out; the rest is the same.
    for env in [("CI", "true"), ("PRE_COMMIT", "1")] {
        let portable = lint(&ci, &[env], &[]);
        assert_eq!(portable, without_local(&there), "{env:?}");
        assert_eq!(lint(&laptop, &[env], &[]), without_local(&here), "{env:?}");
    }
    assert_eq!(lint(&laptop, &[], &["--portable"]), without_local(&here));
    // --local forces it on, in CI too.
    assert_eq!(lint(&ci, &[("CI", "true")], &["--local"]), there);

    // What the file says is found on both: `/home` makes every home writable (it was silent
    // when HOME was /root), `~/.npm` holds npx's packages, the npm registry publishes, lvh.me
    // is loopback, and the explicit .git/hooks deny is not called redundant.
    let found = without_local(&there);
    let has = |code: &str, needle: &str| found.iter().any(|f| f.0 == code && f.4.contains(needle));
    assert!(
        has("write-allows-host-code-execution", "`/home`"),
        "{found:#?}"
    );
    assert!(
        has("write-allows-host-code-execution", "`/Users/alice/.npm`"),
        "{found:#?}"
    );
    assert!(
        has("exfiltration-surface", "`registry.npmjs.org`"),
        "{found:#?}"
    );
    assert!(has("private-or-metadata-host", "`lvh.me`"), "{found:#?}");
    assert!(!has("redundant-entry", ".git/hooks"), "{found:#?}");
    // `/Users/alice/.ssh` and `/home/alice/.aws` are read as the home's: not listed as readable.
    let readable = found
        .iter()
        .find(|f| f.0 == "sensitive-paths-readable")
        .map(|f| f.4.clone())
        .unwrap_or_default();
    assert!(!readable.contains("13 "), "{readable}");
}

#[test]
fn the_file_names_its_os() {
    let m = machine("/home/bob", "p", &[]);
    std::fs::write(
        &m.file,
        r#"{"allowPty": true, "network": {"allowedDomains": ["context7.com"], "deniedDomains": []},
            "filesystem": {"denyRead": [], "allowWrite": [".", "~/Library/Caches/claude-cli-nodejs"], "denyWrite": []}}"#,
    )
    .unwrap();
    // macOS-only keys and paths: linted for macOS on this Linux machine, so `allowPty` is no
    // no-op and the macOS MCP cache is the right one.
    let found = lint(&m, &[("CI", "1")], &[]);
    assert!(!codes(&found).contains(&"platform-no-op"), "{found:#?}");
    assert!(
        !codes(&found).contains(&"mcp-cache-not-writable"),
        "{found:#?}"
    );
    // --target still decides when given.
    let linux = lint(&m, &[("CI", "1")], &["--target", "linux"]);
    assert!(codes(&linux).contains(&"platform-no-op"), "{linux:#?}");
}
