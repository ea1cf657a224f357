//! The Linux part of a run: bubblewrap, the plan, its host stubs, srt's init as PID 1.
//!
//! - [`LinuxSandbox::check`]: which bwrap (refused if the sandbox could replace it,
//!   [`crate::host_program`]), and whether srt shares a terminal with the command;
//! - `prepare`: under the per-user state lock (so that no other run removes a stub this plan
//!   mounts on meanwhile), clean up after runs that were killed, protect srt's state
//!   directory, gather `HostFacts` and build the plan with [`linux_options`] (the constructor
//!   `srt compile` uses too), refuse what it refuses, record and create its stubs; hand the
//!   seccomp program over in a memfd and open bwrap's `--info-fd` pipe;
//! - `supervise`: give the terminal to the sandbox's process group, learn the sandbox's PID 1
//!   from bwrap (signals go to it), wait, take the terminal back; no PID 1 means bwrap failed
//!   to set the sandbox up, and the probes say why.
//!
//! A policy that reaches no host needs no proxies and so no bridges
//! ([`srt_compiler::backend::linux::LinuxPlan::bridges`]), but srt's init is still PID 1:
//! bwrap's own PID 1 is dumpable, so the command could stop it (the run would never end) or
//! take it over.

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use srt_compiler::audit::AuditPlan;
use srt_compiler::backend::linux::{plan, HostFacts, LinuxPlan, RunFds, StubKind as PlanStubKind};
use srt_compiler::{Ir, RealFs};

use super::signals::Forwarder;
use super::{linux_options, spawn, Launch, OsSandbox, RunError, RunRequest, Started};
use crate::preflight;
use crate::proxy::{Listen, ProxyServer};
use crate::stubs::{mount_points, RunRecord, StubKind};
use crate::terminal::{Handover, Terminal};

/// What bwrap inherits on purpose, kept until it has started.
struct Handed {
    seccomp: OwnedFd,
    info_read: File,
    info_write: OwnedFd,
}

/// Whether srt's init read its seccomp program: the init rewinds the memfd and reads it to
/// the end as it starts, which moves the offset every copy of the descriptor shares. bwrap
/// execs the init only once the sandbox is set up, so a program still unread when bwrap has
/// exited means bwrap failed setting it up (after reporting the sandbox's PID, which it does
/// before the mounts) and the command never ran.
fn init_read_its_program(probe: &OwnedFd) -> bool {
    nix::unistd::lseek(probe, 0, nix::unistd::Whence::SeekCur).is_ok_and(|at| at > 0)
}

/// bubblewrap and srt's init.
pub struct LinuxSandbox {
    /// `bwrapPath` from the settings, if any.
    configured: Option<PathBuf>,
    bwrap: PathBuf,
    terminal: Option<Terminal>,
    record: Option<RunRecord>,
    plan: Option<LinuxPlan>,
    handed: Option<Handed>,
    /// The filesystem observer's host end (its reports), when the run has one.
    observer: Option<crate::fsviolations::HostObserver>,
    /// The proxies run even when no host is allowed ([`RunRequest::report_network`]).
    report_network: bool,
}

impl LinuxSandbox {
    pub fn new(bwrap_path: Option<PathBuf>) -> Self {
        LinuxSandbox {
            configured: bwrap_path,
            bwrap: PathBuf::new(),
            terminal: None,
            record: None,
            plan: None,
            handed: None,
            observer: None,
            report_network: false,
        }
    }
}

impl OsSandbox for LinuxSandbox {
    fn check(&mut self, req: &RunRequest) -> Result<(), RunError> {
        // The one program srt executes on the host; refused if the sandbox could replace it.
        self.bwrap = preflight::choose_bwrap(self.configured.as_deref(), &req.ir)
            .map_err(|r| RunError::Preflight {
                cause: r.cause,
                fix: format!("{}; `srt doctor` checks the rest", r.fix),
            })?
            .path;
        self.report_network = req.report_network;
        self.terminal = Terminal::of_standard_streams();
        if self.terminal.is_some() {
            crate::terminal::ignore_terminal_output_stops();
        }
        Ok(())
    }

    fn command_shares_our_group(&self) -> bool {
        false
    }

    fn proxies(&self, ir: &Ir, live_network: bool) -> Option<Listen> {
        (live_network || self.report_network || srt_compiler::backend::linux::needs_proxies(ir))
            .then_some(Listen::UnixDir)
    }

    fn enforces_secrets(&self) -> bool {
        true
    }

    fn prepare(&mut self, req: &RunRequest, started: Started<'_>) -> Result<Launch, RunError> {
        let proxies = started.proxies;
        let socket_dir = proxies.and_then(ProxyServer::socket_dir).map_or_else(
            || PathBuf::from("/nonexistent-srt-proxy"),
            Path::to_path_buf,
        );
        let socket_ids = proxies.and_then(ProxyServer::socket_ids);
        if proxies.is_some() && socket_ids.is_none() {
            return Err(RunError::Setup {
                cause: format!(
                    "the proxy sockets in {} are not the ones srt bound",
                    socket_dir.display()
                ),
                fix: "something replaced them as they were made; check who else writes that directory (XDG_RUNTIME_DIR, TMPDIR)".into(),
            });
        }
        // Stubs are shared with other runs of this user: from the cleanup after dead runs,
        // through gathering the facts and planning, to creating the stubs, the state lock is
        // held (so no other run removes a stub this plan mounts on meanwhile).
        let record = self.record.insert(RunRecord::begin(&req.state_dir)?);
        let mut ir = (*req.ir).clone();
        crate::state_dir::protect(&mut ir, &req.state_dir);
        let mut opts = linux_options(req.srt_binary.clone(), socket_dir);
        opts.secrets = started.secrets.clone();
        opts.proxy_socket_ids = socket_ids;
        opts.terminal = self.terminal.is_some();
        opts.live_network = started.live_network;
        opts.report_network = self.report_network;
        let fs_report = crate::fsviolations::enabled(req.fs_violations.clone());
        opts.fs_violations = fs_report.is_some();
        opts.fs_violation_reads = fs_report.as_ref().is_some_and(|r| r.reads);
        // The scan lists again only the directories that changed since the last run's scan.
        let mut index = crate::audit::IndexOptions::in_state_dir(&req.state_dir)
            .map(crate::audit::cache::scan::ScanIndexer::new);
        let facts = HostFacts::gather_indexed(
            &ir,
            &RealFs,
            index
                .as_mut()
                .map(|i| i as &mut dyn srt_compiler::backend::linux::ScanIndex),
        );
        if let Some(i) = index {
            i.finish();
        }
        let plan = self.plan.insert(plan(&ir, &facts, &opts));
        if let Some(refusal) = plan.refusals().next() {
            return Err(RunError::Refused {
                cause: refusal.message.clone(),
                fix: refusal.help.clone().unwrap_or_default(),
            });
        }
        if req.debug {
            eprintln!("{}", plan.render_text(&ir));
        }
        let stubs: Vec<(PathBuf, StubKind)> = plan
            .stubs
            .iter()
            .map(|s| {
                let kind = match s.kind {
                    PlanStubKind::File => StubKind::File,
                    PlanStubKind::Dir => StubKind::Dir,
                };
                (s.path.clone(), kind)
            })
            .collect();
        record.create(&stubs, &mount_points(plan))?;
        // The init takes the program from the memfd and installs it on the command only.
        let seccomp = seccomp_memfd(&plan.seccomp.to_bytes()).map_err(RunError::Seccomp)?;
        let (info_read, info_write) = info_pipe().map_err(RunError::Seccomp)?;
        // The observer reports with the rules the plan was made from.
        self.observer = match fs_report {
            Some(opts) => crate::fsviolations::HostObserver::start(plan, Arc::new(ir), opts)
                .map_err(RunError::Seccomp)?,
            None => None,
        };
        let fds = RunFds {
            info: info_write.as_raw_fd(),
            seccomp: seccomp.as_raw_fd(),
            observer: self.observer.as_ref().and_then(|o| o.fds()),
        };
        let launch = Launch {
            program: self.bwrap.clone(),
            args: plan.launch_args(Some(fds), &req.command),
            env: plan.env.clone(),
            env_unset: plan.env_unset.iter().map(|(k, _)| k.clone()).collect(),
            new_process_group: true,
            // On a terminal bwrap shares the sandbox's group, the terminal's foreground: it
            // must not die of the terminal's signals (the init unblocks them for the command).
            blocked: if plan.terminal {
                crate::terminal::BLOCKED_IN_BWRAP
                    .iter()
                    .filter_map(|&s| Signal::try_from(s).ok())
                    .collect()
            } else {
                Vec::new()
            },
        };
        self.handed = Some(Handed {
            seccomp,
            info_read,
            info_write,
        });
        Ok(launch)
    }

    fn supervise(&mut self, pid: Pid, fwd: &Forwarder) -> Result<ExitStatus, RunError> {
        let handover = self.terminal.map(|t| Handover::start(t, pid.as_raw()));
        // bwrap writes the sandbox's PID 1 once the sandbox exists; no report means setup
        // failed. srt's copy of the pipe's write end goes first, or the read would not end; the
        // seccomp memfd stays, to learn whether the init read it.
        let mut program_probe = None;
        let init_pid = self.handed.take().and_then(|h| {
            let Handed {
                seccomp,
                mut info_read,
                info_write,
            } = h;
            drop(info_write);
            program_probe = Some(seccomp);
            if let Some(o) = self.observer.as_mut() {
                o.spawned();
            }
            let mut info = String::new();
            let _ = info_read.read_to_string(&mut info);
            serde_json::from_str::<serde_json::Value>(&info)
                .ok()
                .and_then(|v| v["child-pid"].as_i64())
                .and_then(|p| i32::try_from(p).ok())
        });
        if let Some(init) = init_pid {
            fwd.forward_to(init);
        }
        let status = match &handover {
            Some(h) => h.wait(),
            None => spawn::wait(pid),
        };
        if let Some(h) = handover {
            h.finish();
        }
        fwd.target_gone();
        // The last reports, before anything else srt prints about the run.
        if let Some(o) = self.observer.take() {
            o.finish();
        }
        let status = status.map_err(RunError::Wait)?;
        // bwrap's own failure after it reported the sandbox's PID (a mount it could not make)
        // exits 1 as a command could: the unread program tells them apart.
        let never_started = program_probe
            .as_ref()
            .is_some_and(|p| !init_read_its_program(p))
            && status.code() == Some(1);
        drop(program_probe);
        if init_pid.is_none() || never_started {
            let probe = preflight::probe_sandbox(&self.bwrap);
            // A mount point that existed when the plan was made and is gone now: another
            // program removed it meanwhile (another srt run's stub, when that run keeps its
            // stub records in another state directory). Nothing ran; running again re-plans.
            let vanished = self
                .plan
                .as_ref()
                .map(mount_points)
                .unwrap_or_default()
                .into_iter()
                .find(|p| std::fs::symlink_metadata(p).is_err());
            let (cause, fix) = match (probe.fix, vanished) {
                (Some(fix), _) => (probe.detail, fix),
                (None, Some(gone)) => return Err(RunError::MountPointGone(gone)),
                (None, None) => (
                    format!("bubblewrap exited with {status} before the sandbox started (see its message above)"),
                    "run `srt doctor`; if it passes, the policy's mounts may name something bwrap cannot mount (`srt compile --target linux` shows them)".into(),
                ),
            };
            return Err(RunError::Setup { cause, fix });
        }
        Ok(status)
    }

    fn audit_plan(&mut self, ir: &Ir) -> AuditPlan {
        self.plan
            .take()
            .map_or_else(|| AuditPlan::from_write_rules(ir), |p| p.audit)
    }

    fn finish(&mut self) {
        self.handed = None;
        self.observer = None;
        if let Some(record) = self.record.take() {
            record.finish();
        }
    }
}

/// A memfd holding the program, inherited by bwrap and the init (not close-on-exec).
fn seccomp_memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
    const NAME: &CStr = c"srt-seccomp";
    let owned = memfd_create(NAME, MFdFlags::empty())?;
    let mut file = File::from(owned.try_clone()?);
    file.write_all(bytes)?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(owned)
}

/// A pipe whose write end bwrap inherits (`--info-fd`) and whose read end srt keeps
/// (close-on-exec).
fn info_pipe() -> io::Result<(File, OwnedFd)> {
    let (read, write) = nix::unistd::pipe()?;
    fcntl(&read, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    Ok((File::from(read), write))
}
