//! `srt run` on Linux: everything between a resolved policy and the command's exit status.
//!
//! 1. clean up after runs that were killed (their host stubs), then gather `HostFacts` and
//!    build the plan;
//! 2. start the proxies (when the policy allows any host) on Unix sockets in a private
//!    directory;
//! 3. record, then create, the plan's host stubs;
//! 4. hand the seccomp program to the init through an inherited memfd, spawn
//!    `bwrap <plan> -- srt __init … -- <command>` with the plan's environment;
//! 5. forward the signals srt receives to the sandbox's PID 1 (the init), wait, and clean up.
//!
//! A policy that reaches no host needs no proxies and so no bridges: srt's init would only
//! reap, forward signals and install the filter, which bubblewrap does itself. Their plan has
//! no init ([`LinuxPlan::init`]): bwrap's own PID 1 reaps, `--seccomp FD` filters the command, and
//! srt forwards signals to the command directly. That saves an exec of srt in every offline run.
//!
//! It fails closed: any step that cannot be done refuses the run with the cause and a fix,
//! and the command never starts outside the sandbox.

use std::ffi::OsString;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use srt_compiler::backend::linux::{
    needs_proxies, plan, FileId, HostFacts, LinuxOptions, LinuxPlan, StubKind as PlanStubKind,
};
use srt_compiler::{Ir, RealFs};

use crate::preflight;
use crate::proxy::{ProxyOptions, ProxyServer, ViolationOptions};
use crate::stubs::{mount_points, RunRecord, StubKind};

/// What to run and how.
pub struct RunRequest {
    pub ir: Arc<Ir>,
    /// The command, already composed (`bash -c STRING`, or the argv as given).
    pub command: Vec<OsString>,
    /// `bwrapPath` from the settings, if any.
    pub bwrap_path: Option<PathBuf>,
    /// The `srt` binary (bound into the sandbox as the init).
    pub srt_binary: PathBuf,
    /// Where run records live (stub cleanup after a crash).
    pub state_dir: PathBuf,
    /// Violation reporting (stderr lines, JSON lines file, `ignoreViolations`).
    pub violations: ViolationOptions,
    /// Print the plan before running.
    pub debug: bool,
    /// Names the proxies resolve to fixed addresses (`--resolve NAME=IP`).
    pub resolve: Vec<(String, std::net::IpAddr)>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    #[error("cannot sandbox: {cause}")]
    #[diagnostic(code(srt::run::preflight), help("{fix}"))]
    Preflight { cause: String, fix: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Stubs(#[from] crate::stubs::StubError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
    #[error("cannot pass the seccomp program to the sandbox: {0}")]
    Seccomp(io::Error),
    #[error("cannot start bubblewrap ({bwrap}): {source}")]
    Spawn { bwrap: String, source: io::Error },
    #[error("cannot sandbox: {cause}")]
    #[diagnostic(code(srt::run::sandbox_setup), help("{fix}"))]
    Setup { cause: String, fix: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Secrets(#[from] crate::secrets::run::PrepareError),
}

/// The init's host pid, for the signal forwarder (0 until the sandbox has started).
static INIT_PID: AtomicI32 = AtomicI32::new(0);
/// Set for a run without srt's init: signals go to the command, bwrap's PID 1 ignores them.
static DIRECT: AtomicBool = AtomicBool::new(false);

/// Signals srt forwards to the sandbox instead of dying from them.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];
/// Signals a terminal sends to its foreground process group: the sandboxed command is in it
/// and has its own copy already, so only copies sent by a process are forwarded.
const FROM_TERMINAL: [libc::c_int; 2] = [libc::SIGINT, libc::SIGQUIT];

fn signal_set(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset write only the set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the forwarded signals in this thread (and in every thread started later, the
/// proxies' included) and starts a thread that forwards them to the init.
fn start_signal_forwarder() {
    let set = signal_set(&FORWARDED);
    // SAFETY: valid set; null old-set.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let _ = std::thread::Builder::new()
        .name("srt-signals".into())
        .spawn(move || loop {
            // SAFETY: info is filled by the kernel; the set is blocked in every thread.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
            if sig < 0 {
                continue;
            }
            let mut pid = INIT_PID.load(Ordering::SeqCst);
            if pid > 0 && DIRECT.load(Ordering::SeqCst) {
                pid = command_pid(pid).unwrap_or(0);
            }
            let from_terminal = info.si_code == libc::SI_KERNEL && FROM_TERMINAL.contains(&sig);
            if pid > 0 && !from_terminal {
                // SAFETY: plain kill; a vanished pid gives ESRCH.
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        });
}

fn is_current_nofile(limit: &libc::rlimit) -> bool {
    let mut now = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut now) } == 0;
    read && now.rlim_cur == limit.rlim_cur && now.rlim_max == limit.rlim_max
}

/// The command's host pid in a run without srt's init: the child of bwrap's PID 1 that is
/// PID 2 in the sandbox (orphans reparented to PID 1 are its children too, with other PIDs).
fn command_pid(init: i32) -> Option<i32> {
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).ok()?;
    children
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("NSpid:"))
                        .map(|ns| ns.split_whitespace().last() == Some("2"))
                })
                .unwrap_or(false)
        })
}

/// A memfd holding the program, inherited by bwrap and the init (not close-on-exec), with its
/// offset at the start (bwrap reads from the offset; the init rewinds anyway).
fn seccomp_memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
    // SAFETY: a static NUL-terminated name; flags 0 (inheritable).
    let fd = unsafe { libc::memfd_create(c"srt-seccomp".as_ptr(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(owned.try_clone()?);
    file.write_all(bytes)?;
    file.seek(io::SeekFrom::Start(0))?;
    Ok(owned)
}

/// A pipe whose write end bwrap inherits (`--info-fd`) and whose read end srt keeps.
fn info_pipe() -> io::Result<(std::fs::File, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out-array; O_CLOEXEC only on the read end below.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are fresh descriptors we own.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        libc::fcntl(r.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Ok((std::fs::File::from(r), w))
}

fn build_plan(
    ir: &Ir,
    srt_binary: &Path,
    socket_dir: PathBuf,
    socket_ids: Option<[FileId; 2]>,
    secrets: &crate::secrets::run::Prepared,
) -> LinuxPlan {
    let facts = HostFacts::gather(ir, &RealFs);
    let mut opts = LinuxOptions::new(srt_binary.to_path_buf(), socket_dir);
    opts.secrets = secrets.options.clone();
    opts.proxy_socket_ids = socket_ids;
    opts.ssh_proxy_command = Some(format!("{} __proxy-connect %h %p", srt_binary.display()));
    opts.tmpdir = srt_compiler::env::tmpdir_from_env().into();
    plan(ir, &facts, &opts)
}

/// Runs the command in the sandbox; returns its exit status (128+N when a signal ended it).
pub fn run(req: RunRequest) -> Result<i32, RunError> {
    let Some(bwrap) = preflight::find_bwrap(req.bwrap_path.as_deref()) else {
        let where_ = req.bwrap_path.as_ref().map_or_else(
            || "on PATH".to_string(),
            |p| format!("at {} (bwrapPath)", p.display()),
        );
        return Err(RunError::Preflight {
            cause: format!("bubblewrap is not installed: no executable bwrap {where_}"),
            fix: "install it (`apt-get install bubblewrap`, `dnf install bubblewrap`, `pacman -S bubblewrap`); `srt doctor` checks the rest".into(),
        });
    };
    start_signal_forwarder();
    // The proxies raise srt's open-file limit for their connections; the command gets the
    // limit srt was started with.
    let mut nofile = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    let have_nofile = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut nofile) } == 0;

    // Credentials and TLS termination: the secrets live in this process's memory only, so it
    // must not be dumpable (no core file, no ptrace by this user's other processes).
    let secrets_parent = crate::proxy::socket_parent_for(&req.ir);
    if crate::secrets::run::needed(&req.ir) {
        // SAFETY: prctl with integer arguments only.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
    }
    let secrets =
        crate::secrets::run::prepare(&req.ir, &secrets_parent, needs_proxies(&req.ir), &|name| {
            std::env::var_os(name)
                .map(|v| std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec())
        })?;
    for w in &secrets.warnings {
        eprintln!("srt: warning: {w}");
    }
    // The proxies are needed only when something may be reached.
    let proxies = if !needs_proxies(&req.ir) {
        None
    } else {
        let opts = ProxyOptions {
            violations: req.violations.clone(),
            resolver: Arc::new(crate::proxy::PinnedResolver::new(&req.resolve)),
            // Where the command can rename no directory above the sockets (issue 10, item 4).
            socket_parent: Some(secrets_parent.clone()),
            tls: secrets.tls.clone(),
            registry: secrets.registry.clone(),
            ..ProxyOptions::default()
        };
        Some(ProxyServer::start(req.ir.clone(), opts)?)
    };
    let socket_dir = proxies.as_ref().and_then(|p| p.socket_dir()).map_or_else(
        || PathBuf::from("/nonexistent-srt-proxy"),
        Path::to_path_buf,
    );
    let socket_ids = proxies.as_ref().and_then(ProxyServer::socket_ids);
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
    // through gathering the facts and planning, to creating the stubs, the state lock is held
    // (so no other run removes a stub this plan mounts on meanwhile).
    let mut record = RunRecord::begin(&req.state_dir)?;
    let ir = protect_state_dir(&req.ir, &req.state_dir);
    let mut plan = build_plan(&ir, &req.srt_binary, socket_dir, socket_ids, &secrets);
    if plan.init {
        merge_java_tool_options(&mut plan);
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
    let result = record
        .create(&stubs, &mount_points(&plan))
        .map_err(RunError::from)
        .and_then(|()| spawn_and_wait(&bwrap, &plan, &req.command, have_nofile.then_some(nofile)));
    record.finish();
    if let Some(p) = proxies {
        p.shutdown();
    }
    drop(secrets);
    result
}

/// The IR with srt's state directory write-denied when a write root covers it (its records
/// tell the next run's cleanup what to delete).
fn protect_state_dir(ir: &Ir, state_dir: &Path) -> Ir {
    let mut ir = ir.clone();
    crate::state_dir::protect(&mut ir, state_dir);
    ir
}

/// Keeps the caller's own `JAVA_TOOL_OPTIONS` in front of the proxy properties.
fn merge_java_tool_options(plan: &mut LinuxPlan) {
    let Some(inherited) = std::env::var("JAVA_TOOL_OPTIONS")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return;
    };
    for (k, v) in plan.env.iter_mut() {
        if k == "JAVA_TOOL_OPTIONS" {
            *v = srt_compiler::env::java_tool_options(
                "localhost",
                plan.proxy.http_port,
                Some(&inherited),
            );
        }
    }
}

fn spawn_and_wait(
    bwrap: &Path,
    plan: &LinuxPlan,
    command: &[OsString],
    nofile: Option<libc::rlimit>,
) -> Result<i32, RunError> {
    let memfd = seccomp_memfd(&plan.seccomp.to_bytes()).map_err(RunError::Seccomp)?;
    let (mut info_r, info_w) = info_pipe().map_err(RunError::Seccomp)?;
    // The init, or without one bwrap itself (`--seccomp`: it reads the program, closes the fd
    // and installs it last before exec), takes the program from the memfd.
    let mut args: Vec<OsString> = vec!["--info-fd".into(), info_w.as_raw_fd().to_string().into()];
    args.extend(plan.bwrap_args_for(Some(memfd.as_raw_fd()), command));
    // The command gets the open-file limit srt started with, should the proxies have raised it.
    let restore = nofile.filter(|l| !is_current_nofile(l));
    let unset: Vec<String> = plan.env_unset.iter().map(|(k, _)| k.clone()).collect();
    let pid = crate::spawn::spawn(bwrap, &args, &plan.env, &unset, restore).map_err(|source| {
        RunError::Spawn {
            bwrap: bwrap.display().to_string(),
            source,
        }
    })?;
    drop(info_w);
    drop(memfd);
    // bwrap writes the sandbox's PID 1 once the sandbox exists; no report means setup failed.
    let mut info = String::new();
    let _ = info_r.read_to_string(&mut info);
    let init_pid = serde_json::from_str::<serde_json::Value>(&info)
        .ok()
        .and_then(|v| v["child-pid"].as_i64())
        .and_then(|p| i32::try_from(p).ok());
    if let Some(pid) = init_pid {
        DIRECT.store(!plan.init, Ordering::SeqCst);
        INIT_PID.store(pid, Ordering::SeqCst);
    }
    let status = crate::spawn::wait(pid).map_err(|source| RunError::Spawn {
        bwrap: bwrap.display().to_string(),
        source,
    })?;
    INIT_PID.store(0, Ordering::SeqCst);
    if init_pid.is_none() {
        let probe = preflight::probe_sandbox(bwrap);
        let (cause, fix) = match probe.fix {
            Some(fix) => (probe.detail, fix),
            None => (
                format!("bubblewrap exited with {status} before the sandbox started (see its message above)"),
                "run `srt doctor`; if it passes, the policy's mounts may name something bwrap cannot mount (`srt compile --target linux` shows them)".into(),
            ),
        };
        return Err(RunError::Setup { cause, fix });
    }
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    })
}
