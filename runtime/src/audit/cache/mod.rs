//! The audit's directory index: what the previous walk saw of each directory under a root, so
//! that the next audit lists again only the directories that changed.
//!
//! A directory's entries change only through its own inode: creating, removing, renaming or
//! linking an entry sets the directory's change time (`ctime`) to the kernel's clock, and user
//! space cannot set a `ctime` back. So a directory whose device, inode and `ctime` are what
//! they were when it was listed still has the entries it had then. The index keeps, for each
//! directory the walk listed (outside protected names' trees, which are always walked in full),
//! that identity and the entries the walk acts on: subdirectories, entries of unknown type,
//! `.git`, the names git directories are recognised by, and the names that end a protected
//! name. An audit with an index stats every indexed directory (one `statx` each, in parallel)
//! and lists only those whose identity moved; the entries it acts on are then examined exactly
//! as after a fresh listing (every candidate is `stat`-ed again, every git config read again),
//! so an in-place edit of a protected file is seen as before.
//!
//! A listing is trusted next time only if its directory's `ctime` was [`SETTLE_SECS`] older
//! than the clock when it was `stat`-ed, before it was listed: a change after that instant
//! gets a later `ctime` even on a filesystem that keeps whole (or two) seconds, so it cannot
//! look like the recorded one. Only filesystems known to keep `ctime` that way are indexed
//! ([`fs_keeps_ctime`]); elsewhere (network filesystems, FUSE, overlays) every directory is
//! listed, as without an index.
//!
//! The index lives in srt's state directory, which the sandbox cannot write; a file that is
//! not exactly what srt wrote (wrong owner, links, size, version, root, names, checksum) is
//! ignored and the walk lists everything.

// The index is kept only where `ctime` is known to behave (Linux filesystems, see
// `fs_keeps_ctime`); elsewhere the audit lists every directory and most of this is unused.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

pub(crate) mod format;
#[cfg(target_os = "linux")]
pub(crate) mod revalidate;
#[cfg(target_os = "linux")]
pub mod scan;
pub(crate) mod store;

use std::ffi::{CStr, CString};

use super::fsio::Kind;
use super::walk::GIT_SPECIAL;

/// How much older than the clock a directory's `ctime` must be for its listing to be trusted
/// by the next audit (see the module comment).
pub const SETTLE_SECS: i64 = 3;

/// What identifies a directory's contents: its device and inode, and its last change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub ctime_sec: i64,
    pub ctime_nsec: u32,
}

/// One directory as a walk listed it: its identity, whether its listing may be trusted next
/// time, how many entries it had, and the entries the walk acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub stamp: Stamp,
    pub settled: bool,
    pub count: u64,
    pub entries: Vec<(CString, Option<Kind>)>,
}

/// Whether an entry matters to the walk of a plain directory: every other entry is a file,
/// symlink or special file the walk ignores ([`super::walk`]'s classification).
pub(crate) fn kept(name: &[u8], kind: Option<Kind>, last_components: &[&[u8]]) -> bool {
    matches!(kind, None | Some(Kind::Dir))
        || name == b".git"
        || GIT_SPECIAL.contains(&name)
        || last_components.contains(&name)
}

/// The last component of each protected name: the entries an index keeps besides directories.
pub(crate) fn last_components(names: &[&'static str]) -> Vec<&'static [u8]> {
    let mut out: Vec<&'static [u8]> = names
        .iter()
        .filter_map(|n| n.rsplit('/').next())
        .map(str::as_bytes)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What an index was made for: the walk's rules (the format version is in the header) and the
/// protected names. An index made for other names is not used.
pub(crate) fn fingerprint(names: &[&'static str]) -> u64 {
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();
    let mut h = format::Fnv::new();
    for n in sorted {
        h.write(n.as_bytes());
        h.write(&[0]);
    }
    h.write(&GIT_SPECIAL.concat());
    h.finish()
}

/// A loaded index: directories in depth-first order, the root first.
#[derive(Debug, Default)]
pub(crate) struct Prior {
    pub(crate) recs: Vec<Rec>,
    /// Child record indices, grouped by parent, each group sorted by name.
    kids: Vec<u32>,
    arena: Vec<u8>,
    ents: Vec<Ent>,
    /// The file it was read from, to be patched and written again when only stamps changed.
    pub(crate) raw: Vec<u8>,
}

#[derive(Clone, Debug)]
pub(crate) struct Rec {
    pub parent: u32,
    name: (u32, u32),
    /// Where this record's stamp, `settled` and count lie in `raw`, and where the record ends.
    pub(crate) at: u32,
    pub(crate) end: u32,
    pub stamp: Stamp,
    pub settled: bool,
    pub count: u64,
    ents: (u32, u32),
    kids: (u32, u32),
    /// The last record of this one's subtree (depth-first order: the subtree is contiguous).
    pub(crate) last: u32,
}

#[derive(Clone, Copy, Debug)]
struct Ent {
    name: (u32, u32),
    kind: Option<Kind>,
}

impl Prior {
    fn text(&self, (start, end): (u32, u32)) -> &[u8] {
        self.arena
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// How many records lie directly below record `rec`.
    pub fn children(&self, rec: u32) -> u32 {
        self.recs
            .get(rec as usize)
            .map_or(0, |r| r.kids.1 - r.kids.0)
    }

    /// Whether record `a` is `rec` or above it.
    pub fn contains(&self, a: u32, rec: u32) -> bool {
        self.recs
            .get(a as usize)
            .is_some_and(|r| a <= rec && rec <= r.last)
    }

    /// The name of record `rec` (empty for the root).
    pub fn name(&self, rec: u32) -> &[u8] {
        self.recs
            .get(rec as usize)
            .map_or(&[][..], |r| self.text(r.name))
    }

    /// The record of the subdirectory `name` of record `rec`.
    pub fn child(&self, rec: u32, name: &[u8]) -> Option<u32> {
        let r = self.recs.get(rec as usize)?;
        let kids = self.kids.get(r.kids.0 as usize..r.kids.1 as usize)?;
        kids.binary_search_by(|k| {
            self.recs
                .get(*k as usize)
                .map_or(&[][..], |c| self.text(c.name))
                .cmp(name)
        })
        .ok()
        .and_then(|i| kids.get(i).copied())
    }

    /// The entries record `rec` kept, as the listing gave them.
    pub fn entries(&self, rec: u32) -> impl Iterator<Item = (&[u8], Option<Kind>)> + '_ {
        self.entries_c(rec).map(|(n, k)| (n.to_bytes(), k))
    }

    /// The same, names as C strings.
    pub fn entries_c(&self, rec: u32) -> impl Iterator<Item = (&CStr, Option<Kind>)> + '_ {
        let range = self
            .recs
            .get(rec as usize)
            .map_or(0..0, |r| r.ents.0 as usize..r.ents.1 as usize);
        self.ents
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|e| (self.cstr(e.name), e.kind))
    }

    fn cstr(&self, (start, end): (u32, u32)) -> &CStr {
        self.arena
            .get(start as usize..=end as usize)
            .and_then(|b| CStr::from_bytes_with_nul(b).ok())
            .unwrap_or_default()
    }

    /// Record `rec` as a [`Listing`].
    #[cfg(test)]
    pub fn listing(&self, rec: u32) -> Option<Listing> {
        let r = self.recs.get(rec as usize)?;
        let entries = self
            .entries_c(rec)
            .map(|(n, k)| (n.to_owned(), k))
            .collect();
        Some(Listing {
            stamp: r.stamp,
            settled: r.settled,
            count: r.count,
            entries,
        })
    }

    /// The path of record `rec` relative to the root (empty for the root).
    #[cfg(test)]
    pub fn rel_path(&self, rec: u32) -> std::path::PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let mut chain = Vec::new();
        let mut at = rec;
        while at != 0 {
            let Some(r) = self.recs.get(at as usize) else {
                break;
            };
            chain.push(self.text(r.name));
            at = r.parent;
        }
        let mut out = std::path::PathBuf::new();
        for n in chain.iter().rev() {
            out.push(std::ffi::OsStr::from_bytes(n));
        }
        out
    }
}

impl Prior {
    /// Appends a record (depth-first order, the root first, with an empty name); its entries
    /// follow with [`Prior::push_entry`].
    pub(crate) fn push_record(
        &mut self,
        parent: u32,
        name: &[u8],
        at: u32,
        stamp: Stamp,
        settled: bool,
        count: u64,
    ) -> Option<()> {
        let i = u32::try_from(self.recs.len()).ok()?;
        if (i == 0) != name.is_empty() || (i > 0 && parent >= i) {
            return None;
        }
        let name = push_text(&mut self.arena, name)?;
        let first = u32::try_from(self.ents.len()).ok()?;
        self.recs.push(Rec {
            parent,
            name,
            at,
            end: at,
            stamp,
            settled,
            count,
            ents: (first, first),
            kids: (0, 0),
            last: i,
        });
        Some(())
    }

    /// Appends an entry to the last record.
    pub(crate) fn push_entry(&mut self, name: &[u8], kind: Option<Kind>) -> Option<()> {
        let name = push_text(&mut self.arena, name)?;
        self.ents.push(Ent { name, kind });
        let end = u32::try_from(self.ents.len()).ok()?;
        self.recs.last_mut()?.ents.1 = end;
        Some(())
    }

    /// Groups children by parent once every record is in; `None` unless siblings are sorted
    /// and distinct (as the writer orders them), which [`Prior::child`] relies on.
    pub(crate) fn finish(&mut self) -> Option<()> {
        let mut counts = vec![0u32; self.recs.len()];
        for r in self.recs.iter().skip(1) {
            *counts.get_mut(r.parent as usize)? += 1;
        }
        let mut fill = vec![0u32; counts.len()];
        let mut start = 0u32;
        for (i, c) in counts.iter().enumerate() {
            self.recs.get_mut(i)?.kids = (start, start + c);
            *fill.get_mut(i)? = start;
            start += c;
        }
        // Each record's subtree ends where its last child's does (children come after their
        // parent, so one backwards pass settles every subtree).
        for i in (1..self.recs.len()).rev() {
            let (parent, last) = {
                let r = self.recs.get(i)?;
                (r.parent as usize, r.last)
            };
            let p = self.recs.get_mut(parent)?;
            p.last = p.last.max(last);
        }
        self.kids = vec![0; start as usize];
        for i in 1..self.recs.len() {
            let parent = self.recs.get(i)?.parent as usize;
            let slot = fill.get_mut(parent)?;
            *self.kids.get_mut(*slot as usize)? = u32::try_from(i).ok()?;
            *slot += 1;
        }
        for r in &self.recs {
            let kids = self.kids.get(r.kids.0 as usize..r.kids.1 as usize)?;
            for w in kids.windows(2) {
                let a = self.recs.get(w[0] as usize).map(|c| self.text(c.name));
                let b = self.recs.get(w[1] as usize).map(|c| self.text(c.name));
                if a >= b {
                    return None;
                }
            }
        }
        Some(())
    }
}

/// Appends `text` and a NUL (so that names are C strings in place); the range excludes the NUL.
fn push_text(arena: &mut Vec<u8>, text: &[u8]) -> Option<(u32, u32)> {
    let start = u32::try_from(arena.len()).ok()?;
    arena.extend_from_slice(text);
    let end = u32::try_from(arena.len()).ok()?;
    arena.push(0);
    Some((start, end))
}

/// Where a record of a new index comes from: a fresh listing, or an old record kept as it is.
pub(crate) enum Source {
    Fresh(Listing),
    Kept(u32),
}

/// The sort key of a path relative to the root: its bytes with `/` as NUL, so that bytewise
/// order is depth-first order (a directory before its entries, siblings by name).
pub(crate) fn key_of(rel: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    rel.as_os_str()
        .as_bytes()
        .iter()
        .map(|&b| if b == b'/' { 0 } else { b })
        .collect()
}

/// The key of each record of `prior` ([`key_of`] its path), in one pass.
pub(crate) fn keys(prior: &Prior) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(prior.len());
    for (i, r) in prior.recs.iter().enumerate() {
        if i == 0 {
            out.push(Vec::new());
            continue;
        }
        let mut k = out.get(r.parent as usize).cloned().unwrap_or_default();
        if !k.is_empty() {
            k.push(0);
        }
        k.extend_from_slice(prior.name(i as u32));
        out.push(k);
    }
    out
}

/// Orders records by key into the depth-first order the file format wants, with each one's
/// parent (its index in the result) and name. Records whose parent is missing are dropped
/// (their directory was reached some other way this time), and so is all but the first of a
/// key given twice.
pub(crate) fn ordered(mut items: Vec<(Vec<u8>, Source)>) -> Vec<(u32, Vec<u8>, Source)> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.dedup_by(|a, b| a.0 == b.0);
    let mut out: Vec<(u32, Vec<u8>, Source)> = Vec::with_capacity(items.len());
    // The key and index of each directory on the path to the current one.
    let mut stack: Vec<(Vec<u8>, u32)> = Vec::new();
    for (key, source) in items {
        if key.is_empty() {
            if out.is_empty() {
                out.push((0, Vec::new(), source));
                stack.push((key, 0));
            }
            continue;
        }
        let (parent, name) = match key.iter().rposition(|&b| b == 0) {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => (&key[..0], &key[..]),
        };
        while stack.last().is_some_and(|(p, _)| p.as_slice() != parent) {
            stack.pop();
        }
        let Some(&(_, parent_index)) = stack.last() else {
            continue;
        };
        let Ok(index) = u32::try_from(out.len()) else {
            break;
        };
        let name = name.to_vec();
        out.push((parent_index, name, source));
        stack.push((key, index));
    }
    out
}

/// How many directories whose entries are unchanged but whose stamp moved the next audit may
/// list again instead of the index being rewritten.
const RELIST_RATHER_THAN_WRITE: usize = 64;

/// The bytes of a root's next index, or `None` when the old one (`prior`) holds as it is:
/// `fresh` are the directories listed afresh (key, old record, listing), `kept` the old
/// records still valid. When only stamps changed, the old file is patched.
pub(crate) fn next_index(
    root: &std::path::Path,
    fingerprint: u64,
    prior: &Prior,
    fresh: Vec<(Vec<u8>, Option<u32>, Listing)>,
    kept: Vec<u32>,
) -> Option<Vec<u8>> {
    let same_tree = prior.len() > 0
        && kept.len() + fresh.len() == prior.len()
        && fresh.iter().all(|f| f.1.is_some());
    if same_tree {
        // Directories listed again only because their stamp moved, with the entries they had
        // (the root, where srt's stubs come and go on every run): the next audit lists them
        // again, which costs less than rewriting the index, up to a point.
        // (Not when a record would become settled: that must be written to count.)
        let same_entries = |(_, r, l): &(Vec<u8>, Option<u32>, Listing)| {
            r.is_some_and(|r| {
                let was_settled = prior.recs.get(r as usize).is_some_and(|x| x.settled);
                (was_settled || !l.settled)
                    && prior
                        .entries(r)
                        .eq(l.entries.iter().map(|(n, k)| (n.to_bytes(), *k)))
            })
        };
        if fresh.len() <= RELIST_RATHER_THAN_WRITE && fresh.iter().all(same_entries) {
            return None;
        }
        let changes: Vec<(u32, Listing)> = fresh
            .iter()
            .filter_map(|(_, r, l)| r.map(|r| (r, l.clone())))
            .collect();
        if let Some(bytes) = format::patch(prior, &changes) {
            return Some(bytes);
        }
    }
    let keys = if kept.is_empty() {
        Vec::new()
    } else {
        keys(prior)
    };
    let mut all: Vec<(Vec<u8>, Source)> = fresh
        .into_iter()
        .map(|(k, _, l)| (k, Source::Fresh(l)))
        .collect();
    for rec in kept {
        if let Some(k) = keys.get(rec as usize) {
            all.push((k.clone(), Source::Kept(rec)));
        }
    }
    Some(format::encode(root, fingerprint, &ordered(all), prior))
}

/// Whether a directory's `ctime` was far enough behind the clock (`now`, read before its
/// `stat`) for a later change to give it another one.
pub(crate) fn settled(stamp: &Stamp, now: i64, settle_secs: i64) -> bool {
    stamp.ctime_sec.saturating_add(settle_secs) <= now
}

/// Filesystems that set a directory's `ctime` from the local clock on every change of its
/// entries, and report it as set: ext2/3/4, XFS, Btrfs, tmpfs, F2FS. Network filesystems
/// (attribute caches), FUSE and overlays are not trusted.
pub(crate) fn fs_keeps_ctime(magic: u64) -> bool {
    const EXT4: u64 = 0xEF53;
    const XFS: u64 = 0x5846_5342;
    const BTRFS: u64 = 0x9123_683E;
    const TMPFS: u64 = 0x0102_1994;
    const F2FS: u64 = 0xF2F5_2010;
    matches!(magic, EXT4 | XFS | BTRFS | TMPFS | F2FS)
}

#[cfg(test)]
mod tests;
