//! Starting the program that applies the sandbox (bwrap, sandbox-exec), and waiting for it.
//!
//! srt has signal handlers installed ([`super::signals`]), ignores `SIGPIPE` as every Rust
//! program does, and on a terminal ignores `SIGTTOU`; the sandbox must get none of that.
//! `std::process::Command` would reset `SIGPIPE` but not the mask, and a `pre_exec` hook that
//! resets it makes std fork, copying srt's page tables. So the program is started with
//! `posix_spawn` (a vfork), the mask it should have and those signals at their defaults,
//! as the leader of a new process group when asked (see [`crate::terminal`]); only when the
//! command must get back an open-file limit the proxies raised does srt fork and do the same
//! by hand.
//!
//! With `SRT_DUMP_LAUNCH=FILE` in its environment, srt writes the program, its arguments and
//! its whole environment, exactly as passed to the kernel, to FILE (a new file, mode 0600)
//! before starting it: the test that `srt compile` prints what `srt run` executes reads it.

use std::ffi::{CString, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use nix::spawn::{posix_spawn, PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags};
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::signal::{pthread_sigmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// Names the file `srt run` writes what it executes to (see the module docs).
pub const DUMP_LAUNCH_VAR: &str = "SRT_DUMP_LAUNCH";

/// Signals srt may ignore that the child gets at their default.
const RESET: [Signal; 4] = [
    Signal::SIGPIPE,
    Signal::SIGTTOU,
    Signal::SIGTTIN,
    Signal::SIGTSTP,
];

/// The open-file limit as `getrlimit` gives it: (soft, hard).
pub type NofileLimit = (libc::rlim_t, libc::rlim_t);

/// What srt starts: the program that applies the sandbox, with the command inside its
/// arguments.
#[derive(Clone, Debug)]
pub struct Launch {
    pub program: PathBuf,
    /// The arguments after the program.
    pub args: Vec<OsString>,
    /// Set on top of srt's own environment, in order.
    pub env: Vec<(String, String)>,
    /// Removed from srt's environment (denied credentials).
    pub env_unset: Vec<String>,
    /// Start it as the leader of a new process group (the sandbox's own; Linux).
    pub new_process_group: bool,
    /// Exactly these signals blocked in it (none otherwise).
    pub blocked: Vec<Signal>,
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "an argument or variable holds a NUL byte",
        )
    })
}

/// `program args…` and srt's environment with `env` set and `env_unset` removed.
fn argv_and_envp(launch: &Launch) -> io::Result<(Vec<CString>, Vec<CString>)> {
    let mut argv = vec![c_string(launch.program.as_os_str().as_bytes())?];
    for a in &launch.args {
        argv.push(c_string(a.as_bytes())?);
    }
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        let is = |name: &str| k.as_bytes() == name.as_bytes();
        let replaced = launch.env.iter().any(|(n, _)| is(n));
        let withheld = launch.env_unset.iter().any(|n| is(n));
        if !replaced && !withheld {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            envp.push(c_string(&kv)?);
        }
    }
    for (k, v) in &launch.env {
        envp.push(c_string(format!("{k}={v}").as_bytes())?);
    }
    Ok((argv, envp))
}

/// Writes what is about to be executed to `$SRT_DUMP_LAUNCH`, when set.
fn dump(argv: &[CString], envp: &[CString]) -> io::Result<()> {
    let Some(file) = std::env::var_os(DUMP_LAUNCH_VAR).filter(|f| !f.is_empty()) else {
        return Ok(());
    };
    use std::os::unix::fs::OpenOptionsExt;
    let text = |c: &CString| c.to_string_lossy().into_owned();
    let doc = serde_json::json!({
        "program": argv.first().map(text),
        "args": argv.iter().skip(1).map(text).collect::<Vec<_>>(),
        "envp": envp.iter().map(text).collect::<Vec<_>>(),
    });
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
        .and_then(|mut f| f.write_all(format!("{doc:#}\n").as_bytes()))
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{DUMP_LAUNCH_VAR}={}: {e}", Path::new(&file).display()),
            )
        })
}

/// Starts `launch`; returns its pid. Inherited descriptors (those without `O_CLOEXEC`) stay
/// open in the child. `nofile`: the open-file limit to give it back, when srt's differs now.
pub fn spawn(launch: &Launch, nofile: Option<NofileLimit>) -> io::Result<Pid> {
    let (argv, envp) = argv_and_envp(launch)?;
    dump(&argv, &envp)?;
    let mask: SigSet = launch.blocked.iter().copied().collect();
    match nofile {
        Some(limit) => spawn_with_limit(launch, envp, limit, mask),
        None => spawn_posix(launch, &argv, &envp, &mask),
    }
}

fn spawn_posix(
    launch: &Launch,
    argv: &[CString],
    envp: &[CString],
    mask: &SigSet,
) -> io::Result<Pid> {
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_sigmask(mask)?;
    let defaults: SigSet = RESET.into_iter().collect();
    attr.set_sigdefault(&defaults)?;
    let mut flags =
        PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF;
    if launch.new_process_group {
        // Pid 0: the child's own pid becomes its group.
        attr.set_pgroup(Pid::from_raw(0))?;
        flags |= PosixSpawnFlags::POSIX_SPAWN_SETPGROUP;
    }
    attr.set_flags(flags)?;
    let actions = PosixSpawnFileActions::init()?;
    Ok(posix_spawn(
        launch.program.as_path(),
        &actions,
        &attr,
        argv,
        envp,
    )?)
}

fn spawn_with_limit(
    launch: &Launch,
    envp: Vec<CString>,
    limit: NofileLimit,
    mask: SigSet,
) -> io::Result<Pid> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args).env_clear();
    for kv in &envp {
        let bytes = kv.as_bytes();
        let at = bytes.iter().position(|&b| b == b'=').unwrap_or(bytes.len());
        let (k, v) = bytes.split_at(at);
        cmd.env(
            std::ffi::OsStr::from_bytes(k),
            std::ffi::OsStr::from_bytes(v.get(1..).unwrap_or_default()),
        );
    }
    if launch.new_process_group {
        cmd.process_group(0);
    }
    // SAFETY: only async-signal-safe calls (setrlimit, sigprocmask, signal) between fork and
    // exec, on data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            setrlimit(Resource::RLIMIT_NOFILE, limit.0, limit.1)?;
            pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None)?;
            for sig in RESET {
                nix::sys::signal::signal(sig, SigHandler::SigDfl)?;
            }
            Ok(())
        });
    }
    // The child is reaped by `wait` below, by pid; `Child` neither waits nor kills on drop.
    let child = cmd.spawn()?;
    let pid =
        libc::pid_t::try_from(child.id()).map_err(|_| io::Error::other("pid out of range"))?;
    Ok(Pid::from_raw(pid))
}

/// Waits for `pid` to exit (retrying on `EINTR`).
pub fn wait(pid: Pid) -> io::Result<ExitStatus> {
    use nix::sys::wait::WaitStatus;
    loop {
        match waitpid(pid, None) {
            // The `wait` status word, as std's ExitStatus holds it.
            Ok(WaitStatus::Exited(_, code)) => return Ok(ExitStatus::from_raw((code & 0xff) << 8)),
            Ok(WaitStatus::Signaled(_, sig, core)) => {
                return Ok(ExitStatus::from_raw(
                    sig as i32 | if core { 0x80 } else { 0 },
                ))
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}
