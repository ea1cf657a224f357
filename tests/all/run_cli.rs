//! `srt run` as a command: the npm srt's drop-in forms, exit statuses and signals, stdin,
//! refusing to run (fail closed), and cleaning up, even after `srt` is killed.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{exists, ok, text, Sandbox};

const POLICY: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
/// No host to reach: no proxies and no bridges (srt's init is PID 1 all the same).
const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

#[test]
fn drop_in_forms_work_like_the_npm_srt() {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let out = sb
        .srt()
        .args(["-s", ".srt.json", "-c", "echo hi; echo $SANDBOX_RUNTIME"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "hi\n1\n");
    let out = sb
        .srt()
        .args(["-s", ".srt.json", "echo", "a b", "c$d"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "a b c$d\n");
    // With ~/.srt-settings.json as the default.
    std::fs::write(sb.home().join(".srt-settings.json"), POLICY).unwrap();
    let out = sb
        .srt()
        .args(["sh", "-c", "touch made && echo made"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "made\n");
    let out = sb.srt().args(["run", "-s", ".srt.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No command specified"));
}

#[test]
fn exit_statuses_and_signals_propagate() {
    for policy in [POLICY, OFFLINE] {
        exit_statuses_and_signals_propagate_with(policy);
    }
}

fn exit_statuses_and_signals_propagate_with(policy: &str) {
    let sb = Sandbox::new();
    sb.settings(policy);
    for (script, code) in [
        ("exit 0", 0),
        ("exit 42", 42),
        ("exit 300", 44),
        ("kill -KILL $$", 137),
        ("kill -TERM $$", 143),
    ] {
        let out = sb.run(script);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{policy}: {script}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn sigterm_to_srt_reaches_the_command() {
    for policy in [POLICY, OFFLINE] {
        sigterm_to_srt_reaches_the_command_with(policy);
    }
}

fn sigterm_to_srt_reaches_the_command_with(policy: &str) {
    let sb = Sandbox::new();
    sb.settings(policy);
    let mut child = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "-c",
            "trap 'echo got-term; exit 5' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: signal to our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    // A command that never sees the signal must fail the test, not hang it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{policy}: the command did not get SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(status.code(), Some(5));
    assert_eq!(sb.leftovers(), Vec::<String>::new());
}

/// `TMPDIR` is chosen as the npm srt chooses it.
#[test]
fn tmpdir_follows_claude_code_tmpdir() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let shown = |env: &[(&str, &str)]| {
        let mut cmd = sb.srt();
        cmd.env_remove("CLAUDE_CODE_TMPDIR")
            .env_remove("CLAUDE_TMPDIR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        ok(&cmd
            .args(["run", "-s", ".srt.json", "-c", "echo $TMPDIR"])
            .output()
            .unwrap())
    };
    assert_eq!(shown(&[]), "/tmp/claude\n");
    assert_eq!(shown(&[("CLAUDE_TMPDIR", "/tmp/b")]), "/tmp/b\n");
    assert_eq!(
        shown(&[
            ("CLAUDE_CODE_TMPDIR", "/tmp/a"),
            ("CLAUDE_TMPDIR", "/tmp/b")
        ]),
        "/tmp/a\n"
    );
}

/// srt blocks the signals it forwards and ignores SIGPIPE; the command must inherit neither.
#[test]
fn the_command_starts_with_no_blocked_or_ignored_signals() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let status = ok(&sb.run("cat /proc/self/status"));
        let mask = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            u64::from_str_radix(line[name.len()..].trim(), 16).unwrap()
        };
        assert_eq!(mask("SigBlk:"), 0, "{policy}: blocked signals");
        let pipe_bit = 1 << (libc::SIGPIPE - 1);
        assert_eq!(mask("SigIgn:") & pipe_bit, 0, "{policy}: SIGPIPE ignored");
    }
}

#[test]
fn stdin_is_piped_through() {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let mut child = sb
        .srt()
        .args(["run", "-s", ".srt.json", "--", "sort"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"b\nc\na\n").unwrap();
    assert_eq!(ok(&child.wait_with_output().unwrap()), "a\nb\nc\n");
}

/// Runs a marker-writing command and checks that it did not run.
/// `policy` (one of the constants above) with `bwrapPath` set to `bwrap`.
fn with_bwrap(policy: &str, bwrap: &std::path::Path) -> String {
    policy.replace(
        "{\"network\"",
        &format!("{{\"bwrapPath\":\"{}\",\"network\"", bwrap.display()),
    )
}

/// Writes an executable script.
fn script(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// How many times a run said it was planning the sandbox again.
fn replans(out: &std::process::Output) -> usize {
    text(&out.stderr)
        .matches("planning the sandbox again")
        .count()
}

fn refuses(sb: &Sandbox, extra: &[&str], expect: &str) {
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json"])
        .args(extra)
        .args(["-c", "touch ran"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{expect}: {}",
        text(&out.stderr)
    );
    assert!(!sb.project().join("ran").exists(), "the command ran");
    assert!(
        text(&out.stderr).contains(expect),
        "expected {expect:?} in:\n{}",
        text(&out.stderr)
    );
}

#[test]
fn it_fails_closed() {
    let sb = Sandbox::new();
    // No bubblewrap where the settings say.
    sb.settings(&POLICY.replace(
        "{\"network\"",
        "{\"bwrapPath\":\"/nonexistent/bwrap\",\"network\"",
    ));
    refuses(&sb, &[], "bubblewrap is not installed");
    // A bwrap that cannot create namespaces.
    let fake = sb.root.path().join("bwrap");
    script(
        &fake,
        "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n",
    );
    sb.settings(&with_bwrap(POLICY, &fake));
    refuses(&sb, &[], "unprivileged user namespaces are not available");
    // Validation errors, deny-level lints and keys srt cannot enforce.
    sb.settings(&POLICY.replace("\"allowWrite\"", "\"allowwrite\""));
    refuses(&sb, &[], "unknown key `allowwrite`");
    // A validation error is reported instead of the lint findings on the same file, and it
    // stops the run before anything is made on the host.
    sb.settings(&OFFLINE.replace(
        "\"allowWrite\":[\".\"]",
        "\"allowWrite\":[\"~\"],\"allowwrite\":[]",
    ));
    refuses(&sb, &[], "unknown key `allowwrite`");
    assert_eq!(sb.leftovers(), Vec::<String>::new());
    sb.settings(&POLICY.replace("[\".\"]", "[\"~\"]"));
    refuses(&sb, &[], "write-allows-host-code-execution");
    sb.settings(&POLICY.replace(
        "\"deniedDomains\":[]",
        "\"deniedDomains\":[],\"stripResponseHeaders\":[\"set-cookie\"]",
    ));
    refuses(&sb, &[], "stripResponseHeaders");
    // A parent proxy srt cannot use stops the run (it would otherwise connect directly).
    sb.settings(&POLICY.replace(
        "\"deniedDomains\":[]",
        "\"deniedDomains\":[],\"parentProxy\":{\"https\":\"socks5://proxy.corp:1080\"}",
    ));
    refuses(&sb, &[], "bad-upstream-proxy");
    sb.settings(&POLICY.replace(
        "\"deniedDomains\":[]",
        "\"deniedDomains\":[],\"tlsTerminate\":{},\"mitmProxy\":{\"socketPath\":\"/tmp/m.sock\",\"domains\":[\"example.com\"]}",
    ));
    refuses(&sb, &[], "mutually exclusive");
    // An external proxy that is not listening: the sandbox's traffic would have no way out.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    sb.settings(&POLICY.replace(
        "\"deniedDomains\":[]",
        &format!("\"deniedDomains\":[],\"httpProxyPort\":{port}"),
    ));
    refuses(&sb, &[], "but nothing accepts");
    // A lint level can be relaxed; then it runs.
    sb.settings(&POLICY.replace(
        "\"deniedDomains\":[]",
        "\"deniedDomains\":[],\"allowUnixSockets\":[\"/var/run/docker.sock\"]",
    ));
    refuses(&sb, &[], "dangerous");
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "-A",
            "dangerous-unix-socket",
            "-c",
            "touch ran",
        ])
        .output()
        .unwrap();
    ok(&out);
    assert!(sb.project().join("ran").exists());
}

#[test]
fn stubs_left_by_a_killed_srt_are_removed_by_the_next_run() {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let mut child = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c", "echo ready; sleep 30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    assert!(
        exists(&sb.project().join(".bashrc")),
        "a stub exists while the sandbox runs"
    );
    child.kill().unwrap(); // SIGKILL: srt cannot clean up
    child.wait().unwrap();
    // bwrap dies with its parent; give the kernel a moment to tear the sandbox down.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !sb.leftovers().iter().all(|l| l.starts_with("socket")) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        exists(&sb.project().join(".bashrc")),
        "the killed run's stub is still there"
    );
    ok(&sb.run("true"));
    let mut names: Vec<String> = std::fs::read_dir(sb.project())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".srt.json"], "the next run removed the stale stubs");
    assert!(
        sb.leftovers().iter().all(|l| !l.starts_with("record")),
        "{:?}",
        sb.leftovers()
    );
}

/// A tiny HTTP origin on loopback answering `hello` (for `--resolve`).
fn origin() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                );
            });
        }
    });
    port
}

/// The npm srt's drop-in form takes every option of `srt run`, in any order before `-c CMD`
/// or the command, each with its effect in a real run.
#[test]
fn drop_in_takes_every_run_option() {
    let sb = Sandbox::new();
    let port = origin();
    // A Docker socket entry (stops the run unless relaxed) and github.com (a warning).
    let policy = format!(
        r#"{{"network":{{"allowedDomains":["github.com","allowed.test","127.0.0.1:{port}"],"deniedDomains":[],
 "allowUnixSockets":["/var/run/docker.sock"]}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":[".","~/w"],"denyWrite":[]}}}}"#
    );
    sb.settings(&policy);
    let srt = |args: &[&str]| sb.srt().args(args).output().unwrap();
    let stopped = |out: &std::process::Output, what: &str| {
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out.stderr));
        assert!(
            !sb.project().join("ran").exists(),
            "{what}: the command ran"
        );
    };
    // As written, the run stops; the remedy it prints names the drop-in form.
    let out = srt(&["-s", ".srt.json", "-c", "touch ran"]);
    stopped(&out, "as written");
    assert!(
        text(&out.stderr).contains("srt -s FILE -A dangerous-unix-socket -c CMD"),
        "{}",
        text(&out.stderr)
    );
    // -A, before or after -s, and as --allow=CODE; -W too.
    for args in [
        &[
            "-s",
            ".srt.json",
            "-A",
            "dangerous-unix-socket",
            "-c",
            "touch ran",
        ][..],
        &[
            "-A",
            "dangerous-unix-socket",
            "-s",
            ".srt.json",
            "-c",
            "touch ran",
        ],
        &[
            "--allow=dangerous-unix-socket",
            "--settings=.srt.json",
            "touch",
            "ran",
        ],
        &[
            "-W",
            "dangerous-unix-socket",
            "-s",
            ".srt.json",
            "--",
            "touch",
            "ran",
        ],
        &[
            "-c",
            "touch ran",
            "-s",
            ".srt.json",
            "-A",
            "dangerous-unix-socket",
        ],
    ] {
        let out = srt(args);
        ok(&out);
        assert!(sb.project().join("ran").exists(), "{args:?}");
        // The findings that do not stop the run are reported in a line each.
        assert!(
            text(&out.stderr).contains("srt: warning[exfiltration-surface]"),
            "{args:?}: {}",
            text(&out.stderr)
        );
        std::fs::remove_file(sb.project().join("ran")).unwrap();
    }
    // -D makes a warning stop the run.
    let out = srt(&[
        "-s",
        ".srt.json",
        "-A",
        "dangerous-unix-socket",
        "-D",
        "exfiltration-surface",
        "-c",
        "touch ran",
    ]);
    stopped(&out, "-D");
    let relaxed = ["-s", ".srt.json", "-A", "dangerous-unix-socket"];
    // -d prints the plan.
    let out = srt(&[&relaxed[..], &["-d", "-c", "true"]].concat());
    ok(&out);
    assert!(
        text(&out.stderr).contains("--unshare-net"),
        "{}",
        text(&out.stderr)
    );
    // --violations FILE and --resolve NAME=IP.
    let log = sb.root.path().join("v.jsonl");
    let log_arg = log.to_str().unwrap();
    let url = format!("http://allowed.test:{port}/");
    let script = format!("curl -s {url}; curl -s -o /dev/null http://nope.test/");
    let out = srt(&[
        &relaxed[..],
        &[
            "--resolve",
            "allowed.test=127.0.0.1",
            "--violations",
            log_arg,
            "-c",
            &script,
        ],
    ]
    .concat());
    assert_eq!(ok(&out), "hello");
    let violations = std::fs::read_to_string(&log).unwrap();
    assert!(violations.contains("nope.test"), "{violations}");
    // --cwd DIR: relative paths resolve there, and the command starts there.
    let other = sb.root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let settings = sb.project().join(".srt.json");
    let out = srt(&[
        "-s",
        settings.to_str().unwrap(),
        "-A",
        "dangerous-unix-socket",
        "--cwd",
        other.to_str().unwrap(),
        "-c",
        "pwd; touch made",
    ]);
    assert_eq!(ok(&out).trim(), other.to_str().unwrap());
    assert!(other.join("made").exists());
    // --home DIR: `~` in the policy is DIR.
    let home2 = sb.root.path().join("home2");
    std::fs::create_dir_all(home2.join("w")).unwrap();
    let out = srt(&[
        &relaxed[..],
        &[
            "--home",
            home2.to_str().unwrap(),
            "-c",
            &format!("touch {}/w/x", home2.display()),
        ],
    ]
    .concat());
    ok(&out);
    assert!(home2.join("w/x").exists());
    // --cwd that does not exist: a usage error before anything runs.
    let out = srt(&[
        "-s",
        ".srt.json",
        "--cwd",
        "/nonexistent",
        "-c",
        "touch ran",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // An option srt does not have is an error, not a command.
    let out = srt(&["--bogus", "-s", ".srt.json", "-c", "touch ran"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(!sb.project().join("ran").exists());
}

/// bwrap that fails after it reported the sandbox's PID (a mount point gone by the time it
/// mounts: here its wrapper removes srt's `.bashrc` stub first, as another program might)
/// exits 1, as a command could. srt tells them apart and says what happened.
#[test]
fn a_mount_point_removed_before_bwrap_mounts_is_named() {
    let sb = Sandbox::new();
    let wrapper = sb.root.path().join("bwrap");
    script(
        &wrapper,
        &format!(
            "#!/bin/sh\nrm -f '{}'\nexec /usr/bin/bwrap \"$@\"\n",
            sb.project().join(".bashrc").display()
        ),
    );
    for policy in [POLICY, OFFLINE] {
        sb.settings(&with_bwrap(policy, &wrapper));
        // Removed before every attempt: srt plans afresh twice more, then says so.
        refuses(&sb, &[], "disappeared while");
        assert_eq!(sb.leftovers(), Vec::<String>::new());
    }
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c", "true"])
        .output()
        .unwrap();
    assert_eq!(replans(&out), 2, "{}", text(&out.stderr));
    // Removed before the first attempt only (another sandbox's cleanup, once): the second
    // plan, made from what is there now, runs the command.
    let once = sb.root.path().join("removed-once");
    script(
        &wrapper,
        &format!(
            "#!/bin/sh\nif [ ! -e '{m}' ]; then : > '{m}'; rm -f '{p}'; fi\nexec /usr/bin/bwrap \"$@\"\n",
            m = once.display(),
            p = sb.project().join(".bashrc").display()
        ),
    );
    for policy in [POLICY, OFFLINE] {
        let _ = std::fs::remove_file(&once);
        sb.settings(&with_bwrap(policy, &wrapper));
        let out = sb
            .srt()
            .args(["run", "-s", ".srt.json", "-c", "touch ran; echo ran"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "ran\n");
        assert_eq!(replans(&out), 1, "{}", text(&out.stderr));
        assert!(once.exists());
        std::fs::remove_file(sb.project().join("ran")).unwrap();
        assert_eq!(sb.leftovers(), Vec::<String>::new());
    }
    // A command that exits 1 on its own: the command's status, and nothing said.
    sb.settings(OFFLINE);
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c", "exit 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("disappeared"),
        "{}",
        text(&out.stderr)
    );
}
