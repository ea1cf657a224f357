//! `srt run --control-fd FD`: policy updates while the command runs, as the npm srt reads
//! them. The caller writes complete settings documents to an inherited descriptor, one JSON
//! object per line; each is validated with the same front end as the settings file (schema,
//! resolution, the lints that stop a run), and a valid one puts its network lists
//! (`allowedDomains`, `deniedDomains`, `deniedDomainReasons`, `deniedResolvedAddresses`) in
//! force for the next connection. Everything else stays as the run started: the mounts, the
//! seccomp program and the observer are made before the command starts.
//!
//! - The descriptor must be 3 or above and readable (a zero-length `read(2)` asks without
//!   consuming anything); otherwise srt refuses to run.
//! - An invalid line is reported and dropped; the previous policy stays. A blank line is
//!   ignored.
//! - A read error before any line arrived stops the command (srt exits 1): the caller meant to
//!   steer the run and cannot. After that, or at the end of the stream, the command goes on
//!   under the policy last applied.
//! - The command never gets the descriptor: srt marks it close-on-exec before anything else
//!   ([`crate::fds`]); srt itself keeps reading it. srt exits with the command.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use srt_compiler::diff::{Direction, Subject};
use srt_compiler::Ir;

use crate::proxy::LivePolicy;

/// The longest line read; a longer one is reported and skipped.
pub const MAX_LINE: usize = 1024 * 1024;
/// Hosts listed per direction in the "applied" line.
const LISTED: usize = 8;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ControlError {
    #[error("--control-fd {fd}: descriptors 0-2 are stdin, stdout and stderr")]
    #[diagnostic(
        code(srt::run::control_fd),
        help("give srt a descriptor of its own, 3 or above, open for reading (the read end of a pipe)")
    )]
    Standard { fd: i32 },
    #[error("--control-fd {fd} is not usable: {source}; refusing to run the command without the control channel it asks for")]
    #[diagnostic(
        code(srt::run::control_fd),
        help("open the descriptor for reading before starting srt (e.g. `srt --control-fd 3 … 3<fifo`)")
    )]
    Unusable { fd: i32, source: io::Error },
}

/// A line made into the policy it describes, or the reasons it is not one.
pub type Validate = Box<dyn Fn(&str, usize) -> Result<Ir, Vec<String>> + Send>;

/// The descriptor, checked.
pub struct ControlChannel {
    fd: i32,
    file: File,
}

impl ControlChannel {
    /// Takes `fd` for the run: 3 or above, and readable.
    pub fn open(fd: i32) -> Result<Self, ControlError> {
        if fd < 3 {
            return Err(ControlError::Standard { fd });
        }
        let mut probe = [0u8; 1];
        // SAFETY: a zero-length read into a valid buffer: the kernel checks the descriptor
        // is open for reading (EBADF otherwise) without consuming anything or blocking.
        if unsafe { libc::read(fd, probe.as_mut_ptr().cast(), 0) } < 0 {
            return Err(ControlError::Unusable {
                fd,
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: fcntl on the descriptor just checked; it must not reach the command.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        // SAFETY: the caller handed srt this descriptor for exactly this; srt owns it now.
        let file = unsafe { File::from_raw_fd(fd) };
        Ok(ControlChannel { fd, file })
    }

    pub fn fd(&self) -> i32 {
        self.fd
    }
}

/// The control channel and how its lines are validated.
pub struct Control {
    pub channel: ControlChannel,
    pub validate: Validate,
    /// Print the end of the stream and the lines dropped, as the npm srt's debug log does.
    pub debug: bool,
}

/// Whether the channel died before it delivered anything (the run's status is then 1).
#[derive(Clone, Default)]
pub struct ControlFailed(Arc<AtomicBool>);

impl ControlFailed {
    pub fn failed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Control {
    /// Reads the channel on a thread of its own, applying each valid line to `live`.
    /// `stop_command` is called when the channel dies before its first line.
    pub fn start(
        self,
        live: Arc<LivePolicy>,
        stop_command: Box<dyn FnOnce() + Send>,
    ) -> ControlFailed {
        let failed = ControlFailed::default();
        let flag = failed.clone();
        let spawned = std::thread::Builder::new()
            .name("srt-control".into())
            .spawn(move || self.read_all(&live, stop_command, &flag));
        if spawned.is_err() {
            eprintln!("srt: cannot read the control channel (no thread); stopping the command");
            failed.0.store(true, Ordering::SeqCst);
        }
        failed
    }

    fn read_all(
        self,
        live: &LivePolicy,
        stop_command: Box<dyn FnOnce() + Send>,
        failed: &ControlFailed,
    ) {
        let fd = self.channel.fd;
        let mut reader = BufReader::new(self.channel.file);
        let mut buf = Vec::new();
        let mut number = 0usize;
        loop {
            buf.clear();
            let read = Read::by_ref(&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf);
            match read {
                Ok(0) => {
                    if self.debug {
                        eprintln!("srt: control fd {fd} closed; the command goes on under the policy last applied");
                    }
                    return;
                }
                Ok(_) => {}
                Err(e) if number == 0 => {
                    eprintln!("srt: Error: control fd {fd} failed before delivering an update: {e}. Refusing to run the command without the control channel it asks for.");
                    failed.0.store(true, Ordering::SeqCst);
                    stop_command();
                    return;
                }
                Err(e) => {
                    eprintln!("srt: error reading control fd {fd}: {e}. The control channel is closed; no further updates will be applied.");
                    return;
                }
            }
            number += 1;
            if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
                skip_line(&mut reader);
                invalid(
                    fd,
                    number,
                    &[format!("the line is longer than {MAX_LINE} bytes")],
                );
                continue;
            }
            let Ok(text) = std::str::from_utf8(&buf) else {
                invalid(fd, number, &["the line is not UTF-8".to_string()]);
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            match (self.validate)(text, number) {
                Ok(ir) => apply(fd, number, live, ir),
                Err(reasons) => {
                    invalid(fd, number, &reasons);
                    if self.debug {
                        eprintln!("srt: the dropped line: {}", text.trim_end());
                    }
                }
            }
        }
    }
}

/// Discards the rest of an over-long line, a bounded read at a time.
fn skip_line(reader: &mut impl BufRead) {
    loop {
        let (done, used) = match reader.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(b) => match b.iter().position(|&c| c == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, b.len()),
            },
        };
        reader.consume(used);
        if done {
            return;
        }
    }
}

fn invalid(fd: i32, number: usize, reasons: &[String]) {
    let mut text = format!(
        "srt: invalid config on control fd {fd} (line {number}): ignored, previous config still in force\n"
    );
    for r in reasons.iter().take(5) {
        text.push_str(&format!("srt:   {r}\n"));
    }
    eprint!("{text}");
}

/// Puts `new`'s network lists in force and says what that changed.
pub fn apply(fd: i32, number: usize, live: &LivePolicy, new: Ir) {
    let old = live.current();
    let mut next = (*old).clone();
    next.net.allowed = new.net.allowed.clone();
    next.net.denied = new.net.denied.clone();
    next.net.denied_reasons = new.net.denied_reasons.clone();
    next.net.denied_resolved_addresses = new.net.denied_resolved_addresses.clone();
    // The new rules' origins are in the line: violations name them there.
    next.source = new.source.clone();
    let changes = srt_compiler::diff::diff(&old, &next);
    let others = srt_compiler::diff::diff(&next, &new)
        .into_iter()
        .filter(|c| c.subject != Subject::Host)
        .count();
    live.replace(Arc::new(next));
    eprintln!("{}", applied_line(fd, number, &changes, others));
}

fn applied_line(
    fd: i32,
    number: usize,
    changes: &[srt_compiler::diff::Change],
    others: usize,
) -> String {
    let list = |dir: Direction| -> Option<String> {
        let hosts: Vec<&str> = changes
            .iter()
            .filter(|c| c.subject == Subject::Host && c.direction == dir)
            .map(|c| c.what.as_str())
            .collect();
        if hosts.is_empty() {
            return None;
        }
        let mut text = hosts[..hosts.len().min(LISTED)].join(", ");
        if hosts.len() > LISTED {
            text.push_str(&format!(" and {} more", hosts.len() - LISTED));
        }
        Some(text)
    };
    let mut parts = Vec::new();
    if let Some(t) = list(Direction::Widened) {
        parts.push(format!("now allowed: {t}"));
    }
    if let Some(t) = list(Direction::Narrowed) {
        parts.push(format!("now refused: {t}"));
    }
    let what = if parts.is_empty() {
        "the network decisions are unchanged".to_string()
    } else {
        parts.join("; ")
    };
    let mut line = format!(
        "srt: control fd {fd}, line {number}: network lists applied to the next connection: {what}"
    );
    if others > 0 {
        line.push_str(&format!(
            "\nsrt: control fd {fd}, line {number}: its other settings ({others} differences: filesystem, options) stay as the run started"
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    fn ir(text: &str) -> Ir {
        let loaded = srt_schema::load_str("line", None, text);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let opts = srt_compiler::ResolveOptions {
            cwd: PathBuf::from("/p"),
            home: PathBuf::from("/h"),
            settings_path: None,
        };
        srt_compiler::resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &srt_compiler::FakeFs::new(),
        )
        .0
    }

    const FS: &str =
        r#""filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}"#;

    #[test]
    fn a_line_replaces_the_network_lists_and_nothing_else() {
        let start = ir(&format!(
            r#"{{"network":{{"allowedDomains":["old.test"],"deniedDomains":[]}},{FS}}}"#
        ));
        let live = LivePolicy::new(Arc::new(start.clone()));
        let line = ir(
            r#"{"network":{"allowedDomains":["new.test"],"deniedDomains":[]},
                "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["/elsewhere"],"denyWrite":[]}}"#,
        );
        apply(3, 1, &live, line);
        let now = live.current();
        assert!(now.decide_host("new.test", 443).allowed);
        assert!(!now.decide_host("old.test", 443).allowed);
        assert_eq!(now.fs, start.fs, "the filesystem rules stay as started");
    }

    #[test]
    fn the_applied_line_names_what_changed() {
        let old = ir(&format!(
            r#"{{"network":{{"allowedDomains":["a.test"],"deniedDomains":[]}},{FS}}}"#
        ));
        let new = ir(&format!(
            r#"{{"network":{{"allowedDomains":["b.test:443"],"deniedDomains":[]}},{FS}}}"#
        ));
        let changes = srt_compiler::diff::diff(&old, &new);
        let line = applied_line(3, 2, &changes, 0);
        assert!(line.starts_with("srt: control fd 3, line 2: network lists applied to the next connection: now allowed: b.test:443; now refused: a.test"), "{line}");
        assert_eq!(
            applied_line(3, 2, &[], 1),
            "srt: control fd 3, line 2: network lists applied to the next connection: the network decisions are unchanged\nsrt: control fd 3, line 2: its other settings (1 differences: filesystem, options) stay as the run started"
        );
    }

    #[test]
    fn descriptors_0_to_2_and_unreadable_ones_are_refused() {
        assert!(matches!(
            ControlChannel::open(2),
            Err(ControlError::Standard { fd: 2 })
        ));
        let mut fds = [0; 2];
        // SAFETY: a valid out-array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // The write end cannot be read.
        assert!(matches!(
            ControlChannel::open(fds[1]),
            Err(ControlError::Unusable { .. })
        ));
        let ch = ControlChannel::open(fds[0]).unwrap();
        assert_eq!(ch.fd(), fds[0]);
        // SAFETY: closing our own write end.
        unsafe { libc::close(fds[1]) };
    }
}
