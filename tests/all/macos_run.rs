//! The macOS run (`srt_runtime::run` with `MacosSandbox`), exercised on Linux against a stand-in for
//! `sandbox-exec`: a script that checks it was given `-p PROFILE`, saves the profile, its argv
//! and its environment, then runs the command **without any sandbox**. These tests therefore
//! check what srt hands to `sandbox-exec` (profile, argv, environment), that the proxies are
//! reachable with the run's credentials and refuse without them, exit statuses, signal
//! forwarding and cleanup. They say nothing about isolation, which only the real
//! `sandbox-exec` provides.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};
use srt_runtime::proxy::ViolationOptions;
use srt_runtime::run::macos::{shell_command, MacosSandbox};
use srt_runtime::run::{RunError, RunRequest};

/// A tiny HTTP origin on 127.0.0.1 answering `hello from origin` to every request.
fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
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
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\nhello from origin");
            });
        }
    });
    port
}

/// A fake SSH server: sends a banner and reports the first line the client sends.
fn ssh_server() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.write_all(b"SSH-2.0-srt-test\r\n");
            let mut line = String::new();
            let _ = BufReader::new(conn).read_line(&mut line);
            let _ = tx.send(line);
        }
    });
    (port, rx)
}

fn ir(dir: &Path, allowed: &[String]) -> Arc<Ir> {
    let json = serde_json::json!({
        "network": {"allowedDomains": allowed, "deniedDomains": ["denied.test"]},
        "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}
    })
    .to_string();
    let loaded = srt_schema::load_str(".srt.json", None, &json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: dir.join("project"),
        home: dir.join("home"),
        settings_path: None,
    };
    Arc::new(
        resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &FakeFs::new(),
        )
        .0,
    )
}

/// The stand-in: checks `-p`, saves profile, argv and environment under `dir`, runs the rest.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("sandbox-exec");
    let out = dir.display();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             [ \"$1\" = -p ] || {{ echo 'stand-in: expected -p' >&2; exit 90; }}\n\
             printf '%s' \"$2\" > '{out}/profile.sb'\n\
             shift 2\n\
             printf '%s\\n' \"$@\" > '{out}/argv'\n\
             env > '{out}/env'\n\
             exec \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn request(dir: &Path, ir: Arc<Ir>, command: &str) -> RunRequest {
    RunRequest {
        ir,
        command: vec!["/bin/sh".into(), "-c".into(), command.into()],
        srt_binary: PathBuf::from(env!("CARGO_BIN_EXE_srt")),
        state_dir: dir.join("state"),
        violations: ViolationOptions {
            stderr: true,
            ..ViolationOptions::default()
        },
        resolve: vec![
            ("allowed.test".into(), "127.0.0.1".parse().unwrap()),
            ("denied.test".into(), "127.0.0.1".parse().unwrap()),
        ],
        debug: false,
        fs_violations: None,
        control: None,
        report_network: false,
    }
}

/// `srt run` with the macOS part, against the stand-in.
fn run(req: RunRequest) -> Result<i32, RunError> {
    let dir = req.state_dir.parent().unwrap().to_path_buf();
    srt_runtime::run::run(req, &mut MacosSandbox::new(stand_in(&dir)))
}

fn saved_env(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn profile_environment_and_proxies_with_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let port = origin();
    let ir = ir(dir, &["allowed.test".into(), format!("127.0.0.1:{port}")]);
    // Through the proxies as the environment points (curl reads http_proxy), through SOCKS
    // (FTP_PROXY is the socks5h URL), and with the credentials stripped.
    let script = format!(
        r#"cd '{d}'
curl -sS --max-time 20 -o allowed.body -w '%{{http_code}}' http://allowed.test:{port}/ > allowed.code 2>&1
curl -sS --max-time 20 -o /dev/null -w '%{{http_code}}' http://denied.test:{port}/ > denied.code 2>&1
curl -sS --max-time 20 -x "$FTP_PROXY" -o socks.body http://allowed.test:{port}/ 2> socks.err; echo $? > socks.code
curl -sS --max-time 20 -x "http://127.0.0.1:$CLOUDSDK_PROXY_PORT" -o /dev/null -w '%{{http_code}}' http://allowed.test:{port}/ > nocreds.code 2>&1
curl -sS --max-time 20 -x "socks5h://127.0.0.1:${{RSYNC_PROXY##*:}}" http://allowed.test:{port}/ > /dev/null 2>&1; echo $? > nocreds-socks.code
exit 7"#,
        d = dir.display()
    );
    let status = run(request(dir, ir, &script)).unwrap();
    assert_eq!(status, 7);

    // What sandbox-exec was given.
    let argv = read(dir, "argv");
    let inner = shell_command(&["/bin/sh".into(), "-c".into(), script.clone().into()]).unwrap();
    assert_eq!(argv, format!("/bin/sh\n-c\n{inner}\n"));
    let env = saved_env(dir);
    let token = env["SRT_PROXY_AUTH"]
        .strip_prefix("srt:")
        .unwrap()
        .to_string();
    assert_eq!(token.len(), 32);
    let http_port: u16 = env["CLOUDSDK_PROXY_PORT"].parse().unwrap();
    let socks_port: u16 = env["RSYNC_PROXY"]
        .strip_prefix("127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(http_port, socks_port);
    assert_eq!(env["SANDBOX_RUNTIME"], "1");
    assert_eq!(env["TMPDIR"], "/tmp/claude");
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "ALL_PROXY"] {
        assert_eq!(
            env[k],
            format!("http://srt:{token}@127.0.0.1:{http_port}"),
            "{k}"
        );
    }
    assert_eq!(
        env["FTP_PROXY"],
        format!("socks5h://srt:{token}@127.0.0.1:{socks_port}")
    );
    assert_eq!(env["CLOUDSDK_PROXY_PASSWORD"], token);
    assert_eq!(
        env["GIT_SSH_COMMAND"],
        format!(
            "ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand='{} __proxy-connect %h %p --proxy 127.0.0.1:{http_port}'",
            env!("CARGO_BIN_EXE_srt")
        )
    );
    assert!(env["JAVA_TOOL_OPTIONS"].contains(&format!(
        "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={http_port}"
    )));
    let profile = read(dir, "profile.sb");
    assert!(profile.starts_with("(version 1)"), "{profile}");
    for p in [http_port, socks_port] {
        assert!(
            profile.contains(&format!(
                "(allow network-outbound (remote ip \"localhost:{p}\")"
            )),
            "port {p} not allowed in:\n{profile}"
        );
    }
    assert!(!profile.contains(&token), "the profile holds no secret");

    // What the command saw through the proxies.
    assert_eq!(read(dir, "allowed.code"), "200");
    assert_eq!(read(dir, "allowed.body"), "hello from origin");
    assert_eq!(read(dir, "denied.code"), "403");
    assert_eq!(
        read(dir, "socks.code").trim(),
        "0",
        "{}",
        read(dir, "socks.err")
    );
    assert_eq!(read(dir, "socks.body"), "hello from origin");
    assert_eq!(read(dir, "nocreds.code"), "407");
    assert_eq!(read(dir, "nocreds-socks.code").trim(), "97");

    // The proxies are gone once the run has returned.
    for p in [http_port, socks_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", p)).is_err(),
            "{p}"
        );
    }
}

#[test]
fn git_ssh_command_tunnels_through_the_proxy_with_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (port, seen) = ssh_server();
    let ir = ir(dir, &["allowed.test".into(), format!("127.0.0.1:{port}")]);
    // ssh fails after the banners (the server is fake); what matters is that it got there.
    // git runs GIT_SSH_COMMAND with the shell, adding its arguments; so does `git_ssh`.
    let script = format!(
        r#"cd '{d}'
git_ssh() {{ sh -c "$GIT_SSH_COMMAND \"\$@\"" ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=20 "$@"; }}
git_ssh -p {port} git@allowed.test true 2> allowed.err
git_ssh -p {port} git@denied.test true 2> denied.err
exit 0"#,
        d = dir.display()
    );
    assert_eq!(run(request(dir, ir, &script)).unwrap(), 0);
    let line = seen.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(line.starts_with("SSH-2.0-"), "{line:?}");
    // The denied host never reached the server; srt's ProxyCommand reports the refusal.
    assert!(seen.recv_timeout(Duration::from_millis(500)).is_err());
    let denied = read(dir, "denied.err");
    assert!(denied.contains("refused denied.test:"), "{denied}");
    assert!(denied.contains("403"), "{denied}");
}

/// Waits for `file` to appear (the command writes it once it runs).
fn wait_for(file: &Path) {
    let start = Instant::now();
    while !file.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "{file:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `kill -SIG <this test process>` from another process, once `ready` exists.
fn kill_us_when(ready: PathBuf, sig: &'static str) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        wait_for(&ready);
        // The shell's kill: a separate process sends it, as a supervisor would.
        let status = std::process::Command::new("/bin/sh")
            .args(["-c", &format!("kill -{sig} {}", std::process::id())])
            .status()
            .unwrap();
        assert!(status.success());
    })
}

#[test]
fn signals_reach_the_command_and_statuses_pass_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ir = ir(dir, &[]);

    // SIGTERM sent to srt reaches the command, which decides what it means.
    let ready = dir.join("ready-term");
    let script = format!(
        "trap 'echo got TERM > {d}/trapped; exit 3' TERM; : > {r}; while :; do sleep 0.05; done",
        d = dir.display(),
        r = ready.display()
    );
    let killer = kill_us_when(ready, "TERM");
    assert_eq!(run(request(dir, ir.clone(), &script)).unwrap(), 3);
    killer.join().unwrap();
    assert_eq!(read(dir, "trapped"), "got TERM\n");

    // SIGINT from a process is forwarded; the command dies of it: 128 + 2.
    let ready = dir.join("ready-int");
    let script = format!(": > {}; exec sleep 30", ready.display());
    let killer = kill_us_when(ready, "INT");
    assert_eq!(run(request(dir, ir.clone(), &script)).unwrap(), 130);
    killer.join().unwrap();

    // SIGHUP likewise: 128 + 1. srt keeps a signal ignored that was ignored when it started
    // (`nohup srt`); this process may have inherited SIGHUP ignored from whoever ran the tests.
    // SAFETY: sets a disposition, with no handler code; no test relies on SIGHUP ignored.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_DFL);
    }
    let ready = dir.join("ready-hup");
    let script = format!(": > {}; exec sleep 30", ready.display());
    let killer = kill_us_when(ready, "HUP");
    assert_eq!(run(request(dir, ir.clone(), &script)).unwrap(), 129);
    killer.join().unwrap();

    // A command that kills itself: 128 + 9; plain exit codes as they are.
    assert_eq!(run(request(dir, ir.clone(), "kill -KILL $$")).unwrap(), 137);
    assert_eq!(run(request(dir, ir.clone(), "exit 0")).unwrap(), 0);
    assert_eq!(run(request(dir, ir, "exit 42")).unwrap(), 42);
}

#[test]
fn without_sandbox_exec_nothing_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let marker = dir.join("ran");
    let req = request(dir, ir(dir, &[]), &format!("touch '{}'", marker.display()));
    let mut os = MacosSandbox::new(dir.join("no-such-sandbox-exec"));
    let err = srt_runtime::run::run(req, &mut os).unwrap_err();
    assert!(matches!(err, RunError::NoSandboxExec(_)), "{err:?}");
    let text = format!("{:?}", miette::Report::new(err));
    assert!(text.contains("no-such-sandbox-exec"), "{text}");
    assert!(text.contains("runs nothing without it"), "{text}");
    assert!(text.contains("sandbox-exec is part of macOS"), "{text}");
    assert!(!marker.exists());
    assert!(!dir.join("argv").exists());
}

/// A descriptor srt's caller left inheritable reaches neither sandbox-exec nor the command:
/// only 0-2 (and the descriptor `ls` reads `/dev/fd` through).
#[test]
fn inherited_descriptors_stay_out() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut fds = [0; 2];
    // SAFETY: a valid out-array; flags 0 leaves both ends inheritable.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let listing = dir.join("fds");
    let status = run(request(
        dir,
        ir(dir, &[]),
        &format!("ls /dev/fd/ > '{}'", listing.display()),
    ))
    .unwrap();
    assert_eq!(status, 0);
    assert_eq!(read(dir, "fds"), "0\n1\n2\n3\n");
    // SAFETY: closing the pipe made above.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}

#[test]
fn argv_becomes_quoted_shell_text() {
    let argv: Vec<std::ffi::OsString> = ["printf", "%s\\n", "it's", "a b", "$HOME"]
        .iter()
        .map(Into::into)
        .collect();
    let text = shell_command(&argv).unwrap();
    assert_eq!(text, r"exec printf '%s\n' 'it'\''s' 'a b' '$HOME'");
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", &text])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "it's\na b\n$HOME\n");
    use std::os::unix::ffi::OsStringExt;
    let bad = vec!["echo".into(), std::ffi::OsString::from_vec(vec![0xff])];
    assert!(matches!(
        shell_command(&bad),
        Err(RunError::NotUtf8 { index: 1 })
    ));
}

/// The macOS run audits like the Linux one: what the command left under a write rule's path
/// that something outside the sandbox runs is reported (here in the violations file).
#[test]
fn the_run_is_audited_after_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let mut req = request(
        dir,
        ir(dir, &[]),
        &format!(
            "mkdir -p '{0}/pkg/.vscode' && echo '{{}}' > '{0}/pkg/.vscode/tasks.json'",
            project.display()
        ),
    );
    let log = dir.join("violations.jsonl");
    req.violations.jsonl = Some(log.clone());
    assert_eq!(run(req).unwrap(), 0);
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let audit: Vec<_> = objects.iter().filter(|o| o["kind"] == "audit").collect();
    assert_eq!(audit.len(), 1, "{objects:#?}");
    assert_eq!(audit[0]["finding"], "protected-name");
    assert_eq!(
        audit[0]["path"],
        project.join("pkg/.vscode/tasks.json").to_str().unwrap()
    );
}

/// The exit statuses of the Linux run and the npm srt: 127 for a command that does not exist,
/// 126 for one that cannot be executed (`sh`'s `exec` reports them).
#[test]
fn a_command_that_cannot_run_gives_127_or_126() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let noexec = dir.join("noexec.sh");
    std::fs::write(&noexec, "#!/bin/sh\necho ran\n").unwrap();
    for (argv, want) in [
        (vec!["no-such-command-srt-test".to_string()], 127),
        (vec![noexec.display().to_string()], 126),
        (vec!["/".to_string()], 126),
    ] {
        let mut req = request(dir, ir(dir, &[]), "");
        req.command = argv.iter().map(Into::into).collect();
        assert_eq!(run(req).unwrap(), want, "{argv:?}");
    }
}

/// Seatbelt's file denials come from the unified log (`log stream` for the run's own tag), a
/// stand-in here that prints what the kernel logs; each is decided with the run's rules and
/// reported as on Linux (network denials are the proxies' to report).
#[test]
fn file_denials_from_the_log_are_reported_with_their_rule() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["project", "home", "state"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    let json = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
        "filesystem":{"denyRead":["~/.ssh"],"allowWrite":["."],"denyWrite":[]}}"#;
    let loaded = srt_schema::load_str(".srt.json", None, json);
    let opts = ResolveOptions {
        cwd: dir.path().join("project"),
        home: dir.path().join("home"),
        settings_path: None,
    };
    let ir = Arc::new(
        resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &FakeFs::new(),
        )
        .0,
    );
    let home = dir.path().join("home").display().to_string();
    let log = dir.path().join("log");
    let args_out = dir.path().join("log-args");
    std::fs::write(
        &log,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n\
             tag=$(printf '%s' \"$5\" | sed 's/.*\"\\(.*\\)\"/\\1/')\n\
             echo \"2026-01-01 10:00:00.000 E  kernel[0:1a2] Sandbox: cat(42) deny(1) file-read-data {home}/.ssh/id_rsa $tag\"\n\
             echo \"2026-01-01 10:00:00.001 E  kernel[0:1a2] Sandbox: touch(43) deny(1) file-write-create /etc/x $tag\"\n\
             echo \"2026-01-01 10:00:00.002 E  kernel[0:1a2] Sandbox: curl(44) deny(1) network-outbound 1.2.3.4:443 $tag\"\n\
             sleep 5\n",
            args_out.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o755)).unwrap();
    let jsonl = dir.path().join("v.jsonl");
    let mut req = request(dir.path(), ir, "true");
    req.fs_violations = Some(srt_runtime::fsviolations::ReportOptions {
        stderr: true,
        jsonl: Some(jsonl.clone()),
        ignore: Vec::new(),
        reads: true,
    });
    let status = srt_runtime::run::run(
        req,
        &mut MacosSandbox::new(stand_in(dir.path())).with_log(log),
    )
    .unwrap();
    assert_eq!(status, 0);
    let args = std::fs::read_to_string(&args_out).unwrap();
    assert!(
        args.starts_with("stream\n--style\ncompact\n--predicate\neventMessage ENDSWITH \"srt-run-"),
        "{args}"
    );
    // The profile tags its denials with the same tag the log is asked for.
    let profile = read(dir.path(), "profile.sb");
    let tag = args.lines().last().unwrap().split('"').nth(1).unwrap();
    assert!(
        profile.contains(&format!("(with message \"{tag}\")")),
        "{profile}"
    );
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["kind"] == "filesystem")
        .collect();
    assert_eq!(objects.len(), 2, "{objects:#?}");
    assert_eq!(objects[0]["access"], "read");
    assert_eq!(objects[0]["path"], format!("{home}/.ssh/id_rsa"));
    assert_eq!(objects[0]["command"], "cat");
    assert_eq!(objects[0]["pid"], 42);
    assert!(objects[0]["rule"]
        .as_str()
        .unwrap()
        .starts_with("filesystem.denyRead[0]"));
    assert_eq!(objects[1]["access"], "write");
    assert_eq!(objects[1]["reason"], "not under any filesystem.allowWrite");
}
