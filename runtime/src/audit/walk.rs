//! The walk: every directory under the roots listed once (one `getdents` stream each, no
//! `stat` per entry), and only the candidates stat-ed: protected names and what lies under
//! them, `.git` entries, and the files git reads in a git directory. Directories are opened
//! relative to their parent's descriptor and never through a symlink.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use nix::errno::Errno;

use super::finding::{Finding, What};
use super::fsio::{self, Kind, Lister, Meta};
use super::pool::{components, Job, Shared};

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
const GIT_SPECIAL: [&[u8]; 8] = [
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
    stack: Vec<Vec<u8>>,
    pub findings: Findings,
    pub dirs: u64,
    pub configs: Vec<ConfigSeen>,
    /// Entries seen under protected names that could run something (not empty files, not
    /// `*.sample` hooks): tells a directory moved into place from a new, inert one.
    live: u64,
    lister: Lister,
}

/// The protected name `leaf` completes, given the directories above it (`stack`).
fn match_name(
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
        }
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
        let mut ctx = job.ctx;
        let opened = match &job.parent {
            Some(_) if job.depth > self.shared.plan.limits.max_depth => {
                return self.too_deep(&job.path);
            }
            Some(parent) => fsio::open_dir_at(parent.as_fd(), &job.name),
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
                fsio::open_dir_path(&job.path)
            }
        };
        let fd = match opened {
            Ok(fd) => fd,
            // Gone, or a file root: nothing below it.
            Err(Errno::ENOENT | Errno::ENOTDIR) => return,
            Err(e) => return self.unreadable(&job.path, e),
        };
        self.stack = components(&job.path);
        self.dirs += 1;
        let mut path = job.path;
        self.walk_dir(fd, &mut path, job.depth, ctx);
    }

    fn walk_dir(&mut self, dir: OwnedFd, path: &mut PathBuf, depth: u32, ctx: Ctx) -> DirResult {
        let mut subdirs: Vec<CString> = Vec::new();
        let mut cands: Vec<(CString, Cand)> = Vec::new();
        let mut special: Vec<(CString, Option<Kind>)> = Vec::new();
        let (mut head, mut objects, mut commondir) = (false, false, false);
        let shared = self.shared;
        let budget = shared
            .plan
            .limits
            .max_entries
            .saturating_sub(shared.entries.load(Ordering::Relaxed));
        let mut count = 0u64;
        let mut over = false;
        let (names, stack) = (&shared.names, &self.stack);
        // Under a root of `/`: the kernel's filesystems are not the host's files.
        let at_slash = matches!(stack.as_slice(), [only] if only == b"/");
        let listed = self.lister.list(&dir, |name, kind| {
            let b = name.to_bytes();
            if at_slash && matches!(b, b"proc" | b"sys" | b"dev") {
                return true;
            }
            count += 1;
            if count > budget {
                over = true;
                return false;
            }
            head |= b == b"HEAD";
            objects |= b == b"objects";
            commondir |= b == b"commondir";
            let cand = match ctx {
                Ctx::Protected { .. } => Some(Cand::InProtected),
                _ if GIT_SPECIAL.contains(&b) => {
                    special.push((name.to_owned(), kind));
                    return true;
                }
                _ if b == b".git" => Some(Cand::DotGit),
                _ => match_name(names, stack, b).map(Cand::Name),
            };
            match (cand, kind) {
                (Some(c), _) => cands.push((name.to_owned(), c)),
                (None, Some(Kind::Dir)) => subdirs.push(name.to_owned()),
                (None, None) => cands.push((name.to_owned(), Cand::Unknown)),
                (None, Some(_)) => {}
            }
            true
        });
        shared.entries.fetch_add(count, Ordering::Relaxed);
        if over {
            shared.stopped.store(true, Ordering::SeqCst);
        }
        if let Err(err) = listed {
            self.unreadable(path, err);
        }
        let mut out = DirResult { reported: false };
        if shared.stopped.load(Ordering::Relaxed) {
            return out;
        }
        let own_is_dot_git = self.stack.last().is_some_and(|n| n == b".git");
        let is_git_dir = !matches!(ctx, Ctx::Protected { .. })
            && (own_is_dot_git || head && (objects || commondir));
        let fd = dir.as_fd();
        // Below a `.git` (its submodules' and worktrees' git directories), nothing is a
        // repository of its own. A directory that only looks like a bare repository does not
        // make what is below it part of one.
        let sub_ctx = match ctx {
            Ctx::Protected { .. } | Ctx::InGitDir => ctx,
            _ if own_is_dot_git => Ctx::InGitDir,
            _ => ctx,
        };
        if is_git_dir {
            // A repository's object store, refs and logs hold nothing git runs, and are most of
            // a large repository. A directory that only looks like a bare repository is walked
            // in full: looking like one must not hide anything.
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
            out.reported |= self.candidate(fd, path, depth, ctx, &name, cand);
        }
        if !subdirs.is_empty() && self.shared.hungry() {
            // Another worker is idle: it takes these, opening them relative to this directory.
            let parent = Arc::new(dir);
            self.shared.push(subdirs.into_iter().map(|name| Job {
                path: path.join(OsStr::from_bytes(name.to_bytes())),
                parent: Some(parent.clone()),
                name,
                depth: depth + 1,
                ctx: sub_ctx,
            }));
            return out;
        }
        for name in subdirs {
            if let Some(r) = self.descend(fd, path, depth, &name, sub_ctx) {
                out.reported |= r.reported;
            }
        }
        out
    }

    /// Lists the subdirectory `name` of `parent` (at `path`) in `ctx`.
    pub(super) fn descend(
        &mut self,
        parent: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        name: &CStr,
        ctx: Ctx,
    ) -> Option<DirResult> {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return None;
        }
        push_name(path, name);
        let out = if depth + 1 > self.shared.plan.limits.max_depth {
            self.too_deep(path);
            None
        } else {
            match fsio::open_dir_at(parent, name) {
                Ok(fd) => {
                    self.dirs += 1;
                    self.stack.push(name.to_bytes().to_vec());
                    let r = self.walk_dir(fd, path, depth + 1, ctx);
                    self.stack.pop();
                    Some(r)
                }
                // Gone, or not a directory (a type the listing did not give, or a symlink,
                // which is not followed): nothing below it.
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => None,
                Err(e) => {
                    self.unreadable(path, e);
                    None
                }
            }
        };
        path.pop();
        out
    }

    /// Examines one candidate entry; returns whether something was reported.
    pub(super) fn candidate(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        ctx: Ctx,
        name: &CStr,
        cand: Cand,
    ) -> bool {
        let meta = match fsio::stat_at(fd, name) {
            Ok(m) => m,
            Err(Errno::ENOENT) => return false,
            Err(e) => {
                push_name(path, name);
                self.unreadable(path, e);
                path.pop();
                return true;
            }
        };
        let changed = self.changed(&meta);
        let protected = match (cand, ctx) {
            (Cand::Name(n), _) => Some((n, n.ends_with("hooks"))),
            (Cand::InProtected, Ctx::Protected { name, hooks }) => Some((name, hooks)),
            _ => None,
        };
        if let Some((protected_name, hooks)) = protected {
            if meta.kind == Kind::Dir {
                let sub = Ctx::Protected {
                    name: protected_name,
                    hooks,
                };
                let live_before = self.live;
                let r = self.descend(fd, path, depth, name, sub);
                return match r {
                    Some(r) if r.reported => true,
                    // A protected directory whose own entry changed but none of whose contents
                    // did was moved or renamed into place.
                    Some(_) if self.live > live_before && changed => {
                        push_name(path, name);
                        self.report_name(path, protected_name);
                        path.pop();
                        true
                    }
                    _ => false,
                };
            }
            let sample = hooks && meta.kind == Kind::File && name.to_bytes().ends_with(b".sample");
            // An empty file runs nothing (and is what srt's own stubs are).
            let inert = meta.kind == Kind::File && meta.size == 0;
            if !sample && !inert {
                self.live += 1;
            }
            if changed && !sample && !inert {
                push_name(path, name);
                self.report_name(path, protected_name);
                path.pop();
                return true;
            }
            return false;
        }
        match (cand, meta.kind) {
            (Cand::DotGit, Kind::Dir) => self
                .descend(fd, path, depth, name, Ctx::Plain)
                .is_some_and(|r| r.reported),
            (Cand::DotGit, _) if changed && !(meta.kind == Kind::File && meta.size == 0) => {
                let target = self.pointer_target(fd, name, meta.kind);
                push_name(path, name);
                self.findings.push(path, What::GitPointer { target });
                path.pop();
                true
            }
            (Cand::Unknown, Kind::Dir) => self
                .descend(fd, path, depth, name, ctx)
                .is_some_and(|r| r.reported),
            _ => false,
        }
    }

    pub(super) fn report_name(&mut self, path: &Path, name: &'static str) {
        self.findings.push(path, What::ProtectedName { name });
    }
}
