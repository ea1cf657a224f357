//! Starting bubblewrap from srt, and waiting for it.
//!
//! srt blocks the signals it forwards (a thread waits for them), and ignores `SIGPIPE` as every
//! Rust program does; the sandbox must get neither. `std::process::Command` would reset
//! `SIGPIPE` but not the mask, and a `pre_exec` hook that resets it makes std fork, copying
//! srt's page tables. So bwrap is started with `posix_spawn` (a vfork), an empty mask and
//! `SIGPIPE` at its default; only when the command must get back an open-file limit the
//! proxies raised does srt fork and restore both by hand.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus};

use nix::spawn::{posix_spawn, PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags};
use nix::sys::signal::{SigSet, Signal};

/// Starts `program args…` with `env` added to srt's environment and the variables in `unset`
/// removed from it; returns its pid. Inherited descriptors (those without `O_CLOEXEC`) stay
/// open in the child.
pub fn spawn(
    program: &Path,
    args: &[OsString],
    env: &[(String, String)],
    unset: &[String],
    nofile: Option<libc::rlimit>,
) -> io::Result<libc::pid_t> {
    match nofile {
        Some(limit) => spawn_with_limit(program, args, env, unset, limit),
        None => spawn_posix(program, args, env, unset),
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
    attr.set_sigmask(&SigSet::empty())?;
    let mut defaults = SigSet::empty();
    defaults.add(Signal::SIGPIPE);
    attr.set_sigdefault(&defaults)?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
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
) -> io::Result<libc::pid_t> {
    let mut cmd = Command::new(program);
    for name in unset {
        cmd.env_remove(name);
    }
    cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
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
