//! The start-of-run scan's index ([`ScanIndex`]): the same records as the audit's (a
//! directory's identity, and the entries the scan acts on), for the walk that finds what the
//! globs match and where the mandatory denies' names are. Every indexed directory is `stat`-ed
//! before the walk; one whose identity moved is listed again, in full.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use srt_compiler::backend::linux::{Listed, ScanIndex};
use srt_compiler::fsview::{DirEntry, EntryKind};

use super::format::Fnv;
use super::{key_of, next_index, revalidate, settled, Listing, Prior};
use crate::audit::fsio::{self, Kind, Lister};
use crate::audit::{IndexOptions, Since};

/// One directory the walk starts from.
struct Root {
    path: PathBuf,
    fd: OwnedFd,
    prior: Prior,
    clean: Vec<bool>,
    fresh: Vec<(Vec<u8>, Option<u32>, Listing)>,
    kept: Vec<u32>,
}

/// The index the runtime hands to `HostFacts::gather_indexed`; [`ScanIndexer::finish`] writes
/// what the walk saw.
pub struct ScanIndexer {
    opts: IndexOptions,
    fingerprint: u64,
    roots: Vec<Root>,
    lister: Lister,
    /// Directories listed afresh, and answered from the index.
    pub listed: usize,
    pub reused: usize,
}

impl ScanIndexer {
    pub fn new(opts: IndexOptions) -> Self {
        ScanIndexer {
            opts,
            fingerprint: 0,
            roots: Vec::new(),
            lister: Lister::new(),
            listed: 0,
            reused: 0,
        }
    }

    /// Writes each root's new index (nothing where nothing changed).
    pub fn finish(self) {
        for r in self.roots {
            if let Some(bytes) = next_index(&r.path, self.fingerprint, &r.prior, r.fresh, r.kept) {
                self.opts.store.save(&r.path, self.fingerprint, &bytes);
            }
        }
    }

    /// The root `dir` lies under (the innermost), and `dir` relative to it.
    fn root_of(&self, dir: &Path) -> Option<(usize, PathBuf)> {
        self.roots
            .iter()
            .enumerate()
            .filter_map(|(i, r)| dir.strip_prefix(&r.path).ok().map(|rel| (i, rel)))
            .min_by_key(|(_, rel)| rel.as_os_str().len())
            .map(|(i, rel)| (i, rel.to_path_buf()))
    }
}

/// The record of `rel` in `prior`, by name from the root.
fn lookup(prior: &Prior, rel: &Path) -> Option<u32> {
    if prior.len() == 0 {
        return None;
    }
    let mut at = 0;
    let rel = rel.as_os_str().as_bytes();
    if rel.is_empty() {
        return Some(0);
    }
    for name in rel.split(|b| *b == b'/') {
        if name.is_empty() || name == b"." || name == b".." {
            return None;
        }
        at = prior.child(at, name)?;
    }
    Some(at)
}

fn entry_kind(kind: Kind) -> EntryKind {
    match kind {
        Kind::File => EntryKind::File,
        Kind::Dir => EntryKind::Dir,
        Kind::Symlink => EntryKind::Symlink,
        Kind::Other => EntryKind::Other,
    }
}

impl ScanIndex for ScanIndexer {
    fn begin(&mut self, roots: &[PathBuf], fingerprint: &str) {
        let mut h = Fnv::new();
        h.write(b"scan\0");
        h.write(fingerprint.as_bytes());
        self.fingerprint = h.finish();
        for path in roots {
            let Ok(fd) = fsio::open_dir_path(path) else {
                continue;
            };
            let prior = self
                .opts
                .store
                .load(path, self.fingerprint)
                .unwrap_or_default();
            let clean = revalidate::unchanged(&prior, fd.as_fd());
            self.roots.push(Root {
                path: path.clone(),
                fd,
                prior,
                clean,
                fresh: Vec::new(),
                kept: Vec::new(),
            });
        }
    }

    fn list(&mut self, dir: &Path, keep: &dyn Fn(&OsStr, EntryKind) -> bool) -> Option<Listed> {
        let Some((i, rel)) = self.root_of(dir) else {
            // Not under a root the walk announced: listed as it is, not indexed.
            self.listed += 1;
            let fd = fsio::open_dir_path(dir).ok()?;
            return list_fd(&mut self.lister, &fd, &|_, _| false).map(|(all, _)| Listed {
                entries: all,
                complete: true,
            });
        };
        let root = self.roots.get_mut(i)?;
        let rec = lookup(&root.prior, &rel);
        if let Some(rec) = rec.filter(|r| root.clean.get(*r as usize).copied().unwrap_or(false)) {
            let entries = root
                .prior
                .entries(rec)
                .map(|(name, kind)| DirEntry {
                    name: OsString::from(OsStr::from_bytes(name)),
                    kind: kind.map_or(EntryKind::Other, entry_kind),
                })
                .collect();
            root.kept.push(rec);
            self.reused += 1;
            return Some(Listed {
                entries,
                complete: false,
            });
        }
        let fd = if rel.as_os_str().is_empty() {
            root.fd.try_clone().ok()?
        } else {
            fsio::open_dir_beneath(root.fd.as_fd(), &rel).ok()?
        };
        let now = Since::now().0;
        let stamp = fsio::stamp_of(fd.as_fd()).ok()?;
        let (all, kept) = list_fd(&mut self.lister, &fd, keep)?;
        self.listed += 1;
        root.fresh.push((
            key_of(&rel),
            rec,
            Listing {
                stamp,
                settled: settled(&stamp, now, self.opts.settle_secs),
                count: all.len() as u64,
                entries: kept,
            },
        ));
        Some(Listed {
            entries: all,
            complete: true,
        })
    }
}

/// Every entry of the directory open at `fd` (an entry of unknown type `stat`-ed, not
/// followed), and those `keep` accepts, as the index stores them.
#[allow(clippy::type_complexity)]
fn list_fd(
    lister: &mut Lister,
    fd: &OwnedFd,
    keep: &dyn Fn(&OsStr, EntryKind) -> bool,
) -> Option<(Vec<DirEntry>, Vec<(std::ffi::CString, Option<Kind>)>)> {
    let mut all = Vec::new();
    let mut kept = Vec::new();
    let listed = lister.list(fd, |name, kind| {
        let kind = kind.or_else(|| fsio::stat_at(fd.as_fd(), name).ok().map(|m| m.kind));
        let entry_kind = kind.map_or(EntryKind::Other, entry_kind);
        let os = OsStr::from_bytes(name.to_bytes());
        if keep(os, entry_kind) {
            kept.push((name.to_owned(), kind));
        }
        all.push(DirEntry {
            name: os.to_os_string(),
            kind: entry_kind,
        });
        true
    });
    listed.ok().map(|()| (all, kept))
}
