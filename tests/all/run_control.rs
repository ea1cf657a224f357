//! `srt run --control-fd FD`: network lists changed while the command runs, through a real
//! pipe into real proxies, with a real origin server and `curl` inside real bubblewrap.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ok, text, Sandbox};

/// A tiny HTTP origin on 127.0.0.1 answering `hello` to every request.
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
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                );
            });
        }
    });
    port
}

fn settings(allowed: &str) -> String {
    format!(
        r#"{{"network":{{"allowedDomains":[{allowed}],"deniedDomains":[]}},"filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
    )
}

/// `srt run` with `fd` given to it as its control descriptor (`--control-fd N`).
/// Returns the command and the descriptor's number.
fn srt_with_control(sb: &Sandbox, fd: OwnedFd, args: &[&str]) -> (Command, i32) {
    let mut cmd = sb.srt();
    let (handed, n) = common::hand_fd(&mut cmd, fd.as_fd());
    cmd.args(["run", "-s", ".srt.json", "--control-fd", &n.to_string()])
        .args(args);
    // The descriptors stay open (in this process, close-on-exec) for the child to inherit.
    std::mem::forget(handed);
    std::mem::forget(fd);
    (cmd, n)
}

fn pipe() -> (OwnedFd, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: a valid out-array; the write end is close-on-exec so only srt holds the read end.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors we own.
    unsafe {
        (
            OwnedFd::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

fn wait_for(path: &Path) {
    let until = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < until, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command asks for the host until the answer is the one wanted (the update is applied
/// by srt's control thread, a moment after the line is written).
fn until(code: &str, port: u16) -> String {
    format!(
        "for i in $(seq 100); do c=$(curl -s -o /dev/null -w '%{{http_code}}' http://allowed.test:{port}/); [ \"$c\" = {code} ] && break; sleep 0.1; done; echo \"$c\""
    )
}

#[test]
fn a_host_is_granted_and_revoked_mid_run_and_the_channel_may_close() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&settings(""));
    let p = sb.project();
    let (read, mut write) = pipe();
    // The name resolves to loopback: the resolved-address guard wants the address allowed
    // as an IP literal too.
    let grant = settings(&format!("\"allowed.test:{port}\", \"127.0.0.1:{port}\""));
    let script = format!(
        "ls /proc/self/fd | tr '\\n' ' ' > fds.txt; \
         curl -s -o /dev/null -w '%{{http_code}}\\n' http://allowed.test:{port}/; touch ready1; \
         while [ ! -e go1 ]; do sleep 0.05; done; {ok}; touch ready2; \
         while [ ! -e go2 ]; do sleep 0.05; done; curl -s http://allowed.test:{port}/; echo; touch ready3; \
         while [ ! -e go3 ]; do sleep 0.05; done; {refused}; touch ready4; \
         while [ ! -e go4 ]; do sleep 0.05; done; curl -s -o /dev/null -w '%{{http_code}}\\n' http://allowed.test:{port}/; echo still-running",
        ok = until("200", port),
        refused = until("403", port),
    );
    let (mut cmd, n) = srt_with_control(
        &sb,
        read,
        &["--resolve", "allowed.test=127.0.0.1", "-c", &script],
    );
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&p.join("ready1"));
    // Grant: the next connection is allowed.
    writeln!(write, "{grant}").unwrap();
    std::fs::write(p.join("go1"), "").unwrap();
    wait_for(&p.join("ready2"));
    // An invalid line and a blank one: reported, dropped; the grant stays.
    writeln!(
        write,
        "{{\"network\":{{\"allowedDomains\":\"everything\"}}}}"
    )
    .unwrap();
    writeln!(write).unwrap();
    std::fs::write(p.join("go2"), "").unwrap();
    wait_for(&p.join("ready3"));
    // Revoke.
    writeln!(write, "{}", settings("")).unwrap();
    std::fs::write(p.join("go3"), "").unwrap();
    wait_for(&p.join("ready4"));
    // The caller closes its end: the command goes on under the policy last applied.
    drop(write);
    std::fs::write(p.join("go4"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok(&out), "403\n200\nhello\n403\n403\nstill-running\n");
    let stderr = text(&out.stderr);
    let applied = |line: usize| -> String {
        let start = format!(
            "srt: control fd {n}, line {line}: network lists applied to the next connection: "
        );
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(&start))
            .unwrap_or_else(|| panic!("no line {line} applied:\n{stderr}"))
            .to_string()
    };
    let granted = applied(1);
    assert!(
        granted.starts_with("now allowed: ") && granted.contains(&format!("allowed.test:{port}")),
        "{granted}"
    );
    assert!(
        stderr.contains(&format!(
            "srt: invalid config on control fd {n} (line 2): ignored, previous config still in force"
        )),
        "{stderr}"
    );
    let revoked = applied(4);
    assert!(
        revoked.starts_with("now refused: ") && revoked.contains(&format!("allowed.test:{port}")),
        "{revoked}"
    );
    // The refusals name the rule of the line in force (none: the list is empty).
    assert!(
        stderr.contains(&format!(
            "srt: blocked GET allowed.test:{port} — not in network.allowedDomains"
        )),
        "{stderr}"
    );
    // The command never had the descriptor.
    let fds = std::fs::read_to_string(p.join("fds.txt")).unwrap();
    assert_eq!(
        fds.trim(),
        "0 1 2 3",
        "fd 3 here is ls's own listing of /proc/self/fd"
    );
}

#[test]
fn a_channel_that_fails_before_its_first_update_stops_the_command() {
    let sb = Sandbox::new();
    sb.settings(&settings(""));
    // A TCP connection reset by its peer: readable at the start, a read error later.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let started = Instant::now();
    let (mut cmd, n) = srt_with_control(
        &sb,
        OwnedFd::from(client),
        &["-c", "touch started; sleep 20; echo not-stopped"],
    );
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&sb.project().join("started"));
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on our socket with a valid struct: close() then sends a reset.
    unsafe {
        libc::setsockopt(
            server.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as u32,
        );
    }
    drop(server);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("not-stopped"));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        text(&out.stderr).contains(&format!(
            "srt: Error: control fd {n} failed before delivering an update"
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn descriptors_0_to_2_and_unreadable_ones_are_refused_before_anything_runs() {
    let sb = Sandbox::new();
    sb.settings(&settings(""));
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--control-fd",
            "2",
            "-c",
            "touch ran",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--control-fd 2: descriptors 0-2 are stdin, stdout and stderr")
    );
    // A directory cannot be read: srt says so and does not run the command.
    let dir = std::fs::File::open(sb.project()).unwrap();
    let (mut cmd, n) = srt_with_control(&sb, OwnedFd::from(dir), &["-c", "touch ran"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("--control-fd {n} is not usable")),
        "{}",
        text(&out.stderr)
    );
    // Not open at all.
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--control-fd",
            "9",
            "-c",
            "touch ran",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!sb.project().join("ran").exists());
}

/// A line's filesystem rules are not applied (they stay as the run started, and srt says so),
/// and srt ends with the command even while the caller keeps the channel open and silent.
#[test]
fn filesystem_rules_stay_as_started_and_srt_ends_with_the_command_while_the_channel_is_open() {
    let sb = Sandbox::new();
    sb.settings(&settings(""));
    let elsewhere = sb.root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let p = sb.project();
    let (read, mut write) = pipe();
    let widened = format!(
        r#"{{"network":{{"allowedDomains":[],"deniedDomains":[]}},"filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":[".", {:?}],"denyWrite":[]}}}}"#,
        elsewhere.display().to_string()
    );
    let script = format!(
        "touch ready1; while [ ! -e go1 ]; do sleep 0.05; done; sleep 0.5; \
         touch {}/written 2>/dev/null && echo wrote || echo refused",
        elsewhere.display()
    );
    let started = Instant::now();
    let (mut cmd, n) = srt_with_control(&sb, read, &["-c", &script]);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&p.join("ready1"));
    writeln!(write, "{widened}").unwrap();
    std::fs::write(p.join("go1"), "").unwrap();
    // `write` stays open until the end of the test: srt must not wait for it.
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("srt did not end with the command while the channel was open");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(ok(&out), "refused\n");
    assert!(!elsewhere.join("written").exists());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "srt: control fd {n}, line 1: network lists applied to the next connection: the network decisions are unchanged"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "srt: control fd {n}, line 1: its other settings ("
        )) && stderr.contains("stay as the run started"),
        "{stderr}"
    );
    drop(write);
}
