//! `HostFacts`: the one impure step before planning. A snapshot of what the Linux plan depends
//! on: which rule paths exist, where they really are, what they are (file or directory), what
//! every glob matches, and the mandatory-deny scan. Gathered through [`FsView`] (tests pass a
//! `FakeFs`), in one walk for all patterns: each directory is listed at most once, whatever
//! the number of rules that look into it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::fsview::{FileKind, FsView};
use crate::ir::Ir;
use crate::path::PathPattern;

use super::links::{chain, LinkChain};
use super::scan::{glob_job, spelled, Job, Walk, What};
pub use super::scan::{Listed, ScanIndex};

/// What is at one path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathFact {
    /// `None`: nothing is there (or a dangling symlink).
    pub kind: Option<FileKind>,
    /// The canonical path, when it exists.
    pub real: Option<PathBuf>,
    /// The path itself is a symlink.
    pub symlink: bool,
    /// How many hard links the regular file there has (0: not a regular file, or unknown).
    pub nlink: u64,
}

/// The snapshot the planner reads. Plain data: it can be built by hand in tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Every path the planner asks about, and the ancestors of a missing one up to the first
    /// that exists.
    pub paths: BTreeMap<PathBuf, PathFact>,
    /// What each glob (its absolute text, as in [`PathPattern::Glob`]) matches, sorted.
    pub globs: BTreeMap<String, Vec<PathBuf>>,
    /// Mandatory-deny names found below the roots within the search depth (sorted). A nested
    /// repository's `.git/hooks` is listed even when it does not exist yet.
    pub mandatory_found: Vec<PathBuf>,
    /// Directories a walk needed but could not list.
    pub unlisted: Vec<PathBuf>,
    /// The entries of `/`, gathered only when a `denyRead` names `/`.
    pub root_entries: Vec<PathBuf>,
    /// How many directories the walk listed (for the benchmark and `--debug`).
    pub dirs_listed: usize,
    /// For each path above that is reached through a symlink (or is one): the links on the
    /// way. A missing path's links are those of its ancestors in `paths`.
    pub links: BTreeMap<PathBuf, LinkChain>,
    /// The directories holding a denied file, with their entries, for rebuilding them
    /// (`None`: too many entries, or not listable). See `rebuilt`.
    pub rebuildable: BTreeMap<PathBuf, Option<Vec<super::rebuilt::Entry>>>,
    /// What git reads config, hooks and commands from in the nested repositories the scan
    /// found (see [`crate::git`]).
    pub nested_git: Vec<crate::git::GitPath>,
}

impl HostFacts {
    /// What is at `path` (nothing, if it was never asked about).
    pub fn fact(&self, path: &Path) -> PathFact {
        self.paths.get(path).cloned().unwrap_or_default()
    }

    pub fn exists(&self, path: &Path) -> bool {
        self.fact(path).kind.is_some()
    }

    /// Records `path` and, when it is missing, its ancestors up to one that exists.
    pub fn probe(&mut self, fs: &dyn FsView, path: &Path) {
        let mut p = path.to_path_buf();
        loop {
            if self.paths.contains_key(&p) {
                return;
            }
            let kind = fs.kind(&p);
            let fact = PathFact {
                kind,
                real: kind.and_then(|_| fs.realpath(&p)),
                symlink: fs.is_symlink(&p),
                nlink: match kind {
                    Some(FileKind::File) => fs.link_count(&p).unwrap_or(0),
                    _ => 0,
                },
            };
            self.paths.insert(p.clone(), fact);
            if kind.is_some() {
                return;
            }
            match p.parent() {
                Some(parent) => p = parent.to_path_buf(),
                None => return,
            }
        }
    }

    /// Gathers everything [`super::plan`] needs for `ir`.
    pub fn gather(ir: &Ir, fs: &dyn FsView) -> HostFacts {
        HostFacts::gather_indexed(ir, fs, None)
    }

    /// [`HostFacts::gather`], listing through `index` when there is one: the facts are the
    /// same, the directories that did not change are not listed again.
    pub fn gather_indexed(
        ir: &Ir,
        fs: &dyn FsView,
        index: Option<&mut dyn ScanIndex>,
    ) -> HostFacts {
        let mut facts = HostFacts::default();
        if ir.fs.disabled {
            return facts;
        }
        let rules = ir
            .fs
            .deny_read
            .iter()
            .chain(&ir.fs.allow_read)
            .chain(&ir.fs.allow_write)
            .chain(&ir.fs.deny_write);
        let mut jobs = Vec::new();
        for rule in rules {
            match &rule.pattern {
                PathPattern::Literal(p) => facts.probe(fs, p),
                PathPattern::Glob { glob, regex } => {
                    let base = rule.pattern.base();
                    if !walkable_base(&base) {
                        continue;
                    }
                    facts.probe(fs, &base);
                    if !jobs
                        .iter()
                        .any(|j: &Job| matches!(&j.what, What::Glob(g, _) if g == glob))
                    {
                        jobs.push(glob_job(rule, glob, regex));
                    }
                }
            }
        }
        for root in &ir.fs.mandatory_deny_roots {
            facts.probe(fs, root);
            for name in &ir.fs.mandatory_deny_names {
                facts.probe(fs, &root.join(name));
            }
            facts.probe(fs, &root.join(".git"));
            jobs.push(Job {
                base: spelled(root),
                max_dir_depth: Some(usize::from(ir.fs.mandatory_deny_search_depth.max(1)) - 1),
                skip_node_modules: true,
                what: What::Mandatory,
            });
        }
        for dir in super::candidates::stub_dirs(ir) {
            for name in &ir.fs.mandatory_deny_names {
                facts.probe(fs, &dir.join(name));
            }
            facts.probe(fs, &dir.join(".git"));
        }
        for rule in &ir.fs.mandatory_deny {
            if let PathPattern::Literal(p) = &rule.pattern {
                facts.probe(fs, p);
            }
        }
        if let Some(p) = &ir.settings_path {
            facts.probe(fs, p);
        }
        if ir
            .fs
            .deny_read
            .iter()
            .any(|r| r.pattern == PathPattern::Literal(PathBuf::from("/")))
        {
            facts.root_entries = fs
                .list(Path::new("/"))
                .unwrap_or_default()
                .into_iter()
                .map(|e| Path::new("/").join(e.name))
                .collect();
            facts.root_entries.sort();
            for p in facts.root_entries.clone() {
                facts.probe(fs, &p);
            }
        }
        // The listings a rebuilt directory needs are kept from the walk, so that no
        // directory is listed twice (see `rebuilt`).
        let keep = super::rebuilt::literal_parents(ir, &facts);
        let deny_globs: BTreeSet<&str> = ir
            .fs
            .deny_read
            .iter()
            .filter_map(|r| match &r.pattern {
                PathPattern::Glob { glob, .. } => Some(glob.as_str()),
                PathPattern::Literal(_) => None,
            })
            .collect();
        let mut walk = Walk {
            fs,
            ir,
            jobs: &jobs,
            found: BTreeMap::new(),
            mandatory: BTreeSet::new(),
            keep: &keep,
            deny_globs: &deny_globs,
            kept: BTreeMap::new(),
        };
        facts.dirs_listed = walk.run(&mut facts.unlisted, index);
        let (found, mandatory, kept) = (walk.found, walk.mandatory, walk.kept);
        for job in &jobs {
            if let What::Glob(g, _) = &job.what {
                facts.globs.entry(g.clone()).or_default();
            }
        }
        for (glob, matches) in found {
            for m in &matches {
                facts.probe(fs, m);
            }
            facts.globs.insert(glob, matches.into_iter().collect());
        }
        for m in &mandatory {
            facts.probe(fs, m);
        }
        facts.mandatory_found = mandatory.into_iter().collect();
        facts.nested_git(ir, fs);
        facts.unlisted.sort();
        facts.unlisted.dedup();
        super::rebuilt::gather(ir, fs, &mut facts, kept);
        facts.links = facts
            .paths
            .iter()
            .filter(|(p, f)| f.symlink || f.real.as_ref().is_some_and(|r| r != *p))
            .map(|(p, _)| (p.clone(), chain(fs, p)))
            .filter(|(_, c)| !c.is_empty())
            .collect();
        facts
    }

    /// What git reads config, hooks and commands from in the nested repositories the scan
    /// found (those at the roots are in the IR already, see [`crate::git`]).
    fn nested_git(&mut self, ir: &Ir, fs: &dyn FsView) {
        let mut trees: Vec<PathBuf> = Vec::new();
        for m in &self.mandatory_found {
            let tree = if m.ends_with(".git/hooks") {
                m.parent().and_then(Path::parent)
            } else if m.file_name().is_some_and(|n| n == ".git") {
                m.parent()
            } else {
                None
            };
            if let Some(t) = tree.filter(|t| !ir.fs.mandatory_deny_roots.iter().any(|r| r == t)) {
                if !trees.iter().any(|x| x == t) {
                    trees.push(t.to_path_buf());
                }
            }
        }
        if trees.is_empty() {
            return;
        }
        let (found, listed) =
            crate::git::protected_paths_nested(fs, &trees, &ir.home, !ir.fs.allow_git_config);
        self.dirs_listed += listed;
        for g in found {
            self.probe(fs, &g.path);
            self.nested_git.push(g);
        }
    }

    /// The symlinks on the way to `path`: its own chain, or for a missing path those of its
    /// nearest existing ancestor and of any dangling link between them.
    pub fn links_to(&self, path: &Path) -> LinkChain {
        let mut out = LinkChain::default();
        for a in path.ancestors() {
            let Some(fact) = self.paths.get(a) else {
                continue;
            };
            if let Some(c) = self.links.get(a) {
                out.links.extend(c.links.iter().cloned());
                if out.dangling.is_none() && c.dangling.is_some() {
                    out.dangling = c.dangling.clone();
                    out.dangling_target_dir = c.dangling_target_dir.clone();
                }
                out.unresolved = out.unresolved.or_else(|| c.unresolved.clone());
            }
            if fact.kind.is_some() {
                break;
            }
        }
        out
    }

    /// Where `path` really is: its canonical path, or for a missing path its nearest existing
    /// ancestor's canonical path with the rest appended.
    pub fn real_location(&self, path: &Path) -> PathBuf {
        for a in path.ancestors() {
            let fact = self.fact(a);
            if fact.kind.is_some() {
                let real = fact.real.unwrap_or_else(|| a.to_path_buf());
                let rest = path.strip_prefix(a).unwrap_or(Path::new(""));
                return if rest.as_os_str().is_empty() {
                    real
                } else {
                    real.join(rest)
                };
            }
        }
        path.to_path_buf()
    }
}

/// A glob is expanded only from a literal directory below `/`, outside the kernel's
/// filesystems (the peer's rule: `/**/*.key` would walk the whole machine).
pub fn walkable_base(base: &Path) -> bool {
    base != Path::new("/")
        && !["/proc", "/sys", "/dev"]
            .iter()
            .any(|k| base.starts_with(k))
}
