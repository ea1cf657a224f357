//! Filesystem violations: the accesses the sandbox refused, reported like the network's.
//!
//! On Linux the init observes the system calls that can write (and, when the policy hides
//! paths, every open) through a second seccomp program that notifies it
//! ([`srt_compiler::backend::linux::seccomp::observer`]); it lets each call continue at once
//! and sends the host the accesses the policy denies and the mounts refused
//! ([`supervisor`]), which the host decides again with `decide_path` and reports
//! ([`report`]). The mount table stays the only enforcement: what the observer reads from
//! the command's memory is a diagnostic, and a race with it can only mislabel a report.
//!
//! On macOS the same [`report::Reporter`] is fed from Seatbelt's denials in the unified log
//! ([`macos_log`]).

pub mod macos_log;
pub mod report;
pub mod wire;

#[cfg(target_os = "linux")]
mod capture;
#[cfg(target_os = "linux")]
mod config;
#[cfg(target_os = "linux")]
mod enforced;
#[cfg(target_os = "linux")]
pub mod probe;
#[cfg(target_os = "linux")]
pub mod supervisor;
#[cfg(target_os = "linux")]
mod target;

#[cfg(target_os = "linux")]
pub use config::ObserverConfig;
pub use report::{FsViolation, Observed, ReportOptions, Reporter};

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6; not in every libc yet).
#[cfg(target_os = "linux")]
const SYNC_WAKE_UP: u64 = 1;

#[cfg(target_os = "linux")]
pub use host::HostObserver;

#[cfg(target_os = "linux")]
mod host {
    use std::io::{self, Seek, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::path::PathBuf;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    use srt_compiler::backend::linux::{LinuxPlan, ObserverFds};
    use srt_compiler::fs_rules::FsRules;
    use srt_compiler::Ir;

    use super::report::{Observed, ReportOptions, Reporter};
    use super::wire::{AccessKind, Decoder, Record};

    /// How long a report waits for more before it is printed: the command prints its own
    /// error right after the refusal, and srt's line should follow it, not cut it in two.
    const SETTLE: Duration = Duration::from_millis(25);

    /// Whether `fd` has data within `wait`.
    fn readable(fd: std::os::fd::RawFd, wait: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
    }

    /// The host's end of a run's observer: the descriptors the init gets, and the thread that
    /// reports what it sends.
    pub struct HostObserver {
        config: Option<OwnedFd>,
        events: Option<OwnedFd>,
        done: mpsc::Receiver<Reporter>,
    }

    fn memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
        // SAFETY: a static NUL-terminated name; flags 0 (inheritable: bwrap passes it on).
        let fd = unsafe { libc::memfd_create(c"srt-fs-observer".as_ptr(), 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut file = std::fs::File::from(owned.try_clone()?);
        file.write_all(bytes)?;
        file.seek(io::SeekFrom::Start(0))?;
        Ok(owned)
    }

    /// A pipe: the read end (close-on-exec) for srt, the write end (inheritable) for the init.
    fn pipe() -> io::Result<(std::fs::File, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: a valid out-array.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptors we own.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on our own descriptor.
        unsafe {
            libc::fcntl(r.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
        }
        Ok((std::fs::File::from(r), w))
    }

    fn observed(a: super::wire::Access) -> Observed {
        use std::os::unix::ffi::OsStringExt;
        Observed {
            access: match a.access {
                AccessKind::Read => srt_compiler::Access::Read,
                AccessKind::Write => srt_compiler::Access::Write,
            },
            path: PathBuf::from(std::ffi::OsString::from_vec(a.path)),
            pid: Some(a.pid),
            command: a.comm,
            operation: a.syscall,
        }
    }

    impl HostObserver {
        /// For a plan with an observer: its config file, the events pipe, and the reporting
        /// thread (started now, so the init never waits on a full pipe for long). `ir` is the
        /// run's policy, as planned.
        pub fn start(
            plan: &LinuxPlan,
            ir: Arc<Ir>,
            opts: ReportOptions,
        ) -> io::Result<Option<HostObserver>> {
            let Some(obs) = &plan.observer else {
                return Ok(None);
            };
            let bytes = super::config::encode(
                &obs.program.to_bytes(),
                obs.program.options.reads,
                &FsRules::of(&ir),
            );
            let config = memfd(&bytes)?;
            let (read, write) = pipe()?;
            let mut reporter = Reporter::new(ir, opts)?;
            let (tx, done) = mpsc::channel();
            std::thread::Builder::new()
                .name("srt-fs-report".into())
                .spawn(move || {
                    let fd = read.as_raw_fd();
                    let mut records = Decoder::new(read);
                    loop {
                        if let Some(since) = reporter.pending_since() {
                            let waited = since.elapsed();
                            if waited >= SETTLE || !readable(fd, SETTLE - waited) {
                                reporter.flush_lines();
                            }
                        }
                        let Some(r) = records.next_record() else {
                            break;
                        };
                        match r {
                            Record::Access(a) => {
                                reporter.access(observed(a));
                            }
                            Record::Notice(text) => reporter.notice(&text),
                            Record::Dropped(n) => reporter.dropped(n),
                        }
                    }
                    reporter.flush_lines();
                    let _ = tx.send(reporter);
                })?;
            Ok(Some(HostObserver {
                config: Some(config),
                events: Some(write),
                done,
            }))
        }

        /// The descriptors to name on the init's command line.
        pub fn fds(&self) -> Option<ObserverFds> {
            Some(ObserverFds {
                config: self.config.as_ref()?.as_raw_fd(),
                events: self.events.as_ref()?.as_raw_fd(),
            })
        }

        /// Once bwrap has them: srt's copies are closed, so the pipe ends with the sandbox.
        pub fn spawned(&mut self) {
            self.config = None;
            self.events = None;
        }

        /// After the command: the last reports, and what was not shown (waits at most 2 s
        /// for the pipe to end: a process the sandbox left behind could hold it).
        pub fn finish(mut self) {
            self.spawned();
            if let Ok(reporter) = self.done.recv_timeout(Duration::from_secs(2)) {
                reporter.finish();
            }
        }
    }
}

/// The report options if the observer can run here; when the kernel cannot, says so once on
/// stderr and returns `None` (the run goes on without it).
#[cfg(target_os = "linux")]
pub fn enabled(opts: Option<ReportOptions>) -> Option<ReportOptions> {
    let opts = opts?;
    match probe::unsupported() {
        None => Some(opts),
        Some(why) => {
            if opts.stderr {
                eprintln!("srt: filesystem violations are not reported: {why}");
            }
            None
        }
    }
}
