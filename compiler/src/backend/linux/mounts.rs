//! The filesystem half of the plan: rules and host facts → boundaries (paths whose decision
//! differs from their parent's) → bwrap mounts, pins and stubs, in the contract's order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use srt_schema::Diagnostic;

use super::facts::HostFacts;
use super::{builtin, path_word, BwrapArg, Step, Stub, StubKind};
use crate::decide::Access;
use crate::fsview::FileKind;
use crate::ir::{Ir, PathRule, MANDATORY_DENY_DIRS};
use crate::origin::{builtin as ir_builtin, Origin};
use crate::path::PathPattern;

pub(super) struct FsPlan {
    pub args: Vec<BwrapArg>,
    pub stubs: Vec<Stub>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Hidden,
    ReadOnly,
    Writable,
}

/// A path some rule (or a glob match, or the mandatory-deny scan) puts on the table.
struct Candidate {
    /// Where the decision is asked (the spelled path, or a glob's match).
    at: PathBuf,
    /// Where a mount would land: `at`, or the target of a symlinked deny.
    mount: PathBuf,
    origin: Origin,
    kind: Option<FileKind>,
    /// What to create if it is missing.
    missing_kind: StubKind,
    /// A mode that overrides the decision (a `.git` file is kept a file).
    force: Option<Mode>,
}

struct Boundary {
    mode: Mode,
    is_dir: bool,
    origin: Origin,
}

fn is_kernel_fs(p: &Path) -> bool {
    p.starts_with("/dev") || p.starts_with("/proc")
}

fn note(origin: &Origin, code: &'static str, message: String) -> Diagnostic {
    let d = Diagnostic::note(code, message);
    match origin.span() {
        Some(span) => d.with_label(span, ""),
        None => d,
    }
}

struct Gather<'a> {
    ir: &'a Ir,
    facts: &'a HostFacts,
    notes: &'a mut Vec<Diagnostic>,
    out: BTreeMap<PathBuf, Candidate>,
}

impl Gather<'_> {
    fn add(&mut self, c: Candidate) {
        self.out.entry(c.mount.clone()).or_insert(c);
    }

    /// One existing or missing path named by `rule` (directly, or as a glob match).
    fn path(&mut self, rule: &PathRule, at: &Path, deny: bool, missing_kind: StubKind) {
        let who = self.ir.describe(&rule.origin);
        if is_kernel_fs(at) {
            if rule.origin.span().is_some() {
                self.notes.push(note(&rule.origin, "kernel-fs-path", format!(
                    "{who}: {} is under /dev or /proc, which bwrap replaces with its own; the rule is not applied there", at.display())));
            }
            return;
        }
        let fact = self.facts.fact(at);
        let mut mount = at.to_path_buf();
        if let Some(real) = fact.real.as_ref().filter(|r| *r != at) {
            if !deny {
                self.notes.push(note(&rule.origin, "symlink-allow-skipped", format!(
                    "{who}: {} is a symlink to {}; binding it would grant the target, so it is left as it is", at.display(), real.display())));
                return;
            }
            self.notes.push(note(
                &rule.origin,
                "symlink-deny-target",
                format!(
                    "{who}: {} is a symlink; the deny is mounted on its target, {}",
                    at.display(),
                    real.display()
                ),
            ));
            mount = real.clone();
        }
        if fact.kind.is_none() && !deny && rule.origin.span().is_some() {
            let key = match &rule.origin {
                Origin::Policy { key, .. } => *key,
                Origin::BuiltIn(_) => "",
            };
            if key == "filesystem.allowWrite" {
                self.notes.push(note(&rule.origin, "write-path-missing", format!(
                    "{who}: {} does not exist, so there is nothing to bind; the command cannot create it", at.display())));
            }
        }
        self.add(Candidate {
            at: at.to_path_buf(),
            mount,
            origin: rule.origin.clone(),
            kind: fact.kind,
            missing_kind,
            force: None,
        });
    }

    fn rule(&mut self, rule: &PathRule, deny: bool) {
        let who = self.ir.describe(&rule.origin);
        match &rule.pattern {
            PathPattern::Literal(p) => self.path(rule, p, deny, StubKind::File),
            PathPattern::Glob { glob, .. } => {
                if !super::facts::walkable_base(&rule.pattern.base()) {
                    self.notes.push(note(&rule.origin, "glob-no-base", format!(
                        "{who}: \"{glob}\" has no literal directory below / (outside /proc, /sys, /dev) to expand from; on Linux it covers nothing")));
                    return;
                }
                let matches = self.facts.globs.get(glob).cloned().unwrap_or_default();
                if matches.is_empty() {
                    self.notes.push(note(&rule.origin, "glob-matches-nothing", format!(
                        "{who}: \"{glob}\" matches nothing yet; on Linux a glob is expanded when the sandbox starts, so it covers nothing in this plan")));
                } else if deny {
                    self.notes.push(note(&rule.origin, "deny-glob-existing-only", format!(
                        "{who}: \"{glob}\" covers the {} path(s) it matches now; a matching path the command creates later is not denied", matches.len())));
                } else {
                    self.notes.push(note(&rule.origin, "allow-glob-existing-only", format!(
                        "{who}: \"{glob}\" grants the {} path(s) it matches now; the command cannot create new matching paths", matches.len())));
                }
                for m in matches {
                    if !deny && self.facts.fact(&m).kind == Some(FileKind::Dir) {
                        self.notes.push(note(&rule.origin, "allow-glob-directory", format!(
                            "{who}: \"{glob}\" matches the directory {}, which bwrap cannot open without its contents; it is left as it is", m.display())));
                        continue;
                    }
                    self.path(rule, &m, deny, StubKind::File);
                }
            }
        }
    }

    fn mandatory(&mut self) {
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
                self.add(Candidate {
                    at: dot_git.clone(),
                    mount: dot_git,
                    origin: origin.clone(),
                    kind: Some(FileKind::File),
                    missing_kind: StubKind::File,
                    force: Some(Mode::ReadOnly),
                });
            }
        }
        if !unstubbed.is_empty() {
            self.notes.push(Diagnostic::note("mandatory-deny-not-stubbed", format!(
                "the protected names missing at {} are not stubbed (only the working directory and the home directory get stubs); the command could create them there",
                unstubbed.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", "))));
        }
        for found in &self.facts.mandatory_found {
            let name = found.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let kind = if name == "hooks" {
                StubKind::Dir
            } else {
                kind_of(name)
            };
            self.path(&rule, found, true, kind);
        }
        if fs
            .mandatory_deny_roots
            .iter()
            .any(|r| self.ir.decide_path(r, Access::Write).allowed)
        {
            self.notes.push(Diagnostic::note("mandatory-deny-depth", format!(
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

fn decide_mode(ir: &Ir, at: &Path) -> Mode {
    if !ir.decide_path(at, Access::Read).allowed {
        Mode::Hidden
    } else if ir.decide_path(at, Access::Write).allowed {
        Mode::Writable
    } else {
        Mode::ReadOnly
    }
}

/// The rule that decides `at` in `mode` (for provenance), else `fallback`.
fn deciding_origin(ir: &Ir, at: &Path, mode: Mode, parent: Mode, fallback: &Origin) -> Origin {
    let access = match (mode, parent) {
        (Mode::Hidden, _) | (Mode::ReadOnly, Mode::Hidden) => Access::Read,
        _ => Access::Write,
    };
    ir.decide_path(at, access)
        .rule
        .map_or_else(|| fallback.clone(), |r| r.origin.clone())
}

fn inherited(boundaries: &BTreeMap<PathBuf, Boundary>, base: Mode, p: &Path) -> (Mode, PathBuf) {
    for a in p.ancestors().skip(1) {
        if let Some(b) = boundaries.get(a) {
            return (b.mode, a.to_path_buf());
        }
    }
    (base, PathBuf::from("/"))
}

fn step_of(b: &Boundary, parent: Mode) -> Step {
    match (b.mode, parent) {
        (Mode::Writable | Mode::ReadOnly, Mode::Hidden) => Step::ReadReopen,
        (Mode::Writable, _) => Step::WriteBind,
        (Mode::Hidden, _) => Step::ReadDeny,
        (Mode::ReadOnly, _) if b.origin == Origin::BuiltIn(ir_builtin::SETTINGS_FILE) => {
            Step::SettingsFile
        }
        (Mode::ReadOnly, _) => Step::WriteDeny,
    }
}

fn mount_arg(path: &Path, b: &Boundary, step: Step) -> BwrapArg {
    let p = path_word(path);
    let (words, effect) = match b.mode {
        Mode::Writable => (vec!["--bind".into(), p.clone(), p], "writable"),
        Mode::ReadOnly => (vec!["--ro-bind".into(), p.clone(), p], "read-only"),
        Mode::Hidden if b.is_dir => (
            vec!["--perms".into(), "0555".into(), "--tmpfs".into(), p],
            "hidden (empty directory)",
        ),
        Mode::Hidden => (vec!["--ro-bind".into(), "/dev/null".into(), p], "hidden"),
    };
    BwrapArg {
        words,
        step,
        origin: b.origin.clone(),
        effect,
    }
}

pub(super) fn plan_filesystem(ir: &Ir, facts: &HostFacts, notes: &mut Vec<Diagnostic>) -> FsPlan {
    let base_arg = |words: &[&str], origin: Origin, effect| BwrapArg {
        words: words.iter().map(Into::into).collect(),
        step: Step::Base,
        origin,
        effect,
    };
    let proc_arg = if ir.process.weaker_nested_sandbox {
        vec!["--bind", "/proc", "/proc"]
    } else {
        vec!["--proc", "/proc"]
    };
    let root = Path::new("/");
    let base = if ir.fs.disabled {
        Mode::Writable
    } else {
        decide_mode(ir, root)
    };
    let base_origin = |access| {
        ir.decide_path(root, access)
            .rule
            .map_or(Origin::BuiltIn(builtin::ROOT), |r| r.origin.clone())
    };
    let mut args = vec![
        if base == Mode::Writable {
            let o = if ir.fs.disabled {
                Origin::BuiltIn(ir_builtin::FILESYSTEM_DISABLED)
            } else {
                base_origin(Access::Write)
            };
            base_arg(&["--bind", "/", "/"], o, "writable")
        } else {
            base_arg(
                &["--ro-bind", "/", "/"],
                Origin::BuiltIn(builtin::ROOT),
                "read-only",
            )
        },
        base_arg(
            &["--dev", "/dev"],
            Origin::BuiltIn(builtin::DEV),
            "private /dev",
        ),
        base_arg(&proc_arg, Origin::BuiltIn(builtin::PROC), "private /proc"),
    ];
    if ir.fs.disabled {
        return FsPlan {
            args,
            stubs: Vec::new(),
        };
    }
    // The root itself cannot be hidden (bwrap needs a root); a `denyRead: ["/"]` hides each
    // of its entries instead, except the kernel's.
    let base = if base == Mode::Hidden {
        notes.push(note(&base_origin(Access::Read), "deny-read-root", "denyRead covers /: srt hides each entry of / except /dev, /proc and /sys, which the sandbox needs".into()));
        Mode::ReadOnly
    } else {
        base
    };

    let mut g = Gather {
        ir,
        facts,
        notes,
        out: BTreeMap::new(),
    };
    for e in &facts.root_entries {
        if !["/dev", "/proc", "/sys"].iter().any(|k| e == Path::new(k)) {
            let rule = PathRule {
                pattern: PathPattern::Literal(e.clone()),
                origin: base_origin(Access::Read),
                spelled: String::new(),
                symlink_not_followed: None,
            };
            g.path(&rule, e, true, StubKind::File);
        }
    }
    for r in &ir.fs.deny_read {
        g.rule(r, true);
    }
    for r in ir.fs.allow_read.iter().chain(&ir.fs.allow_write) {
        g.rule(r, false);
    }
    for r in &ir.fs.deny_write {
        g.rule(r, true);
    }
    g.mandatory();
    let candidates = g.out;

    let mut boundaries: BTreeMap<PathBuf, Boundary> = BTreeMap::new();
    let mut stubs: Vec<Stub> = Vec::new();
    for (mount, c) in &candidates {
        if mount == root {
            continue;
        }
        let mode = c.force.unwrap_or_else(|| decide_mode(ir, &c.at));
        let (parent, _) = inherited(&boundaries, base, mount);
        if mode == parent {
            continue;
        }
        let origin = deciding_origin(ir, &c.at, mode, parent, &c.origin);
        let is_dir = match c.kind {
            Some(k) => k == FileKind::Dir,
            None => {
                // Missing: only a name the command could create needs a stub.
                if parent != Mode::Writable || mode == Mode::Writable {
                    continue;
                }
                let mut chain: Vec<&Path> = mount
                    .ancestors()
                    .skip(1)
                    .take_while(|a| !facts.exists(a) && facts.paths.contains_key(*a))
                    .collect();
                chain.reverse();
                for dir in chain {
                    if !stubs.iter().any(|s| s.path == dir) {
                        stubs.push(Stub {
                            path: dir.to_path_buf(),
                            kind: StubKind::Dir,
                            origin: origin.clone(),
                        });
                    }
                }
                stubs.push(Stub {
                    path: mount.clone(),
                    kind: c.missing_kind,
                    origin: origin.clone(),
                });
                c.missing_kind == StubKind::Dir
            }
        };
        boundaries.insert(
            mount.clone(),
            Boundary {
                mode,
                is_dir,
                origin,
            },
        );
    }

    // Pins: the directories between a write root and what is protected beneath it.
    let mut pins: BTreeMap<PathBuf, Origin> = BTreeMap::new();
    let mut covers: Vec<(PathBuf, Origin)> = Vec::new();
    for (path, b) in &boundaries {
        let (parent, holder) = inherited(&boundaries, base, path);
        if b.mode == Mode::Writable || parent != Mode::Writable {
            continue;
        }
        for a in path.ancestors().skip(1) {
            if a == holder || a == root {
                break;
            }
            if holder == root && a.parent() == Some(root) {
                // `/` itself is writable: its bind is the base and comes before the pins, so
                // the top-level directory gets a writable bind of its own to cover them.
                covers.push((a.to_path_buf(), base_origin(Access::Write)));
                break;
            }
            pins.entry(a.to_path_buf())
                .or_insert_with(|| b.origin.clone());
        }
    }
    for (dir, origin) in covers {
        boundaries.entry(dir).or_insert(Boundary {
            mode: Mode::Writable,
            is_dir: true,
            origin,
        });
    }
    for (p, origin) in &pins {
        let w = path_word(p);
        args.push(BwrapArg {
            words: vec!["--ro-bind".into(), w.clone(), w],
            step: Step::Pin,
            origin: origin.clone(),
            effect: "pin (covered next)",
        });
    }

    // Each boundary in its step, but never before an ancestor's mount.
    let mut effective: BTreeMap<&Path, Step> = BTreeMap::new();
    let mut ordered: Vec<(Step, &Path, &Boundary)> = Vec::new();
    for (path, b) in &boundaries {
        let (parent, holder) = inherited(&boundaries, base, path);
        let own = step_of(b, parent);
        let step = effective
            .get(holder.as_path())
            .map_or(own, |s| (*s).max(own));
        effective.insert(path, step);
        ordered.push((step, path, b));
    }
    ordered.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut seals = Vec::new();
    for (step, path, b) in ordered {
        args.push(mount_arg(path, b, step));
        if b.mode == Mode::Hidden && b.is_dir {
            seals.push(BwrapArg {
                words: vec!["--remount-ro".into(), path_word(path)],
                step: Step::Seal,
                origin: b.origin.clone(),
                effect: "read-only (seal)",
            });
        }
    }
    args.extend(seals);
    if !facts.unlisted.is_empty() {
        notes.push(Diagnostic::note(
            "walk-incomplete",
            format!(
                "srt could not list {}; glob matches and mandatory-deny names inside are unknown",
                facts
                    .unlisted
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    FsPlan { args, stubs }
}
