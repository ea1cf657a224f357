//! Host-side stubs: the empty files and directories bubblewrap needs as mount points for names
//! that do not exist yet (a mandatory deny such as `.bashrc`, a `denyWrite` of a missing file).
//! They appear in the user's tree, so they must never outlive the runs that rely on them, and
//! never outlive them much, not even when srt is killed with SIGKILL.
//!
//! Every run keeps a record in the state directory ([`records`]) of the stubs it relies on:
//! those it created, and those of other live runs its own mounts sit on (run B, started while
//! run A's stubs exist, mounts over them; were A to remove them when it ends, the kernel would
//! detach B's mounts with them and B could create the protected names). All of it happens
//! under one per-user lock: cleanup after dead runs, gathering the host facts and creating
//! stubs ([`RunRecord::begin`] to [`RunRecord::create`]), and removal ([`RunRecord::finish`]).
//! A stub is removed when the last live run relying on it ends, and only if it is still the
//! very file or directory srt made: same device and inode, owned by this user, its mode as
//! created (a file 0444, a directory 0755), and empty.

mod records;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{fchmod, fstat, Mode};
use srt_compiler::backend::linux::LinuxPlan;

pub use crate::state_dir::default_state_dir;
use records::{start_time, Record, Runs, StateLock};

/// What a stub is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StubKind {
    File,
    Dir,
}

/// A stub to create, and once created, its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stub {
    pub path: PathBuf,
    pub kind: StubKind,
    /// `(dev, ino)` once srt has created it.
    pub id: Option<(u64, u64)>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StubError {
    #[error("cannot use the state directory {dir}: {source}")]
    #[diagnostic(help("srt records host-side stubs there so they are removed even after a crash; set XDG_STATE_HOME to a writable directory"))]
    StateDir { dir: PathBuf, source: io::Error },
    #[error("srt will not use {dir} for its state: {reason}")]
    #[diagnostic(help("srt's cleanup deletes what its records there name, so only this user may write them: make it a directory of yours with mode 0700 (`chmod 700`), or set XDG_STATE_HOME elsewhere"))]
    Unsafe { dir: PathBuf, reason: String },
    #[error("cannot create the mount-point stub {path}: {source}")]
    #[diagnostic(help("the command did not run. When its directory was removed after srt planned the mounts (another sandbox run that keeps its records in another state directory, or another program), srt plans afresh and tries again, a few times; run again if it gave up"))]
    Create { path: PathBuf, source: io::Error },
    #[error("{path} is a symlink where srt must create an empty mount point for a protected name")]
    #[diagnostic(help("remove it (`rm {}`) and run again: srt cannot protect the name through a link (an earlier sandboxed run may have left it there)", path.display()))]
    Symlink { path: PathBuf },
}

/// The paths `plan` mounts on (each argument's last word, when it is an absolute path): the
/// stubs of other runs found there are relied on by this run too.
pub fn mount_points(plan: &LinuxPlan) -> Vec<PathBuf> {
    plan.args
        .iter()
        .filter_map(|a| a.words.last())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

/// The stub record of one run.
pub struct RunRecord {
    runs: Runs,
    state_dir: PathBuf,
    record: Record,
    /// Held from [`RunRecord::begin`] to the end of [`RunRecord::create`].
    lock: Option<StateLock>,
}

impl RunRecord {
    /// Takes the state directory's lock (created 0700 as needed), cleans up after runs whose
    /// process is gone, and starts this process's record. The lock is held until
    /// [`RunRecord::create`] has made this run's stubs: gather the host facts and plan in
    /// between, so no other run removes a stub the plan mounts on meanwhile.
    pub fn begin(state_dir: &Path) -> Result<Self, StubError> {
        let lock = StateLock::acquire(state_dir)?;
        let runs = Runs::open(state_dir)?;
        clean_dead_runs(&runs);
        let pid = std::process::id();
        Ok(RunRecord {
            runs,
            state_dir: state_dir.to_path_buf(),
            record: Record {
                pid,
                start: start_time(pid).unwrap_or(0),
                stubs: Vec::new(),
            },
            lock: Some(lock),
        })
    }

    /// Records, then creates, each stub that does not exist yet; records each existing one that
    /// is a live run's stub (shared from now on), and likewise every live run's stub found at
    /// one of `mounted` (the plan's [`mount_points`]). A name that exists and is not srt's is
    /// left alone and not recorded (it is the user's); a symlink where a stub must go is
    /// refused before anything is created. Releases the lock.
    ///
    /// The record is written twice: once listing every stub before any is created, and once
    /// with their identities after. A run killed in between leaves stubs without identities,
    /// which cleanup leaves alone.
    pub fn create(
        &mut self,
        stubs: &[(PathBuf, StubKind)],
        mounted: &[PathBuf],
    ) -> Result<(), StubError> {
        let result = self.create_locked(stubs, mounted);
        self.lock = None;
        result
    }

    fn create_locked(
        &mut self,
        stubs: &[(PathBuf, StubKind)],
        mounted: &[PathBuf],
    ) -> Result<(), StubError> {
        let live: Vec<Stub> = self
            .runs
            .records()
            .into_iter()
            .filter(|(_, r)| r.pid != self.record.pid && r.alive())
            .flat_map(|(_, r)| r.stubs)
            .collect();
        let is_live_stub = |path: &Path| -> Option<Stub> {
            let meta = fs::symlink_metadata(path).ok()?;
            let id = Some((meta.dev(), meta.ino()));
            live.iter().find(|s| s.path == path && s.id == id).cloned()
        };
        let mut new = Vec::new();
        for (path, kind) in stubs {
            match fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StubError::Symlink { path: path.clone() })
                }
                Ok(_) => {}
                Err(_) => new.push(Stub {
                    path: path.clone(),
                    kind: *kind,
                    id: None,
                }),
            }
        }
        // (With no other live run, there is nothing to share: no `stat` of every mount point.)
        let shared = stubs
            .iter()
            .map(|(p, _)| p)
            .chain(mounted)
            .filter(|_| !live.is_empty())
            .filter_map(|p| is_live_stub(p));
        for s in shared {
            if !self.record.stubs.contains(&s) {
                self.record.stubs.push(s);
            }
        }
        let first_new = self.record.stubs.len();
        self.record.stubs.extend(new);
        self.runs.save(&self.record)?;
        let mut failure = None;
        let mut i = first_new;
        while i < self.record.stubs.len() {
            let (path, kind) = (self.record.stubs[i].path.clone(), self.record.stubs[i].kind);
            match make_stub(&path, kind) {
                Ok(id) => {
                    self.record.stubs[i].id = Some(id);
                    i += 1;
                }
                // Someone created it in between: it is theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    self.record.stubs.remove(i);
                }
                Err(source) => {
                    failure = Some(StubError::Create { path, source });
                    self.record.stubs.truncate(i);
                    break;
                }
            }
        }
        self.runs.save(&self.record)?;
        failure.map_or(Ok(()), Err)
    }

    /// Removes the stubs this run relied on that no other live run relies on, and the record.
    /// Without the lock (the state directory became unusable) nothing is removed: the record
    /// stays, and the next run cleans up.
    pub fn finish(mut self) {
        let lock = match self.lock.take() {
            Some(lock) => lock,
            None => match StateLock::acquire(&self.state_dir) {
                Ok(lock) => lock,
                Err(_) => return,
            },
        };
        let others: Vec<(String, Record)> = self
            .runs
            .records()
            .into_iter()
            .filter(|(_, r)| r.pid != self.record.pid && r.alive())
            .collect();
        remove_unclaimed(&self.record.stubs, &others);
        self.runs.remove(&self.record.file_name());
        drop(lock);
    }

    pub fn stubs(&self) -> &[Stub] {
        &self.record.stubs
    }
}

/// Creates a stub exclusively, sets its mode exactly (the umask may have narrowed it), and
/// returns its identity, all through the descriptor of what was created.
fn make_stub(path: &Path, kind: StubKind) -> io::Result<(u64, u64)> {
    let (file, mode) = match kind {
        StubKind::File => (
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path)?,
            0o444,
        ),
        StubKind::Dir => {
            // 0755: the mount over it decides what the sandbox may do; the directory itself
            // must let srt (not root) create nested stubs in it.
            fs::create_dir(path)?;
            (
                fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(path)?,
                0o755,
            )
        }
    };
    // The umask may have narrowed the mode; set it exactly only then.
    let st = fstat(file.as_fd())?;
    if st.st_mode & 0o7777 != mode {
        fchmod(file.as_fd(), Mode::from_bits_truncate(mode))?;
    }
    Ok((st.st_dev, st.st_ino))
}

/// Is the entry at `s.path` still the stub srt made: same identity, this user's, the mode srt
/// gave it, and (a file) empty with one link? (A directory is removed only if empty anyway.)
fn still_srt_stub(s: &Stub, meta: &fs::Metadata) -> bool {
    let uid = nix::unistd::geteuid().as_raw();
    let mode = meta.mode() & 0o7777;
    s.id == Some((meta.dev(), meta.ino()))
        && meta.uid() == uid
        && match s.kind {
            StubKind::File => {
                meta.is_file() && meta.len() == 0 && meta.nlink() == 1 && mode == 0o444
            }
            StubKind::Dir => meta.is_dir() && mode == 0o755,
        }
}

/// Removes each of `stubs` that is still srt's and that none of the `live` records relies on,
/// deepest first (a record may list another run's directory before the stubs made inside it).
fn remove_unclaimed(stubs: &[Stub], live: &[(String, Record)]) {
    let mut order: Vec<&Stub> = stubs.iter().rev().collect();
    order.sort_by_key(|s| std::cmp::Reverse(s.path.components().count()));
    for s in order {
        if live.iter().any(|(_, r)| r.stubs.contains(s)) {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&s.path) else {
            continue;
        };
        if !still_srt_stub(s, &meta) {
            continue;
        }
        let _ = match s.kind {
            StubKind::File => fs::remove_file(&s.path),
            StubKind::Dir => fs::remove_dir(&s.path), // fails unless empty
        };
    }
}

/// With the lock held: removes the records of runs whose process is gone, and their stubs that
/// no live run relies on. Returns how many stubs were looked at.
fn clean_dead_runs(runs: &Runs) -> usize {
    let (live, dead): (Vec<_>, Vec<_>) = runs.records().into_iter().partition(|(_, r)| r.alive());
    let mut seen = 0;
    for (name, record) in dead {
        seen += record.stubs.len();
        remove_unclaimed(&record.stubs, &live);
        runs.remove(&name);
    }
    seen
}

/// Cleans up after runs whose process is gone (killed, crashed), under the lock. Returns how
/// many stubs were looked at. Records of live runs, and the stubs they rely on, are left alone.
pub fn cleanup_stale(state_dir: &Path) -> usize {
    let Ok(_lock) = StateLock::acquire(state_dir) else {
        return 0;
    };
    match Runs::open(state_dir) {
        Ok(runs) => clean_dead_runs(&runs),
        Err(_) => 0,
    }
}
