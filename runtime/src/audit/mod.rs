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

mod finding;
mod fsio;
mod gitconfig;
mod walk;

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use srt_compiler::audit::AuditPlan;
use srt_compiler::path::lexical_normalize;

pub use finding::{printable, Finding, What};
use walk::{collect_paths, ConfigSeen, Walker};

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
    pub elapsed: Duration,
}

/// Runs the audit of `plan` for a run that started at `since`. `home` expands `~` in git
/// paths.
pub fn audit(plan: &AuditPlan, since: Since, home: &Path) -> AuditReport {
    let started = Instant::now();
    let mut w = Walker::new(plan, since.0);
    if plan.skipped.is_none() {
        for root in &plan.roots {
            w.root(&root.path);
        }
        second_pass(&mut w, plan, home);
    }
    let mut findings = std::mem::take(&mut w.findings.list);
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
        dropped: w.findings.dropped,
        skipped: plan.skipped,
        roots: plan.roots.len(),
        entries: w.entries,
        dirs: w.dirs,
        elapsed: started.elapsed(),
    }
}

/// A path git names in a config (`~/`, absolute, or relative to `base`), normalised.
fn git_path(value: &str, base: &Path, home: &Path) -> Option<PathBuf> {
    let p = if value == "~" {
        home.to_path_buf()
    } else if let Some(rest) = value.strip_prefix("~/") {
        home.join(rest)
    } else if value.starts_with('~') || value.is_empty() {
        // `~user/…`: another user's home, which the command cannot write.
        return None;
    } else {
        base.join(value)
    };
    Some(lexical_normalize(&p))
}

fn under_root(plan: &AuditPlan, p: &Path) -> bool {
    let inside = |p: &Path| plan.roots.iter().any(|r| p.starts_with(&r.path));
    inside(p) || std::fs::canonicalize(p).is_ok_and(|real| inside(&real))
}

/// After the walk: the hooks in `core.hooksPath` directories, the files configs include, and
/// the user's global git configs.
fn second_pass(w: &mut Walker<'_>, plan: &AuditPlan, home: &Path) {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    let mut includes: VecDeque<(PathBuf, u32)> = VecDeque::new();
    let mut hooks_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut configs = std::mem::take(&mut w.configs);
    for global in [home.join(".gitconfig"), xdg.join("git/config")] {
        if let Some(seen) = read_config(w, plan, &global, home) {
            configs.push(seen);
        }
    }
    let mut visited: BTreeSet<PathBuf> = configs.iter().map(|c| c.file.clone()).collect();
    let queue_from = |c: &ConfigSeen, depth: u32, includes: &mut VecDeque<(PathBuf, u32)>| {
        let base = c.file.parent().unwrap_or(Path::new("/"));
        for inc in &c.includes {
            if let Some(p) = git_path(inc, base, home) {
                includes.push_back((p, depth + 1));
            }
        }
    };
    for c in &configs {
        for h in &c.hooks_paths {
            if let Some(p) = git_path(h, &c.hooks_base, home) {
                hooks_dirs.insert(p);
            }
        }
        queue_from(c, 0, &mut includes);
    }
    let mut followed = 0usize;
    while let Some((file, depth)) = includes.pop_front() {
        if !visited.insert(file.clone()) {
            continue;
        }
        followed += 1;
        if followed > plan.limits.max_includes || depth > 10 {
            w.findings.push(
                &file,
                What::Incomplete {
                    reason: format!(
                        "more than {} included git config files, or includes nested more than 10 deep",
                        plan.limits.max_includes
                    ),
                },
            );
            break;
        }
        if let Some(seen) = read_config(w, plan, &file, home) {
            for h in &seen.hooks_paths {
                if let Some(p) = git_path(h, Path::new("/"), home).filter(|p| p.is_absolute()) {
                    hooks_dirs.insert(p);
                }
            }
            queue_from(&seen, depth, &mut includes);
        }
    }
    for dir in hooks_dirs {
        if under_root(plan, &dir) {
            hooks_dir(w, &dir);
        }
    }
}

/// Reads a config named by a path (a global one, or an included one): reports what it sets
/// when it lies under a root and changed during the run.
fn read_config(
    w: &mut Walker<'_>,
    plan: &AuditPlan,
    file: &Path,
    home: &Path,
) -> Option<ConfigSeen> {
    let c = fsio::read_path(file, plan.limits.max_file_bytes).ok()?;
    if c.meta.kind != fsio::Kind::File {
        return None;
    }
    let parsed = gitconfig::parse(&c.bytes);
    let changed = w.changed(&c.meta) && under_root(plan, file);
    w.config_entries(file, &parsed, changed, c.truncated);
    let mut seen = ConfigSeen {
        file: file.to_path_buf(),
        // A global relative hooksPath is relative to each repository: only absolute ones and
        // `~/` are followed from here.
        hooks_base: home.to_path_buf(),
        hooks_paths: Vec::new(),
        includes: Vec::new(),
    };
    collect_paths(&parsed, &mut seen);
    Some(seen)
}

/// Reports the hooks in a `core.hooksPath` directory created or changed during the run.
fn hooks_dir(w: &mut Walker<'_>, dir: &Path) {
    use std::os::fd::AsFd;
    const MAX_HOOKS: usize = 10_000;
    let Ok(fd) = fsio::open_dir_path(dir) else {
        return;
    };
    let Ok(mut listing) = nix::dir::Dir::from_fd(fd) else {
        return;
    };
    let mut names = Vec::new();
    for e in listing.iter().flatten().take(MAX_HOOKS) {
        let n = e.file_name();
        if n.to_bytes() != b"." && n.to_bytes() != b".." && !n.to_bytes().ends_with(b".sample") {
            names.push(n.to_owned());
        }
    }
    for name in names {
        let Ok(meta) = fsio::stat_at(listing.as_fd(), &name) else {
            continue;
        };
        let inert =
            meta.kind == fsio::Kind::Dir || (meta.kind == fsio::Kind::File && meta.size == 0);
        if w.changed(&meta) && !inert {
            use std::os::unix::ffi::OsStrExt;
            let path = dir.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
            w.findings.push(
                &path,
                What::Hook {
                    hooks_path: dir.to_path_buf(),
                },
            );
        }
    }
}

impl AuditReport {
    /// The stderr block: nothing when nothing was found (a one-line summary under `-d`).
    pub fn stderr_text(&self, debug: bool) -> String {
        let mut out = String::new();
        if self.findings.is_empty() && self.dropped == 0 {
            if debug {
                match self.skipped {
                    Some(why) => out.push_str(&format!("srt: audit: skipped: {why}\n")),
                    None => out.push_str(&format!(
                        "srt: audit: nothing found under {} root(s) ({} entries in {} directories, {:.1} ms)\n",
                        self.roots,
                        self.entries,
                        self.dirs,
                        self.elapsed.as_secs_f64() * 1000.0
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
                "srt: audit: {} root(s), {} entries in {} directories, {:.1} ms\n",
                self.roots,
                self.entries,
                self.dirs,
                self.elapsed.as_secs_f64() * 1000.0
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
