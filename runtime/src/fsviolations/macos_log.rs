//! macOS: Seatbelt's file denials, from the unified log, as [`Observed`] accesses.
//!
//! srt's profile tags every deny with the run's log tag (`(with message "TAG")`), and the
//! kernel logs each denial as `Sandbox: PROC(PID) deny(1) OPERATION PATH` followed by the tag,
//! as the npm srt reads it. [`LogSource`] runs `log stream` with a predicate on the tag and
//! hands each file denial to a [`Reporter`], which decides it with `decide_path` and reports
//! it as on Linux. Network denials are the proxies' to report and are skipped here.
//!
//! Built and tested on every OS: the tests run a stand-in for `log` that prints such lines.
//! The real `log stream` has not been run by srt's tests.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use srt_compiler::Access;

use super::report::{Observed, Reporter};

/// The unified log's command-line tool.
pub const LOG: &str = "/usr/bin/log";

/// `log stream`'s arguments for the denials that carry `tag`.
pub fn stream_args(tag: &str) -> Vec<String> {
    vec![
        "stream".into(),
        "--style".into(),
        "compact".into(),
        "--predicate".into(),
        format!("eventMessage ENDSWITH \"{}\"", tag.replace(['"', '\\'], "")),
    ]
}

/// A file denial in one line of `log stream --style compact`, if it is one.
pub fn parse_line(line: &str) -> Option<Observed> {
    let (_, details) = line.split_once("Sandbox: ")?;
    // `cat(4242) deny(1) file-read-data /Users/me/.ssh/id_rsa`
    let (who, rest) = details.split_once(") deny(")?;
    let (command, pid) = who.rsplit_once('(')?;
    let pid: u32 = pid.parse().ok()?;
    let (_, rest) = rest.split_once(") ")?;
    let (operation, path) = rest.split_once(' ')?;
    let access = if operation.starts_with("file-read") {
        Access::Read
    } else if operation.starts_with("file-write") {
        Access::Write
    } else {
        return None;
    };
    // The tag (and anything after the path) follows a space the path cannot be told from:
    // the path is up to the tag's message, which the predicate put at the end.
    let path = path.trim_end();
    if !path.starts_with('/') {
        return None;
    }
    Some(Observed {
        access,
        path: PathBuf::from(path),
        pid: Some(pid),
        command: command.trim().to_string(),
        operation: operation.to_string(),
    })
}

/// A running `log stream` whose file denials go to a [`Reporter`].
pub struct LogSource {
    child: Child,
    done: mpsc::Receiver<Reporter>,
}

impl LogSource {
    /// Starts `log` (the real one is [`LOG`]) for `tag`'s denials.
    pub fn start(log: &Path, tag: &str, mut reporter: Reporter) -> std::io::Result<LogSource> {
        let mut child = Command::new(log)
            .args(stream_args(tag))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("log stream has no stdout"))?;
        let (tx, done) = mpsc::channel();
        std::thread::Builder::new()
            .name("srt-log-stream".into())
            .spawn(move || {
                // Lines are bounded: a longer one is cut (read_until would grow without end).
                let mut lines = BufReader::new(out);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match Read::by_ref(&mut lines)
                        .take(64 * 1024)
                        .read_until(b'\n', &mut buf)
                    {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                    let line = String::from_utf8_lossy(&buf);
                    // The tag follows the path; cut it off before parsing.
                    if let Some(o) = parse_line(strip_tag(&line)) {
                        reporter.access(o);
                        reporter.flush_lines();
                    }
                }
                let _ = tx.send(reporter);
            })?;
        Ok(LogSource { child, done })
    }

    /// After the command: gives `log` a moment for the last denials, stops it, and prints
    /// the summary.
    pub fn finish(mut self, grace: Duration) {
        std::thread::sleep(grace);
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(r) = self.done.recv_timeout(Duration::from_secs(2)) {
            r.finish();
        }
    }
}

/// The line without the trailing log tag (`CMD64_…_SBX` in the npm srt, `srt-…` in srt).
fn strip_tag(line: &str) -> &str {
    let line = line.trim_end();
    match line.rsplit_once(' ') {
        Some((head, last)) if last.ends_with("_SBX") || last.starts_with("srt-") => head,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_denials_are_parsed_and_others_skipped() {
        let o = parse_line(strip_tag(
            "2026-01-01 10:00:00.000 E  kernel[0:1a2] Sandbox: cat(4242) deny(1) file-read-data /Users/me/.ssh/id_rsa srt-1234",
        ))
        .unwrap();
        assert_eq!(o.access, Access::Read);
        assert_eq!(o.path, PathBuf::from("/Users/me/.ssh/id_rsa"));
        assert_eq!((o.pid, o.command.as_str()), (Some(4242), "cat"));
        let w =
            parse_line("kernel Sandbox: my tool(7) deny(1) file-write-create /etc/x y").unwrap();
        assert_eq!(w.access, Access::Write);
        assert_eq!(w.command, "my tool");
        assert_eq!(w.path, PathBuf::from("/etc/x y"));
        assert_eq!(
            parse_line("Sandbox: curl(9) deny(1) network-outbound 1.2.3.4:443"),
            None
        );
        assert_eq!(
            parse_line("Sandbox: x(9) deny(1) mach-lookup com.apple.x"),
            None
        );
        assert_eq!(parse_line("garbage"), None);
        assert_eq!(
            parse_line("Sandbox: x(nan) deny(1) file-read-data /a"),
            None
        );
        assert!(stream_args("srt-\"x")
            .last()
            .unwrap()
            .ends_with("ENDSWITH \"srt-x\""));
    }
}
