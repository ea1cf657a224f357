//! `srt run` on Linux: everything between a resolved policy and the command's exit status.
//!
//! 1. clean up after runs that were killed (their host stubs), then gather `HostFacts` and
//!    build the plan;
//! 2. start the proxies (when the policy allows any host) on Unix sockets in a private
//!    directory;
//! 3. record, then create, the plan's host stubs;
//! 4. hand the seccomp program to the init through an inherited memfd, spawn
//!    `bwrap <plan> -- srt __init … -- <command>` with the plan's environment;
//! 5. forward the signals srt receives to the sandbox's PID 1 (the init), wait, and clean up;
//! 6. audit what the run left under the write roots ([`crate::audit`]) and report it.
//!
//! A policy that reaches no host needs no proxies and so no bridges ([`LinuxPlan::bridges`]),
//! but srt's init is still PID 1: bwrap's own PID 1 is dumpable, so the command could stop it
//! (the run would never end) or take it over.
//!
//! It fails closed: any step that cannot be done refuses the run with the cause and a fix,
//! and the command never starts outside the sandbox.

use std::ffi::OsString;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use srt_compiler::backend::linux::{
    needs_proxies, plan, FileId, HostFacts, LinuxOptions, LinuxPlan, StubKind as PlanStubKind,
};
use srt_compiler::{Ir, RealFs};

use crate::preflight;
use crate::proxy::{ProxyOptions, ProxyServer, ViolationOptions};
use crate::stubs::{mount_points, RunRecord, StubKind};
use crate::terminal::{Handover, Terminal};

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
    /// Start the proxies even when no host is allowed, so refused destinations are reported.
    pub report_network: bool,
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
    #[error("srt refuses to run: {cause}")]
    #[diagnostic(code(srt::run::refused), help("{fix}"))]
    Refused { cause: String, fix: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Secrets(#[from] crate::secrets::run::PrepareError),
}

/// The init's host pid, for the signal forwarder (0 until the sandbox has started).
static INIT_PID: AtomicI32 = AtomicI32::new(0);

/// Signals srt forwards to the sandbox instead of dying from them.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

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
/// proxies' included) and starts a thread that forwards them to the init. The sandbox is never
/// in srt's process group, so whatever srt gets, a terminal's Ctrl-C included (srt's group
/// holds the terminal when neither its stdin nor its stdout is it), the sandbox did not get.
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
            let pid = INIT_PID.load(Ordering::SeqCst);
            if pid > 0 {
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

/// A memfd holding the program, inherited by bwrap and the init (not close-on-exec).
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
    terminal: bool,
    secrets: &crate::secrets::run::Prepared,
    report_network: bool,
) -> LinuxPlan {
    let facts = HostFacts::gather(ir, &RealFs);
    let mut opts = LinuxOptions::new(srt_binary.to_path_buf(), socket_dir);
    opts.secrets = secrets.options.clone();
    opts.proxy_socket_ids = socket_ids;
    opts.terminal = terminal;
    opts.ssh_proxy_command = Some(format!("{} __proxy-connect %h %p", srt_binary.display()));
    opts.tmpdir = srt_compiler::env::tmpdir_from_env().into();
    opts.report_network = report_network;
    plan(ir, &facts, &opts)
}

/// Runs the command in the sandbox; returns its exit status (128+N when a signal ended it).
pub fn run(req: RunRequest) -> Result<i32, RunError> {
    // Before srt opens anything of its own: only what srt passes on purpose may cross.
    crate::fds::close_inherited_on_exec().map_err(|e| RunError::Setup {
        cause: format!("cannot keep the descriptors srt inherited out of the sandbox: {e}"),
        fix: "srt needs close_range(2) (Linux 5.11) or a mounted /proc to mark them close-on-exec"
            .into(),
    })?;
    // The one program srt executes on the host; refused if the sandbox could replace it.
    let bwrap = preflight::choose_bwrap(req.bwrap_path.as_deref(), &req.ir)
        .map_err(|r| RunError::Preflight {
            cause: r.cause,
            fix: format!("{}; `srt doctor` checks the rest", r.fix),
        })?
        .path;
    // srt does not execute itself on the host, but whoever runs `srt` next does: say so when
    // this run's command could replace it (a project-local install under a write root).
    if let Some(why) = crate::host_program::within_reach(&req.srt_binary, &req.ir) {
        eprintln!(
            "srt: warning: the command could replace this srt ({}): {why}; the next `srt` run would then be its program, outside any sandbox. Install srt where no write root reaches (~/.local/bin, /usr/local/bin).",
            req.srt_binary.display()
        );
    }
    let terminal = Terminal::of_standard_streams();
    if terminal.is_some() {
        crate::terminal::ignore_terminal_output_stops();
    }
    // Before anything the command could write: the audit reports what changed after this.
    let since = crate::audit::Since::now();
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
    // The proxies are needed when something may be reached, or to report what may not.
    let proxied = needs_proxies(&req.ir) || req.report_network;
    let secrets = crate::secrets::run::prepare(&req.ir, &secrets_parent, proxied, &|name| {
        std::env::var_os(name)
            .map(|v| std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec())
    })?;
    for w in &secrets.warnings {
        eprintln!("srt: warning: {w}");
    }
    let proxies = if !proxied {
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
    let mut plan = build_plan(
        &ir,
        &req.srt_binary,
        socket_dir,
        socket_ids,
        terminal.is_some(),
        &secrets,
        req.report_network,
    );
    if let Some(refusal) = plan.refusals().next() {
        let err = RunError::Refused {
            cause: refusal.message.clone(),
            fix: refusal.help.clone().unwrap_or_default(),
        };
        record.finish();
        if let Some(p) = proxies {
            p.shutdown();
        }
        return Err(err);
    }
    if plan.bridges {
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
        .and_then(|()| {
            let nofile = have_nofile.then_some(nofile);
            spawn_and_wait(&bwrap, &plan, &req.command, nofile, terminal)
        });
    record.finish();
    if let Some(p) = proxies {
        p.shutdown();
    }
    drop(secrets);
    // After the stubs are gone and the proxies quiet: the block follows the command's output.
    if result.is_ok() {
        crate::audit::audit(&plan.audit, since, &req.ir.home)
            .emit(req.violations.jsonl.as_deref(), req.debug);
    }
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
    terminal: Option<Terminal>,
) -> Result<i32, RunError> {
    let memfd = seccomp_memfd(&plan.seccomp.to_bytes()).map_err(RunError::Seccomp)?;
    let (mut info_r, info_w) = info_pipe().map_err(RunError::Seccomp)?;
    // The init takes the program from the memfd and installs it on the command only.
    let mut args: Vec<OsString> = vec!["--info-fd".into(), info_w.as_raw_fd().to_string().into()];
    args.extend(plan.bwrap_args_for(Some(memfd.as_raw_fd()), command));
    // The command gets the open-file limit srt started with, should the proxies have raised it.
    let restore = nofile.filter(|l| !is_current_nofile(l));
    // On a terminal bwrap shares the sandbox's group, the terminal's foreground: it must not
    // die of the terminal's signals (the init unblocks them for the command).
    let blocked: &[libc::c_int] = if plan.terminal {
        &crate::terminal::BLOCKED_IN_BWRAP
    } else {
        &[]
    };
    let unset: Vec<String> = plan.env_unset.iter().map(|(k, _)| k.clone()).collect();
    let pid = crate::spawn::spawn(bwrap, &args, &plan.env, &unset, restore, blocked).map_err(
        |source| RunError::Spawn {
            bwrap: bwrap.display().to_string(),
            source,
        },
    )?;
    let handover = terminal.map(|t| Handover::start(t, pid));
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
        INIT_PID.store(pid, Ordering::SeqCst);
    }
    let status = match &handover {
        Some(h) => h.wait(),
        None => crate::spawn::wait(pid),
    };
    if let Some(h) = handover {
        h.finish();
    }
    let status = status.map_err(|source| RunError::Spawn {
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
