//! The sandbox's process group, and the terminal.
//!
//! bwrap starts in a new process group, so that `kill(0, …)` in the sandbox reaches none of
//! the caller's processes (the other members of a pipeline, an agent that started srt without
//! a group of its own). A terminal sends its signals (Ctrl-C, Ctrl-Z) to its foreground group,
//! and stops a background group that reads it, so on a terminal srt hands its foreground to
//! the sandbox's group, and back:
//!
//! - bwrap is in that group too and would die of the terminal's SIGINT, SIGQUIT or SIGHUP,
//!   taking the sandbox with it before the command could handle them: it starts with them
//!   blocked, and srt's init (which always runs on a terminal) unblocks them for the command;
//! - when the sandbox stops (Ctrl-Z; a read in the background), srt stops its own job with the
//!   same signal, so the shell sees the job stop; when continued (`fg`), srt gives the terminal
//!   back to the sandbox if its own group holds it, and continues the sandbox. srt's init
//!   relays a stop of the command alone (`less` stops only itself) to the whole group, so that
//!   bwrap stops with it and srt sees it;
//! - at the end, srt takes the terminal back for its own group.

use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The signals a terminal sends that would end bwrap: blocked in bwrap on a terminal.
pub const BLOCKED_IN_BWRAP: [libc::c_int; 3] = [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP];

/// A terminal srt shares with the command: its stdin or stdout, when that is srt's
/// controlling terminal. stderr alone does not count: a caller that passes on only its stderr
/// (an agent or a test harness logging to its terminal) has not given srt the terminal, and
/// taking its foreground would stop the caller when it reads the terminal itself.
#[derive(Clone, Copy, Debug)]
pub struct Terminal {
    fd: RawFd,
}

impl Terminal {
    /// stdin, else stdout, when it is this process's controlling terminal.
    pub fn of_standard_streams() -> Option<Terminal> {
        // SAFETY: isatty and tcgetpgrp only query the descriptor; tcgetpgrp fails (ENOTTY)
        // on a terminal that is not the caller's controlling terminal.
        (0..=1)
            .find(|&fd| unsafe { libc::isatty(fd) == 1 && libc::tcgetpgrp(fd) >= 0 })
            .map(|fd| Terminal { fd })
    }

    /// The terminal's foreground process group (as numbered in this PID namespace).
    pub fn foreground(&self) -> libc::pid_t {
        // SAFETY: queries the descriptor.
        unsafe { libc::tcgetpgrp(self.fd) }
    }

    /// Whether srt's own process group holds the terminal.
    pub fn is_ours(&self) -> bool {
        // SAFETY: getpgrp cannot fail.
        self.foreground() == unsafe { libc::getpgrp() }
    }

    /// Makes `group` the terminal's foreground group ([`ignore_terminal_output_stops`] first).
    pub fn give_to(&self, group: libc::pid_t) -> io::Result<()> {
        // SAFETY: tcsetpgrp on our controlling terminal; SIGTTOU is ignored.
        if unsafe { libc::tcsetpgrp(self.fd, group) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// srt is not in the terminal's foreground group while the sandbox runs: with `stty tostop`
/// its own lines on stderr would stop it, and taking the terminal back from the background
/// sends it SIGTTOU. Ignored for the rest of the run (bwrap gets the default back).
pub fn ignore_terminal_output_stops() {
    // SAFETY: setting a disposition to SIG_IGN.
    unsafe {
        libc::signal(libc::SIGTTOU, libc::SIG_IGN);
    }
}

/// Whether process group `group` was made in the sandbox: its leader runs in another PID
/// namespace than srt (bwrap, the sandbox's own group leader, runs in srt's).
fn made_in_sandbox(group: libc::pid_t) -> bool {
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid"));
    group > 0 && matches!((ns("self"), ns(&group.to_string())), (Ok(a), Ok(b)) if a != b)
}

/// The sandbox's process group on srt's terminal, from bwrap's start to its end.
pub struct Handover {
    terminal: Terminal,
    /// The sandbox's group: bwrap's pid (it leads the group it was started in).
    group: libc::pid_t,
}

impl Handover {
    /// Gives the terminal to the sandbox's group if srt's group holds it. bwrap does not read
    /// the terminal and the command starts well after this, so nothing in the sandbox can
    /// touch the terminal from the background first.
    pub fn start(terminal: Terminal, group: libc::pid_t) -> Handover {
        if terminal.is_ours() {
            let _ = terminal.give_to(group);
        }
        Handover { terminal, group }
    }

    /// Waits for bwrap to exit, mirroring its stops on srt's job (see the module docs).
    pub fn wait(&self) -> io::Result<ExitStatus> {
        loop {
            let mut status = 0;
            // SAFETY: status is a valid out-pointer.
            let pid = unsafe { libc::waitpid(self.group, &mut status, libc::WUNTRACED) };
            if pid != self.group {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            if !libc::WIFSTOPPED(status) {
                return Ok(ExitStatus::from_raw(status));
            }
            self.stop_job_and_resume(libc::WSTOPSIG(status));
        }
    }

    fn stop_job_and_resume(&self, signal: libc::c_int) {
        let holder = self.terminal.foreground();
        // Stopped for touching the terminal while srt's group or the sandbox's holds it: the
        // sandbox got there before srt handed the terminal over (or after `fg`, before srt
        // passed it on). The job is in the foreground: hand it over and go on.
        let tty_stop = signal == libc::SIGTTIN || signal == libc::SIGTTOU;
        if tty_stop && (self.terminal.is_ours() || holder == self.group) {
            let _ = self.terminal.give_to(self.group);
            // SAFETY: continues the sandbox's group.
            unsafe {
                libc::kill(-self.group, libc::SIGCONT);
            }
            return;
        }
        // The group that had the terminal gets it back if the command made it (a shell with
        // job control); otherwise the sandbox's group does (it may have stopped in the
        // background, while the caller's shell held the terminal).
        let back_to = if made_in_sandbox(holder) {
            holder
        } else {
            self.group
        };
        // SIGSTOP cannot be caught, and a job-control shell expects SIGTSTP; a stop signal to
        // a group no shell can continue (orphaned) is discarded by the kernel, and srt goes on.
        let signal = if signal == libc::SIGSTOP {
            libc::SIGTSTP
        } else {
            signal
        };
        // SAFETY: signals srt's own process group; srt stops here until continued.
        unsafe {
            libc::kill(0, signal);
        }
        if self.terminal.is_ours() && self.terminal.give_to(back_to).is_err() {
            let _ = self.terminal.give_to(self.group);
        }
        // SAFETY: continues the sandbox's group (bwrap and everything in the sandbox).
        unsafe {
            libc::kill(-self.group, libc::SIGCONT);
        }
    }

    /// Takes the terminal back for srt's group, if the sandbox's group holds it or the group
    /// holding it is gone (one the command made).
    pub fn finish(self) {
        let holder = self.terminal.foreground();
        // SAFETY: getpgrp cannot fail; kill with signal 0 only checks the group exists.
        let (ours, gone) = unsafe {
            (
                libc::getpgrp(),
                holder > 0
                    && libc::kill(-holder, 0) != 0
                    && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH),
            )
        };
        if holder != ours && (holder == self.group || gone) {
            let _ = self.terminal.give_to(ours);
        }
    }
}
