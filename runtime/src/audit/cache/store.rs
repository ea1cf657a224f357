//! Index files in srt's state directory (`STATE/audit/`), one per root and set of protected
//! names. The state directory is the user's own, and read-only to the sandbox (see
//! `Ir::protect_state_dir`); a file is read only if it is a regular file of this user with one
//! link that nobody else may write, and replaced atomically (a new file renamed over it).

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::format::{decode, Fnv};
use super::Prior;

/// An index larger than this is not srt's (a 200,000-file tree takes well under 1 MiB).
const MAX_INDEX: u64 = 256 << 20;
/// Index files not rewritten for this long are removed when another is written.
const STALE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Where the index files live.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// `STATE/audit`, created 0700 if needed; `None` if it is not a private directory of this
    /// user (the audit then lists everything).
    pub fn open(state_dir: &Path) -> Option<Store> {
        let dir = state_dir.join("audit");
        private_dir(state_dir)?;
        private_dir(&dir)?;
        Some(Store { dir })
    }

    fn file(&self, root: &Path, fingerprint: u64) -> PathBuf {
        let mut h = Fnv::new();
        h.write(root.as_os_str().as_bytes());
        h.write(&fingerprint.to_le_bytes());
        self.dir.join(format!("{:016x}.idx", h.finish()))
    }

    /// The index of `root` for `fingerprint`, if there is a sound one.
    pub(crate) fn load(&self, root: &Path, fingerprint: u64) -> Option<Prior> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(self.file(root, fingerprint))
            .ok()?;
        let meta = file.metadata().ok()?;
        let ours = meta.is_file()
            && meta.uid() == nix::unistd::geteuid().as_raw()
            && meta.nlink() == 1
            && meta.mode() & 0o022 == 0
            && meta.len() <= MAX_INDEX;
        if !ours {
            return None;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(MAX_INDEX + 1).read_to_end(&mut bytes).ok()?;
        decode(bytes, root, fingerprint)
    }

    /// Replaces the index of `root` for `fingerprint` with `bytes`; failures are ignored (the
    /// next audit lists what it cannot trust).
    pub(crate) fn save(&self, root: &Path, fingerprint: u64, bytes: &[u8]) {
        let target = self.file(root, fingerprint);
        let tmp = self.dir.join(format!(
            "{}.{}.tmp",
            target
                .file_name()
                .map_or_else(Default::default, |n| n.to_string_lossy()),
            std::process::id()
        ));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes));
        if written.is_err() || std::fs::rename(&tmp, &target).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        self.prune();
    }

    /// Removes index files not rewritten for [`STALE`], and temporary files of runs that died
    /// while writing one (older than an hour).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for e in entries.flatten() {
            let name = e.file_name();
            let limit = if name.as_bytes().ends_with(b".tmp") {
                Duration::from_secs(3600)
            } else if name.as_bytes().ends_with(b".idx") {
                STALE
            } else {
                continue;
            };
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > limit);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Creates `dir` (0700) if needed; it must be a directory of this user, not a symlink, that
/// neither group nor others may write.
fn private_dir(dir: &Path) -> Option<()> {
    use std::os::unix::fs::DirBuilderExt;
    let _ = std::fs::DirBuilder::new().mode(0o700).create(dir);
    let meta = std::fs::symlink_metadata(dir).ok()?;
    (meta.is_dir() && meta.uid() == nix::unistd::geteuid().as_raw() && meta.mode() & 0o022 == 0)
        .then_some(())
}
