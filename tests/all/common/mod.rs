//! Helpers for the `srt run` tests: a temporary HOME, project and state directory, and the
//! real `srt` binary running real bubblewrap.

// Most tests that use these run on Linux only.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

pub mod origins;
pub mod parent_proxy;
pub mod tls_origin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Sandbox {
    pub root: tempfile::TempDir,
}

impl Sandbox {
    /// A temporary HOME (`home/`), project (`project/`, the cwd) and state dir (`state/`).
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for d in ["home", "project", "state"] {
            std::fs::create_dir(root.path().join(d)).unwrap();
        }
        Sandbox { root }
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }

    pub fn state(&self) -> PathBuf {
        self.root.path().join("state")
    }

    /// Writes the settings file at `project/.srt.json`.
    pub fn settings(&self, json: &str) -> PathBuf {
        let p = self.project().join(".srt.json");
        std::fs::write(&p, json).unwrap();
        p
    }

    /// `srt ARGS…` with this HOME, cwd and state directory.
    pub fn srt(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_srt"));
        c.current_dir(self.project())
            .env("HOME", self.home())
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_RUNTIME_DIR", self.root.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    /// Runs `sh -c SCRIPT` in the sandbox with the project's settings.
    pub fn run(&self, script: &str) -> Output {
        self.srt()
            .args(["run", "-s", ".srt.json", "-c", script])
            .output()
            .unwrap()
    }

    /// Everything left in the project, the state's run records, and srt's socket dirs.
    pub fn leftovers(&self) -> Vec<String> {
        let mut out = Vec::new();
        let runs = self.state().join("srt/runs");
        if let Ok(rd) = std::fs::read_dir(&runs) {
            out.extend(
                rd.flatten()
                    .map(|e| format!("record {}", e.path().display())),
            );
        }
        if let Ok(rd) = std::fs::read_dir(self.root.path()) {
            out.extend(
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("srt-"))
                    .map(|e| format!("socket dir {}", e.path().display())),
            );
        }
        out
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A diagnostic's words run together, whatever width miette wrapped it at (its whitespace and
/// the `│` of its frame dropped): match phrases against this.
pub fn words(b: &[u8]) -> String {
    text(b)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

/// Asserts the run succeeded, printing its output when it did not.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// Hands `fd` to the child `cmd` starts, at a descriptor number returned here: a close-on-exec
/// duplicate at or above 100, made inheritable in the child only. Tests share one process, so
/// a fixed small number could be another thread's descriptor, or the pipe the standard
/// library's spawn keeps open in the child until exec; and an inheritable duplicate in this
/// process would leak into other tests' children. Keep the returned descriptor until the
/// child has started.
pub fn hand_fd(
    cmd: &mut Command,
    fd: std::os::fd::BorrowedFd<'_>,
) -> (std::os::fd::OwnedFd, std::os::fd::RawFd) {
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::process::CommandExt;
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we borrow; the result is a new one we own.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100) };
    assert!(dup >= 100, "{}", std::io::Error::last_os_error());
    // SAFETY: `dup` is a fresh descriptor of ours.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(dup) };
    // SAFETY: in the child, before exec: fcntl is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(dup, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    (owned, dup)
}
