//! The walk's work sharing: a few threads list directories from one queue. A worker that lists
//! a directory while the queue runs short hands its subdirectories to the queue (holding the
//! directory's descriptor, so they are still opened relative to it, never by path); otherwise
//! it descends itself. The bounds (entries, the stop flag) are shared.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use srt_compiler::audit::AuditPlan;

use super::cache::Prior;
use super::finding::{Finding, What};
use super::walk::{Ctx, Walker};

/// A directory to list: a root (no parent, opened by its path) or a subdirectory of an
/// already open directory.
pub(crate) struct Job {
    pub parent: Option<Arc<OwnedFd>>,
    pub name: CString,
    pub path: PathBuf,
    pub depth: u32,
    pub ctx: Ctx,
    /// The root this directory lies under (an index into the plan's roots).
    pub root: usize,
    /// Its record in that root's index, if it has one.
    pub prior: Option<u32>,
}

/// A root's index: the previous walk's records, which of them still hold, and what new ones
/// need (see [`super::cache`]).
pub(crate) struct RootIndex {
    pub root: PathBuf,
    pub prior: Prior,
    pub clean: Vec<bool>,
    /// The root, open: directories are opened and `stat`-ed beneath it.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // the index is Linux-only
    pub root_fd: Option<OwnedFd>,
    pub last: Vec<&'static [u8]>,
    pub settle: i64,
    pub fingerprint: u64,
}

struct Queue {
    jobs: Vec<Job>,
    /// Jobs queued or being worked on.
    pending: usize,
}

/// What the workers share.
pub(crate) struct Shared<'a> {
    pub plan: &'a AuditPlan,
    pub since: i64,
    /// The protected names, split into components.
    pub names: Vec<(&'static str, Vec<&'static [u8]>)>,
    pub entries: AtomicU64,
    pub stopped: AtomicBool,
    /// Per root: its index, when one is kept.
    pub index: Vec<Option<RootIndex>>,
    queue: Mutex<Queue>,
    ready: Condvar,
    queued: AtomicUsize,
    workers: usize,
}

impl<'a> Shared<'a> {
    fn new(plan: &'a AuditPlan, since: i64, workers: usize, index: Vec<Option<RootIndex>>) -> Self {
        Shared {
            plan,
            since,
            names: plan
                .names
                .iter()
                .map(|n| (*n, n.split('/').map(str::as_bytes).collect()))
                .collect(),
            entries: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            index,
            queue: Mutex::new(Queue {
                jobs: Vec::new(),
                pending: 0,
            }),
            ready: Condvar::new(),
            queued: AtomicUsize::new(0),
            workers,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A worker cannot panic while holding the lock; if one did, the queue is still sound.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether another worker could use work now.
    pub fn hungry(&self) -> bool {
        self.workers > 1 && self.queued.load(Ordering::Relaxed) < self.workers
    }

    pub fn push(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut q = self.lock();
        let before = q.jobs.len();
        q.jobs.extend(jobs);
        let added = q.jobs.len() - before;
        q.pending += added;
        self.queued.store(q.jobs.len(), Ordering::Relaxed);
        drop(q);
        self.ready.notify_all();
    }

    /// The next job, waiting while others may still add some; `None` when all is done.
    fn next(&self) -> Option<Job> {
        let mut q = self.lock();
        loop {
            if let Some(job) = q.jobs.pop() {
                self.queued.store(q.jobs.len(), Ordering::Relaxed);
                return Some(job);
            }
            if q.pending == 0 {
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self) {
        let mut q = self.lock();
        q.pending = q.pending.saturating_sub(1);
        let finished = q.pending == 0;
        drop(q);
        if finished {
            self.ready.notify_all();
        }
    }
}

/// Everything the walk found, merged from the workers.
#[derive(Default)]
pub(crate) struct Walked {
    pub findings: Vec<Finding>,
    pub dropped: usize,
    pub entries: u64,
    pub dirs: u64,
    /// Directories listed afresh (the others came from an index).
    pub listed: u64,
    pub index: Option<IndexStats>,
}

/// What the index cost: records loaded and checked, bytes written.
#[derive(Clone, Copy, Debug, Default)]
pub struct IndexStats {
    pub records: usize,
    pub checked: std::time::Duration,
    pub written: usize,
    pub write_time: std::time::Duration,
}

/// Threads for the walk: listing is mostly kernel time, which a second core halves; more
/// would compete with whatever the user runs next.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// Walks every root of `plan`, then follows what git configs name
/// ([`super::followups::second_pass`]); merges what was found, in path order.
pub(crate) fn walk(
    plan: &AuditPlan,
    since: i64,
    home: &Path,
    store: Option<&super::IndexOptions>,
) -> Walked {
    let started = std::time::Instant::now();
    let index: Vec<Option<RootIndex>> = plan
        .roots
        .iter()
        .map(|r| store.and_then(|o| super::index::prepare(o, plan, &r.path)))
        .collect();
    let checked = started.elapsed();
    // With every root indexed and few directories to list again, one thread walks faster
    // than two (starting the second costs more than it saves).
    let to_list: Option<usize> = index.iter().try_fold(0usize, |sum, i| {
        let i = i.as_ref().filter(|i| i.prior.len() > 0)?;
        Some(sum + i.clean.iter().filter(|c| !**c).count())
    });
    let workers = match to_list {
        Some(n) if n < 1024 => 1,
        _ => workers(),
    };
    let shared = Shared::new(plan, since, workers, index);
    shared.push(plan.roots.iter().enumerate().map(|(i, r)| {
        Job {
            parent: None,
            name: CString::default(),
            path: r.path.clone(),
            depth: 0,
            ctx: Ctx::Plain,
            root: i,
            prior: shared
                .index
                .get(i)
                .and_then(Option::as_ref)
                .filter(|x| x.prior.len() > 0)
                .map(|_| 0),
        }
    }));
    fn run<'s>(shared: &'s Shared<'s>) -> Walker<'s> {
        let mut w = Walker::new(shared);
        while let Some(job) = shared.next() {
            w.job(job);
            shared.done();
        }
        w
    }
    let walkers: Vec<Walker<'_>> = std::thread::scope(|s| {
        let others: Vec<_> = (1..shared.workers)
            .map(|_| s.spawn(|| run(&shared)))
            .collect();
        let mut all = vec![run(&shared)];
        for h in others {
            match h.join() {
                Ok(w) => all.push(w),
                // A worker that panicked found nothing it can report: say the audit is not whole.
                Err(_) => shared.stopped.store(true, Ordering::SeqCst),
            }
        }
        all
    });
    let mut out = Walked {
        entries: shared.entries.load(Ordering::SeqCst),
        ..Walked::default()
    };
    let mut configs = Vec::new();
    let mut fresh = Vec::new();
    let mut kept = Vec::new();
    for mut w in walkers {
        out.dropped += w.findings.dropped;
        out.findings.append(&mut w.findings.list);
        configs.append(&mut w.configs);
        out.dirs += w.dirs;
        out.listed += w.listed;
        fresh.append(&mut w.fresh);
        kept.append(&mut w.kept);
    }
    if !shared.stopped.load(Ordering::SeqCst) {
        if let Some(o) = store {
            let started = std::time::Instant::now();
            let written = super::index::update(o, &shared.index, fresh, kept);
            out.index = Some(IndexStats {
                records: shared.index.iter().flatten().map(|i| i.prior.len()).sum(),
                checked,
                written,
                write_time: started.elapsed(),
            });
        }
    }
    let mut follow = Walker::new(&shared);
    super::followups::second_pass(&mut follow, configs, home);
    out.dropped += follow.findings.dropped;
    out.findings.append(&mut follow.findings.list);
    if shared.stopped.load(Ordering::SeqCst) {
        let at = plan
            .roots
            .first()
            .map_or_else(|| PathBuf::from("/"), |r| r.path.clone());
        out.findings.push(Finding {
            path: at,
            what: What::Incomplete {
                reason: format!(
                    "the audit stopped after {} entries under the roots",
                    plan.limits.max_entries
                ),
            },
        });
    }
    out.findings
        .sort_by(|a, b| (&a.path, a.what.code()).cmp(&(&b.path, b.what.code())));
    let mut seen = BTreeSet::new();
    out.findings.retain(|f| seen.insert(dedupe_key(f)));
    let max = plan.limits.max_findings;
    if out.findings.len() > max {
        out.dropped += out.findings.len() - max;
        out.findings.truncate(max);
    }
    out
}

fn dedupe_key(f: &Finding) -> (PathBuf, &'static str, String) {
    let key = match &f.what {
        What::GitSetting { key, .. } => key.clone(),
        _ => String::new(),
    };
    (f.path.clone(), f.what.code(), key)
}

/// The components of a path, as the walk's stack of directory names.
pub(crate) fn components(path: &Path) -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    path.components()
        .map(|c| c.as_os_str().as_bytes().to_vec())
        .collect()
}
