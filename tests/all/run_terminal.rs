//! `srt run` on a terminal (issue 10, item 7): the sandbox has its own process group, which
//! srt makes the terminal's foreground group and takes back, so that Ctrl-C reaches the
//! command (and not bubblewrap), Ctrl-Z and `fg` work under a job-control shell, and
//! interactive programs read the terminal. Driven on a real pseudo-terminal.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Sandbox;

const POLICY: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
/// No host to reach: no proxies (on a terminal srt's init runs all the same).
const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A process in a new session whose controlling terminal is a pseudo-terminal; the test holds
/// the other end, and sees everything written to the terminal.
struct Pty {
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    child: Child,
}

impl Pty {
    fn spawn(cmd: &mut Command) -> Pty {
        Pty::spawn_with(cmd, &[0, 1, 2])
    }

    /// The standard streams numbered in `on_terminal` are the terminal; the others are
    /// whatever `cmd` says. The terminal is the controlling terminal either way.
    fn spawn_with(cmd: &mut Command, on_terminal: &[i32]) -> Pty {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: valid out-pointers; no name, default termios and window size.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: fresh descriptors we own.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        for fd in [&master, &slave] {
            use std::os::fd::AsRawFd;
            // SAFETY: setting a flag on our own descriptor.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let tty = {
            use std::os::fd::AsRawFd;
            slave.as_raw_fd()
        };
        let end = || Stdio::from(slave.try_clone().unwrap());
        if on_terminal.contains(&0) {
            cmd.stdin(end());
        }
        if on_terminal.contains(&1) {
            cmd.stdout(end());
        }
        if on_terminal.contains(&2) {
            cmd.stderr(end());
        }
        // SAFETY: signal, setsid and ioctl are async-signal-safe; `tty` is open until exec.
        unsafe {
            cmd.pre_exec(move || {
                // As a terminal's session leader would start it: a harness that runs the
                // tests in the background (a shell's `&` ignores SIGINT and SIGQUIT) must not
                // hand srt, and so the command, ignored terminal signals.
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                if libc::setsid() < 0 || libc::ioctl(tty, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(slave);
        let master = File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), output.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once every process has closed the terminal.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            output,
            child,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal has shown `needle` `times` times in all.
    fn expect_n(&self, needle: &str, times: usize) {
        let deadline = Instant::now() + TIMEOUT;
        while self.text().matches(needle).count() < times {
            assert!(
                Instant::now() < deadline,
                "waited for {times}× {needle:?}; the terminal shows:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn expect(&self, needle: &str) {
        self.expect_n(needle, 1);
    }

    /// The terminal's foreground process group.
    fn foreground(&self) -> libc::pid_t {
        use std::os::fd::AsRawFd;
        // SAFETY: TIOCGPGRP on the master side reports the terminal's foreground group.
        unsafe { libc::tcgetpgrp(self.master.as_raw_fd()) }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("still running; the terminal shows:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn srt_on_pty(sb: &Sandbox, args: &[&str]) -> Pty {
    let mut cmd = sb.srt();
    cmd.args(["run", "-s", ".srt.json"]).args(args);
    Pty::spawn(&mut cmd)
}

const CTRL_C: &[u8] = b"\x03";
const CTRL_Z: &[u8] = b"\x1a";
const CTRL_D: &[u8] = b"\x04";

/// Ctrl-C reaches the command, which may handle it and go on: bubblewrap, in the same group,
/// must not die of it (it did, and took the sandbox with it: exit 130 whatever the command
/// did). A command that does not handle it ends with 130.
#[test]
fn ctrl_c_reaches_the_command_and_only_the_command_decides() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let mut pty = srt_on_pty(
            &sb,
            &[
                "-c",
                "trap 'echo caught' INT; echo ready; i=0; while [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; echo done",
            ],
        );
        pty.expect("ready");
        pty.send(CTRL_C);
        let status = pty.wait();
        let shown = pty.text();
        assert!(
            shown.contains("caught") && shown.contains("done"),
            "{policy}: {shown}"
        );
        assert_eq!(status.code(), Some(0), "{policy}: {shown}");

        let mut pty = srt_on_pty(&sb, &["-c", "echo ready; exec sleep 30"]);
        pty.expect("ready");
        pty.send(CTRL_C);
        let status = pty.wait();
        assert_eq!(status.code(), Some(130), "{policy}: {}", pty.text());
    }
}

/// An interactive program reads the terminal; the command starts with nothing blocked or
/// ignored that srt blocks or ignores (srt ignores SIGTTOU on a terminal).
#[test]
fn interactive_programs_read_the_terminal() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let mut pty = srt_on_pty(
            &sb,
            &[
                "-c",
                "grep -E '^Sig(Blk|Ign)' /proc/self/status; echo ready; cat",
            ],
        );
        pty.expect("ready");
        // srt leads the session: the terminal went from its group to the sandbox's.
        assert_ne!(pty.foreground(), pty.child.id() as libc::pid_t, "{policy}");
        pty.send(b"hello\n");
        pty.expect_n("hello", 2); // the terminal's echo, then cat's
        pty.send(CTRL_D);
        let status = pty.wait();
        let shown = pty.text();
        assert_eq!(status.code(), Some(0), "{policy}: {shown}");
        assert!(
            shown.contains("SigBlk:\t0000000000000000"),
            "{policy}: {shown}"
        );
        let ignored = shown
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
            .unwrap();
        for sig in [libc::SIGTTOU, libc::SIGPIPE, libc::SIGINT] {
            assert_eq!(
                ignored & (1 << (sig - 1)),
                0,
                "{policy}: signal {sig} ignored"
            );
        }
    }
}

/// An interactive bash with job control on a terminal, in the sandbox's project.
fn job_control_shell(sb: &Sandbox) -> Pty {
    let mut shell = Command::new("bash");
    shell
        .args(["--norc", "--noprofile", "--noediting", "-i"])
        .current_dir(sb.project())
        .env("HOME", sb.home())
        .env("XDG_STATE_HOME", sb.state())
        .env("XDG_RUNTIME_DIR", sb.root.path())
        .env("PS1", "PROMPT> ")
        .env("TERM", "dumb");
    let pty = Pty::spawn(&mut shell);
    pty.expect("PROMPT> ");
    pty
}

/// Ctrl-Z stops the job and `fg` continues it, under an interactive shell with job control;
/// the command then reads the terminal again, and srt exits with its status.
#[test]
fn ctrl_z_and_fg_under_a_job_control_shell() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let mut pty = job_control_shell(&sb);
        pty.send(format!("{} run -s .srt.json -- cat\n", env!("CARGO_BIN_EXE_srt")).as_bytes());
        pty.send(b"alpha\n");
        pty.expect_n("alpha", 2);
        pty.send(CTRL_Z);
        pty.expect("Stopped");
        pty.expect_n("PROMPT> ", 2);
        pty.send(b"fg\n");
        pty.send(b"bravo\n");
        pty.expect_n("bravo", 2);
        pty.send(CTRL_D);
        pty.expect_n("PROMPT> ", 3);
        pty.send(b"echo status=$?\n");
        pty.expect("status=0");
        // A command that stops only itself (as `less` does on Ctrl-Z): srt's init relays the
        // stop to the sandbox's group, so the job stops all the same.
        pty.send(
            format!(
                "{} run -s .srt.json -c 'echo before; kill -TSTP $$; echo after; exit 3'\n",
                env!("CARGO_BIN_EXE_srt")
            )
            .as_bytes(),
        );
        pty.expect("before");
        pty.expect_n("Stopped", 2);
        pty.send(b"fg\n");
        pty.expect("after");
        pty.send(b"echo status=$?\n");
        pty.expect("status=3");
        // A stop for touching the terminal while the job holds it (the sandbox was quicker than
        // srt's hand-over) is no reason to stop the job: srt hands the terminal over and goes on.
        pty.send(
            format!(
                "{} run -s .srt.json -c 'kill -TTIN 0; echo went-on'\n",
                env!("CARGO_BIN_EXE_srt")
            )
            .as_bytes(),
        );
        pty.expect("went-on");
        pty.send(b"echo status=$?\n");
        pty.expect_n("status=0", 2);
        assert_eq!(pty.text().matches("Stopped").count(), 2, "{}", pty.text());
        pty.send(b"exit\n");
        let status = pty.wait();
        assert!(
            status.success() || status.signal().is_some(),
            "{}",
            pty.text()
        );
    }
}

/// A run started in the background stops when the command reads the terminal, as any job;
/// `fg` gives the terminal to the sandbox (not back to the shell that had it at the stop).
#[test]
fn a_run_started_in_the_background_gets_the_terminal_on_fg() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let mut pty = job_control_shell(&sb);
    // `set -b`: bash reports the job's stop at once, not at the next prompt.
    pty.send(b"set -b\n");
    pty.send(format!("{} run -s .srt.json -- cat &\n", env!("CARGO_BIN_EXE_srt")).as_bytes());
    pty.expect("Stopped");
    pty.send(b"fg\n");
    pty.send(b"charlie\n");
    pty.expect_n("charlie", 2);
    pty.send(CTRL_D);
    pty.expect_n("PROMPT> ", 3);
    pty.send(b"echo status=$?\n");
    pty.expect("status=0");
    pty.send(b"exit\n");
    pty.wait();
}

/// Without a job-control shell (srt leads the session, so no one could continue its job),
/// Ctrl-Z must not leave the sandbox stopped: the kernel discards srt's own stop and srt
/// continues the sandbox.
#[test]
fn ctrl_z_without_job_control_does_not_hang() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let mut pty = srt_on_pty(&sb, &["--", "cat"]);
    pty.send(b"one\n");
    pty.expect_n("one", 2);
    pty.send(CTRL_Z);
    pty.send(b"two\n");
    pty.expect_n("two", 2);
    pty.send(CTRL_D);
    assert_eq!(pty.wait().code(), Some(0), "{}", pty.text());
}

/// srt gives the terminal back: a caller without job control (a script) reads it after the run.
#[test]
fn the_terminal_comes_back_to_the_caller() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let mut script = Command::new("sh");
    script
        .arg("-c")
        .arg(format!(
            "{} run -s .srt.json -- true; echo reading; read x; echo got=$x",
            env!("CARGO_BIN_EXE_srt")
        ))
        .current_dir(sb.project())
        .env("HOME", sb.home())
        .env("XDG_STATE_HOME", sb.state())
        .env("XDG_RUNTIME_DIR", sb.root.path());
    let mut pty = Pty::spawn(&mut script);
    pty.expect("reading");
    pty.send(b"back\n");
    pty.expect("got=back");
    assert_eq!(pty.wait().code(), Some(0), "{}", pty.text());
}

/// On a terminal that is neither srt's stdin nor its stdout (`srt run -- make </dev/null >log`),
/// the terminal's Ctrl-C reaches srt's group and not the sandbox's: srt passes it on.
#[test]
fn ctrl_c_is_passed_on_when_the_terminal_is_not_srts_stdin_or_stdout() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let mut cmd = sb.srt();
        cmd.args([
            "run",
            "-s",
            ".srt.json",
            "-c",
            "trap 'echo caught > caught; exit 7' INT; touch ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut pty = Pty::spawn_with(&mut cmd, &[]);
        let deadline = Instant::now() + TIMEOUT;
        while !sb.project().join("ready").exists() {
            assert!(
                Instant::now() < deadline,
                "{policy}: the command did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        pty.send(CTRL_C);
        assert_eq!(pty.wait().code(), Some(7), "{policy}");
        assert!(sb.project().join("caught").exists(), "{policy}");
    }
}

/// A terminal that is only srt's stderr (a caller logging there) is not taken: the caller
/// keeps the foreground, and would otherwise be stopped when it reads its terminal.
#[test]
fn stderr_alone_on_the_terminal_does_not_take_it() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let mut cmd = sb.srt();
    cmd.args(["run", "-s", ".srt.json", "-c", "touch ready; sleep 1"])
        .stdout(Stdio::null());
    let mut pty = Pty::spawn_with(&mut cmd, &[2]);
    let deadline = Instant::now() + TIMEOUT;
    while !sb.project().join("ready").exists() {
        assert!(Instant::now() < deadline, "the command did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(pty.foreground(), pty.child.id() as libc::pid_t);
    assert_eq!(pty.wait().code(), Some(0), "{}", pty.text());
}
