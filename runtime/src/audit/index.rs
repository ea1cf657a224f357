//! The audit's use of its index ([`super::cache`]): before the walk, load each root's index and
//! find which records still hold; after a whole walk, write what it saw.

use std::path::{Path, PathBuf};

use srt_compiler::audit::AuditPlan;

use super::cache::{self, Listing};
use super::pool::RootIndex;
use super::IndexOptions;

/// Loads the index of `root` and checks its records against the filesystem.
#[cfg(target_os = "linux")]
pub(crate) fn prepare(o: &IndexOptions, plan: &AuditPlan, root: &Path) -> Option<RootIndex> {
    use std::os::fd::AsFd;
    let fingerprint = cache::fingerprint(&plan.names);
    let root_fd = super::fsio::open_dir_path(root).ok()?;
    let prior = o.store.load(root, fingerprint).unwrap_or_default();
    let clean = cache::revalidate::unchanged(&prior, root_fd.as_fd());
    Some(RootIndex {
        root: root.to_path_buf(),
        prior,
        clean,
        root_fd: Some(root_fd),
        last: cache::last_components(&plan.names),
        settle: o.settle_secs,
        fingerprint,
    })
}

/// No index off Linux: every directory is listed.
#[cfg(not(target_os = "linux"))]
pub(crate) fn prepare(_: &IndexOptions, _: &AuditPlan, _: &Path) -> Option<RootIndex> {
    None
}

/// Writes each root's new index: `fresh` (root, path relative to it, old record, listing) are
/// the directories listed afresh, `kept` (root, record) the old records still valid. Nothing
/// is written for a root where nothing changed; when only stamps changed, the old file is
/// patched rather than encoded again. Returns how many bytes were written.
pub(crate) fn update(
    o: &IndexOptions,
    indexes: &[Option<RootIndex>],
    fresh: Vec<(usize, PathBuf, Option<u32>, Listing)>,
    kept: Vec<(usize, u32)>,
) -> usize {
    let mut written = 0;
    for (i, index) in indexes.iter().enumerate() {
        let Some(index) = index else { continue };
        let mine: Vec<(Vec<u8>, Option<u32>, Listing)> = fresh
            .iter()
            .filter(|f| f.0 == i)
            .map(|(_, p, r, l)| (cache::key_of(p), *r, l.clone()))
            .collect();
        let kept_here: Vec<u32> = kept.iter().filter(|k| k.0 == i).map(|k| k.1).collect();
        if let Some(bytes) = cache::next_index(
            &index.root,
            index.fingerprint,
            &index.prior,
            mine,
            kept_here,
        ) {
            o.store.save(&index.root, index.fingerprint, &bytes);
            written += bytes.len();
        }
    }
    written
}
