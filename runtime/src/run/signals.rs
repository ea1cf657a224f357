//! Signals srt receives while the sandboxed command runs are passed on to it, on every OS, so
//! `kill srt` (or a supervisor's SIGTERM) reaches the command and srt exits with the command's
//! status.
//!
//! A handler (portable: macOS has no `sigwaitinfo`) sends each forwarded signal to the target
//! with `kill(2)`, which is async-signal-safe: the command's process on macOS, the sandbox's
//! PID 1 (srt's init, which passes it on) on Linux. A signal that arrives before there is a
//! target is kept: one before the command was started stops the run before it starts; one
//! while the sandbox is being set up is sent as soon as the target is known.
//!
//! Where the command shares srt's process group (macOS), a terminal's `SIGINT`/`SIGQUIT`
//! already reached it, so only copies sent by a process are forwarded. On Linux the sandbox
//! is never in srt's group: whatever srt gets, a terminal's Ctrl-C included (srt's group holds
//! the terminal when neither its stdin nor its stdout is it), the sandbox did not get.
//!
//! A signal ignored when srt started (`nohup srt …`, a background job of a script) stays
//! ignored, for srt and, through bwrap or sandbox-exec, for the command.
//!
//! The handlers are process-wide, so one run at a time holds them ([`Forwarder::install`]
//! waits for the previous run to finish) and the previous dispositions come back afterwards.
//! Handlers, unlike ignored or blocked signals, do not survive `exec`: the command starts with
//! every signal at its default.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;
use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;

/// The signals forwarded to the command.
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Signals a terminal sends to its whole foreground process group.
const FROM_TERMINAL: [c_int; 2] = [libc::SIGINT, libc::SIGQUIT];

/// Linux's `SI_KERNEL`: the `si_code` of a signal the kernel generated (a terminal's ^C).
const LINUX_SI_KERNEL: c_int = 0x80;

/// The pid signals go to, 0 while there is none.
static TARGET: AtomicI32 = AtomicI32::new(0);
/// A signal that arrived while there was no target, 0 if none.
static PENDING: AtomicI32 = AtomicI32::new(0);
/// Whether the command shares srt's process group (a terminal's copy is then not forwarded).
static SKIP_TERMINAL_COPIES: AtomicBool = AtomicBool::new(false);
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
    let target = TARGET.load(Ordering::SeqCst);
    if target <= 0 {
        PENDING.store(sig, Ordering::SeqCst);
        return;
    }
    if SKIP_TERMINAL_COPIES.load(Ordering::SeqCst)
        && FROM_TERMINAL.contains(&sig)
        && !info.is_null()
    {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let (code, sender) = unsafe { ((*info).si_code, (*info).si_pid()) };
        if sent_by_terminal(code, sender) {
            return;
        }
    }
    if let Ok(sig) = Signal::try_from(sig) {
        // kill(2) is async-signal-safe; a target that is gone gives ESRCH.
        let _ = kill(Pid::from_raw(target), sig);
    }
}

/// The handlers, installed for the duration of one run.
pub struct Forwarder {
    previous: Vec<(Signal, SigAction)>,
    _one_run: MutexGuard<'static, ()>,
}

impl Forwarder {
    /// Installs the handlers (waiting while another run in this process holds them).
    /// `command_shares_our_group`: the command is in srt's process group, so a terminal's
    /// `SIGINT`/`SIGQUIT` reached it without srt.
    pub fn install(command_shares_our_group: bool) -> io::Result<Forwarder> {
        let one_run = ONE_RUN.lock().unwrap_or_else(|e| e.into_inner());
        TARGET.store(0, Ordering::SeqCst);
        PENDING.store(0, Ordering::SeqCst);
        SKIP_TERMINAL_COPIES.store(command_shares_our_group, Ordering::SeqCst);
        let mut fwd = Forwarder {
            previous: Vec::with_capacity(FORWARDED.len()),
            _one_run: one_run,
        };
        let action = SigAction::new(
            SigHandler::SigAction(on_signal),
            SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        for sig in FORWARDED {
            // SAFETY: the handler only reads and writes atomics and calls kill(2), all
            // async-signal-safe.
            let old = unsafe { sigaction(sig, &action) }.map_err(io::Error::from)?; // Drop restores the others
            fwd.previous.push((sig, old));
            if old.handler() == SigHandler::SigIgn {
                // Ignored when srt started (`nohup`, a background job of a script): it stays
                // ignored, and the command inherits that, as it would without srt.
                // SAFETY: puts back the disposition sigaction just returned.
                unsafe { sigaction(sig, &old) }.map_err(io::Error::from)?;
            }
        }
        Ok(fwd)
    }

    /// A signal that arrived while there was no target, if any.
    pub fn pending(&self) -> Option<c_int> {
        match PENDING.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }

    /// From now on signals go to `pid`; one that arrived just before is sent now.
    pub fn forward_to(&self, pid: libc::pid_t) {
        if pid <= 0 {
            return;
        }
        TARGET.store(pid, Ordering::SeqCst);
        let sig = PENDING.swap(0, Ordering::SeqCst);
        if let Ok(sig) = Signal::try_from(sig) {
            let _ = kill(Pid::from_raw(pid), sig);
        }
    }

    /// The target has been reaped: stop sending to its (reusable) pid.
    pub fn target_gone(&self) {
        TARGET.store(0, Ordering::SeqCst);
    }
}

/// Stops the command as a `SIGTERM` sent to srt would: to the target now, or, before there is
/// one, kept so that the command never starts; then `SIGKILL` after `grace` if the same
/// target is still there (on Linux the init's death ends the whole sandbox).
pub fn stop_target(grace: std::time::Duration) {
    let target = TARGET.load(Ordering::SeqCst);
    if target <= 0 {
        PENDING.store(libc::SIGTERM, Ordering::SeqCst);
        return;
    }
    let _ = kill(Pid::from_raw(target), Signal::SIGTERM);
    let _ = std::thread::Builder::new()
        .name("srt-stop".into())
        .spawn(move || {
            std::thread::sleep(grace);
            if TARGET.load(Ordering::SeqCst) == target {
                let _ = kill(Pid::from_raw(target), Signal::SIGKILL);
            }
        });
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        TARGET.store(0, Ordering::SeqCst);
        for (sig, old) in self.previous.drain(..).rev() {
            // SAFETY: restores the disposition sigaction returned for this signal.
            let _ = unsafe { sigaction(sig, &old) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_before_the_command_is_kept_and_handlers_are_restored() {
        let fwd = Forwarder::install(false).unwrap();
        assert_eq!(fwd.pending(), None);
        nix::sys::signal::raise(Signal::SIGUSR2).unwrap();
        assert_eq!(fwd.pending(), Some(libc::SIGUSR2));
        drop(fwd);
        // SAFETY: sets SIG_DFL (what it already is) to read the previous disposition.
        let restored = unsafe { nix::sys::signal::signal(Signal::SIGUSR2, SigHandler::SigDfl) };
        assert_eq!(restored.unwrap(), SigHandler::SigDfl);
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
