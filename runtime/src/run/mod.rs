//! `srt run`, on every OS: everything between a resolved policy and the command's exit status.
//!
//! One request ([`RunRequest`]) and one sequence of steps ([`run`]) for Linux and macOS; what
//! differs between them, the program that applies the sandbox and how it is started and
//! supervised, sits behind [`OsSandbox`] ([`linux::LinuxSandbox`]: bubblewrap, the plan, its
//! stubs, srt's init as PID 1; [`macos::MacosSandbox`]: a Seatbelt profile and
//! `sandbox-exec`). The steps, in this order:
//!
//! 1. mark every descriptor srt inherited close-on-exec, before srt opens anything of its own;
//! 2. check the program that applies the sandbox ([`OsSandbox::check`]: which bwrap, and
//!    whether the sandbox could replace it; that sandbox-exec exists), and warn when the
//!    command could replace srt itself;
//! 3. note the time for the audit, install the signal forwarder ([`signals`]), note the
//!    open-file limit (the proxies raise srt's; the command gets the one srt started with);
//! 4. prepare `credentials` / `tlsTerminate` (srt is then non-dumpable) and start the proxies
//!    when the run needs them;
//! 5. [`OsSandbox::prepare`]: on Linux the state lock, the state directory protected, the plan,
//!    its refusals, the stubs; on macOS the profile. It returns the [`Launch`], which also
//!    carries the command's environment (`srt_compiler::env::sandbox_env`, the same
//!    assembly on both);
//! 6. start it ([`spawn`]; on Linux in the sandbox's own process group, with the terminal
//!    handed over), supervise it ([`OsSandbox::supervise`]), map its end to an exit status
//!    ([`status`]);
//! 7. clean up (stubs, proxies, the secrets' directory), then audit what the run left where
//!    the command could write ([`crate::audit`]).
//!
//! It fails closed: any step that cannot be done refuses the run with the cause and a fix,
//! and the command never starts outside the sandbox.

#[cfg(target_os = "linux")]
pub mod linux;
pub mod macos;
pub mod options;
pub mod signals;
pub mod spawn;
pub mod status;

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;

use nix::unistd::Pid;
use srt_compiler::audit::AuditPlan;
use srt_compiler::backend::linux::SecretsOptions;
use srt_compiler::Ir;

use crate::proxy::{Listen, PinnedResolver, ProxyOptions, ProxyServer, ViolationOptions};
pub use options::linux_options;
use signals::Forwarder;
pub use spawn::Launch;

/// What to run and how, on any OS.
pub struct RunRequest {
    pub ir: Arc<Ir>,
    /// The command, already composed (`bash -c STRING`, or the argv as given).
    pub command: Vec<OsString>,
    /// The `srt` binary: bound into the Linux sandbox as its init; ssh's ProxyCommand on both.
    pub srt_binary: PathBuf,
    /// Where run records live (stub cleanup after a crash).
    pub state_dir: PathBuf,
    /// Violation reporting (stderr lines, JSON lines file, `ignoreViolations`).
    pub violations: ViolationOptions,
    /// Print the plan (or profile) before running.
    pub debug: bool,
    /// Names the proxies resolve to fixed addresses (`--resolve NAME=IP`).
    pub resolve: Vec<(String, IpAddr)>,
    /// Report the filesystem accesses the sandbox refuses, and where (`None`:
    /// `--fs-violations off`). Linux: the init's observer; macOS: Seatbelt's log.
    pub fs_violations: Option<crate::fsviolations::ReportOptions>,
    /// `--control-fd`: network lists that change while the command runs ([`crate::control`]).
    pub control: Option<crate::control::Control>,
    /// Start the proxies even when no host is allowed, so refused destinations are reported
    /// (`--report-network`, implied by `--violations`; macOS always starts them).
    pub report_network: bool,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    #[error("cannot sandbox: {cause}")]
    #[diagnostic(code(srt::run::preflight), help("{fix}"))]
    Preflight { cause: String, fix: String },
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    #[diagnostic(transparent)]
    Stubs(#[from] crate::stubs::StubError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
    #[error("cannot pass the seccomp program to the sandbox: {0}")]
    #[diagnostic(code(srt::run::seccomp))]
    Seccomp(std::io::Error),
    #[error("cannot start {program}: {source}")]
    #[diagnostic(code(srt::run::spawn))]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot sandbox: {cause}")]
    #[diagnostic(code(srt::run::sandbox_setup), help("{fix}"))]
    Setup { cause: String, fix: String },
    #[error("srt refuses to run: {cause}")]
    #[diagnostic(code(srt::run::refused), help("{fix}"))]
    Refused { cause: String, fix: String },
    /// Something the plan mounts on was removed after srt planned the mounts, before bwrap
    /// had made them: the command did not run. [`run`] plans afresh and tries again.
    #[error("cannot sandbox: {} disappeared while bubblewrap set the sandbox up (another program removed it after srt planned the mounts); the command did not run", .0.display())]
    #[diagnostic(
        code(srt::run::sandbox_setup),
        help("srt planned the mounts afresh {SETUP_ATTEMPTS} times and it happened each time: look for another sandbox run (with another XDG_STATE_HOME, or another user) that creates and removes mount points there, or run again")
    )]
    MountPointGone(PathBuf),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Secrets(#[from] crate::secrets::run::PrepareError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Profile(#[from] srt_compiler::backend::macos::EmitError),
    #[error("cannot install the signal handlers: {0}")]
    #[diagnostic(code(srt::run::signals))]
    Signals(std::io::Error),
    #[error("waiting for the sandboxed command failed: {0}")]
    #[diagnostic(code(srt::run::wait))]
    Wait(std::io::Error),
    #[error("{} is missing or not a file; srt needs it to sandbox the command and runs nothing without it", .0.display())]
    #[diagnostic(
        code(srt::run::macos::no_sandbox_exec),
        help("sandbox-exec is part of macOS; check that /usr/bin is intact")
    )]
    NoSandboxExec(PathBuf),
    #[error("argument {index} of the command is not valid UTF-8, which the sandbox's shell command needs")]
    #[diagnostic(
        code(srt::run::macos::not_utf8),
        help("rename the file or pass the argument another way")
    )]
    NotUtf8 { index: usize },
    #[error("srt run is not available on this OS")]
    #[diagnostic(
        code(srt::run::unsupported_os),
        help("srt enforces policies on Linux (bubblewrap) and macOS (sandbox-exec); `srt compile` and `srt lint` work everywhere")
    )]
    UnsupportedOs,
}

/// How many times srt sets the sandbox up when what it mounts on keeps disappearing meanwhile.
pub const SETUP_ATTEMPTS: usize = 3;

impl RunError {
    /// The command did not run because something the plan relied on was removed meanwhile
    /// (another sandbox's stub under a shared write root): planning afresh can succeed.
    fn is_setup_race(&self) -> bool {
        match self {
            RunError::MountPointGone(_) => true,
            #[cfg(target_os = "linux")]
            RunError::Stubs(crate::stubs::StubError::Create { source, .. }) => {
                source.kind() == std::io::ErrorKind::NotFound
            }
            _ => false,
        }
    }
}

/// What the OS part gets once the proxies run.
#[derive(Clone, Copy)]
pub struct Started<'a> {
    pub proxies: Option<&'a ProxyServer>,
    /// The run CA's bundle and the masked credentials, for the Linux plan.
    pub secrets: &'a SecretsOptions,
    /// The network lists may change while the command runs (`--control-fd`).
    pub live_network: bool,
}

/// What differs between the OSes: the program that applies the sandbox, and how it is started
/// and supervised. Everything else in a run is [`run`]'s.
pub trait OsSandbox {
    /// The program that applies the sandbox, checked before anything starts: refused when it
    /// is missing, or when the sandbox could replace it.
    fn check(&mut self, req: &RunRequest) -> Result<(), RunError>;
    /// Whether the command runs in srt's own process group (so a terminal's `SIGINT` and
    /// `SIGQUIT` reached it without srt's help).
    fn command_shares_our_group(&self) -> bool;
    /// How the proxies listen, or `None` when a run of `ir` needs none (`live_network`: the
    /// network lists may allow a host later, `--control-fd`).
    fn proxies(&self, ir: &Ir, live_network: bool) -> Option<Listen>;
    /// Whether `credentials` and `network.tlsTerminate` are enforced here.
    fn enforces_secrets(&self) -> bool;
    /// Everything between the running proxies and the start; returns what to start.
    fn prepare(&mut self, req: &RunRequest, started: Started<'_>) -> Result<Launch, RunError>;
    /// Supervises the started process until it ends, forwarding signals through `fwd`.
    fn supervise(&mut self, pid: Pid, fwd: &Forwarder) -> Result<ExitStatus, RunError>;
    /// What the end-of-run audit walks (after a run that ended).
    fn audit_plan(&mut self, ir: &Ir) -> AuditPlan;
    /// Cleans up what `prepare` made (host stubs); called whatever happened.
    fn finish(&mut self);
}

/// This OS's sandbox: bubblewrap on Linux (`bwrap_path`: the settings' `bwrapPath`),
/// `sandbox-exec` on macOS.
pub fn host_sandbox(bwrap_path: Option<PathBuf>) -> Result<Box<dyn OsSandbox>, RunError> {
    #[cfg(target_os = "linux")]
    {
        Ok(Box::new(linux::LinuxSandbox::new(bwrap_path)))
    }
    #[cfg(target_os = "macos")]
    {
        let _ = bwrap_path;
        Ok(Box::new(macos::MacosSandbox::new(
            macos::default_sandbox_exec().to_path_buf(),
        )))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = bwrap_path;
        Err(RunError::UnsupportedOs)
    }
}

/// Runs the command in the sandbox `os` applies; returns its exit status (128+N when signal N
/// ended it, 127 when it was not found, 126 when it could not be executed).
pub fn run(mut req: RunRequest, os: &mut dyn OsSandbox) -> Result<i32, RunError> {
    // Before srt opens anything of its own: only what srt passes on purpose may cross.
    crate::fds::close_inherited_on_exec().map_err(|e| RunError::Setup {
        cause: format!("cannot keep the descriptors srt inherited out of the sandbox: {e}"),
        fix: "srt needs close_range(2) (Linux 5.11) or a mounted /proc to mark them close-on-exec"
            .into(),
    })?;
    os.check(&req)?;
    // srt does not execute itself on the host, but whoever runs `srt` next does: say so when
    // this run's command could replace it (a project-local install under a write root).
    if let Some(why) = crate::host_program::within_reach(&req.srt_binary, &req.ir) {
        eprintln!(
            "srt: warning: the command could replace this srt ({}): {why}; the next `srt` run would then be its program, outside any sandbox. Install srt where no write root reaches (~/.local/bin, /usr/local/bin).",
            req.srt_binary.display()
        );
    }
    // Before anything the command could write: the audit reports what changed after this.
    let since = crate::audit::Since::now();
    let forwarder = Forwarder::install(os.command_shares_our_group()).map_err(RunError::Signals)?;
    // The proxies raise srt's open-file limit for their connections; the command gets the
    // limit srt was started with.
    let nofile = open_file_limit();
    // With a control channel the lists may allow a host later: the proxies decide with a
    // policy the channel replaces, and run from the start.
    let control = req.control.take();
    let live = control
        .as_ref()
        .map(|_| Arc::new(crate::proxy::LivePolicy::new(req.ir.clone())));
    let listen = os.proxies(&req.ir, control.is_some());
    let secrets_parent = crate::proxy::socket_parent_for(&req.ir);
    let secrets = prepare_secrets(&req, os, &secrets_parent, listen.is_some())?;
    let proxies = match listen {
        None => None,
        Some(listen) => {
            let opts = ProxyOptions {
                listen,
                violations: req.violations.clone(),
                resolver: Arc::new(PinnedResolver::new(&req.resolve)),
                // Where the command can rename no directory above the sockets.
                socket_parent: Some(secrets_parent.clone()),
                tls: secrets.tls.clone(),
                registry: secrets.registry.clone(),
                policy: live.clone(),
                ..ProxyOptions::default()
            };
            Some(ProxyServer::start(req.ir.clone(), opts)?)
        }
    };
    let started = Started {
        proxies: proxies.as_ref(),
        secrets: &secrets.options,
        live_network: control.is_some(),
    };
    // A channel that dies before its first line stops the command as srt's own SIGTERM would
    // (before it starts, it never does).
    let control_failed = control.zip(live).map(|(c, live)| {
        c.start(
            live,
            Box::new(|| signals::stop_target(std::time::Duration::from_secs(3))),
        )
    });
    let mut result = start_and_wait(&req, os, started, &forwarder, nofile);
    // Nothing ran: the stubs go, and the plan is made again from what is there now.
    for _ in 1..SETUP_ATTEMPTS {
        match &result {
            Err(e) if e.is_setup_race() => {
                eprintln!("srt: note: {e}; planning the sandbox again");
                os.finish();
                result = start_and_wait(&req, os, started, &forwarder, nofile);
            }
            _ => break,
        }
    }
    // srt stopped the command over a dead control channel: its status is not the run's.
    let result = match result {
        Ok(_) if control_failed.as_ref().is_some_and(|f| f.failed()) => Ok(1),
        other => other,
    };
    os.finish();
    if let Some(p) = proxies {
        p.shutdown();
    }
    drop(secrets);
    drop(forwarder);
    // After the stubs are gone and the proxies quiet: the block follows the command's output.
    if result.is_ok() {
        let index = crate::audit::IndexOptions::in_state_dir(&req.state_dir);
        crate::audit::audit_indexed(&os.audit_plan(&req.ir), since, &req.ir.home, index.as_ref())
            .emit(req.violations.jsonl.as_deref(), req.debug);
    }
    result
}

fn start_and_wait(
    req: &RunRequest,
    os: &mut dyn OsSandbox,
    started: Started<'_>,
    forwarder: &Forwarder,
    nofile: Option<spawn::NofileLimit>,
) -> Result<i32, RunError> {
    let launch = os.prepare(req, started)?;
    // A signal that came while srt prepared the run: the command never starts.
    if let Some(sig) = forwarder.pending() {
        return Ok(status::SIGNALLED + sig);
    }
    let restore = nofile.filter(|l| open_file_limit() != Some(*l));
    let pid = spawn::spawn(&launch, restore).map_err(|source| RunError::Spawn {
        program: launch.program.display().to_string(),
        source,
    })?;
    let status = os.supervise(pid, forwarder)?;
    Ok(status::exit_code(status))
}

fn open_file_limit() -> Option<spawn::NofileLimit> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok()
}

/// Credentials and TLS termination: the run CA and the masks. The secrets live in this
/// process's memory only, so it must not be dumpable (no core file, no ptrace by this user's
/// other processes).
fn prepare_secrets(
    req: &RunRequest,
    os: &dyn OsSandbox,
    parent: &std::path::Path,
    proxied: bool,
) -> Result<crate::secrets::run::Prepared, RunError> {
    if crate::secrets::run::needed(&req.ir) {
        if !os.enforces_secrets() {
            return Err(RunError::Refused {
                cause: "`credentials` and `network.tlsTerminate` are not enforced on this OS"
                    .into(),
                fix: "remove them from the settings, or run on Linux".into(),
            });
        }
        not_dumpable()?;
    }
    let secrets = crate::secrets::run::prepare(&req.ir, parent, proxied, &|name| {
        std::env::var_os(name)
            .map(|v| std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec())
    })?;
    for w in &secrets.warnings {
        eprintln!("srt: warning: {w}");
    }
    Ok(secrets)
}

#[cfg(target_os = "linux")]
fn not_dumpable() -> Result<(), RunError> {
    nix::sys::prctl::set_dumpable(false).map_err(|e| RunError::Setup {
        cause: format!("cannot make srt non-dumpable while it holds the run's secrets: {e}"),
        fix: "srt needs prctl(PR_SET_DUMPABLE)".into(),
    })
}

/// No `PR_SET_DUMPABLE` here: no core file at least (the soft limit only, so the command
/// can raise its own).
#[cfg(not(target_os = "linux"))]
fn not_dumpable() -> Result<(), RunError> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let refused = |e: nix::Error| RunError::Setup {
        cause: format!("cannot turn off core files while srt holds the run's secrets: {e}"),
        fix: "srt needs setrlimit(RLIMIT_CORE)".into(),
    };
    let (_, hard) = getrlimit(Resource::RLIMIT_CORE).map_err(refused)?;
    setrlimit(Resource::RLIMIT_CORE, 0, hard).map_err(refused)?;
    Ok(())
}
