//! Signals srt receives while the sandboxed command runs are passed on to it, so `kill srt`
//! (or a supervisor's SIGTERM) reaches the command and srt exits with the command's status.
//!
//! A handler (portable: macOS has no `sigwaitinfo`) sends each forwarded signal to the child
//! with `kill(2)`, which is async-signal-safe. A signal that arrives before the child exists is
//! kept, and the run stops before starting the command. `SIGINT`/`SIGQUIT` a terminal sends to
//! its foreground process group already reached the command (it is in that group), so only
//! copies sent by a process are forwarded.
//!
//! The handlers are process-wide, so one run at a time holds them ([`Forwarder::install`]
//! waits for the previous run to finish) and the previous dispositions come back afterwards.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;

/// The signals forwarded to the command.
pub const FORWARDED: [c_int; 6] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// Signals a terminal sends to its whole foreground process group.
const FROM_TERMINAL: [c_int; 2] = [libc::SIGINT, libc::SIGQUIT];

/// Linux's `SI_KERNEL`: the `si_code` of a signal the kernel generated (a terminal's ^C).
const LINUX_SI_KERNEL: c_int = 0x80;

/// The command's pid, 0 while there is none.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A signal that arrived while there was no child, 0 if none.
static PENDING: AtomicI32 = AtomicI32::new(0);
/// One run holds the handlers at a time.
static ONE_RUN: Mutex<()> = Mutex::new(());

/// Did the terminal, rather than a process, send this signal? Linux marks signals the kernel
/// generates `SI_KERNEL`; macOS leaves their sending pid 0, where `kill(2)` records the
/// sender's.
fn sent_by_terminal(code: c_int, sender: libc::pid_t) -> bool {
    if cfg!(target_os = "linux") {
        code == LINUX_SI_KERNEL
    } else {
        sender == 0
    }
}

extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    let child = CHILD.load(Ordering::SeqCst);
    if child <= 0 {
        PENDING.store(sig, Ordering::SeqCst);
        return;
    }
    if FROM_TERMINAL.contains(&sig) && !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let (code, sender) = unsafe { ((*info).si_code, (*info).si_pid()) };
        if sent_by_terminal(code, sender) {
            return;
        }
    }
    // SAFETY: kill(2) is async-signal-safe; a child that is gone gives ESRCH.
    unsafe {
        libc::kill(child, sig);
    }
}

/// The handlers, installed for the duration of one run.
pub struct Forwarder {
    previous: Vec<(c_int, libc::sigaction)>,
    _one_run: MutexGuard<'static, ()>,
}

impl Forwarder {
    /// Installs the handlers (waiting while another run in this process holds them).
    pub fn install() -> io::Result<Forwarder> {
        let one_run = ONE_RUN.lock().unwrap_or_else(|e| e.into_inner());
        CHILD.store(0, Ordering::SeqCst);
        PENDING.store(0, Ordering::SeqCst);
        let mut fwd = Forwarder {
            previous: Vec::with_capacity(FORWARDED.len()),
            _one_run: one_run,
        };
        for sig in FORWARDED {
            // SAFETY: a zeroed sigaction is valid; the fields set are the portable ones, and the
            // handler only touches atomics and calls kill(2).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &action, &mut old) != 0 {
                    return Err(io::Error::last_os_error()); // Drop restores the others
                }
                fwd.previous.push((sig, old));
            }
        }
        Ok(fwd)
    }

    /// A signal that arrived while no command was running, if any.
    pub fn pending(&self) -> Option<c_int> {
        match PENDING.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }

    /// From now on signals go to `pid`; one that arrived just before is sent now.
    pub fn forward_to(&self, pid: u32) {
        let Ok(pid) = i32::try_from(pid) else {
            return;
        };
        CHILD.store(pid, Ordering::SeqCst);
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if sig != 0 {
            // SAFETY: plain kill(2) to our own child.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    /// The command has been reaped: stop sending to its (reusable) pid.
    pub fn child_gone(&self) {
        CHILD.store(0, Ordering::SeqCst);
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        CHILD.store(0, Ordering::SeqCst);
        for (sig, old) in self.previous.drain(..).rev() {
            // SAFETY: restores the disposition sigaction returned for this signal.
            unsafe {
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_before_the_command_is_kept_and_handlers_are_restored() {
        let fwd = Forwarder::install().unwrap();
        assert_eq!(fwd.pending(), None);
        // SAFETY: raise(3) on a signal whose handler was just installed.
        unsafe {
            libc::raise(libc::SIGUSR2);
        }
        assert_eq!(fwd.pending(), Some(libc::SIGUSR2));
        drop(fwd);
        // SAFETY: reads the current disposition only.
        let restored = unsafe {
            let mut now: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGUSR2, std::ptr::null(), &mut now);
            now.sa_sigaction
        };
        assert_eq!(restored, libc::SIG_DFL);
    }

    #[test]
    fn terminal_signals_are_told_apart() {
        if cfg!(target_os = "linux") {
            assert!(sent_by_terminal(LINUX_SI_KERNEL, 0));
            assert!(!sent_by_terminal(0, 1234)); // SI_USER from kill(2)
            assert!(!sent_by_terminal(0, 0)); // kill(2) from outside our pid namespace
        } else {
            assert!(sent_by_terminal(0, 0));
            assert!(!sent_by_terminal(0x10001, 1234));
        }
    }
}
