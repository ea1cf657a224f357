//! The end-of-run audit: after the command ends, srt lists the trees the command could write
//! ([`AuditPlan::roots`]) and reports what the run created or changed there that programs
//! outside the sandbox later run or trust: protected names at any depth, new repositories,
//! git's pointers to other repositories, hooks, and git settings that run programs.
//!
//! *Created or changed during the run* means an inode change time (`ctime`) at or after the
//! second the run started. User space cannot set a `ctime`: writing, `chmod`, renaming and
//! linking all set it to the kernel's clock. The start is read from the coarse clock the
//! kernel stamps inodes with, and rounded down to the second, so that a filesystem that keeps
//! whole seconds is not missed. What this cannot see: a protected name that existed before the
//! run and was moved, inside its parent directory, by the run (the moved directory's `ctime`
//! changes, not its contents'). A start-of-run snapshot would see it, at the price of a second
//! full walk on every run and a race of its own (the snapshot is not taken at the instant the
//! command starts); the mandatory-deny mounts already pin what exists at the start.
//!
//! It reports; it changes nothing (see the book's "End-of-run audit" for why there is no
//! quarantine), and the command's exit status stays the command's.

pub mod cache;
mod candidate;
mod finding;
mod followups;
mod fsio;
mod gitconfig;
mod gitdir;
mod index;
mod listing;
mod pool;
mod walk;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use srt_compiler::audit::AuditPlan;

pub use finding::{printable, Finding, What};
pub use pool::IndexStats;

use crate::proxy::violation::rfc3339;

/// When the run started, as the audit compares `ctime`s with it: whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Since(pub i64);

impl Since {
    /// Now, by the clock the kernel stamps inodes with (the coarse real-time clock on Linux),
    /// rounded down to the second.
    pub fn now() -> Since {
        #[cfg(target_os = "linux")]
        {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes the struct.
            if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
                return Since(ts.tv_sec);
            }
        }
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Since(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// Where the audit keeps its index of the directories it listed ([`cache`]), and how old a
/// directory's change must be for its listing to be trusted next time.
#[derive(Clone, Debug)]
pub struct IndexOptions {
    pub store: cache::store::Store,
    pub settle_secs: i64,
}

impl IndexOptions {
    /// The index in srt's state directory (`None` if that directory is not usable).
    pub fn in_state_dir(state_dir: &Path) -> Option<IndexOptions> {
        Some(IndexOptions {
            store: cache::store::Store::open(state_dir)?,
            settle_secs: cache::SETTLE_SECS,
        })
    }
}

/// What the audit found, and what it cost.
#[derive(Debug)]
pub struct AuditReport {
    pub findings: Vec<Finding>,
    /// Findings past [`srt_compiler::audit::AuditLimits::max_findings`], not listed.
    pub dropped: usize,
    /// Why nothing was audited (`filesystem.disabled`).
    pub skipped: Option<&'static str>,
    pub roots: usize,
    pub entries: u64,
    pub dirs: u64,
    /// Directories listed afresh; the others' entries came from the index.
    pub listed: u64,
    /// What the index cost, when one was used.
    pub index: Option<IndexStats>,
    pub elapsed: Duration,
}

/// Runs the audit of `plan` for a run that started at `since`. `home` expands `~` in git
/// paths. Every directory is listed.
pub fn audit(plan: &AuditPlan, since: Since, home: &Path) -> AuditReport {
    audit_indexed(plan, since, home, None)
}

/// [`audit`], listing again only the directories that changed since the index in `index` was
/// written, and writing the new index.
pub fn audit_indexed(
    plan: &AuditPlan,
    since: Since,
    home: &Path,
    index: Option<&IndexOptions>,
) -> AuditReport {
    let started = Instant::now();
    let walked = if plan.skipped.is_none() {
        pool::walk(plan, since.0, home, index)
    } else {
        pool::Walked::default()
    };
    let mut findings = walked.findings;
    // A config reported for what it sets needs no second line for being a protected name.
    let settings: BTreeSet<PathBuf> = findings
        .iter()
        .filter(|f| matches!(f.what, What::GitSetting { .. }))
        .map(|f| f.path.clone())
        .collect();
    findings
        .retain(|f| !(matches!(f.what, What::ProtectedName { .. }) && settings.contains(&f.path)));
    AuditReport {
        findings,
        dropped: walked.dropped,
        skipped: plan.skipped,
        roots: plan.roots.len(),
        entries: walked.entries,
        dirs: walked.dirs,
        listed: walked.listed,
        index: walked.index,
        elapsed: started.elapsed(),
    }
}

impl AuditReport {
    /// What the audit cost, for `-d`: entries, directories (and how many were listed afresh),
    /// time, and the index's part of it.
    fn cost_text(&self) -> String {
        let index = self.index.map_or_else(String::new, |i| {
            format!(
                "; index: {} directories checked in {:.1} ms, {} bytes written in {:.1} ms",
                i.records,
                i.checked.as_secs_f64() * 1000.0,
                i.written,
                i.write_time.as_secs_f64() * 1000.0
            )
        });
        format!(
            "{} entries in {} directories, {} listed, {:.1} ms{index}",
            self.entries,
            self.dirs,
            self.listed,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }

    /// The stderr block: nothing when nothing was found (a one-line summary under `-d`).
    pub fn stderr_text(&self, debug: bool) -> String {
        let mut out = String::new();
        if self.findings.is_empty() && self.dropped == 0 {
            if debug {
                match self.skipped {
                    Some(why) => out.push_str(&format!("srt: audit: skipped: {why}\n")),
                    None => out.push_str(&format!(
                        "srt: audit: nothing found under {} root(s) ({})\n",
                        self.roots,
                        self.cost_text()
                    )),
                }
            }
            return out;
        }
        let n = self.findings.len() + self.dropped;
        out.push_str(&format!(
            "srt: AUDIT: {n} finding(s): the run created or changed, where the command could write, what programs outside the sandbox run or trust:\n"
        ));
        for f in &self.findings {
            out.push_str(&f.line());
            out.push('\n');
        }
        if self.dropped > 0 {
            out.push_str(&format!(
                "srt: audit: … and {} more, not listed\n",
                self.dropped
            ));
        }
        out.push_str(
            "srt: audit: srt changed none of these; check each before running git, a shell, an editor or an agent there. The exit status is the command's own.\n",
        );
        if debug {
            out.push_str(&format!(
                "srt: audit: {} root(s), {}\n",
                self.roots,
                self.cost_text()
            ));
        }
        out
    }

    /// Writes the block on stderr (one write) and one JSON object per finding to `jsonl`.
    pub fn emit(&self, jsonl: Option<&Path>, debug: bool) {
        let text = self.stderr_text(debug);
        if !text.is_empty() {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        let Some(path) = jsonl.filter(|_| !self.findings.is_empty()) else {
            return;
        };
        let time = rfc3339(SystemTime::now());
        let mut lines = String::new();
        for f in &self.findings {
            lines.push_str(&f.json(&time).to_string());
            lines.push('\n');
        }
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(lines.as_bytes()));
        if let Err(e) = written {
            let _ = writeln!(
                std::io::stderr().lock(),
                "srt: audit: cannot write the findings to {}: {e}",
                finding::shown(path)
            );
        }
    }
}
