//! What the runtime runs for a [`LinuxPlan`]: bwrap's arguments, and the init's.

use std::ffi::OsString;

use srt_schema::Diagnostic;

use super::{path_word, render, LinuxPlan};
use crate::ir::Ir;

/// The descriptors the runtime hands the init, by number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InitFds {
    /// The seccomp program (`--seccomp-fd`).
    pub seccomp: Option<i32>,
    /// The filesystem observer's (`--fs-observer`, `--fs-events`), when the plan has one.
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
        self.init_args_with(&InitFds {
            seccomp: seccomp_fd,
            observer: None,
        })
    }

    /// [`LinuxPlan::init_args`], and `--fs-observer FD --fs-events FD` when the plan has an
    /// [observer](super::FsObserver) and the runtime passes its descriptors.
    pub fn init_args_with(&self, fds: &InitFds) -> Vec<OsString> {
        let seccomp_fd = fds.seccomp;
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
            let id = id.map_or_else(|| "DEV:INO".to_string(), |i| format!("{}:{}", i.dev, i.ino));
            let mut bridge = OsString::from(format!("{port}={id}:"));
            bridge.push(socket.as_os_str());
            out.extend(["--bridge".into(), bridge]);
        }
        if let Some(fd) = seccomp_fd {
            out.extend(["--seccomp-fd".into(), fd.to_string().into()]);
        }
        if let (Some(_), Some(o)) = (&self.observer, fds.observer) {
            out.extend([
                "--fs-observer".into(),
                o.config.to_string().into(),
                "--fs-events".into(),
                o.events.to_string().into(),
            ]);
        }
        out
    }

    /// Everything after `bwrap`: `argv() -- init_path init_args(fd) -- command…` (srt's init is
    /// PID 1 of every sandbox).
    pub fn bwrap_args_for(&self, seccomp_fd: Option<i32>, command: &[OsString]) -> Vec<OsString> {
        self.bwrap_args_with(
            &InitFds {
                seccomp: seccomp_fd,
                observer: None,
            },
            command,
        )
    }

    /// [`LinuxPlan::bwrap_args_for`] with every descriptor the init takes.
    pub fn bwrap_args_with(&self, fds: &InitFds, command: &[OsString]) -> Vec<OsString> {
        let mut out = self.argv();
        out.push("--".into());
        out.push(self.init_path.clone().into_os_string());
        out.extend(self.init_args_with(fds));
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
