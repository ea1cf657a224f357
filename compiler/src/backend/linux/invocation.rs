//! What the runtime runs for a [`LinuxPlan`]: bwrap's arguments, and the init's.

use std::ffi::OsString;

use srt_schema::Diagnostic;

use super::{path_word, render, LinuxPlan};
use crate::ir::Ir;

/// The descriptors a run hands bwrap: `--info-fd` (bwrap reports the sandbox's PID 1 there)
/// and the seccomp program's memfd, which the init reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunFds {
    pub info: i32,
    pub seccomp: i32,
    /// The filesystem observer's, when the plan has one ([`super::FsObserver`]).
    pub observer: Option<ObserverFds>,
}

/// The observer's descriptors: its program and rules, and where its events go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObserverFds {
    /// A file holding the observer's program and the rules the init decides paths with.
    pub config: i32,
    /// The write end of the pipe the host reads the init's reports from.
    pub events: i32,
}

/// Stand for the descriptor numbers a run chooses, in `srt compile`'s output.
pub const INFO_FD_PLACEHOLDER: &str = "<info-fd>";
pub const SECCOMP_FD_PLACEHOLDER: &str = "<seccomp-fd>";
pub const FS_OBSERVER_FD_PLACEHOLDER: &str = "<fs-observer-fd>";
pub const FS_EVENTS_FD_PLACEHOLDER: &str = "<fs-events-fd>";
/// Stands for the command and its arguments in `srt compile`'s output.
pub const COMMAND_PLACEHOLDER: &str = "<command>";
/// Stands for a proxy socket's device and inode numbers, known once srt has bound it.
pub const FILE_ID_PLACEHOLDER: &str = "DEV:INO";

impl LinuxPlan {
    /// The bwrap arguments (without `bwrap` itself and without the `--` before the init).
    pub fn argv(&self) -> Vec<OsString> {
        self.args.iter().flat_map(|a| a.words.clone()).collect()
    }

    /// The init's arguments after [`LinuxPlan::init_path`]: `__init`, a `--pin-link PATH` per
    /// [`super::LinkPin`], a `--bridge PORT=DEV:INO:SOCKET` per proxy (when it
    /// [bridges](LinuxPlan::bridges) them), and `--seccomp-fd FD` when the runtime passes the
    /// program (`seccomp.to_bytes()` in a memfd or file) on that inherited descriptor. The init
    /// checks each socket's identity before the command starts and then connects through the
    /// descriptor it checked, never the path; without identities (`srt compile`) the words read
    /// `DEV:INO`, which the init refuses.
    pub fn init_args(&self, seccomp_fd: Option<i32>) -> Vec<OsString> {
        let p = &self.proxy;
        let mut out: Vec<OsString> = vec!["__init".into()];
        for pin in &self.link_pins {
            out.extend(["--pin-link".into(), path_word(&pin.path)]);
        }
        let bridges = [
            (p.http_port, p.http_socket_id, &p.http_socket),
            (p.socks_port, p.socks_socket_id, &p.socks_socket),
        ];
        for (port, id, socket) in bridges.into_iter().filter(|_| self.bridges) {
            let id = id.map_or_else(
                || FILE_ID_PLACEHOLDER.to_string(),
                |i| format!("{}:{}", i.dev, i.ino),
            );
            let mut bridge = OsString::from(format!("{port}={id}:"));
            bridge.push(socket.as_os_str());
            out.extend(["--bridge".into(), bridge]);
        }
        if let Some(fd) = seccomp_fd {
            out.extend(["--seccomp-fd".into(), fd.to_string().into()]);
        }
        out
    }

    /// Everything after `bwrap`: `argv() -- init_path init_args(fd) -- command…` (srt's init is
    /// PID 1 of every sandbox).
    pub fn bwrap_args_for(&self, seccomp_fd: Option<i32>, command: &[OsString]) -> Vec<OsString> {
        let mut out = self.argv();
        out.push("--".into());
        out.push(self.init_path.clone().into_os_string());
        out.extend(self.init_args(seccomp_fd));
        out.push("--".into());
        out.extend(command.iter().cloned());
        out
    }

    /// Everything `srt run` passes to bwrap, in order: `--info-fd FD`, [`LinuxPlan::argv`],
    /// `--`, the init with its arguments (`--seccomp-fd FD` included, and `--fs-observer FD
    /// --fs-events FD` when the plan has an [observer](super::FsObserver)), `--`, the command.
    /// With `fds` `None` (`srt compile`) the descriptor numbers are the placeholders
    /// ([`INFO_FD_PLACEHOLDER`], [`SECCOMP_FD_PLACEHOLDER`], [`FS_OBSERVER_FD_PLACEHOLDER`],
    /// [`FS_EVENTS_FD_PLACEHOLDER`]); the command is whatever the caller gives
    /// ([`COMMAND_PLACEHOLDER`] in `srt compile`).
    pub fn launch_args(&self, fds: Option<RunFds>, command: &[OsString]) -> Vec<OsString> {
        let fd = |n: Option<i32>, placeholder: &str| -> OsString {
            n.map_or_else(|| placeholder.into(), |n| n.to_string().into())
        };
        let info = fd(fds.map(|f| f.info), INFO_FD_PLACEHOLDER);
        let mut out: Vec<OsString> = vec!["--info-fd".into(), info];
        out.extend(self.argv());
        out.push("--".into());
        out.push(self.init_path.clone().into_os_string());
        out.extend(self.init_args(None));
        let seccomp = fd(fds.map(|f| f.seccomp), SECCOMP_FD_PLACEHOLDER);
        out.extend(["--seccomp-fd".into(), seccomp]);
        if self.observer.is_some() {
            let observer = fds.and_then(|f| f.observer);
            out.extend([
                "--fs-observer".into(),
                fd(observer.map(|o| o.config), FS_OBSERVER_FD_PLACEHOLDER),
                "--fs-events".into(),
                fd(observer.map(|o| o.events), FS_EVENTS_FD_PLACEHOLDER),
            ]);
        }
        out.push("--".into());
        out.extend(command.iter().cloned());
        out
    }

    /// What stops a run of this plan: its error notes (a symlink that leads nowhere where a
    /// protected name must be mounted, …). `srt run` refuses while there is one.
    pub fn refusals(&self) -> impl Iterator<Item = &Diagnostic> {
        self.notes
            .iter()
            .filter(|d| d.severity == srt_schema::Severity::Error)
    }

    pub fn render_text(&self, ir: &Ir) -> String {
        render::text(self, ir)
    }

    pub fn render_json(&self, ir: &Ir) -> serde_json::Value {
        render::json(self, ir)
    }
}
