//! The init's process supervision: start the command under the seccomp filter, forward
//! signals to it, reap every child (the init is PID 1 of the sandbox), and turn the command's
//! end into an exit status.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The signals the init forwards to the command.
const FORWARDED: [libc::c_int; 8] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

/// Signals a terminal sends to its whole foreground process group. The command is in that
/// group too and already got them, so only a copy sent by a process (`kill`, or srt on the
/// host forwarding its own) is passed on.
const FROM_TERMINAL: [libc::c_int; 4] =
    [libc::SIGINT, libc::SIGQUIT, libc::SIGWINCH, libc::SIGCONT];

#[derive(Debug, thiserror::Error)]
pub enum SuperviseError {
    #[error("the command is empty")]
    EmptyCommand,
    #[error("cannot block signals in the init: {0}")]
    Signals(io::Error),
    #[error("cannot start {program}: {source}")]
    Spawn { program: String, source: io::Error },
}

/// A seccomp program ready to install: `struct sock_filter` instructions.
pub struct Filter(pub Vec<libc::sock_filter>);

fn signal_set(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset only write the set they are given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the forwarded signals and SIGCHLD in the calling thread; threads started afterwards
/// inherit the mask, so only `wait_loop`'s `sigwaitinfo` ever sees them. Call it first.
pub fn block_signals() -> Result<(), SuperviseError> {
    let mut all: Vec<libc::c_int> = FORWARDED.to_vec();
    all.push(libc::SIGCHLD);
    all.push(libc::SIGTSTP);
    all.push(libc::SIGTTIN);
    all.push(libc::SIGTTOU);
    let set = signal_set(&all);
    // SAFETY: the set is a valid sigset_t; a null old-set pointer is allowed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(SuperviseError::Signals(io::Error::from_raw_os_error(rc)));
    }
    Ok(())
}

/// The filter's `sock_fprog`, made before the fork so the child only makes system calls.
struct Prog {
    prog: libc::sock_fprog,
}
// SAFETY: the program points into a Vec that outlives the spawn; the child only reads it.
unsafe impl Send for Prog {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for Prog {}

/// Starts `argv` with the signal mask cleared, `PR_SET_NO_NEW_PRIVS` set and the filter
/// installed, then the filesystem observer, between fork and exec (nothing there allocates).
pub fn spawn(
    argv: &[OsString],
    filter: Option<&Filter>,
    observer: Option<crate::fsviolations::supervisor::ChildSide>,
) -> Result<u32, SuperviseError> {
    let (program, args) = argv.split_first().ok_or(SuperviseError::EmptyCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    let prog = filter.map(|f| Prog {
        prog: libc::sock_fprog {
            len: f.0.len() as libc::c_ushort,
            filter: f.0.as_ptr() as *mut libc::sock_filter,
        },
    });
    // SAFETY: the closure runs in the forked child and only makes async-signal-safe system
    // calls on data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let empty = {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                set
            };
            if libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(p) = &prog {
                let rc = libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &p.prog as *const libc::sock_fprog,
                );
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // After the policy filter, so a call it refuses never reaches the observer.
            if let Some(o) = &observer {
                crate::fsviolations::supervisor::install_in_child(o);
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| SuperviseError::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
    })?;
    Ok(child.id())
}

/// Waits for the command, forwarding signals and reaping orphans, and returns its exit status
/// as a shell reports it (128+N for death by signal N). With `relay_stops` (on a terminal), a
/// stop of the command is sent on to the sandbox's whole process group, bwrap included, so
/// that srt on the host sees the sandbox stop and stops its own job (see
/// [`crate::terminal`]); once per stop, until the command is continued.
pub fn wait_loop(child: u32, relay_stops: bool) -> i32 {
    let child = child as libc::pid_t;
    let mut waited: Vec<libc::c_int> = FORWARDED.to_vec();
    waited.push(libc::SIGCHLD);
    let set = signal_set(&waited);
    let mut stops = relay_stops.then_some(StopRelay { relayed: false });
    loop {
        if let Some(status) = reap(child, stops.as_mut()) {
            return status;
        }
        // SAFETY: info is a plain struct the kernel fills.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: the set is valid and blocked in this thread.
        let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
        if sig < 0 || sig == libc::SIGCHLD {
            continue;
        }
        let from_terminal = info.si_code == libc::SI_KERNEL && FROM_TERMINAL.contains(&sig);
        if !from_terminal {
            // SAFETY: kill has no memory effects; a vanished child gives ESRCH, which is fine.
            unsafe {
                libc::kill(child, sig);
            }
        }
    }
}

/// Whether the command's current stop was relayed already.
struct StopRelay {
    relayed: bool,
}

impl StopRelay {
    fn saw(&mut self, status: libc::c_int) {
        if libc::WIFCONTINUED(status) {
            self.relayed = false;
        } else if libc::WIFSTOPPED(status) && !self.relayed {
            self.relayed = true;
            // SAFETY: signals the init's own process group, the sandbox's.
            unsafe {
                libc::kill(0, libc::WSTOPSIG(status));
            }
        }
    }
}

/// Reaps every exited child; returns the command's status once it has exited. With `stops`,
/// also sees the command stop and continue.
fn reap(child: libc::pid_t, mut stops: Option<&mut StopRelay>) -> Option<i32> {
    let flags = match stops {
        Some(_) => libc::WNOHANG | libc::WUNTRACED | libc::WCONTINUED,
        None => libc::WNOHANG,
    };
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
        if pid <= 0 {
            return None;
        }
        if libc::WIFSTOPPED(status) || libc::WIFCONTINUED(status) {
            if let (true, Some(relay)) = (pid == child, stops.as_deref_mut()) {
                relay.saw(status);
            }
            continue;
        }
        if pid == child {
            return Some(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                1
            });
        }
    }
}
