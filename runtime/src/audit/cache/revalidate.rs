//! Which indexed directories are as they were: one `statx` per directory, relative to the root's
//! descriptor, the final component not followed, spread over two threads. A directory whose
//! device, inode and `ctime` match its record, on a filesystem that keeps `ctime`
//! ([`super::fs_keeps_ctime`]), and whose record was settled, keeps its recorded listing.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::{fs_keeps_ctime, Prior};
use crate::audit::fsio;

/// Indexes with fewer records are checked in the calling thread.
const PARALLEL_FROM: usize = 1024;

/// For each record of `prior`, whether its directory is unchanged. `root` is the root's open
/// descriptor (record 0).
pub(crate) fn unchanged(prior: &Prior, root: BorrowedFd<'_>) -> Vec<bool> {
    let n = prior.len();
    let mut out = vec![false; n];
    if n == 0 {
        return out;
    }
    // A second thread pays for itself only on a large index (starting one costs about as
    // much as a few hundred `stat`s).
    let threads = if n < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |t| t.get().min(2))
    };
    if threads == 1 {
        check_range(prior, root, 0, &mut out);
        return out;
    }
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (i, part) in out.chunks_mut(chunk).enumerate() {
            let start = i * chunk;
            handles.push(s.spawn(move || check_range(prior, root, start, part)));
        }
        for h in handles {
            // A thread that panicked leaves its part `false`: those directories are listed.
            let _ = h.join();
        }
    });
    out
}

/// Whether the filesystem of the directory at `path` (relative to `root`) keeps `ctime`.
fn trusted_fs(root: BorrowedFd<'_>, path: &CStr, dev: u64, seen: &mut HashMap<u64, bool>) -> bool {
    *seen
        .entry(dev)
        .or_insert_with(|| fsio::fs_magic_at(root, path).is_some_and(fs_keeps_ctime))
}

/// A directory with at least this many indexed subdirectories is opened (`O_PATH`) so that
/// they are `stat`-ed relative to it, one name each; the others are reached by a path from the
/// nearest open directory above them (an open and a close cost more than a few lookups).
const OPEN_FROM: u32 = 4;

fn check_range(prior: &Prior, root: BorrowedFd<'_>, start: usize, out: &mut [bool]) {
    let mut seen: HashMap<u64, bool> = HashMap::new();
    // Open directories above the current record, outermost first.
    let mut open: Vec<(u32, OwnedFd)> = Vec::new();
    let mut path: Vec<u8> = Vec::with_capacity(512);
    let mut chain: Vec<u32> = Vec::with_capacity(16);
    for (k, slot) in out.iter_mut().enumerate() {
        let i = start + k;
        let (Ok(rec), Some(r)) = (u32::try_from(i), prior.recs.get(i)) else {
            return;
        };
        if i == 0 {
            *slot = r.settled
                && fsio::stamp_of(root).is_ok_and(|s| {
                    s == r.stamp && fsio::fs_magic_at(root, c".").is_some_and(fs_keeps_ctime)
                });
            if let Ok(fd) = fsio::open_path_at(root, c".") {
                open.push((0, fd));
            }
            continue;
        }
        while open
            .last()
            .is_some_and(|(a, _)| !prior.contains(*a, rec) || *a == rec)
        {
            open.pop();
        }
        if open.is_empty() {
            // This thread's first record: the root, reopened.
            let Ok(fd) = fsio::open_path_at(root, c".") else {
                continue;
            };
            open.push((0, fd));
        }
        let Some((base, dir)) = open.last() else {
            continue;
        };
        // The names from `base` (exclusive) down to `rec`.
        chain.clear();
        let mut at = rec;
        while at != *base && at != 0 {
            chain.push(at);
            at = prior.recs.get(at as usize).map_or(0, |x| x.parent);
        }
        if at != *base {
            continue;
        }
        path.clear();
        for (n, c) in chain.iter().rev().enumerate() {
            if n > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(prior.name(*c));
        }
        path.push(0);
        let Ok(cpath) = CStr::from_bytes_with_nul(&path) else {
            continue;
        };
        let (stamp, fd) = if prior.children(rec) >= OPEN_FROM {
            match fsio::open_path_at(dir.as_fd(), cpath) {
                Ok(fd) => (fsio::stamp_of(fd.as_fd()), Some(fd)),
                Err(e) => (Err(e), None),
            }
        } else {
            (fsio::dir_stamp_at(dir.as_fd(), cpath), None)
        };
        *slot = r.settled
            && stamp.is_ok_and(|now| {
                now == r.stamp && trusted_fs(dir.as_fd(), cpath, now.dev, &mut seen)
            });
        if let Some(fd) = fd.filter(|_| *slot) {
            open.push((rec, fd));
        }
    }
}
