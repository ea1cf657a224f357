//! The walk: every directory under the roots listed once (one `getdents` stream each, no
//! `stat` per entry), and only the candidates stat-ed: protected names and what lies under
//! them, `.git` entries, and the files git reads in a git directory. Directories are opened
//! relative to their parent's descriptor and never through a symlink.

use std::collections::BTreeSet;
use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nix::errno::Errno;

use super::cache::Listing;
use super::finding::{Finding, What};
use super::fsio::{self, Kind, Lister, Meta};
use super::listing::{Entries, Sorted};
use super::pool::{components, Job, RootIndex, Shared};

/// What a directory is to the audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    Plain,
    /// Inside a git directory (its `modules/`, `worktrees/`): git directories there belong to
    /// the outer repository and are not new repositories of their own.
    InGitDir,
    /// Inside a protected name's tree: every entry is examined. `hooks`: `*.sample` files
    /// are git's inert examples.
    Protected {
        name: &'static str,
        hooks: bool,
    },
}

/// A git directory's config read during the walk, for the second pass (`core.hooksPath`,
/// included files).
pub(crate) struct ConfigSeen {
    pub file: PathBuf,
    /// Where a relative `core.hooksPath` starts: the work tree, or a bare repository itself.
    pub hooks_base: PathBuf,
    pub hooks_paths: Vec<String>,
    pub includes: Vec<String>,
}

/// The findings so far: bounded, and each (path, finding, key) once.
pub(crate) struct Findings {
    pub list: Vec<Finding>,
    pub dropped: usize,
    max: usize,
    seen: BTreeSet<(PathBuf, &'static str, String)>,
}

impl Findings {
    pub fn new(max: usize) -> Self {
        Findings {
            list: Vec::new(),
            dropped: 0,
            max,
            seen: BTreeSet::new(),
        }
    }

    pub fn push(&mut self, path: &Path, what: What) {
        let key = match &what {
            What::GitSetting { key, .. } => key.clone(),
            _ => String::new(),
        };
        // Past the bound nothing more is kept, not even for telling duplicates apart: a
        // run that made a million protected names costs a counter, not a million paths.
        if self.list.len() >= self.max {
            self.dropped += 1;
            return;
        }
        if !self.seen.insert((path.to_path_buf(), what.code(), key)) {
            return;
        }
        self.list.push(Finding {
            path: path.to_path_buf(),
            what,
        });
    }
}

/// Why an entry is looked at more closely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cand {
    /// Under a protected name.
    InProtected,
    /// A protected name itself.
    Name(&'static str),
    DotGit,
    /// The filesystem did not say what it is (`DT_UNKNOWN`).
    Unknown,
}

/// Entries a git directory is recognised by, and handled by [`Walker::git_dir`].
pub(crate) const GIT_SPECIAL: [&[u8]; 8] = [
    b"HEAD",
    b"config",
    b"config.worktree",
    b"commondir",
    b"hooks",
    b"objects",
    b"refs",
    b"logs",
];
/// A git directory's bulk storage: git runs nothing from it.
pub(super) const GIT_STORAGE: [&[u8]; 4] = [b"objects", b"refs", b"logs", b"lfs"];

pub(crate) struct DirResult {
    /// Something at or below it was reported.
    pub reported: bool,
}

/// One worker's walk: its findings, and the directory it is in.
pub(crate) struct Walker<'s> {
    pub(super) shared: &'s Shared<'s>,
    /// The names of the directories from `/` down to the one being listed.
    pub(super) stack: Vec<Vec<u8>>,
    pub findings: Findings,
    pub dirs: u64,
    pub configs: Vec<ConfigSeen>,
    /// Entries seen under protected names that could run something (not empty files, not
    /// `*.sample` hooks): tells a directory moved into place from a new, inert one.
    pub(super) live: u64,
    pub(super) lister: Lister,
    /// The root (index into the plan's roots) of the job being walked.
    pub(super) root: usize,
    /// Directories listed afresh (the rest came from an index).
    pub listed: u64,
    /// What the next index keeps: directories listed afresh (root, path, their old record),
    /// and the old records still valid.
    pub fresh: Vec<(usize, PathBuf, Option<u32>, Listing)>,
    pub kept: Vec<(usize, u32)>,
}

/// The protected name `leaf` completes, given the directories above it (`stack`).
pub(super) fn match_name(
    names: &[(&'static str, Vec<&'static [u8]>)],
    stack: &[Vec<u8>],
    leaf: &[u8],
) -> Option<&'static str> {
    names.iter().find_map(|(name, comps)| {
        let (last, parents) = comps.split_last()?;
        let fits = *last == leaf
            && parents.len() <= stack.len()
            && parents
                .iter()
                .rev()
                .zip(stack.iter().rev())
                .all(|(p, s)| *p == s.as_slice());
        fits.then_some(*name)
    })
}

/// A directory another user owns that neither our group nor others may write or enter: the
/// command (our user, without capabilities) could not have put anything in it either, so not
/// being able to list it hides nothing (`/tmp/systemd-private-…` under an `allowWrite` of
/// `/tmp`). One we own, or may enter, is reported: the command could have made it unreadable.
fn out_of_reach(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.uid() != nix::unistd::geteuid().as_raw() && m.mode() & 0o033 == 0)
}

pub(super) fn push_name(path: &mut PathBuf, name: &CStr) {
    path.push(OsStr::from_bytes(name.to_bytes()));
}

pub(super) fn errno_text(e: Errno) -> String {
    e.desc().to_string()
}

impl<'s> Walker<'s> {
    pub fn new(shared: &'s Shared<'s>) -> Self {
        Walker {
            shared,
            stack: Vec::new(),
            findings: Findings::new(shared.plan.limits.max_findings),
            dirs: 0,
            configs: Vec::new(),
            live: 0,
            lister: Lister::new(),
            root: 0,
            listed: 0,
            fresh: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// The index of the current root, if one is kept.
    pub(super) fn index(&self) -> Option<&'s RootIndex> {
        self.shared.index.get(self.root).and_then(Option::as_ref)
    }

    /// Record `rec` of the current root's index, if it may be used as it is.
    pub(super) fn clean(&self, rec: Option<u32>, ctx: Ctx) -> Option<u32> {
        let rec = rec?;
        let index = self.index()?;
        let ok = !matches!(ctx, Ctx::Protected { .. })
            && index.clean.get(rec as usize).copied().unwrap_or(false);
        ok.then_some(rec)
    }

    /// The old record of the subdirectory `name` of the directory whose old record is `parent`.
    fn child_record(&self, parent: Option<u32>, name: &CStr) -> Option<u32> {
        self.index()?.prior.child(parent?, name.to_bytes())
    }

    /// Opens the directory at `path` (under the current root) without following symlinks.
    pub(super) fn open_beneath(&self, path: &Path) -> Result<OwnedFd, Errno> {
        #[cfg(target_os = "linux")]
        if let Some(index) = self.index() {
            if let (Some(fd), Ok(rel)) = (&index.root_fd, path.strip_prefix(&index.root)) {
                let rel = if rel.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    rel
                };
                return fsio::open_dir_beneath(fd.as_fd(), rel);
            }
        }
        fsio::open_dir_path(path)
    }

    pub fn plan(&self) -> &'s srt_compiler::audit::AuditPlan {
        self.shared.plan
    }

    pub fn changed(&self, meta: &Meta) -> bool {
        meta.ctime >= self.shared.since
    }

    pub(super) fn match_name(&self, leaf: &[u8]) -> Option<&'static str> {
        match_name(&self.shared.names, &self.stack, leaf)
    }

    pub(super) fn unreadable(&mut self, path: &Path, e: Errno) {
        if matches!(e, Errno::EACCES | Errno::EPERM) && out_of_reach(path) {
            return;
        }
        self.findings.push(
            path,
            What::Unreadable {
                error: errno_text(e),
            },
        );
    }

    fn too_deep(&mut self, path: &Path) {
        self.findings.push(
            path,
            What::Incomplete {
                reason: format!(
                    "more than {} directory levels below the root",
                    self.shared.plan.limits.max_depth
                ),
            },
        );
    }

    /// Lists one directory from the queue, and what lies below it.
    pub fn job(&mut self, job: Job) {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return;
        }
        self.root = job.root;
        let mut ctx = job.ctx;
        let clean = self.clean(job.prior, ctx).is_some();
        let opened = match &job.parent {
            Some(_) if job.depth > self.shared.plan.limits.max_depth => {
                return self.too_deep(&job.path);
            }
            Some(_) if clean => None,
            Some(parent) => Some(fsio::open_dir_at(parent.as_fd(), &job.name)),
            None => {
                // A root inside a protected name (`allowWrite: ["~/.vscode/x"]`) is protected
                // as a whole.
                self.stack.clear();
                for comp in components(&job.path) {
                    if let Some(name) = self.match_name(&comp) {
                        ctx = Ctx::Protected {
                            name,
                            hooks: name.ends_with("hooks"),
                        };
                    }
                    self.stack.push(comp);
                }
                Some(fsio::open_dir_path(&job.path))
            }
        };
        let fd = match opened {
            None => None,
            Some(Ok(fd)) => Some(fd),
            // Gone, or a file root: nothing below it.
            Some(Err(Errno::ENOENT | Errno::ENOTDIR)) => return,
            Some(Err(e)) => return self.unreadable(&job.path, e),
        };
        self.stack = components(&job.path);
        self.dirs += 1;
        let mut path = job.path;
        self.walk_dir(fd, &mut path, job.depth, ctx, job.prior);
    }

    fn walk_dir(
        &mut self,
        dir: Option<OwnedFd>,
        path: &mut PathBuf,
        depth: u32,
        ctx: Ctx,
        prior: Option<u32>,
    ) -> DirResult {
        let mut out = DirResult { reported: false };
        let shared = self.shared;
        let Entries { sorted, dir, over } = match self.sort_entries(dir, path, ctx, prior) {
            Ok(s) => s,
            // Gone, or not a directory (a symlink put in its place): nothing below it.
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EXDEV) => return out,
            Err(e) => {
                self.unreadable(path, e);
                return out;
            }
        };
        let Sorted {
            mut subdirs,
            mut cands,
            special,
            head,
            objects,
            commondir,
            count,
        } = sorted;
        let before = shared.entries.fetch_add(count, Ordering::Relaxed);
        if over || before.saturating_add(count) > shared.plan.limits.max_entries {
            shared.stopped.store(true, Ordering::SeqCst);
        }
        if shared.stopped.load(Ordering::Relaxed) {
            return out;
        }
        let own_is_dot_git = self.stack.last().is_some_and(|n| n == b".git");
        let is_git_dir = !matches!(ctx, Ctx::Protected { .. })
            && (own_is_dot_git || head && (objects || commondir));
        // Below a `.git` (its submodules' and worktrees' git directories), nothing is a
        // repository of its own. A directory that only looks like a bare repository does not
        // make what is below it part of one.
        let sub_ctx = match ctx {
            Ctx::Protected { .. } | Ctx::InGitDir => ctx,
            _ if own_is_dot_git => Ctx::InGitDir,
            _ => ctx,
        };
        let needs_fd = is_git_dir || !cands.is_empty() || !special.is_empty();
        let dir = match dir {
            Some(fd) => Some(fd),
            None if needs_fd => match self.open_beneath(path) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    self.unreadable(path, e);
                    return out;
                }
            },
            None => None,
        };
        if let Some(fd) = dir.as_ref().map(AsFd::as_fd) {
            if is_git_dir {
                // A repository's object store, refs and logs hold nothing git runs, and are
                // most of a large repository. A directory that only looks like a bare
                // repository is walked in full: looking like one must not hide anything.
                let skip_storage = own_is_dot_git || ctx == Ctx::InGitDir;
                if skip_storage {
                    subdirs.retain(|n| !GIT_STORAGE.contains(&n.to_bytes()));
                }
                out.reported |= self.git_dir(
                    fd,
                    path,
                    depth,
                    ctx,
                    own_is_dot_git,
                    skip_storage,
                    &special,
                    &mut subdirs,
                );
            } else {
                // Not a git directory: these are ordinary names.
                for (name, kind) in special {
                    match (self.match_name(name.to_bytes()), kind) {
                        (Some(n), _) => cands.push((name, Cand::Name(n))),
                        (None, Some(Kind::Dir)) => subdirs.push(name),
                        (None, None) => cands.push((name, Cand::Unknown)),
                        (None, Some(_)) => {}
                    }
                }
            }
            for (name, cand) in cands {
                out.reported |= self.candidate(fd, path, depth, ctx, &name, cand, prior);
            }
        }
        let share = dir.is_some() && !subdirs.is_empty() && self.shared.hungry();
        let dir = match dir {
            Some(parent) if share => {
                // Another worker is idle: it takes these, opening them relative to this
                // directory.
                let parent = Arc::new(parent);
                let root = self.root;
                let jobs: Vec<Job> = subdirs
                    .into_iter()
                    .map(|name| Job {
                        path: path.join(OsStr::from_bytes(name.to_bytes())),
                        parent: Some(parent.clone()),
                        prior: self.child_record(prior, &name),
                        name,
                        depth: depth + 1,
                        ctx: sub_ctx,
                        root,
                    })
                    .collect();
                self.shared.push(jobs);
                return out;
            }
            dir => dir,
        };
        for name in subdirs {
            if let Some(r) = self.descend(
                dir.as_ref().map(AsFd::as_fd),
                prior,
                path,
                depth,
                &name,
                sub_ctx,
            ) {
                out.reported |= r.reported;
            }
        }
        out
    }

    /// Lists the subdirectory `name` of `parent` (at `path`; `parent_prior` its old record)
    /// in `ctx`. Without `parent` open (its entries came from the index), a subdirectory whose
    /// record is not clean is opened beneath the root, through no symlink.
    pub(super) fn descend(
        &mut self,
        parent: Option<BorrowedFd<'_>>,
        parent_prior: Option<u32>,
        path: &mut PathBuf,
        depth: u32,
        name: &CStr,
        ctx: Ctx,
    ) -> Option<DirResult> {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return None;
        }
        push_name(path, name);
        let prior = self.child_record(parent_prior, name);
        let out = if depth + 1 > self.shared.plan.limits.max_depth {
            self.too_deep(path);
            None
        } else {
            let opened = match parent {
                _ if self.clean(prior, ctx).is_some() => Ok(None),
                Some(parent) => fsio::open_dir_at(parent, name).map(Some),
                None => self.open_beneath(path).map(Some),
            };
            match opened {
                Ok(fd) => {
                    self.dirs += 1;
                    self.stack.push(name.to_bytes().to_vec());
                    let r = self.walk_dir(fd, path, depth + 1, ctx, prior);
                    self.stack.pop();
                    Some(r)
                }
                // Gone, or not a directory (a type the listing did not give, or a symlink,
                // which is not followed): nothing below it.
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EXDEV) => None,
                Err(e) => {
                    self.unreadable(path, e);
                    None
                }
            }
        };
        path.pop();
        out
    }
}
