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
        "# host process",
        "# seccomp (aarch64)",
        "# seccomp BPF",
        "# notes",
    ] {
        assert!(t.contains(section), "{section} missing:\n{t}");
    }
    assert!(t.contains("<- filesystem.allowWrite[0]"));
    assert!(t.contains("ret  KILL_PROCESS"));
}

/// `--terminal` prints the plan of a run on a terminal, as `srt run` makes it there.
#[test]
fn terminal_shows_the_plan_of_a_run_on_a_terminal() {
    let d = project();
    let plan = |extra: &[&str]| -> serde_json::Value {
        let out = Command::cargo_bin("srt")
            .unwrap()
            .args(["compile", "--target", "linux", "--format", "json", "-s"])
            .arg(d.path().join("policy.json"))
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (plain, terminal) = (plan(&[]), plan(&["--terminal"]));
    assert_eq!(plain["host_process"]["terminal"], false);
    assert_eq!(plain["host_process"]["new_process_group"], true);
    assert_eq!(terminal["host_process"]["terminal"], true);
    assert_eq!(
        terminal["host_process"]["blocked_in_bwrap"],
        serde_json::json!(["SIGINT", "SIGQUIT", "SIGHUP"])
    );
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

/// The plan and the in-sandbox init together, under real bwrap: the srt binary bound by the
/// plan runs as PID 1, bridges 127.0.0.1:3128 to the proxy socket in the plan's socket
/// directory, and starts the command under the plan's seccomp program, passed on an fd.
#[cfg(target_os = "linux")]
#[test]
fn the_plan_runs_with_the_srt_init() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions, StubKind};
    use srt_compiler::{resolve, RealFs, ResolveOptions};

    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let project = root.join("project");
    let sockets = root.join("sock");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(&sockets).unwrap();
    std::fs::write(project.join(".env"), "SECRET=1\n").unwrap();
    let settings = project.join(".srt.json");
    std::fs::write(
        &settings,
        r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
            "filesystem":{"denyRead":[],"allowWrite":["."],"denyWrite":[".env"]}}"#,
    )
    .unwrap();
    let loaded = srt_schema::load_file(".srt.json", &settings).unwrap();
    let (ir, _) = resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &ResolveOptions {
            cwd: project.clone(),
            home: root.join("home"),
            settings_path: Some(settings),
        },
        &RealFs,
    );
    let facts = HostFacts::gather(&ir, &RealFs);
    let srt = std::fs::canonicalize(env!("CARGO_BIN_EXE_srt")).unwrap();
    // A stand-in proxy on the HTTP socket, and a SOCKS socket nobody uses: the init checks
    // both are the sockets the plan names (device and inode) before the command starts.
    let listener = UnixListener::bind(sockets.join("http.sock")).unwrap();
    let _socks = UnixListener::bind(sockets.join("socks.sock")).unwrap();
    let id = |name: &str| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(sockets.join(name)).unwrap();
        srt_compiler::backend::linux::FileId {
            dev: m.dev(),
            ino: m.ino(),
        }
    };
    let mut opts = LinuxOptions::new(srt, sockets.clone());
    opts.proxy_socket_ids = Some([id("http.sock"), id("socks.sock")]);
    let plan = plan(&ir, &facts, &opts);
    let proxy = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut buf = [0u8; 2];
        c.read_exact(&mut buf).unwrap();
        c.write_all(b"proxy got ").unwrap();
        c.write_all(&buf).unwrap();
    });
    let mut made = Vec::new();
    for s in &plan.stubs {
        let ok = match s.kind {
            StubKind::Dir => std::fs::create_dir(&s.path).is_ok(),
            StubKind::File => std::fs::File::create_new(&s.path).is_ok(),
        };
        if ok {
            made.push(s.path.clone());
        }
    }
    let prog = root.join("seccomp.bpf");
    std::fs::write(&prog, plan.seccomp.to_bytes()).unwrap();
    let script = r#"
import errno, os, socket
s = socket.create_connection(("127.0.0.1", 3128)); s.sendall(b"hi")
print(b"".join(iter(lambda: s.recv(64), b"")).decode())  # the answer comes in two writes
try:
    socket.socket(socket.AF_UNIX); print("unix=ok")
except OSError as e:
    print("unix=" + errno.errorcode[e.errno])
open("src/new.rs", "w").write("x"); print("write=ok")
try:
    open(".env", "a").write("x"); print("env=ok")
except OSError as e:
    print("env=" + errno.errorcode[e.errno])
print("pid=%d" % os.getppid())
"#;
    let command: Vec<std::ffi::OsString> = vec!["python3".into(), "-c".into(), script.into()];
    let out = std::process::Command::new("bwrap")
        .args(plan.bwrap_args_for(Some(0), &command))
        .envs(plan.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::fs::File::open(&prog).unwrap())
        .output()
        .unwrap();
    for p in made.iter().rev() {
        let _ = std::fs::remove_dir(p).or_else(|_| std::fs::remove_file(p));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    proxy.join().unwrap();
    for line in [
        "proxy got hi",
        "unix=EPERM",
        "write=ok",
        "env=EROFS",
        "pid=1",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line} missing in:\n{stdout}"
        );
    }
}

/// Credentials and TLS termination appear in the plan with their origins: the CA bundle bound
/// read-only and named by the trust variables, the masked file's copy bound over it, the
/// masked variable's sentinel, the denied variable withheld and the denied file hidden.
#[test]
fn credentials_and_the_ca_bundle_are_plan_steps_with_origins() {
    let d = project();
    std::fs::write(d.path().join("token"), "ghp_x\n").unwrap();
    std::fs::write(d.path().join("key.pem"), "k\n").unwrap();
    std::fs::write(
        d.path().join("policy.json"),
        r#"{"network":{"allowedDomains":["api.example.com"],"deniedDomains":[],"tlsTerminate":{}},
            "filesystem":{"denyRead":[],"allowWrite":["out/**"],"denyWrite":[]},
            "credentials":{"envVars":[{"name":"GH_TOKEN","mode":"mask"},{"name":"AWS_SECRET_ACCESS_KEY","mode":"deny"}],
                           "files":[{"path":"token","mode":"mask"},{"path":"key.pem","mode":"deny"}]}}"#,
    )
    .unwrap();
    let t = compile(d.path(), "text");
    let dir = std::fs::canonicalize(d.path()).unwrap();
    let dir = dir.display();
    let line = |needle: &str| {
        t.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{t}"))
            .to_string()
    };
    assert!(line("'<per-run CA bundle>' '<per-run CA bundle>'").contains("<- network.tlsTerminate"));
    assert!(
        line(&format!("'<per-run masked copy>' {dir}/token")).contains("<- credentials.files[0]")
    );
    assert!(line(&format!("/dev/null {dir}/key.pem")).contains("<- credentials.files[1]"));
    for var in [
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
        "REQUESTS_CA_BUNDLE",
        "GIT_SSL_CAINFO",
    ] {
        assert_eq!(
            line(&format!("{var}=")),
            format!("{var}=<per-run CA bundle>")
        );
    }
    assert_eq!(line("GH_TOKEN="), "GH_TOKEN=<per-run sentinel>");
    assert!(line("-AWS_SECRET_ACCESS_KEY (withheld)").contains("<- credentials.envVars[1]"));
    let v: serde_json::Value = serde_json::from_str(&compile(d.path(), "json")).unwrap();
    assert_eq!(v["env_unset"][0]["name"], "AWS_SECRET_ACCESS_KEY");
}

/// The filesystem observer `srt run` installs is part of the plan, with its system calls and
/// its origin with `--fs-violations writes`; without it (the default) the plan has none.
#[test]
fn the_filesystem_observer_is_shown_with_its_calls_and_origin() {
    let d = project();
    let plan = |extra: &[&str]| -> serde_json::Value {
        let out = Command::cargo_bin("srt")
            .unwrap()
            .args(["compile", "--target", "linux", "--format", "json", "-s"])
            .arg(d.path().join("policy.json"))
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let on = plan(&["--fs-violations", "writes"]);
    let obs = &on["fs_observer"];
    assert_eq!(obs["origin"], "built-in fs-violations");
    let calls: Vec<&str> = obs["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["syscall"].as_str().unwrap())
        .collect();
    for c in [
        "openat",
        "unlinkat",
        "renameat2",
        "mkdirat",
        "linkat",
        "utimensat",
    ] {
        assert!(calls.contains(&c), "{c} missing: {calls:?}");
    }
    let init: Vec<&str> = on["init_args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        !init.contains(&"--fs-observer"),
        "the runtime names the fds: {init:?}"
    );
    let off = plan(&["--no-fs-violations"]);
    assert_eq!(off["fs_observer"], serde_json::Value::Null);
    // Off by default, as `srt run`.
    assert_eq!(plan(&[])["fs_observer"], serde_json::Value::Null);
    let text = Command::cargo_bin("srt")
        .unwrap()
        .args([
            "compile",
            "--target",
            "linux",
            "--fs-violations",
            "writes",
            "-s",
        ])
        .arg(d.path().join("policy.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("# filesystem observer ("), "{text}");
    assert!(
        text.contains("--fs-observer <fs-observer-fd> --fs-events <fs-events-fd>"),
        "{text}"
    );
    assert!(text.contains("ret  USER_NOTIF"), "{text}");
}

/// `--report-network` (what `srt run --violations` and `srt learn` run): with no host
/// allowed, the plan still bridges the proxies and gives the command their variables, and
/// says why; without it there is no proxy at all.
#[test]
fn report_network_bridges_the_proxies_when_no_host_is_allowed() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("policy.json"),
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
            "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#,
    )
    .unwrap();
    let run = |extra: &[&str], format: &str| {
        let out = Command::cargo_bin("srt")
            .unwrap()
            .args(["compile", "--target", "linux", "-s"])
            .arg(d.path().join("policy.json"))
            .arg("--cwd")
            .arg(d.path())
            .args(["--format", format])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let off: serde_json::Value = serde_json::from_str(&run(&[], "json")).unwrap();
    assert_eq!(off["bridges"], false);
    assert!(off["env"]["HTTP_PROXY"].is_null());
    let on: serde_json::Value = serde_json::from_str(&run(&["--report-network"], "json")).unwrap();
    assert_eq!(on["bridges"], true);
    assert_eq!(on["env"]["HTTP_PROXY"], "http://localhost:3128");
    let text = run(&["--report-network"], "text");
    assert!(
        text.contains(
            "no host is allowed: the proxies run only to refuse and report each destination"
        ),
        "{text}"
    );
    assert!(!run(&[], "text").contains("no host is allowed"));
}
