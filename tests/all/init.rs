//! The in-sandbox init (`srt __init`) under real bubblewrap: the bridge, the exit status, signal
//! forwarding, and the seccomp filter on the command only.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

fn srt_bin() -> &'static str {
    env!("CARGO_BIN_EXE_srt")
}

/// bwrap with the shape srt uses: read-only root, private pid/net/user namespaces, the init as
/// PID 1, and `dir` bound writable so the test's Unix sockets are reachable.
fn bwrap(dir: &Path) -> Command {
    let mut c = Command::new("bwrap");
    c.args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
        .args([
            "--unshare-pid",
            "--unshare-user",
            "--unshare-net",
            "--as-pid-1",
            "--die-with-parent",
            "--cap-drop",
            "ALL",
        ])
        .arg("--bind")
        .arg(dir)
        .arg(dir);
    c
}

/// Answers each connection with `echo:` and what it read, then closes it (the client reads to
/// the end, so how the bridge splits the bytes does not matter).
fn echo_server(path: &Path, connections: usize) -> std::thread::JoinHandle<()> {
    let listener = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let (mut c, _) = listener.accept().unwrap();
            let mut buf = [0u8; 64];
            let n = c.read(&mut buf).unwrap();
            c.write_all(&[b"echo:", &buf[..n]].concat()).unwrap();
        }
    })
}

/// `PORT=DEV:INO:SOCKET` for the socket at `path`.
fn bridge_spec(port: u16, path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).unwrap();
    format!("{port}={}:{}:{}", m.dev(), m.ino(), path.display())
}

/// The init checks each socket before the command starts and refuses one that is not what the
/// host said: another inode, a symlink to the right socket, a regular file. The command never runs.
#[test]
fn a_socket_that_is_not_the_one_named_is_refused_before_the_command_starts() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("proxy.sock");
    let other = dir.path().join("other.sock");
    let _listeners = (
        UnixListener::bind(&sock).unwrap(),
        UnixListener::bind(&other).unwrap(),
    );
    let link = dir.path().join("link.sock");
    std::os::unix::fs::symlink(&sock, &link).unwrap();
    let file = dir.path().join("file.sock");
    std::fs::write(&file, "").unwrap();
    let good = bridge_spec(3128, &sock);
    let (dev_ino, _) = good["3128=".len()..].rsplit_once(':').unwrap();
    let cases = [
        (
            bridge_spec(3128, &other)
                .replace(&other.display().to_string(), &sock.display().to_string()),
            "not the socket srt bound",
        ),
        (
            format!("3128={dev_ino}:{}", other.display()),
            "not the socket srt bound",
        ),
        (format!("3128={dev_ino}:{}", link.display()), "not a socket"),
        (bridge_spec(3128, &file), "not a socket"),
        (
            format!("3128=DEV:INO:{}", sock.display()),
            "--bridge wants PORT=DEV:INO:SOCKET",
        ),
        (
            format!("3128={}", sock.display()),
            "--bridge wants PORT=DEV:INO:SOCKET",
        ),
    ];
    for (spec, why) in cases {
        let marker = dir.path().join("ran");
        let out = bwrap(dir.path())
            .arg(srt_bin())
            .args(["__init", "--bridge", &spec, "--", "touch"])
            .arg(&marker)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{spec}: {stderr}");
        assert!(stderr.contains(why), "{spec}: {stderr}");
        assert!(!marker.exists(), "{spec}: the command ran");
    }
}

#[test]
fn bridges_loopback_ports_to_host_unix_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("proxy.sock");
    let server = echo_server(&sock, 2);
    // The client sends its whole message, then reads until the server closes.
    let script = "import socket\nfor h in ('127.0.0.1', '::1'):\n    s = socket.create_connection((h, 3128)); s.sendall(h.encode())\n    data = b''\n    while True:\n        chunk = s.recv(64)\n        if not chunk: break\n        data += chunk\n    print(data.decode())";
    let out = bwrap(dir.path())
        .arg(srt_bin())
        .args(["__init", "--bridge"])
        .arg(bridge_spec(3128, &sock))
        .args(["--", "python3", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "echo:127.0.0.1\necho:::1\n"
    );
    server.join().unwrap();
}

#[test]
fn nothing_listens_without_a_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let out = bwrap(dir.path())
        .arg(srt_bin())
        .args([
            "__init",
            "--",
            "python3",
            "-c",
            "import socket; socket.create_connection(('127.0.0.1', 3128))",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ConnectionRefused"));
}

#[test]
fn exit_status_and_death_by_signal_pass_through() {
    let dir = tempfile::tempdir().unwrap();
    for (script, code) in [
        ("exit 0", 0),
        ("exit 7", 7),
        ("exit 300", 44),
        ("kill -TERM $$", 143),
        ("kill -SEGV $$", 139),
    ] {
        let status = bwrap(dir.path())
            .arg(srt_bin())
            .args(["__init", "--", "sh", "-c", script])
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{script}");
    }
}

#[test]
fn stdin_and_stdout_pass_through() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bwrap(dir.path())
        .arg(srt_bin())
        .args(["__init", "--", "tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello sandbox\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.stdout, b"HELLO SANDBOX\n");
}

#[test]
fn a_signal_sent_to_the_init_reaches_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let (info_r, info_w) = std::io::pipe().unwrap();
    let mut cmd = bwrap(dir.path());
    let (info_handed, info_fd) =
        crate::common::hand_fd(&mut cmd, std::os::fd::AsFd::as_fd(&info_w));
    cmd.args(["--info-fd", &info_fd.to_string()]);
    let mut child = cmd
        .arg(srt_bin())
        .args([
            "__init",
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(info_w);
    drop(info_handed);
    let mut info = String::new();
    BufReader::new(info_r).read_to_string(&mut info).ok();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    let init_pid = info["child-pid"].as_i64().unwrap() as i32;
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: plain kill of the sandbox's PID 1, whose host pid bwrap reported.
    assert_eq!(unsafe { libc::kill(init_pid, libc::SIGTERM) }, 0);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
fn the_seccomp_filter_applies_to_the_command_only() {
    let dir = tempfile::tempdir().unwrap();
    // A one-instruction program: SECCOMP_RET_ALLOW. Enough to see where it is installed.
    let allow: [u8; 8] = {
        let mut b = [0u8; 8];
        b[..2].copy_from_slice(&0x06u16.to_ne_bytes()); // BPF_RET | BPF_K
        b[4..].copy_from_slice(&0x7fff_0000u32.to_ne_bytes());
        b
    };
    let prog = dir.path().join("prog.bpf");
    std::fs::write(&prog, allow).unwrap();
    let file = std::fs::File::open(&prog).unwrap();
    let mut cmd = bwrap(dir.path());
    // Inherited by bwrap and then by the init.
    let (_handed, fd) = crate::common::hand_fd(&mut cmd, std::os::fd::AsFd::as_fd(&file));
    let fd_arg = fd.to_string();
    let out = cmd
        .arg(srt_bin())
        .args(["__init", "--seccomp-fd", &fd_arg, "--", "sh", "-c"])
        .arg("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status /proc/1/status; ls /proc/self/fd; cat /proc/1/environ >/dev/null 2>&1 || echo init-not-dumpable")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("/proc/self/status:Seccomp:\t2"), "{text}");
    assert!(text.contains("/proc/self/status:NoNewPrivs:\t1"), "{text}");
    assert!(
        text.contains("/proc/1/status:Seccomp:\t0"),
        "the init itself must stay unfiltered: {text}"
    );
    assert!(
        text.contains("init-not-dumpable"),
        "the init must not be inspectable by the command: {text}"
    );
    // The program's fd is closed before the command starts.
    assert!(!text.lines().any(|l| l == fd_arg), "{text}");
}

#[test]
fn a_malformed_seccomp_program_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let prog = dir.path().join("bad.bpf");
    std::fs::write(&prog, b"abc").unwrap();
    let file = std::fs::File::open(&prog).unwrap();
    let mut cmd = bwrap(dir.path());
    let (_handed, fd) = crate::common::hand_fd(&mut cmd, std::os::fd::AsFd::as_fd(&file));
    let fd_arg = fd.to_string();
    let out = cmd
        .arg(srt_bin())
        .args(["__init", "--seccomp-fd", &fd_arg, "--", "touch"])
        .arg(dir.path().join("ran"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        !dir.path().join("ran").exists(),
        "the command must not run unfiltered"
    );
}
