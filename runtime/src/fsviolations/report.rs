//! The host's half: each access the sandbox refused, decided again with the run's rules
//! (`Ir::decide_path`, the one decision procedure, so the report names the rule and its origin
//! as `srt explain --path` does), reported once per distinct path and access: a line on stderr
//! (rate-limited) and a JSON object in `--violations FILE`. OS-neutral: the Linux observer and
//! the macOS log source feed it the same [`Observed`] accesses.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use srt_compiler::{Access, Ir, Origin};

use crate::proxy::violation::rfc3339;

/// Distinct refusals remembered (their hashes, 8 bytes each); past it, new ones are counted.
pub const MAX_DISTINCT: usize = 65_536;
/// Lines on stderr at once, and per second after that.
const BURST: f64 = 50.0;
const PER_SECOND: f64 = 10.0;

/// Where the reports go.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    pub stderr: bool,
    /// Append one JSON object per distinct refusal.
    pub jsonl: Option<PathBuf>,
    /// `ignoreViolations` values for this command: a refusal whose path contains one is not
    /// printed (the npm srt's meaning on Linux: the patterns are matched against the path);
    /// the file still records it, marked `"ignored": true`.
    pub ignore: Vec<String>,
    /// Also reads of the paths the policy hides (every open is then observed).
    pub reads: bool,
}

/// One access a sandboxed process made and the sandbox refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub access: Access,
    pub path: PathBuf,
    /// The process (its pid in the sandbox) and its name, if known.
    pub pid: Option<u32>,
    pub command: String,
    /// How it asked (`openat`, `unlinkat`, or the Seatbelt operation on macOS).
    pub operation: String,
}

/// A refusal as reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsViolation {
    pub time: SystemTime,
    pub observed: Observed,
    /// The deciding rule, described (`filesystem.denyWrite[0] (.srt.json:3:5)`), if a rule
    /// decided (not the default).
    pub rule: Option<String>,
    /// What the line says after the dash.
    pub explanation: String,
}

impl FsViolation {
    /// `srt: blocked write /p/locked.txt (openat by sh, pid 3) — on filesystem.denyWrite[0] (…)`.
    pub fn line(&self) -> String {
        let o = &self.observed;
        let who = match o.pid {
            Some(pid) => format!("{} by {}, pid {pid}", o.operation, o.command),
            None => format!("{} by {}", o.operation, o.command),
        };
        format!(
            "srt: blocked {} {} ({who}) — {}",
            o.access.as_str(),
            printable(&o.path),
            self.explanation
        )
    }

    fn json(&self, ignored: bool) -> serde_json::Value {
        let o = &self.observed;
        serde_json::json!({
            "time": rfc3339(self.time),
            "kind": "filesystem",
            "access": o.access.as_str(),
            "path": o.path.to_string_lossy(),
            "syscall": o.operation,
            "pid": o.pid,
            "command": o.command,
            "rule": self.rule,
            "reason": self.explanation,
            "line": self.line(),
            "ignored": ignored,
        })
    }
}

/// The path with control characters escaped, so a name cannot forge lines on a terminal.
fn printable(p: &Path) -> String {
    p.to_string_lossy()
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// What `decide_path` says about a refused access, in the report's words; `None` when the
/// rules allow it (then the sandbox refused it for a reason of its own, not reported).
pub fn explain(ir: &Ir, path: &Path, access: Access) -> Option<(Option<String>, String)> {
    let d = ir.decide_path(path, access);
    if d.allowed {
        return None;
    }
    Some(match d.rule {
        Some(r) => {
            let described = ir.describe(&r.origin);
            let text = match &r.origin {
                Origin::BuiltIn(_) => described.clone(),
                Origin::Policy { .. } if d.via_read_deny => {
                    format!("on {described} (reading is denied, so writing is too)")
                }
                Origin::Policy { .. } => format!("on {described}"),
            };
            (Some(described), text)
        }
        None => (None, "not under any filesystem.allowWrite".to_string()),
    })
}

/// Reports refusals: deduplicated, rate-limited on stderr, bounded in memory.
pub struct Reporter {
    ir: Arc<Ir>,
    opts: ReportOptions,
    file: Option<File>,
    seen: HashSet<u64>,
    hasher: RandomState,
    tokens: f64,
    refilled: Instant,
    /// Not printed (rate limit), not remembered (past [`MAX_DISTINCT`]), dropped by the init.
    not_shown: u64,
    not_recorded: u64,
    dropped: u64,
    reported: u64,
    notices: HashSet<String>,
    /// Lines not yet printed, and since when (see [`Reporter::flush_lines`]).
    pending: Vec<String>,
    pending_since: Option<Instant>,
}

impl Reporter {
    pub fn new(ir: Arc<Ir>, opts: ReportOptions) -> std::io::Result<Self> {
        let file = match &opts.jsonl {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        Ok(Reporter {
            ir,
            opts,
            file,
            seen: HashSet::new(),
            hasher: RandomState::new(),
            tokens: BURST,
            refilled: Instant::now(),
            not_shown: 0,
            not_recorded: 0,
            dropped: 0,
            reported: 0,
            notices: HashSet::new(),
            pending: Vec::new(),
            pending_since: None,
        })
    }

    fn first_time(&mut self, o: &Observed) -> Option<bool> {
        let key = self.hasher.hash_one((o.access, &o.path));
        if self.seen.contains(&key) {
            return Some(false);
        }
        if self.seen.len() >= MAX_DISTINCT {
            return None;
        }
        self.seen.insert(key);
        Some(true)
    }

    fn take_token(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// One refused access; returns the violation when it was new.
    pub fn access(&mut self, o: Observed) -> Option<FsViolation> {
        let (rule, explanation) = explain(&self.ir, &o.path, o.access)?;
        match self.first_time(&o) {
            Some(true) => {}
            Some(false) => return None,
            None => {
                self.not_recorded += 1;
                return None;
            }
        }
        let v = FsViolation {
            time: SystemTime::now(),
            observed: o,
            rule,
            explanation,
        };
        self.reported += 1;
        let path = v.observed.path.to_string_lossy();
        let ignored = self.opts.ignore.iter().any(|p| path.contains(p.as_str()));
        if self.opts.stderr && !ignored {
            if self.take_token() {
                self.pending.push(v.line());
                self.pending_since.get_or_insert_with(Instant::now);
            } else {
                self.not_shown += 1;
            }
        }
        if let Some(f) = self.file.as_mut() {
            let mut text = v.json(ignored).to_string();
            text.push('\n');
            let _ = f.write_all(text.as_bytes());
        }
        Some(v)
    }

    /// Something the user should know once (the observer is off, and why).
    pub fn notice(&mut self, text: &str) {
        if self.notices.len() < 16 && self.notices.insert(text.to_string()) {
            self.pending.push(format!("srt: {text}"));
            self.pending_since.get_or_insert_with(Instant::now);
        }
    }

    /// Since when lines wait to be printed. The caller prints them once the command has
    /// had a moment to print its own message about the refusal (it gets the error right after
    /// the init lets the call continue), so that srt's line follows it instead of cutting it.
    pub fn pending_since(&self) -> Option<Instant> {
        self.pending_since
    }

    /// Prints the waiting lines, in one write.
    pub fn flush_lines(&mut self) {
        self.pending_since = None;
        if self.pending.is_empty() {
            return;
        }
        let mut text = self.pending.join("\n");
        text.push('\n');
        self.pending.clear();
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Accesses the observer saw but could not pass on.
    pub fn dropped(&mut self, n: u64) {
        self.dropped = self.dropped.saturating_add(n);
    }

    /// Distinct refusals reported so far.
    pub fn reported(&self) -> u64 {
        self.reported
    }

    /// The end of the run: what was not shown, not recorded or dropped, in one line each.
    pub fn finish(mut self) {
        self.flush_lines();
        if !self.opts.stderr {
            return;
        }
        let file = if self.opts.jsonl.is_some() {
            "; --violations records them"
        } else {
            "; --violations FILE records them"
        };
        if self.not_shown > 0 {
            eprintln!(
                "srt: {} more filesystem violations were not shown (at most {BURST} at once, {PER_SECOND} a second){file}",
                self.not_shown
            );
        }
        if self.not_recorded > 0 {
            eprintln!(
                "srt: {} more distinct filesystem violations were not recorded (the run reported {MAX_DISTINCT})",
                self.not_recorded
            );
        }
        if self.dropped > 0 {
            eprintln!(
                "srt: {} observed accesses were dropped: srt did not keep up with the command",
                self.dropped
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ir() -> Arc<Ir> {
        let loaded = srt_schema::load_str(
            ".srt.json",
            None,
            r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["/p/secret"],"allowRead":[],"allowWrite":["/p"],"denyWrite":["/p/locked"]}}"#,
        );
        let opts = srt_compiler::ResolveOptions {
            cwd: PathBuf::from("/p"),
            home: PathBuf::from("/h"),
            settings_path: None,
        };
        let source = Some(loaded.source.clone());
        let (ir, _) = srt_compiler::resolve(
            &loaded.settings,
            source,
            &opts,
            &srt_compiler::FakeFs::new(),
        );
        Arc::new(ir)
    }

    fn seen(path: &str, access: Access) -> Observed {
        Observed {
            access,
            path: PathBuf::from(path),
            pid: Some(7),
            command: "sh".into(),
            operation: "openat".into(),
        }
    }

    #[test]
    fn explanations_name_the_rule_as_explain_does() {
        let ir = ir();
        let e = |p: &str, a| explain(&ir, Path::new(p), a);
        assert_eq!(e("/p/ok", Access::Write), None);
        let (rule, text) = e("/p/locked", Access::Write).unwrap();
        assert_eq!(
            rule.as_deref(),
            Some("filesystem.denyWrite[0] (.srt.json:2:89)")
        );
        assert_eq!(text, "on filesystem.denyWrite[0] (.srt.json:2:89)");
        assert_eq!(
            e("/etc/x", Access::Write).unwrap(),
            (None, "not under any filesystem.allowWrite".into())
        );
        assert_eq!(
            e("/p/.bashrc", Access::Write).unwrap().1,
            "built-in mandatory-deny"
        );
        assert!(e("/p/secret", Access::Write)
            .unwrap()
            .1
            .ends_with("(reading is denied, so writing is too)"));
        assert!(e("/p/secret", Access::Read)
            .unwrap()
            .1
            .starts_with("on filesystem.denyRead[0]"));
    }

    #[test]
    fn each_distinct_refusal_is_reported_once_and_the_file_gets_all_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("v.jsonl");
        let mut r = Reporter::new(
            ir(),
            ReportOptions {
                stderr: false,
                jsonl: Some(file.clone()),
                ignore: vec!["secret".into()],
                reads: true,
            },
        )
        .unwrap();
        assert!(r.access(seen("/p/locked", Access::Write)).is_some());
        assert!(r.access(seen("/p/locked", Access::Write)).is_none());
        assert!(r.access(seen("/p/ok", Access::Write)).is_none());
        let v = r.access(seen("/p/secret", Access::Read)).unwrap();
        assert_eq!(
            v.line(),
            "srt: blocked read /p/secret (openat by sh, pid 7) — on filesystem.denyRead[0] (.srt.json:2:28)"
        );
        assert!(r
            .access(seen("/etc/new\nline", Access::Write))
            .unwrap()
            .line()
            .contains("/etc/new\\nline"));
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["kind"], "filesystem");
        assert_eq!(lines[0]["access"], "write");
        assert_eq!(lines[0]["ignored"], false);
        assert_eq!(lines[1]["ignored"], true);
        assert_eq!(lines[1]["pid"], 7);
        assert_eq!(lines[1]["rule"], "filesystem.denyRead[0] (.srt.json:2:28)");
    }

    #[test]
    fn memory_is_bounded_by_the_distinct_cap() {
        let mut r = Reporter::new(ir(), ReportOptions::default()).unwrap();
        for i in 0..MAX_DISTINCT + 10 {
            r.access(seen(&format!("/etc/f{i}"), Access::Write));
        }
        assert_eq!(r.seen.len(), MAX_DISTINCT);
        assert_eq!(r.not_recorded, 10);
    }
}
