//! The start-of-run walk behind [`super::facts::HostFacts`]: one walk for all patterns (the
//! globs' matches and the mandatory-deny scan), each directory listed at most once, through a
//! [`ScanIndex`] when the runtime keeps one.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::fsview::{DirEntry, EntryKind, FileKind, FsView};
use crate::glob::GlobRegex;
use crate::ir::{Ir, PathRule};
use crate::path::PathPattern;

/// Directory listings kept between runs (by the runtime, in srt's state directory), so that
/// the walk lists again only the directories that changed. The walk asks it for every
/// directory it would list; an index answers either with the whole listing, made now, or,
/// for a directory unchanged since it indexed it, with the entries `keep` accepted then.
/// `keep` depends only on the directory, the entry, and what [`ScanIndex::begin`] was told.
pub trait ScanIndex {
    /// Before the walk: where it starts, and what it looks for (`fingerprint`: an index made
    /// for other rules is not used).
    fn begin(&mut self, roots: &[PathBuf], fingerprint: &str);
    /// The entries of `dir` (see the trait), or `None` if it cannot be listed.
    fn list(&mut self, dir: &Path, keep: &dyn Fn(&OsStr, EntryKind) -> bool) -> Option<Listed>;
}

/// What [`ScanIndex::list`] answered.
pub struct Listed {
    pub entries: Vec<DirEntry>,
    /// Every entry (listed now), or only those `keep` accepted (from the index).
    pub complete: bool,
}

pub(super) enum What {
    Glob(String, GlobRegex),
    Mandatory,
}

pub(super) struct Job {
    pub(super) base: PathBuf,
    /// Directories deeper than this below `base` are not listed; `None`: no limit (`**`).
    pub(super) max_dir_depth: Option<usize>,
    pub(super) skip_node_modules: bool,
    pub(super) what: What,
}

pub(super) fn glob_job(_rule: &PathRule, glob: &str, regex: &GlobRegex) -> Job {
    let base = PathPattern::Glob {
        glob: glob.to_string(),
        regex: regex.clone(),
    }
    .base();
    let rest = glob
        .strip_prefix(base.to_string_lossy().as_ref())
        .unwrap_or(glob);
    let components = rest.split('/').filter(|c| !c.is_empty()).count();
    Job {
        base: spelled(&base),
        max_dir_depth: (!rest.contains("**")).then(|| components.saturating_sub(1)),
        skip_node_modules: false,
        what: What::Glob(glob.to_string(), regex.clone()),
    }
}

pub(super) struct Walk<'a> {
    pub(super) fs: &'a dyn FsView,
    pub(super) ir: &'a Ir,
    pub(super) jobs: &'a [Job],
    pub(super) found: BTreeMap<String, BTreeSet<PathBuf>>,
    pub(super) mandatory: BTreeSet<PathBuf>,
    /// Directories whose listing to keep, and the deny-read globs whose matches' directories
    /// are kept too.
    pub(super) keep: &'a BTreeSet<PathBuf>,
    pub(super) deny_globs: &'a BTreeSet<&'a str>,
    pub(super) kept: BTreeMap<PathBuf, Vec<DirEntry>>,
}

impl Walk<'_> {
    /// What the walk looks for, for an index: the jobs and the mandatory names.
    fn fingerprint(&self) -> String {
        let mut out = String::from("srt-scan-1\n");
        for j in self.jobs {
            let what = match &j.what {
                What::Glob(g, _) => format!("glob {g}"),
                What::Mandatory => "mandatory".to_string(),
            };
            out.push_str(&format!(
                "{} {:?} {} {what}\n",
                j.base.display(),
                j.max_dir_depth,
                j.skip_node_modules
            ));
        }
        for n in &self.ir.fs.mandatory_deny_names {
            out.push_str(n);
            out.push('\n');
        }
        out
    }

    /// Whether the entry `name` of `dir` matters to one of `active`: a directory (walked), a
    /// match of a glob, or a name the mandatory denies start with. Other entries change
    /// nothing in the walk.
    fn wanted(&self, dir: &Path, active: &[&Job], name: &OsStr, kind: EntryKind) -> bool {
        if kind == EntryKind::Dir {
            return true;
        }
        active.iter().any(|job| match &job.what {
            What::Glob(_, regex) => regex.matches_exact(&dir.join(name).to_string_lossy()),
            What::Mandatory => {
                name == ".git"
                    || self
                        .ir
                        .fs
                        .mandatory_deny_names
                        .iter()
                        .any(|n| n.split('/').next().is_some_and(|first| name == first))
            }
        })
    }

    /// Lists every directory some job needs, each once (through `index` when there is one).
    /// Returns how many were listed.
    pub(super) fn run(
        &mut self,
        unlisted: &mut Vec<PathBuf>,
        mut index: Option<&mut dyn ScanIndex>,
    ) -> usize {
        // Walk from the outermost bases; nested bases are reached on the way down.
        let mut starts: Vec<&Path> = self.jobs.iter().map(|j| j.base.as_path()).collect();
        starts.sort();
        starts.dedup();
        let outer: Vec<PathBuf> = starts
            .iter()
            .filter(|s| !starts.iter().any(|o| o != *s && s.starts_with(o)))
            .map(|s| s.to_path_buf())
            .collect();
        if let Some(ix) = index.as_mut() {
            ix.begin(&outer, &self.fingerprint());
        }
        let mut listed = 0;
        let mut stack = outer;
        while let Some(dir) = stack.pop() {
            let active: Vec<&Job> = self.jobs.iter().filter(|j| j.wants(&dir)).collect();
            let leads_to_base = self.jobs.iter().any(|j| j.below_dir(&dir));
            if active.is_empty() && !leads_to_base {
                continue;
            }
            // A directory whose listing is kept (see `rebuilt`) is listed in full, always.
            let full_needed = self.keep.contains(&dir);
            let listing = match index.as_mut() {
                Some(ix) if !full_needed => {
                    let keep = |name: &OsStr, kind| self.wanted(&dir, &active, name, kind);
                    ix.list(&dir, &keep)
                }
                _ => self.fs.list(&dir).map(|entries| Listed {
                    entries,
                    complete: true,
                }),
            };
            let Some(listing) = listing else {
                if self.fs.kind(&dir) == Some(FileKind::Dir) {
                    unlisted.push(dir);
                }
                continue;
            };
            listed += 1;
            let entries = listing.entries;
            // One buffer for every entry's text: most entries match nothing.
            let mut text = dir.to_string_lossy().into_owned();
            if !text.ends_with('/') {
                text.push('/');
            }
            let dir_len = text.len();
            let mut keep = full_needed;
            for e in &entries {
                text.truncate(dir_len);
                text.push_str(&e.name.to_string_lossy());
                for job in &active {
                    match &job.what {
                        What::Glob(g, regex) => {
                            if regex.matches_exact(&text) {
                                keep |= self.deny_globs.contains(g.as_str());
                                self.found
                                    .entry(g.clone())
                                    .or_default()
                                    .insert(dir.join(&e.name));
                            }
                        }
                        What::Mandatory => self.mandatory_entry(&dir, &e.name, e.kind),
                    }
                }
                if e.kind == EntryKind::Dir {
                    stack.push(dir.join(&e.name));
                }
            }
            // A denied file's directory is rebuilt from its whole listing (`rebuilt` lists it
            // if this one is not whole).
            if keep && listing.complete {
                self.kept.insert(dir, entries);
            }
        }
        listed
    }

    fn mandatory_entry(&mut self, dir: &Path, name: &OsStr, kind: EntryKind) {
        if name == ".git" && kind == EntryKind::File {
            // A submodule's or worktree's `.git` file says where git reads config and hooks.
            self.mandatory.insert(dir.join(name));
            return;
        }
        let names = &self.ir.fs.mandatory_deny_names;
        for n in names {
            let mut parts = n.splitn(2, '/');
            let first = parts.next().unwrap_or_default();
            if name != OsStr::new(first) {
                continue;
            }
            let path = dir.join(name);
            match parts.next() {
                None => {
                    self.mandatory.insert(path);
                }
                // A symlinked `.git` or `.claude` counts when it leads to a directory.
                Some(rest)
                    if kind == EntryKind::Dir
                        || kind == EntryKind::Symlink
                            && self.fs.kind(&path) == Some(FileKind::Dir) =>
                {
                    let inner = path.join(rest);
                    // A repository's hooks are denied before there are any (git creates them).
                    if first == ".git" && rest == "hooks" || self.fs.kind(&inner).is_some() {
                        self.mandatory.insert(inner);
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// `path` below `base` (both as the walk spells them: absolute, no `.`, `..`, repeated or
/// trailing `/`), as bytes without a leading `/`; empty for `base` itself.
fn below<'a>(path: &'a Path, base: &Path) -> Option<&'a [u8]> {
    use std::os::unix::ffi::OsStrExt;
    let (path, base) = (path.as_os_str().as_bytes(), base.as_os_str().as_bytes());
    if base == b"/" {
        return path.strip_prefix(b"/");
    }
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix(b"/")
    }
}

/// A path as the walk spells it (see [`below`]): `Path` compares by components, so this
/// changes no comparison.
pub(super) fn spelled(path: &Path) -> PathBuf {
    path.components().collect()
}

impl Job {
    /// Does this job need `dir` listed?
    pub(super) fn wants(&self, dir: &Path) -> bool {
        let Some(rel) = below(dir, &self.base) else {
            return false;
        };
        if rel.is_empty() {
            return true;
        }
        let mut depth = 0;
        for c in rel.split(|b| *b == b'/') {
            if self.skip_node_modules && c == b"node_modules" {
                return false;
            }
            depth += 1;
        }
        self.max_dir_depth.is_none_or(|m| depth <= m)
    }

    /// Does `dir` lie above this job's base (so that walking it leads there)?
    fn below_dir(&self, dir: &Path) -> bool {
        below(&self.base, dir).is_some_and(|r| !r.is_empty())
    }
}
