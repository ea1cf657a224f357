//! The walk: every directory under the roots listed once (one `getdents` stream each, no
//! `stat` per entry), and only the candidates stat-ed: protected names and what lies under
//! them, `.git` entries, and the files git reads in a git directory. Directories are opened
//! relative to their parent's descriptor and never through a symlink.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use srt_compiler::audit::{AuditPlan, GitExecKey};

use super::finding::{Finding, What};
use super::fsio::{self, Kind, Meta};
use super::gitconfig;

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
        if !self.seen.insert((path.to_path_buf(), what.code(), key)) {
            return;
        }
        if self.list.len() >= self.max {
            self.dropped += 1;
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
enum Cand {
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
const GIT_STORAGE: [&[u8]; 4] = [b"objects", b"refs", b"logs", b"lfs"];

pub(crate) struct DirResult {
    /// Something at or below it was reported.
    reported: bool,
}

pub(crate) struct Walker<'a> {
    plan: &'a AuditPlan,
    /// Seconds since the epoch: a ctime at or after it was set during the run.
    since: i64,
    /// The protected names, split into components.
    names: Vec<(&'static str, Vec<&'static [u8]>)>,
    /// The names of the directories from `/` down to the one being listed.
    stack: Vec<Vec<u8>>,
    pub findings: Findings,
    pub entries: u64,
    pub dirs: u64,
    /// The entry bound was reached: the walk stops.
    pub stopped: bool,
    pub configs: Vec<ConfigSeen>,
    /// Entries seen under protected names that could run something (not empty files, not
    /// `*.sample` hooks): tells a directory moved into place from a new, inert one.
    live: u64,
}

fn push_name(path: &mut PathBuf, name: &CStr) {
    path.push(OsStr::from_bytes(name.to_bytes()));
}

fn errno_text(e: Errno) -> String {
    e.desc().to_string()
}

impl<'a> Walker<'a> {
    pub fn new(plan: &'a AuditPlan, since: i64) -> Self {
        Walker {
            plan,
            since,
            names: plan
                .names
                .iter()
                .map(|n| (*n, n.split('/').map(str::as_bytes).collect()))
                .collect(),
            stack: Vec::new(),
            findings: Findings::new(plan.limits.max_findings),
            entries: 0,
            dirs: 0,
            stopped: false,
            configs: Vec::new(),
            live: 0,
        }
    }

    pub fn changed(&self, meta: &Meta) -> bool {
        meta.ctime >= self.since
    }

    /// The protected name `leaf` completes, given the directories above it.
    fn match_name(&self, leaf: &[u8]) -> Option<&'static str> {
        self.names.iter().find_map(|(name, comps)| {
            let (last, parents) = comps.split_last()?;
            let fits = *last == leaf
                && parents.len() <= self.stack.len()
                && parents
                    .iter()
                    .rev()
                    .zip(self.stack.iter().rev())
                    .all(|(p, s)| *p == s.as_slice());
            fits.then_some(*name)
        })
    }

    /// Walks one root (a directory the command could write).
    pub fn root(&mut self, root: &Path) {
        if self.stopped {
            return;
        }
        let fd = match fsio::open_dir_path(root) {
            Ok(fd) => fd,
            // A file root, or one that is gone: nothing below it.
            Err(Errno::ENOENT | Errno::ENOTDIR) => return,
            Err(e) => {
                self.findings.push(
                    root,
                    What::Unreadable {
                        error: errno_text(e),
                    },
                );
                return;
            }
        };
        let dir = match Dir::from_fd(fd) {
            Ok(d) => d,
            Err(e) => {
                self.findings.push(
                    root,
                    What::Unreadable {
                        error: errno_text(e),
                    },
                );
                return;
            }
        };
        // A root inside a protected name (`allowWrite: ["~/.vscode/x"]`) is protected as a whole.
        self.stack.clear();
        let mut ctx = Ctx::Plain;
        for comp in root.components() {
            let comp = comp.as_os_str().as_bytes();
            if let Some(name) = self.match_name(comp) {
                ctx = Ctx::Protected {
                    name,
                    hooks: name.ends_with("hooks"),
                };
            }
            self.stack.push(comp.to_vec());
        }
        self.dirs += 1;
        let mut path = root.to_path_buf();
        self.walk_dir(dir, &mut path, 0, ctx);
        if self.stopped {
            self.findings.push(
                root,
                What::Incomplete {
                    reason: format!(
                        "the audit stopped after {} entries",
                        self.plan.limits.max_entries
                    ),
                },
            );
        }
    }

    fn walk_dir(&mut self, mut dir: Dir, path: &mut PathBuf, depth: u32, ctx: Ctx) -> DirResult {
        let mut subdirs: Vec<CString> = Vec::new();
        let mut cands: Vec<(CString, Cand)> = Vec::new();
        let mut special: Vec<(CString, Option<Kind>)> = Vec::new();
        let (mut head, mut objects, mut commondir) = (false, false, false);
        let mut list_error = None;
        for entry in dir.iter() {
            let e = match entry {
                Ok(e) => e,
                Err(err) => {
                    list_error = Some(err);
                    break;
                }
            };
            let name = e.file_name();
            let b = name.to_bytes();
            if b == b"." || b == b".." {
                continue;
            }
            self.entries += 1;
            if self.entries > self.plan.limits.max_entries {
                self.stopped = true;
                break;
            }
            let kind = Kind::from_dirent(e.file_type());
            head |= b == b"HEAD";
            objects |= b == b"objects";
            commondir |= b == b"commondir";
            let cand = match ctx {
                Ctx::Protected { .. } => Some(Cand::InProtected),
                _ if GIT_SPECIAL.contains(&b) => {
                    special.push((name.to_owned(), kind));
                    continue;
                }
                _ if b == b".git" => Some(Cand::DotGit),
                _ => self.match_name(b).map(Cand::Name),
            };
            match (cand, kind) {
                (Some(c), _) => cands.push((name.to_owned(), c)),
                (None, Some(Kind::Dir)) => subdirs.push(name.to_owned()),
                (None, None) => cands.push((name.to_owned(), Cand::Unknown)),
                (None, Some(_)) => {}
            }
        }
        if let Some(err) = list_error {
            self.findings.push(
                path,
                What::Unreadable {
                    error: errno_text(err),
                },
            );
        }
        let mut out = DirResult { reported: false };
        if self.stopped {
            return out;
        }
        let own_is_dot_git = self.stack.last().is_some_and(|n| n == b".git");
        let is_git_dir = !matches!(ctx, Ctx::Protected { .. })
            && (own_is_dot_git || head && (objects || commondir));
        let fd = dir.as_fd();
        let sub_ctx = match ctx {
            Ctx::Protected { .. } => ctx,
            _ if is_git_dir => Ctx::InGitDir,
            _ => ctx,
        };
        if is_git_dir {
            out.reported |= self.git_dir(fd, path, depth, ctx, own_is_dot_git, &special);
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
        for name in subdirs {
            if let Some(r) = self.descend(fd, path, depth, &name, sub_ctx) {
                out.reported |= r.reported;
            }
        }
        out
    }

    /// Lists the subdirectory `name` of `parent` (at `path`) in `ctx`.
    fn descend(
        &mut self,
        parent: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        name: &CStr,
        ctx: Ctx,
    ) -> Option<DirResult> {
        if self.stopped {
            return None;
        }
        push_name(path, name);
        let out = if depth + 1 > self.plan.limits.max_depth {
            self.findings.push(
                path,
                What::Incomplete {
                    reason: format!(
                        "more than {} directory levels below the root",
                        self.plan.limits.max_depth
                    ),
                },
            );
            None
        } else {
            match fsio::open_dir_at(parent, name) {
                Ok(d) => {
                    self.dirs += 1;
                    self.stack.push(name.to_bytes().to_vec());
                    let r = self.walk_dir(d, path, depth + 1, ctx);
                    self.stack.pop();
                    Some(r)
                }
                Err(Errno::ENOENT) => None,
                Err(e) => {
                    self.findings.push(
                        path,
                        What::Unreadable {
                            error: errno_text(e),
                        },
                    );
                    None
                }
            }
        };
        path.pop();
        out
    }

    /// Examines one candidate entry; returns whether something was reported.
    fn candidate(
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
                self.findings.push(
                    path,
                    What::Unreadable {
                        error: errno_text(e),
                    },
                );
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

    fn report_name(&mut self, path: &Path, name: &'static str) {
        self.findings.push(path, What::ProtectedName { name });
    }

    /// What a `.git` file, `commondir` or symlink points at, for the report.
    fn pointer_target(&self, fd: BorrowedFd<'_>, name: &CStr, kind: Kind) -> String {
        match kind {
            Kind::Symlink => fsio::read_link_at(fd, name).map_or_else(
                || "a symlink".to_string(),
                |t| format!("{} (a symlink)", t.to_string_lossy()),
            ),
            Kind::File => match fsio::read_at(fd, name, 4096) {
                Ok(c) => String::from_utf8_lossy(&c.bytes).trim().to_string(),
                Err(e) => format!("(unreadable: {})", errno_text(e)),
            },
            _ => "something that is not a file".to_string(),
        }
    }

    /// A git directory: is it new, what its configs set, where `commondir` points, and its
    /// hooks. Returns whether something was reported.
    fn git_dir(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        ctx: Ctx,
        own_is_dot_git: bool,
        special: &[(CString, Option<Kind>)],
    ) -> bool {
        let mut reported = false;
        let has = |n: &[u8]| special.iter().any(|(s, _)| s.to_bytes() == n);
        if ctx != Ctx::InGitDir && self.git_dir_is_new(fd, has(b"HEAD"), has(b"config")) {
            let what = if own_is_dot_git {
                What::NewRepository
            } else {
                What::BareRepository
            };
            self.findings.push(path, what);
            reported = true;
        }
        let hooks_base = if own_is_dot_git {
            path.parent()
                .map_or_else(|| path.clone(), Path::to_path_buf)
        } else {
            path.clone()
        };
        for (name, kind) in special {
            let b = name.to_bytes();
            match b {
                b"config" | b"config.worktree" => {
                    let protected = (own_is_dot_git && b == b"config")
                        .then(|| self.match_name(b))
                        .flatten();
                    reported |= self.git_config(fd, path, name, &hooks_base, protected);
                }
                b"commondir" => {
                    if let Ok(meta) = fsio::stat_at(fd, name) {
                        let inert = meta.kind == Kind::File && meta.size == 0;
                        if self.changed(&meta) && !inert {
                            let target = self.pointer_target(fd, name, meta.kind);
                            push_name(path, name);
                            self.findings.push(path, What::GitPointer { target });
                            path.pop();
                            reported = true;
                        }
                    }
                }
                b"hooks" => {
                    let name_text = if own_is_dot_git {
                        ".git/hooks"
                    } else {
                        "hooks"
                    };
                    let protected = self.match_name(b).unwrap_or(name_text);
                    reported |=
                        self.candidate(fd, path, depth, Ctx::Plain, name, Cand::Name(protected));
                }
                _ if GIT_STORAGE.contains(&b) => {}
                _ if *kind == Some(Kind::Dir) || kind.is_none() => {
                    if let Some(r) = self.descend(fd, path, depth, name, Ctx::InGitDir) {
                        reported |= r.reported;
                    }
                }
                _ => {}
            }
        }
        reported
    }

    /// Whether the git directory open at `fd` was made during the run: its birth time where
    /// the filesystem records one; else its entry, `HEAD` and `config` all changed (every git
    /// command changes the directory, few rewrite `HEAD` and `config` together).
    fn git_dir_is_new(&self, fd: BorrowedFd<'_>, head: bool, config: bool) -> bool {
        let Ok(own) = fsio::stat_at(fd, c".") else {
            return false;
        };
        if let Some(born) = own.btime.filter(|b| *b > 0) {
            return born >= self.since;
        }
        let changed = |name: &CStr| {
            fsio::stat_at(fd, name)
                .map(|m| self.changed(&m))
                .unwrap_or(false)
        };
        self.changed(&own) && head && config && changed(c"HEAD") && changed(c"config")
    }

    /// Reads a git directory's config file; reports what it sets that runs a program when it
    /// changed during the run, and keeps its `core.hooksPath` and includes for the second pass.
    fn git_config(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        name: &CStr,
        hooks_base: &Path,
        protected: Option<&'static str>,
    ) -> bool {
        push_name(path, name);
        let reported = match fsio::read_at(fd, name, self.plan.limits.max_file_bytes) {
            Ok(c) if c.meta.kind == Kind::File => {
                let parsed = gitconfig::parse(&c.bytes);
                let changed = self.changed(&c.meta);
                let reported = self.config_entries(path, &parsed, changed, c.truncated);
                if changed && !reported && c.meta.size > 0 {
                    if let Some(n) = protected {
                        self.report_name(path, n);
                    }
                }
                let mut seen = ConfigSeen {
                    file: path.clone(),
                    hooks_base: hooks_base.to_path_buf(),
                    hooks_paths: Vec::new(),
                    includes: Vec::new(),
                };
                collect_paths(&parsed, &mut seen);
                self.configs.push(seen);
                reported || (changed && protected.is_some() && c.meta.size > 0)
            }
            Ok(c) => {
                if self.changed(&c.meta) {
                    self.findings.push(
                        path,
                        What::Unreadable {
                            error: "not a regular file".into(),
                        },
                    );
                }
                false
            }
            // A symlink (O_NOFOLLOW), which git would follow.
            Err(Errno::ELOOP) => match fsio::stat_at(fd, name) {
                Ok(meta) if self.changed(&meta) => {
                    let target = self.pointer_target(fd, name, meta.kind);
                    self.findings.push(path, What::GitPointer { target });
                    true
                }
                _ => false,
            },
            Err(Errno::ENOENT) => false,
            Err(e) => {
                self.findings.push(
                    path,
                    What::Unreadable {
                        error: errno_text(e),
                    },
                );
                true
            }
        };
        path.pop();
        reported
    }

    /// Reports the settings of a parsed config that run programs, when the file changed.
    pub fn config_entries(
        &mut self,
        path: &Path,
        parsed: &gitconfig::Parsed,
        changed: bool,
        truncated: bool,
    ) -> bool {
        if !changed {
            return false;
        }
        let mut reported = false;
        for e in &parsed.entries {
            if let Some(k) = GitExecKey::find(
                &e.section,
                e.subsection.as_deref(),
                &e.name,
                e.value.as_deref(),
            ) {
                self.findings.push(
                    path,
                    What::GitSetting {
                        key: e.key(),
                        value: e.value.clone(),
                        why: k.why,
                    },
                );
                reported = true;
            }
        }
        if truncated || parsed.capped {
            self.findings.push(
                path,
                What::Incomplete {
                    reason: format!(
                        "only the first {} bytes of this git config were read",
                        self.plan.limits.max_file_bytes
                    ),
                },
            );
            reported = true;
        }
        reported
    }
}

/// `core.hooksPath` and include paths of a parsed config.
pub(crate) fn collect_paths(parsed: &gitconfig::Parsed, seen: &mut ConfigSeen) {
    for e in &parsed.entries {
        let Some(v) = &e.value else { continue };
        match (e.section.as_str(), e.subsection.is_some(), e.name.as_str()) {
            ("core", false, "hookspath") => seen.hooks_paths.push(v.clone()),
            ("include", false, "path") | ("includeif", true, "path") => {
                seen.includes.push(v.clone())
            }
            _ => {}
        }
    }
}
