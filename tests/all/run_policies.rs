//! A file the npm srt runs, srt runs: every example policy of the seed document, every policy
//! in the book's recipes and quick start, and every `srt init` preset run under `srt run` (real
//! bubblewrap) as written. And `srt explain`, `srt compile` and `srt run`, given the same flags,
//! read the same file.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::{Path, PathBuf};

use common::{text, Sandbox};

/// A sandbox whose HOME is not under /tmp: the seed policies allow writing /tmp, which
/// `write-allows-host-code-execution` rightly refuses when it holds the home directory. The
/// target directory itself may lie under /tmp (a checkout there); /var/tmp then.
fn sandbox() -> Sandbox {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") {
        Path::new("/var/tmp")
    } else {
        target
    };
    let root = tempfile::tempdir_in(base).unwrap();
    for d in ["home", "project", "state"] {
        std::fs::create_dir(root.path().join(d)).unwrap();
    }
    Sandbox { root }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The settings files in a book page's ```json blocks (an `.mcp.json` is not one).
fn book_policies(page: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("book/src").join(page)).unwrap();
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match &mut block {
            None if line.trim_start().starts_with("```json") => block = Some(String::new()),
            None => {}
            Some(b) if line.trim_start().starts_with("```") => {
                if !b.contains("mcpServers") {
                    out.push(b.clone());
                }
                block = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
        }
    }
    out
}

/// Runs `srt -s FILE -c true` in the drop-in form; asserts it ran.
fn runs_as_written(sb: &Sandbox, name: &str, policy: &str) {
    let file = sb.root.path().join(name);
    std::fs::write(&file, policy).unwrap();
    let run = || {
        sb.srt()
            .arg("-s")
            .arg(&file)
            .args(["-c", "echo ran"])
            .output()
            .unwrap()
    };
    // The seeds that allow writing all of /tmp see the other tests' projects there, whose
    // stubs come and go (other state directories, so not shared): a mount point can vanish
    // between planning and bwrap's mounts, or a directory a stub goes in. srt plans afresh
    // itself, three times; under the whole suite's churn it may still give up, and running
    // again is what its message says.
    let mut out = run();
    for _ in 0..3 {
        let words = common::words(&out.stderr);
        let raced = ["disappearedwhilebubblewrap", "srtplansafresh"];
        if out.status.success() || !raced.iter().any(|r| words.contains(r)) {
            break;
        }
        out = run();
    }
    assert!(
        out.status.success() && text(&out.stdout) == "ran\n",
        "{name} did not run: {:?}\n{}",
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn the_seed_examples_run_as_written() {
    let sb = sandbox();
    let dir = repo().join("snapshots/policies/good");
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .collect();
    seeds.sort();
    // The eight example policies and the five allowlist fragments of the seed document.
    assert_eq!(seeds.len(), 13);
    for seed in seeds {
        let name = seed.file_name().unwrap().to_string_lossy().into_owned();
        runs_as_written(&sb, &name, &std::fs::read_to_string(&seed).unwrap());
    }
}

#[test]
fn the_books_policies_run_as_written() {
    let sb = sandbox();
    let mut n = 0;
    for page in [
        "quick-start.md",
        "recipes/mcp-server.md",
        "recipes/autonomous-agents.md",
    ] {
        for (i, policy) in book_policies(page).iter().enumerate() {
            runs_as_written(
                &sb,
                &format!("book-{}-{i}.json", page.replace('/', "-")),
                policy,
            );
            n += 1;
        }
    }
    assert!(n >= 3, "{n}");
}

#[test]
fn every_init_preset_runs_as_written() {
    let sb = sandbox();
    let presets = ["rust", "go", "node", "python", "claude", "mcp-context7"];
    let all = presets.join(",");
    for preset in presets.iter().copied().chain([all.as_str()]) {
        let out = sb
            .srt()
            .args(["init", "--stdout", "--preset", preset])
            .output()
            .unwrap();
        assert!(out.status.success());
        runs_as_written(&sb, &format!("{preset}.json"), &text(&out.stdout));
    }
}

/// `~/.srt-settings.json` denies writing the project; a `./.srt.json` (which `lint`,
/// `compile` and `explain` used to prefer) allows it. Given the same flags, all three read
/// `~/.srt-settings.json`, say so, and agree.
#[test]
fn explain_compile_and_run_read_the_same_file() {
    let sb = sandbox();
    let home_policy = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":[],"denyWrite":[]}}"#;
    std::fs::write(sb.home().join(".srt-settings.json"), home_policy).unwrap();
    sb.settings(
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#,
    );
    let default = sb.home().join(".srt-settings.json");
    let named = format!("srt: settings: {} (the default", default.display());
    // explain: writing ./x is denied, and the file is named.
    let out = sb
        .srt()
        .args([
            "explain", "--path", "x", "--access", "write", "--format", "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&named), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["decisions"][0]["allowed"], false, "{doc}");
    assert_eq!(doc["settings"], default.display().to_string());
    // compile: no writable bind of the project.
    let out = sb
        .srt()
        .args(["compile", "--target", "linux", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&named), "{}", text(&out.stderr));
    let project = sb.project().display().to_string();
    let plan = text(&out.stdout);
    assert!(
        !plan.contains(&format!("\"--bind\",\n      \"{project}\"")),
        "{plan}"
    );
    // run: the write fails.
    let out = sb.srt().args(["-d", "-c", "touch x"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(!sb.project().join("x").exists());
    assert!(text(&out.stderr).contains(&named), "{}", text(&out.stderr));
    // With -s, all three read ./.srt.json instead.
    let out = sb
        .srt()
        .args([
            "explain",
            "-s",
            ".srt.json",
            "--path",
            "x",
            "--access",
            "write",
        ])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("ALLOWED"),
        "{}",
        text(&out.stdout)
    );
    let out = sb
        .srt()
        .args(["-s", ".srt.json", "-c", "touch x"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(sb.project().join("x").exists());
}

/// `--cwd` that does not exist is a usage error (exit 2) in every command that takes it.
#[test]
fn every_command_refuses_a_cwd_that_does_not_exist() {
    let sb = sandbox();
    sb.settings(r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#);
    for args in [
        &["lint", ".srt.json"][..],
        &["compile", "-s", ".srt.json"],
        &["compile", "-s", ".srt.json", "--target", "linux"],
        &["explain", "-s", ".srt.json", "--path", "x"],
        &["diff", ".srt.json", ".srt.json"],
        &["run", "-s", ".srt.json", "-c", "true"],
        &["-s", ".srt.json", "-c", "true"],
    ] {
        let out = sb
            .srt()
            .args(args)
            .args(["--cwd", "/nonexistent"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("--cwd /nonexistent"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
