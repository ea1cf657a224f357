//! Starting bubblewrap from srt, and waiting for it.
//!
//! srt blocks the signals it forwards (a thread waits for them), ignores `SIGPIPE` as every
//! Rust program does, and on a terminal ignores `SIGTTOU`; the sandbox must get none of that.
//! `std::process::Command` would reset `SIGPIPE` but not the mask, and a `pre_exec` hook that
//! resets it makes std fork, copying srt's page tables. So bwrap is started with
//! `posix_spawn` (a vfork), the mask it should have and those signals at their defaults, as
//! the leader of a new process group (see [`crate::terminal`]); only when the command must get
//! back an open-file limit the proxies raised does srt fork and do the same by hand.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus};

use nix::spawn::{posix_spawn, PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags};
use nix::sys::signal::{SigSet, Signal};

/// Signals srt may ignore that the child gets at their default.
const RESET: [Signal; 4] = [
    Signal::SIGPIPE,
    Signal::SIGTTOU,
    Signal::SIGTTIN,
    Signal::SIGTSTP,
];

/// Starts `program args…` with `env` added to srt's environment and the variables in `unset`
/// removed from it, as the leader of a new process group, with exactly `blocked` blocked;
/// returns its pid (and group). Inherited descriptors (those without `O_CLOEXEC`) stay open in
/// the child.
pub fn spawn(
    program: &Path,
    args: &[OsString],
    env: &[(String, String)],
    unset: &[String],
    nofile: Option<libc::rlimit>,
    blocked: &[libc::c_int],
) -> io::Result<libc::pid_t> {
    match nofile {
        Some(limit) => spawn_with_limit(program, args, env, unset, limit, blocked),
        None => spawn_posix(program, args, env, unset, blocked),
    }
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "an argument or variable holds a NUL byte",
        )
    })
}

fn spawn_posix(
    program: &Path,
    args: &[OsString],
    env: &[(String, String)],
    unset: &[String],
    blocked: &[libc::c_int],
) -> io::Result<libc::pid_t> {
    let mut argv = vec![c_string(program.as_os_str().as_bytes())?];
    for a in args {
        argv.push(c_string(a.as_bytes())?);
    }
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        let replaced = env.iter().any(|(name, _)| k.as_bytes() == name.as_bytes());
        let withheld = unset.iter().any(|name| k.as_bytes() == name.as_bytes());
        if !replaced && !withheld {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            envp.push(c_string(&kv)?);
        }
    }
    for (k, v) in env {
        envp.push(c_string(format!("{k}={v}").as_bytes())?);
    }
    let mut attr = PosixSpawnAttr::init()?;
    let mut mask = SigSet::empty();
    for &sig in blocked {
        mask.add(Signal::try_from(sig).map_err(io::Error::from)?);
    }
    attr.set_sigmask(&mask)?;
    let mut defaults = SigSet::empty();
    for sig in RESET {
        defaults.add(sig);
    }
    attr.set_sigdefault(&defaults)?;
    // Pid 0: the child's own pid becomes its group.
    attr.set_pgroup(nix::unistd::Pid::from_raw(0))?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF
            | PosixSpawnFlags::POSIX_SPAWN_SETPGROUP,
    )?;
    let actions = PosixSpawnFileActions::init()?;
    let pid = posix_spawn(program, &actions, &attr, &argv, &envp)?;
    Ok(pid.as_raw())
}

fn spawn_with_limit(
    program: &Path,
    args: &[OsString],
    env: &[(String, String)],
    unset: &[String],
    limit: libc::rlimit,
    blocked: &[libc::c_int],
) -> io::Result<libc::pid_t> {
    let mut cmd = Command::new(program);
    for name in unset {
        cmd.env_remove(name);
    }
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .process_group(0);
    // SAFETY: sigemptyset/sigaddset only write the set.
    let mask = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &sig in blocked {
            libc::sigaddset(&mut set, sig);
        }
        set
    };
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
            for sig in RESET {
                libc::signal(sig as libc::c_int, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    // The child is reaped by `wait` below, by pid; `Child` neither waits nor kills on drop.
    let child = cmd.spawn()?;
    libc::pid_t::try_from(child.id()).map_err(|_| io::Error::other("pid out of range"))
}

/// Waits for `pid` to exit (retrying on `EINTR`).
pub fn wait(pid: libc::pid_t) -> io::Result<ExitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
