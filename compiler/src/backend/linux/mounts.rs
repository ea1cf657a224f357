//! The filesystem half of the plan: rules and host facts → boundaries (paths whose decision
//! differs from their parent's) → bwrap mounts, pins and stubs, in the contract's order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use srt_schema::Diagnostic;

use super::candidates::Gather;
use super::facts::HostFacts;
use super::notes::{self as code, note, note_at};
use super::{builtin, path_word, BwrapArg, LinkPin, Step, Stub, StubKind};
use crate::decide::Access;
use crate::fsview::FileKind;
use crate::ir::{Ir, PathRule};
use crate::origin::{builtin as ir_builtin, Origin};
use crate::path::PathPattern;

pub(super) struct FsPlan {
    pub args: Vec<BwrapArg>,
    pub stubs: Vec<Stub>,
    pub link_pins: Vec<LinkPin>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Hidden,
    ReadOnly,
    Writable,
}

struct Boundary {
    mode: Mode,
    is_dir: bool,
    origin: Origin,
    /// A symlink to recreate (`--symlink`), in a rebuilt directory.
    link: Option<PathBuf>,
    rebuilt: bool,
}

pub(super) fn decide_mode(ir: &Ir, at: &Path) -> Mode {
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
        _ if b.link.is_some() => (
            vec![
                "--symlink".into(),
                b.link.clone().unwrap_or_default().into_os_string(),
                p,
            ],
            "symlink (as on the host)",
        ),
        Mode::Hidden if b.rebuilt => (
            vec!["--perms".into(), "0555".into(), "--tmpfs".into(), p],
            "rebuilt (entries bound back)",
        ),
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
            link_pins: Vec::new(),
        };
    }
    // The root itself cannot be hidden (bwrap needs a root); a `denyRead: ["/"]` hides each
    // of its entries instead, except the kernel's.
    let base = if base == Mode::Hidden {
        notes.push(note_at(&base_origin(Access::Read), code::DENY_READ_ROOT, "denyRead covers /: srt hides each entry of / except /dev, /proc and /sys, which the sandbox needs".into()));
        Mode::ReadOnly
    } else {
        base
    };

    let mut g = Gather {
        ir,
        facts,
        notes,
        out: BTreeMap::new(),
        links: Vec::new(),
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
    g.rebuild_dirs();
    let candidates = g.out;
    let link_pins = super::links::pins(ir, &g.links, g.notes);

    let mut boundaries: BTreeMap<PathBuf, Boundary> = BTreeMap::new();
    let mut stubs: Vec<Stub> = Vec::new();
    for (mount, c) in &candidates {
        if mount == root {
            continue;
        }
        let mode = c.force.unwrap_or_else(|| decide_mode(ir, &c.at));
        let (parent, holder) = inherited(&boundaries, base, mount);
        // In a rebuilt directory every entry gets its own mount, a hidden one too.
        let in_rebuilt = mount.parent() == Some(holder.as_path())
            && boundaries.get(&holder).is_some_and(|b| b.rebuilt);
        if mode == parent && !in_rebuilt {
            continue;
        }
        // A forced mode (a `.git` file, git's files in a nested repository, a rebuilt
        // directory's entries) is there because of the candidate's own origin.
        let origin = if c.force.is_some() {
            c.origin.clone()
        } else {
            deciding_origin(ir, &c.at, mode, parent, &c.origin)
        };
        let is_dir = match c.kind {
            _ if c.link.is_some() => false,
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
                link: c.link.clone(),
                rebuilt: c.rebuilt,
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
    // A pinned link's directories, up to the write root, are pinned too: renaming one away
    // would take the link with it.
    for (link, origin) in &link_pins {
        let (_, holder) = inherited(&boundaries, base, link);
        for a in link.ancestors().skip(1) {
            if a == holder || a == root {
                break;
            }
            if holder == root && a.parent() == Some(root) {
                covers.push((a.to_path_buf(), base_origin(Access::Write)));
                break;
            }
            pins.entry(a.to_path_buf())
                .or_insert_with(|| origin.clone());
        }
    }
    for (dir, origin) in covers {
        boundaries.entry(dir).or_insert(Boundary {
            mode: Mode::Writable,
            is_dir: true,
            origin,
            link: None,
            rebuilt: false,
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
        notes.push(note(
            code::WALK_INCOMPLETE,
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
    let link_pins = link_pins
        .into_iter()
        .map(|(path, origin)| LinkPin { path, origin })
        .collect();
    FsPlan {
        args,
        stubs,
        link_pins,
    }
}
