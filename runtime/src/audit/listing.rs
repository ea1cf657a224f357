//! A directory's entries as the walk sorts them: subdirectories to walk, candidates to examine,
//! and the names a git directory is recognised by. The same sorting applies to a fresh listing
//! and to the entries an index kept ([`super::cache`]), so both lead to the same walk.

use std::ffi::{CStr, CString};
use std::os::fd::OwnedFd;

use nix::errno::Errno;

use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::cache::{self, Listing, Stamp};
use super::fsio::{self, Kind, Lister};
use super::walk::{Cand, Ctx, Walker, GIT_SPECIAL};

/// A directory's entries, sorted.
#[derive(Default)]
pub(crate) struct Sorted {
    pub subdirs: Vec<CString>,
    pub cands: Vec<(CString, Cand)>,
    pub special: Vec<(CString, Option<Kind>)>,
    pub head: bool,
    pub objects: bool,
    pub commondir: bool,
    /// Entries counted against the audit's bound.
    pub count: u64,
}

/// What the sorting needs to know about where it is.
pub(crate) struct Place<'a> {
    pub ctx: Ctx,
    pub names: &'a [(&'static str, Vec<&'static [u8]>)],
    pub stack: &'a [Vec<u8>],
}

impl Place<'_> {
    /// Under a root of `/`: the kernel's filesystems are not the host's files.
    fn skipped(&self, name: &[u8]) -> bool {
        matches!(self.stack, [only] if only == b"/") && matches!(name, b"proc" | b"sys" | b"dev")
    }
}

impl Sorted {
    /// Sorts one entry (not counted: see [`Sorted::count`]).
    pub fn add(&mut self, place: &Place<'_>, name: &CStr, kind: Option<Kind>) {
        let b = name.to_bytes();
        self.head |= b == b"HEAD";
        self.objects |= b == b"objects";
        self.commondir |= b == b"commondir";
        let cand = match place.ctx {
            Ctx::Protected { .. } => Some(Cand::InProtected),
            _ if GIT_SPECIAL.contains(&b) => {
                self.special.push((name.to_owned(), kind));
                return;
            }
            _ if b == b".git" => Some(Cand::DotGit),
            _ => super::walk::match_name(place.names, place.stack, b).map(Cand::Name),
        };
        match (cand, kind) {
            (Some(c), _) => self.cands.push((name.to_owned(), c)),
            (None, Some(Kind::Dir)) => self.subdirs.push(name.to_owned()),
            (None, None) => self.cands.push((name.to_owned(), Cand::Unknown)),
            (None, Some(_)) => {}
        }
    }

    /// Whether examining these entries needs the directory open.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // the index is Linux-only
    pub fn needs_fd(&self) -> bool {
        !self.cands.is_empty() || !self.special.is_empty()
    }
}

/// A directory's sorted entries, its descriptor if it was opened, and whether the listing
/// stopped at the entries bound.
pub(crate) struct Entries {
    pub sorted: Sorted,
    pub dir: Option<OwnedFd>,
    pub over: bool,
}

/// The outcome of listing a directory afresh.
pub(crate) struct Fresh {
    pub sorted: Sorted,
    /// The listing stopped at the entries bound.
    pub over: bool,
    pub error: Option<Errno>,
    /// What the index keeps of it, when one is kept and the listing was whole.
    pub record: Option<Listing>,
}

/// Lists the directory open at `dir` and sorts its entries; with `record` (its stamp, taken
/// before the listing, and whether it was settled then), also keeps what the index needs.
pub(crate) fn fresh(
    lister: &mut Lister,
    dir: &OwnedFd,
    place: &Place<'_>,
    budget: u64,
    record: Option<(Stamp, bool)>,
    last_components: &[&'static [u8]],
) -> Fresh {
    let mut sorted = Sorted::default();
    let mut kept: Vec<(CString, Option<Kind>)> = Vec::new();
    let mut over = false;
    let listed = lister.list(dir, |name, kind| {
        let b = name.to_bytes();
        if place.skipped(b) {
            return true;
        }
        sorted.count += 1;
        if sorted.count > budget {
            over = true;
            return false;
        }
        if record.is_some() && cache::kept(b, kind, last_components) {
            kept.push((name.to_owned(), kind));
        }
        sorted.add(place, name, kind);
        true
    });
    let error = listed.err();
    let record = record
        .filter(|_| !over && error.is_none())
        .map(|(stamp, settled)| Listing {
            stamp,
            settled,
            count: sorted.count,
            entries: kept,
        });
    Fresh {
        sorted,
        over,
        error,
        record,
    }
}

/// Sorts the entries an index kept for a directory (record `rec` of `prior`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // the index is Linux-only
pub(crate) fn cached(prior: &cache::Prior, rec: u32, place: &Place<'_>) -> Sorted {
    let mut sorted = Sorted::default();
    for (name, kind) in prior.entries_c(rec) {
        if place.skipped(name.to_bytes()) {
            continue;
        }
        sorted.add(place, name, kind);
    }
    sorted.count = prior.recs.get(rec as usize).map_or(0, |r| r.count);
    sorted
}

impl Walker<'_> {
    /// The sorted entries of the directory at `path`: from the index when its record is
    /// clean (opening it only when an entry must be examined, and checking it is the recorded
    /// directory), else listed afresh. Returns them with the directory's descriptor, if open.
    pub(super) fn sort_entries(
        &mut self,
        dir: Option<OwnedFd>,
        path: &Path,
        ctx: Ctx,
        prior: Option<u32>,
    ) -> Result<Entries, Errno> {
        let shared = self.shared;
        let place = |stack| Place {
            ctx,
            names: &shared.names,
            stack,
        };
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut dir = dir;
        #[cfg(target_os = "linux")]
        if let (Some(rec), Some(index)) = (self.clean(prior, ctx), self.index()) {
            let sorted = cached(&index.prior, rec, &place(&self.stack));
            let recorded = index.prior.recs.get(rec as usize).map(|r| r.stamp);
            let dot_git = self.stack.last().is_some_and(|n| n == b".git");
            if (sorted.needs_fd() || dot_git) && dir.is_none() {
                dir = Some(self.open_beneath(path)?);
            }
            let same = match &dir {
                None => true,
                Some(fd) => fsio::stamp_of(fd.as_fd()).ok() == recorded,
            };
            if same {
                self.kept.push((self.root, rec));
                return Ok(Entries {
                    sorted,
                    dir,
                    over: false,
                });
            }
        }
        let fd = match dir {
            Some(fd) => fd,
            None => self.open_beneath(path)?,
        };
        let budget = shared
            .plan
            .limits
            .max_entries
            .saturating_sub(shared.entries.load(Ordering::Relaxed));
        let recording = self
            .index()
            .filter(|_| !matches!(ctx, Ctx::Protected { .. }));
        let record = recording.and_then(|index| {
            let now = super::Since::now().0;
            let stamp = fsio::stamp_of(fd.as_fd()).ok()?;
            Some((stamp, super::cache::settled(&stamp, now, index.settle)))
        });
        let last: &[&'static [u8]] = recording.map_or(&[], |i| &i.last);
        self.listed += 1;
        let f = fresh(
            &mut self.lister,
            &fd,
            &place(&self.stack),
            budget,
            record,
            last,
        );
        if let Some(l) = f.record {
            let rel = recording
                .and_then(|i| path.strip_prefix(&i.root).ok())
                .map(Path::to_path_buf);
            if let Some(rel) = rel {
                self.fresh.push((self.root, rel, prior, l));
            }
        }
        if let Some(e) = f.error {
            self.unreadable(path, e);
        }
        Ok(Entries {
            sorted: f.sorted,
            dir: Some(fd),
            over: f.over,
        })
    }
}
