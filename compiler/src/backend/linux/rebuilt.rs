//! Denied files protected by their directory. A mount sits on the entry that existed when the
//! sandbox started: when the host replaces a `denyRead` file by rename during the run (an
//! editor's atomic save, a credentials helper rewriting `~/.aws/credentials`), the new file
//! is not under the mount, and the command could read it. Where the file's directory is
//! read-only in the sandbox, the plan rebuilds the directory instead: an empty read-only
//! directory (`--tmpfs`, sealed) with every other entry bound back one by one (symlinks
//! recreated with `--symlink`), so nothing the host renames into it later shows, under the
//! denied name or any other. A directory the command may write, or one with more than
//! [`MAX_ENTRIES`] entries, keeps the file mount, and the plan says what that leaves open.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::candidates::{is_kernel_fs, Candidate, Gather};
use super::facts::HostFacts;
use super::mounts::{decide_mode, Mode};
use super::notes::{self as code, note_at};
use super::StubKind;
use crate::fsview::{DirEntry, EntryKind, FileKind, FsView};
use crate::ir::Ir;
use crate::path::PathPattern;

/// The most entries a directory is rebuilt with, and in all: each is one more bind mount,
/// about 0.45 ms each with bubblewrap 0.8 (it re-reads the mount table for every bind), so
/// 32 entries add about 14 ms to a run.
pub const MAX_ENTRIES: usize = 32;
pub const MAX_TOTAL_ENTRIES: usize = 64;

/// One entry of a directory to rebuild: its name, and a symlink's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: OsString,
    pub link: Option<PathBuf>,
}

/// The directories of the literal `denyRead` paths that are files: their listings are kept
/// from the walk when it lists them.
pub(super) fn literal_parents(ir: &Ir, facts: &HostFacts) -> BTreeSet<PathBuf> {
    ir.fs
        .deny_read
        .iter()
        .filter_map(|r| match &r.pattern {
            PathPattern::Literal(p) if facts.fact(p).kind == Some(FileKind::File) => {
                facts.real_location(p).parent().map(Path::to_path_buf)
            }
            _ => None,
        })
        .collect()
}

/// The directories holding a denied file, listed for rebuilding (`None`: too many entries,
/// or not listable). `kept` holds the listings the walk made already.
pub(super) fn gather(
    ir: &Ir,
    fs: &dyn FsView,
    facts: &mut HostFacts,
    mut kept: BTreeMap<PathBuf, Vec<DirEntry>>,
) {
    let mut files: Vec<PathBuf> = Vec::new();
    for rule in &ir.fs.deny_read {
        match &rule.pattern {
            PathPattern::Literal(p) => files.push(p.clone()),
            PathPattern::Glob { glob, .. } => {
                files.extend(facts.globs.get(glob).cloned().unwrap_or_default());
            }
        }
    }
    for f in files {
        if facts.fact(&f).kind != Some(FileKind::File) {
            continue;
        }
        let real = facts.real_location(&f);
        let Some(dir) = real.parent().map(Path::to_path_buf) else {
            continue;
        };
        if facts.rebuildable.contains_key(&dir) || dir == Path::new("/") || is_kernel_fs(&dir) {
            continue;
        }
        let listing = kept.remove(&dir).or_else(|| {
            facts.dirs_listed += 1;
            fs.list(&dir)
        });
        let entries = listing.filter(|e| e.len() <= MAX_ENTRIES).map(|list| {
            list.into_iter()
                .map(|e| Entry {
                    link: (e.kind == EntryKind::Symlink)
                        .then(|| fs.read_link(&dir.join(&e.name)))
                        .flatten(),
                    name: e.name,
                })
                .collect::<Vec<_>>()
        });
        if let Some(list) = &entries {
            for e in list {
                facts.probe(fs, &dir.join(&e.name));
            }
        }
        facts.rebuildable.insert(dir, entries);
    }
}

impl Gather<'_> {
    /// Rebuilds the directory of each hidden file candidate where that can be done; notes
    /// where it cannot.
    pub fn rebuild_dirs(&mut self) {
        let hidden_files: Vec<(PathBuf, crate::origin::Origin)> = self
            .out
            .values()
            .filter(|c| c.kind == Some(FileKind::File) && c.force.is_none())
            .filter(|c| decide_mode(self.ir, &c.at) == Mode::Hidden)
            .map(|c| (c.mount.clone(), c.origin.clone()))
            .collect();
        let mut done: BTreeMap<PathBuf, ()> = BTreeMap::new();
        let mut budget = MAX_TOTAL_ENTRIES;
        for (file, origin) in hidden_files {
            let Some(dir) = file.parent().map(Path::to_path_buf) else {
                continue;
            };
            if done.contains_key(&dir) {
                continue;
            }
            done.insert(dir.clone(), ());
            let who = self.ir.describe(&origin);
            let entries = match (decide_mode(self.ir, &dir), self.facts.rebuildable.get(&dir)) {
                (Mode::ReadOnly, Some(Some(entries))) if entries.len() <= budget => {
                    budget -= entries.len();
                    entries.clone()
                }
                (Mode::Hidden, _) => continue,
                (mode, _) => {
                    let why = if mode == Mode::Writable {
                        "the command may write its directory"
                    } else {
                        "its directory has too many entries to rebuild, or the plan rebuilds enough already"
                    };
                    self.notes.push(note_at(&origin, code::DENY_READ_FILE_REPLACEABLE, format!(
                        "{who}: {} is hidden by a mount on the file itself ({why}); a file the host puts in its place by rename during the run (an editor's save) is readable until the run ends",
                        file.display())));
                    continue;
                }
            };
            self.out.insert(
                dir.clone(),
                Candidate {
                    at: dir.clone(),
                    mount: dir.clone(),
                    origin: origin.clone(),
                    kind: Some(FileKind::Dir),
                    missing_kind: StubKind::Dir,
                    force: Some(Mode::Hidden),
                    link: None,
                    rebuilt: true,
                },
            );
            for e in entries {
                let at = dir.join(&e.name);
                if self.out.contains_key(&at) {
                    continue;
                }
                let mode = decide_mode(self.ir, &at);
                if mode == Mode::Hidden {
                    continue;
                }
                self.out.insert(
                    at.clone(),
                    Candidate {
                        kind: self.facts.fact(&at).kind.or(Some(FileKind::Other)),
                        at: at.clone(),
                        mount: at,
                        origin: origin.clone(),
                        missing_kind: StubKind::File,
                        force: Some(if e.link.is_some() {
                            Mode::ReadOnly
                        } else {
                            mode
                        }),
                        link: e.link,
                        rebuilt: false,
                    },
                );
            }
        }
    }
}
