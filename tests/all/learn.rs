//! `srt learn` with real sandboxes: the real `srt` binary runs real bubblewrap through
//! `srt run`, real clients inside reach local origins through srt's proxy (srt decides on
//! the name, then hands the request to the origin as its parent proxy), and the proposals are
//! applied, linted and run again.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;
use crate::common::origins;

use std::process::{Command, Output};

use common::{ok, text, Sandbox};
use origins::Origins;

const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Names pinned to documentation addresses (no DNS; not addresses the guard refuses); the
/// origins answer for them as srt's parent proxy.
const PINS: [&str; 9] = [
    "pkg.alpha.test=198.51.100.7",
    "files.beta.test=198.51.100.8",
    "a.cdn.learn.test=198.51.100.9",
    "b.cdn.learn.test=198.51.100.9",
    "c.cdn.learn.test=198.51.100.9",
    "x.api.other.test=198.51.100.10",
    "y.api.other.test=198.51.100.10",
    "gist.github.com=198.51.100.11",
    "quiet.test=198.51.100.12",
];

/// `srt SUBCOMMAND -s .srt.json ARGS…` with the origins as srt's parent proxy.
fn srt(sb: &Sandbox, origins: &Origins, sub: &str, args: &[&str]) -> Command {
    let mut c = sb.srt();
    for k in PROXY_VARS {
        c.env_remove(k);
    }
    c.env("HTTP_PROXY", format!("http://127.0.0.1:{}", origins.port));
    c.args([sub, "-s", ".srt.json"]);
    if sub == "learn" || sub == "run" {
        for p in PINS {
            c.args(["--resolve", p]);
        }
    }
    c.args(args);
    c
}

fn learn(sb: &Sandbox, origins: &Origins, args: &[&str], script: &str) -> Output {
    srt(sb, origins, "learn", args)
        .args(["-c", script])
        .output()
        .unwrap()
}

fn policy(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.project().join(".srt.json")).unwrap()
}

/// `srt lint` on the project's file: exit 0 and no warning (notes are fine).
fn lint_clean(sb: &Sandbox) {
    let mut c = sb.srt();
    for k in PROXY_VARS {
        c.env_remove(k);
    }
    let out = c.args(["lint", ".srt.json"]).output().unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("warning"), "{all}\n{}", policy(sb));
}

/// A script whose second origin is known only from the first one's answer: learned from an
/// empty policy in two rounds, then it runs cleanly, the file lints without warnings, and a
/// third learning run proposes nothing.
#[test]
fn two_origins_from_an_empty_policy_in_two_rounds() {
    let origins = Origins::start(&[("pkg.alpha.test/index", "http://files.beta.test/blob")]);
    let sb = Sandbox::new();
    let script = "index=$(curl -sf http://pkg.alpha.test:8001/index); \
                  echo \"index: $index\"; \
                  curl -sf \"$index\"";
    // Round 1: no file yet; only the first origin is asked for.
    let out = learn(&sb, &origins, &["--apply"], script);
    let report = ok(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("starting from the built-in default"),
        "{stderr}"
    );
    assert!(
        report.contains("+    \"allowedDomains\": [\"pkg.alpha.test:8001\"],"),
        "{report}"
    );
    assert!(
        report.contains("#     refused: GET pkg.alpha.test:8001"),
        "{report}"
    );
    assert!(
        stderr.contains("srt learn: wrote .srt.json (1 entry added)"),
        "{stderr}"
    );
    // Round 2: the first origin answers, the second is refused.
    let out = learn(&sb, &origins, &["--apply"], script);
    let report = ok(&out);
    assert!(
        report.contains("\"allowedDomains\": [\"pkg.alpha.test:8001\", \"files.beta.test\"],"),
        "{report}"
    );
    assert!(
        report.contains("#     refused: GET files.beta.test:80"),
        "{report}"
    );
    // The learned policy runs the script cleanly.
    let out = srt(&sb, &origins, "run", &["-c", script]).output().unwrap();
    assert_eq!(
        ok(&out),
        "index: http://files.beta.test/blob\nhello from files.beta.test\n"
    );
    assert!(
        !text(&out.stderr).contains("blocked"),
        "{}",
        text(&out.stderr)
    );
    lint_clean(&sb);
    // Converged: nothing more to add, and --apply leaves the file alone.
    let before = policy(&sb);
    let out = learn(&sb, &origins, &["--apply"], script);
    assert!(
        ok(&out).contains("\nNothing to add"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(policy(&sb), before);
}

/// Several siblings under one registrable domain get one wildcard; two get exact names.
#[test]
fn wildcard_for_several_siblings_exact_names_for_two() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    let script = "for h in a.cdn.learn.test b.cdn.learn.test c.cdn.learn.test x.api.other.test y.api.other.test; do curl -sf http://$h/; done";
    let out = learn(&sb, &origins, &["--apply"], script);
    let report = ok(&out);
    assert!(
        report.contains("3 names under cdn.learn.test were refused"),
        "{report}"
    );
    let file = policy(&sb);
    assert!(
        file.contains("\"allowedDomains\": [\"*.cdn.learn.test\", \"x.api.other.test\", \"y.api.other.test\"]"),
        "{file}"
    );
    let out = srt(&sb, &origins, "run", &["-c", script]).output().unwrap();
    assert_eq!(ok(&out).lines().count(), 5, "{}", text(&out.stdout));
    lint_clean(&sb);
}

/// A metadata endpoint is never proposed, and says why; `--deny-rest` records it as a deny,
/// after which the next round proposes nothing. An exfiltration host is proposed with its
/// warning next to it.
#[test]
fn metadata_refused_with_reason_deny_rest_records_it_exfiltration_host_warned() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    // NO_PROXY sends link-local addresses direct (where nothing answers): the script asks
    // the proxy on purpose, as a hostile one would.
    let script = "curl -sf --noproxy '' http://169.254.169.254/latest/meta-data/; curl -sf http://gist.github.com/; curl -sf http://quiet.test/; true";
    let out = learn(&sb, &origins, &[], script);
    let report = ok(&out);
    assert!(report.contains("Not proposed:"), "{report}");
    assert!(
        report.contains("GET 169.254.169.254:80: [private-or-metadata-host]"),
        "{report}"
    );
    assert!(report.contains("cloud credentials"), "{report}");
    assert!(
        report.contains("#     warning[exfiltration-surface]"),
        "{report}"
    );
    assert!(
        !sb.project().join(".srt.json").exists(),
        "learn without --apply wrote the file"
    );
    let out = learn(&sb, &origins, &["--apply", "--deny-rest"], script);
    let report = ok(&out);
    assert!(
        report.contains("recorded in network.deniedDomains (--deny-rest)"),
        "{report}"
    );
    let file = policy(&sb);
    assert!(
        file.contains("\"deniedDomains\": [\"169.254.169.254\"]"),
        "{file}"
    );
    assert!(
        file.contains("\"allowedDomains\": [\"gist.github.com\", \"quiet.test\"]"),
        "{file}"
    );
    let out = learn(&sb, &origins, &["--deny-rest"], script);
    assert!(ok(&out).contains("Nothing to add"), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr)
            .contains("srt: blocked GET 169.254.169.254:80 — on network.deniedDomains[0]"),
        "{}",
        text(&out.stderr)
    );
    // The metadata host never reached the origin.
    assert!(
        !origins.lines().contains("169.254.169.254"),
        "{}",
        origins.lines()
    );
}

/// `-o FILE` writes a new file and leaves the settings alone; `--format json` says the same
/// for tools; `--apply` keeps the file's own layout (tabs here).
#[test]
fn output_file_json_and_layout() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    let tabbed = "{\n\t\"network\": {\n\t\t\"allowedDomains\": [],\n\t\t\"deniedDomains\": []\n\t},\n\t\"filesystem\": {\n\t\t\"denyRead\": [],\n\t\t\"allowWrite\": [],\n\t\t\"denyWrite\": []\n\t}\n}\n";
    sb.settings(tabbed);
    let script = "curl -sf http://quiet.test:8080/ || true";
    let out = learn(
        &sb,
        &origins,
        &["-o", "learned.json", "--format", "json"],
        script,
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["proposals"][0]["key"], "network.allowedDomains");
    assert_eq!(v["proposals"][0]["entry"], "quiet.test:8080");
    assert_eq!(
        v["proposals"][0]["refusals"][0]["refusal"],
        "GET quiet.test:8080"
    );
    assert_eq!(v["converged"], false);
    assert!(v["diff"]
        .as_str()
        .unwrap()
        .contains("+\t\t\"allowedDomains\": [\"quiet.test:8080\"],"));
    assert_eq!(policy(&sb), tabbed, "-o leaves the settings file alone");
    let learned = std::fs::read_to_string(sb.project().join("learned.json")).unwrap();
    assert_eq!(
        learned,
        tabbed.replace(
            "\"allowedDomains\": []",
            "\"allowedDomains\": [\"quiet.test:8080\"]"
        )
    );
    assert_eq!(v["content"], learned.as_str());
    let out = learn(&sb, &origins, &["--apply"], script);
    ok(&out);
    assert_eq!(policy(&sb), learned);
}

/// srt learn survives the signal that stops a long-running command (an MCP server, a dev
/// server) and reports what it was refused before.
#[test]
fn a_terminated_long_running_command_is_still_learned_from() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    let mut child = srt(
        &sb,
        &origins,
        "learn",
        &[
            "-c",
            "curl -sf http://quiet.test/; echo started; exec sleep 60",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // Wait for the refusal to be recorded (the command prints after curl returns).
    let started = std::time::Instant::now();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert_eq!(first, "started\n");
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
    assert!(
        rest.contains("+    \"allowedDomains\": [\"quiet.test\"],"),
        "{rest}"
    );
}

/// Learning from a file of refusals (`srt learn --violations FILE`, no command), shaped as
/// `srt run --violations` writes them for filesystem and socket refusals: the cache and the
/// build directory are proposed (the missing one created by --apply); the shell rc file, the
/// Docker socket and an SSH key are not, each with why.
#[test]
fn from_a_violations_file_writes_are_proposed_and_dangerous_ones_refused() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.project().join("build")).unwrap();
    sb.settings(
        r#"{"network": {"allowedDomains": [], "deniedDomains": []},
 "filesystem": {"denyRead": ["~/.ssh"], "allowWrite": [], "denyWrite": []}}"#,
    );
    let home = sb.home();
    let project = std::fs::canonicalize(sb.project()).unwrap();
    let write = |path: String, command: &str| {
        serde_json::json!({"time": "2026-12-07T05:00:00.000Z", "kind": "filesystem",
            "access": "write", "path": path, "syscall": "openat", "pid": 4, "command": command,
            "rule": null, "reason": "not under any filesystem.allowWrite", "line": "…",
            "ignored": false})
        .to_string()
    };
    let lines = [
        write(
            format!("{}/.cache/fetcher/index.json", home.display()),
            "python3",
        ),
        write(
            format!("{}/.cache/fetcher/blobs/1", home.display()),
            "python3",
        ),
        write(format!("{}/build/app.o", project.display()), "cc"),
        write(format!("{}/.bashrc", home.display()), "bash"),
        serde_json::json!({"kind": "unix-socket", "path": "/var/run/docker.sock",
            "command": "docker", "ignored": false})
        .to_string(),
        serde_json::json!({"kind": "filesystem", "access": "read",
            "path": format!("{}/.ssh/id_ed25519", home.display()), "syscall": "openat",
            "command": "ssh", "rule": "filesystem.denyRead[0]", "ignored": false})
        .to_string(),
    ];
    let file = sb.root.path().join("refusals.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = srt(&sb, &origins, "learn", &["--apply", "--violations"])
        .arg(&file)
        .output()
        .unwrap();
    let report = ok(&out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("srt learn: 6 refusals recorded"),
        "{stderr}"
    );
    let file: serde_json::Value = serde_json::from_str(&policy(&sb)).unwrap();
    assert_eq!(
        file["filesystem"]["allowWrite"],
        serde_json::json!(["./build", "~/.cache/fetcher"]),
        "{report}"
    );
    assert!(
        report.contains("#   ~/.cache/fetcher in filesystem.allowWrite: the deepest directory covering the 2 writes `python3` was refused"),
        "{report}"
    );
    let not = report.split("Not proposed:").nth(1).unwrap_or_default();
    assert!(
        not.contains(".bashrc (openat), by bash: built-in mandatory-deny"),
        "{report}"
    );
    assert!(
        not.contains("docker.sock, by docker: [dangerous-unix-socket]"),
        "{report}"
    );
    assert!(
        not.contains("id_ed25519 (openat), by ssh: SSH keys"),
        "{report}"
    );
    assert!(
        home.join(".cache/fetcher").is_dir(),
        "--apply creates the missing directory"
    );
    assert!(stderr.contains("srt learn: created"), "{stderr}");
    lint_clean(&sb);
}

/// The refusals srt learn reads are written where the sandbox cannot write, even when the
/// policy lets it write srt's state directory's parent: a command cannot forge a refusal to
/// get it proposed.
#[test]
fn the_sandbox_cannot_forge_refusals() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    let state = std::fs::canonicalize(sb.state()).unwrap();
    sb.settings(&format!(
        r#"{{"network": {{"allowedDomains": [], "deniedDomains": []}},
 "filesystem": {{"denyRead": [], "allowWrite": ["{}"], "denyWrite": []}}}}"#,
        state.display()
    ));
    let forged = r#"{"kind":"filesystem","access":"write","path":"/etc/forged","syscall":"openat","command":"evil","ignored":false}"#;
    let script = format!(
        "for f in {}/*/learn/*/violations.jsonl; do echo '{forged}' >> \"$f\" && echo FORGED; done; curl -sf http://quiet.test/ || true",
        state.display()
    );
    let out = learn(&sb, &origins, &[], &script);
    let report = ok(&out);
    assert!(!report.contains("FORGED"), "{report}");
    assert!(!report.contains("/etc/forged"), "{report}");
    assert!(
        report.contains("\"allowedDomains\": [\"quiet.test\"]"),
        "{report}"
    );
    // The network refusal, and the blocked write of the forger (reported by the filesystem
    // observer, not proposed: srt's state is protected).
    assert!(
        text(&out.stderr).contains("srt learn: 2 refusals recorded"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        report.contains("Not proposed:") && report.contains("built-in srt-state"),
        "{report}"
    );
}

/// The drop-in conventions: without `-s`, srt learn reads what `srt run` would
/// (`~/.srt-settings.json`, else the built-in default) and `--apply` writes
/// `~/.srt-settings.json`, which the next `srt run` without `-s` then uses; `-A/-W/-D` reach
/// both the run and the lints. Without a command or a file there is nothing to learn from.
#[test]
fn settings_default_and_levels() {
    let origins = Origins::start(&[]);
    let sb = Sandbox::new();
    let mut c = sb.srt();
    for k in PROXY_VARS {
        c.env_remove(k);
    }
    c.env("HTTP_PROXY", format!("http://127.0.0.1:{}", origins.port));
    let out = c
        .args([
            "learn",
            "--apply",
            "--resolve",
            "gist.github.com=198.51.100.11",
        ])
        .args([
            "-A",
            "exfiltration-surface",
            "-c",
            "curl -sf http://gist.github.com/",
        ])
        .output()
        .unwrap();
    let report = ok(&out);
    assert!(report.contains("gist.github.com"), "{report}");
    assert!(
        !report.contains("exfiltration-surface"),
        "-A hides the warning: {report}"
    );
    let written = std::fs::read_to_string(sb.home().join(".srt-settings.json")).unwrap();
    assert!(
        written.contains("\"allowedDomains\": [\"gist.github.com\"]"),
        "{written}"
    );
    let mut c = sb.srt();
    for k in PROXY_VARS {
        c.env_remove(k);
    }
    c.env("HTTP_PROXY", format!("http://127.0.0.1:{}", origins.port));
    let out = c
        .args([
            "run",
            "--resolve",
            "gist.github.com=198.51.100.11",
            "-A",
            "exfiltration-surface",
        ])
        .args(["-c", "curl -sf http://gist.github.com/"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "hello from gist.github.com\n");
    let out = sb.srt().args(["learn"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
