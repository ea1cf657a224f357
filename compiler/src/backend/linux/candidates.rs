//! Candidates for mounts: every path a rule names (literally, as a glob match, or through the
//! mandatory-deny scan), with what is there and where a mount would land. Coded notes for what
//! bubblewrap cannot express are raised here, where the rule is in hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use srt_schema::Diagnostic;

use super::facts::HostFacts;
use super::links::LinkChain;
use super::mounts::Mode;
use super::notes::{self as code, note, note_at};
use super::StubKind;
use crate::decide::Access;
use crate::fsview::FileKind;
use crate::ir::{Ir, PathRule, MANDATORY_DENY_DIRS};
use crate::origin::{builtin as ir_builtin, Origin};
use crate::path::PathPattern;

/// A path some rule (or a glob match, or the mandatory-deny scan) puts on the table.
pub(super) struct Candidate {
    /// Where the decision is asked (the spelled path, or a glob's match).
    pub at: PathBuf,
    /// Where a mount would land: `at`, or the target of a symlinked deny.
    pub mount: PathBuf,
    pub origin: Origin,
    pub kind: Option<FileKind>,
    /// What to create if it is missing.
    pub missing_kind: StubKind,
    /// A mode that overrides the decision (a `.git` file is kept a file).
    pub force: Option<Mode>,
    /// Recreate this symlink (an entry of a rebuilt directory) rather than bind it.
    pub link: Option<PathBuf>,
    /// An empty directory whose entries are bound back one by one (see `rebuilt`).
    pub rebuilt: bool,
}

/// Where bwrap mounts a private filesystem of the sandbox's own (`--dev`, `--proc`).
pub(super) const KERNEL_FS: [&str; 2] = ["/dev", "/proc"];

pub(super) fn is_kernel_fs(p: &Path) -> bool {
    KERNEL_FS.iter().any(|k| p.starts_with(k))
}

pub(super) struct Gather<'a> {
    pub ir: &'a Ir,
    pub facts: &'a HostFacts,
    pub notes: &'a mut Vec<Diagnostic>,
    pub out: BTreeMap<PathBuf, Candidate>,
    /// Protected paths reached through symlinks.
    pub links: Vec<ThroughLinks>,
}

/// A protected path and the symlinks on the way to it.
pub(super) struct ThroughLinks {
    pub at: PathBuf,
    pub origin: Origin,
    pub force: Option<Mode>,
    pub chain: LinkChain,
}

impl Gather<'_> {
    fn add(&mut self, c: Candidate) {
        self.out.entry(c.mount.clone()).or_insert(c);
    }

    /// One existing or missing path named by `rule` (directly, or as a glob match).
    pub fn path(&mut self, rule: &PathRule, at: &Path, deny: bool, missing_kind: StubKind) {
        let who = self.ir.describe(&rule.origin);
        if is_kernel_fs(at) {
            if rule.origin.span().is_some() {
                self.notes.push(note_at(&rule.origin, code::KERNEL_FS_PATH, format!(
                    "{who}: {} is under /dev or /proc, which bwrap replaces with its own; the rule is not applied there", at.display())));
            }
            return;
        }
        let fact = self.facts.fact(at);
        let mut mount = at.to_path_buf();
        // A deny lands where the path really is, even when it is missing (a stub for
        // `.git/config` goes in the linked repository, not through the link).
        let real = if deny {
            Some(self.facts.real_location(at))
        } else {
            fact.real.clone()
        };
        if let Some(real) = real.as_ref().filter(|r| *r != at) {
            if !deny {
                self.notes.push(note_at(&rule.origin, code::SYMLINK_ALLOW_SKIPPED, format!(
                    "{who}: {} is a symlink to {}; binding it would grant the target, so it is left as it is", at.display(), real.display())));
                return;
            }
            let message = format!(
                "{who}: {} leads through a symlink; the deny is mounted on its target, {}",
                at.display(),
                real.display()
            );
            if !self.notes.iter().any(|n| n.message == message) {
                self.notes
                    .push(note_at(&rule.origin, code::SYMLINK_DENY_TARGET, message));
            }
            mount = real.clone();
        }
        if fact.kind.is_none() && !deny && rule.origin.span().is_some() {
            let key = match &rule.origin {
                Origin::Policy { key, .. } => *key,
                Origin::BuiltIn(_) => "",
            };
            if key == "filesystem.allowWrite" {
                self.notes.push(note_at(&rule.origin, code::WRITE_PATH_MISSING, format!(
                    "{who}: {} does not exist, so there is nothing to bind; the command cannot create it", at.display())));
            }
        }
        if deny && self.through_links(at, &rule.origin, None) {
            // Through a link that leads nowhere: nothing can be mounted (see `links::pins`).
            return;
        }
        self.add(Candidate {
            at: at.to_path_buf(),
            mount,
            origin: rule.origin.clone(),
            kind: fact.kind,
            missing_kind,
            force: None,
            link: None,
            rebuilt: false,
        });
    }

    /// Records the symlinks on the way to a protected `at`, for the link pins. Returns whether
    /// one of them leads nowhere (or cannot be followed).
    fn through_links(&mut self, at: &Path, origin: &Origin, force: Option<Mode>) -> bool {
        let chain = self.facts.links_to(at);
        if chain.is_empty() {
            return false;
        }
        let broken = chain.dangling.is_some() || chain.unresolved.is_some();
        self.links.push(ThroughLinks {
            at: at.to_path_buf(),
            origin: origin.clone(),
            force,
            chain,
        });
        broken
    }

    pub fn rule(&mut self, rule: &PathRule, deny: bool) {
        let who = self.ir.describe(&rule.origin);
        match &rule.pattern {
            PathPattern::Literal(p) => self.path(rule, p, deny, StubKind::File),
            PathPattern::Glob { glob, .. } => {
                if !super::facts::walkable_base(&rule.pattern.base()) {
                    self.notes.push(note_at(&rule.origin, code::GLOB_NO_BASE, format!(
                        "{who}: \"{glob}\" has no literal directory below / (outside /proc, /sys, /dev) to expand from; on Linux it covers nothing")));
                    return;
                }
                let matches = self.facts.globs.get(glob).cloned().unwrap_or_default();
                if matches.is_empty() {
                    self.notes.push(note_at(&rule.origin, code::GLOB_MATCHES_NOTHING, format!(
                        "{who}: \"{glob}\" matches nothing yet; on Linux a glob is expanded when the sandbox starts, so it covers nothing in this plan")));
                } else if deny {
                    self.notes.push(note_at(&rule.origin, code::DENY_GLOB_EXISTING_ONLY, format!(
                        "{who}: \"{glob}\" covers the {} path(s) it matches now; a matching path the command creates later is not denied", matches.len())));
                } else {
                    self.notes.push(note_at(&rule.origin, code::ALLOW_GLOB_EXISTING_ONLY, format!(
                        "{who}: \"{glob}\" grants the {} path(s) it matches now; the command cannot create new matching paths", matches.len())));
                }
                for m in matches {
                    if !deny && self.facts.fact(&m).kind == Some(FileKind::Dir) {
                        self.notes.push(note_at(&rule.origin, code::ALLOW_GLOB_DIRECTORY, format!(
                            "{who}: \"{glob}\" matches the directory {}, which bwrap cannot open without its contents; it is left as it is", m.display())));
                        continue;
                    }
                    self.path(rule, &m, deny, StubKind::File);
                }
            }
        }
    }

    pub fn mandatory(&mut self) {
        let fs = &self.ir.fs;
        let origin = Origin::BuiltIn(ir_builtin::MANDATORY_DENY);
        let rule = PathRule {
            pattern: PathPattern::Literal(PathBuf::from("/")),
            origin: origin.clone(),
            spelled: String::new(),
            symlink_not_followed: None,
        };
        let kind_of = |name: &str| {
            if MANDATORY_DENY_DIRS.contains(&name) {
                StubKind::Dir
            } else {
                StubKind::File
            }
        };
        // Missing names get stubs where they are read later: the working directory (a
        // project's config, hooks, MCP servers) and the home directory (shell rc files,
        // .gitconfig), when writable. At other write roots only what exists is protected.
        let stub_dirs = stub_dirs(self.ir);
        let mut unstubbed = Vec::new();
        for root in fs.mandatory_deny_roots.iter().chain(stub_dirs.iter()) {
            let stubbed = stub_dirs.contains(root);
            let dot_git = root.join(".git");
            let git_kind = self.facts.fact(&dot_git).kind;
            for name in &fs.mandatory_deny_names {
                // `.git/…` only in a repository: a mount at `.git` would stop `git init`.
                if name.starts_with(".git/") && git_kind != Some(FileKind::Dir) {
                    continue;
                }
                let at = root.join(name);
                if !stubbed && !self.facts.exists(&at) {
                    if self.ir.decide_path(root, Access::Write).allowed && !unstubbed.contains(root)
                    {
                        unstubbed.push(root.clone());
                    }
                    continue;
                }
                self.path(&rule, &at, true, kind_of(name));
            }
            if git_kind == Some(FileKind::File) {
                // A worktree's or submodule's `.git` file: kept a file, so it cannot become
                // a directory with hooks.
                let _ = self.through_links(&dot_git, &origin, Some(Mode::ReadOnly));
                self.add(Candidate {
                    at: dot_git.clone(),
                    mount: dot_git,
                    origin: origin.clone(),
                    kind: Some(FileKind::File),
                    missing_kind: StubKind::File,
                    force: Some(Mode::ReadOnly),
                    link: None,
                    rebuilt: false,
                });
            }
        }
        if !unstubbed.is_empty() {
            self.notes.push(note(code::MANDATORY_DENY_NOT_STUBBED, format!(
                "the protected names missing at {} are not stubbed (only the working directory and the home directory get stubs); the command could create them there",
                unstubbed.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", "))));
        }
        // Protected paths named outright: a write root inside a protected name, or one that
        // is the directory part of one (`~/.claude` → `~/.claude/settings.json`).
        for rule in fs.mandatory_deny.iter() {
            if let PathPattern::Literal(p) = &rule.pattern {
                let kind = if rule.spelled.ends_with('/')
                    || MANDATORY_DENY_DIRS.iter().any(|d| p.ends_with(d))
                {
                    StubKind::Dir
                } else {
                    StubKind::File
                };
                self.path(rule, p, true, kind);
            }
        }
        for found in &self.facts.mandatory_found {
            let name = found.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == ".git" {
                // A nested repository's `.git` file (a submodule, a worktree): kept a file
                // that says what it says now.
                let _ = self.through_links(found, &origin, Some(Mode::ReadOnly));
                self.add(Candidate {
                    at: found.clone(),
                    mount: self.facts.real_location(found),
                    origin: origin.clone(),
                    kind: Some(FileKind::File),
                    missing_kind: StubKind::File,
                    force: Some(Mode::ReadOnly),
                    link: None,
                    rebuilt: false,
                });
                continue;
            }
            let kind = if name == "hooks" {
                StubKind::Dir
            } else {
                kind_of(name)
            };
            self.path(&rule, found, true, kind);
        }
        // Git's files in the nested repositories the scan found: the IR knows only the
        // repositories at the roots, so these are kept read-only here.
        let git_origin = Origin::BuiltIn(ir_builtin::GIT_FILES);
        for g in &self.facts.nested_git {
            let _ = self.through_links(&g.path, &git_origin, Some(Mode::ReadOnly));
            self.add(Candidate {
                at: g.path.clone(),
                mount: self.facts.real_location(&g.path),
                origin: git_origin.clone(),
                kind: self.facts.fact(&g.path).kind,
                missing_kind: if g.dir { StubKind::Dir } else { StubKind::File },
                force: Some(Mode::ReadOnly),
                link: None,
                rebuilt: false,
            });
        }
        if fs
            .mandatory_deny_roots
            .iter()
            .any(|r| self.ir.decide_path(r, Access::Write).allowed)
        {
            self.notes.push(note(code::MANDATORY_DENY_DEPTH, format!(
                "the mandatory denies cover the names at each write root and those found down to depth {} below it; one created later in a subdirectory, or deeper, is not denied",
                fs.mandatory_deny_search_depth)));
        }
    }
}

/// Where missing protected names get stubs: the cwd and the home directory, each when it
/// lies under a mandatory-deny root (so the names there are protected at all).
pub(super) fn stub_dirs(ir: &Ir) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in [&ir.cwd, &ir.home] {
        if ir.fs.mandatory_deny_roots.iter().any(|r| d.starts_with(r)) && !out.contains(d) {
            out.push(d.clone());
        }
    }
    out
}
