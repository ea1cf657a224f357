//! The state directory on disk: `runs/` holds one record per run (`PID-START.stubs`), and
//! `lock` orders the runs of this user. Everything read from here decides what srt deletes, so
//! it is trusted only as far as checks go: the directories must be real directories of this
//! user that nobody else may write, a record a regular 0600 file of this user with one link,
//! nothing is followed through a symlink, and reads are bounded.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, openat, renameat, FcntlArg, OFlag};
use nix::sys::stat::{fchmod, fstat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::{Stub, StubError, StubKind};

/// A record larger than this is not one of srt's.
const MAX_RECORD: u64 = 1 << 20;

fn uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

fn kind_of(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

/// Creates `dir` (0700) if needed and checks it is a directory of this user, not a symlink,
/// that neither group nor others may write.
fn private_dir(dir: &Path) -> Result<(), StubError> {
    let state_err = |source| StubError::StateDir {
        dir: dir.to_path_buf(),
        source,
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(state_err)?;
    let meta = fs::symlink_metadata(dir).map_err(state_err)?;
    let reason = if meta.file_type().is_symlink() {
        Some("it is a symlink".to_string())
    } else if !meta.is_dir() {
        Some("it is not a directory".to_string())
    } else if meta.uid() != uid() {
        Some(format!("it belongs to uid {}", meta.uid()))
    } else if meta.mode() & 0o022 != 0 {
        Some(format!(
            "others may write it (mode {:o})",
            meta.mode() & 0o7777
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StubError::Unsafe {
            dir: dir.to_path_buf(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The lock every run of this user takes around cleanup, stub creation and stub removal: an
/// open-file-description write lock on `STATE/lock`, released when dropped (or when the
/// process dies). A write lock needs a descriptor open for writing, which a sandbox that sees
/// the state directory read-only cannot get, so no command can hold it to stall srt.
pub(super) struct StateLock {
    _file: File,
}

impl StateLock {
    pub fn acquire(state_dir: &Path) -> Result<StateLock, StubError> {
        private_dir(state_dir)?;
        let path = state_dir.join("lock");
        let state_err = |source| StubError::StateDir {
            dir: path.clone(),
            source,
        };
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(state_err)?;
        let st = fstat(file.as_fd()).map_err(|e| state_err(e.into()))?;
        if kind_of(&st) != SFlag::S_IFREG || st.st_uid != uid() {
            return Err(StubError::Unsafe {
                dir: path,
                reason: "it is not a regular file of this user".into(),
            });
        }
        // SAFETY: a plain struct of integers; zero is a valid value for every field.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        loop {
            match fcntl(file.as_fd(), FcntlArg::F_OFD_SETLKW(&lock)) {
                Ok(_) => return Ok(StateLock { _file: file }),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(state_err(e.into())),
            }
        }
    }
}

/// One run's record: the run's process (pid and start time) and the stubs it relies on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Record {
    pub pid: u32,
    pub start: u64,
    pub stubs: Vec<Stub>,
}

/// A process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`), which
/// tells a live run from a recycled pid.
pub(super) fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses; fields resume after ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

impl Record {
    pub fn file_name(&self) -> String {
        format!("{}-{}.stubs", self.pid, self.start)
    }

    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }

    fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.pid, self.start);
        for s in &self.stubs {
            let kind = match s.kind {
                StubKind::File => "file",
                StubKind::Dir => "dir",
            };
            let (dev, ino) = s.id.unwrap_or((0, 0));
            // The path last: it may contain spaces (not newlines: those are refused at plan time).
            text.push_str(&format!("{kind} {dev} {ino} {}\n", s.path.display()));
        }
        text
    }

    pub fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        let mut head = lines.next()?.split(' ');
        let pid = head.next()?.parse().ok()?;
        let start = head.next()?.parse().ok()?;
        let stubs = lines
            .filter_map(|l| {
                let mut parts = l.splitn(4, ' ');
                let kind = match parts.next()? {
                    "file" => StubKind::File,
                    "dir" => StubKind::Dir,
                    _ => return None,
                };
                let dev: u64 = parts.next()?.parse().ok()?;
                let ino: u64 = parts.next()?.parse().ok()?;
                let path = PathBuf::from(parts.next()?);
                path.is_absolute().then_some(Stub {
                    kind,
                    id: (dev, ino).ne(&(0, 0)).then_some((dev, ino)),
                    path,
                })
            })
            .collect();
        Some(Record { pid, start, stubs })
    }
}

/// `STATE/runs`, held open.
pub(super) struct Runs {
    path: PathBuf,
    fd: OwnedFd,
}

impl Runs {
    /// Creates (0700) and checks the state directory and `runs/` in it, and opens `runs/`.
    pub fn open(state_dir: &Path) -> Result<Runs, StubError> {
        private_dir(state_dir)?;
        let path = state_dir.join("runs");
        private_dir(&path)?;
        let fd = openat(
            nix::fcntl::AT_FDCWD,
            path.as_path(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| StubError::StateDir {
            dir: path.clone(),
            source: e.into(),
        })?;
        Ok(Runs { path, fd })
    }

    /// Every trusted record, with its file name. What is not a trusted record (a leftover
    /// `.tmp`, a file another mode or owner, a symlink, something unparsable) is removed.
    pub fn records(&self) -> Vec<(String, Record)> {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            match self.read(&name) {
                Some(record) if record.file_name() == name => out.push((name, record)),
                _ => self.remove(&name),
            }
        }
        out
    }

    fn read(&self, name: &str) -> Option<Record> {
        if name.ends_with(".tmp") {
            return None;
        }
        let fd = openat(
            &self.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let st = fstat(fd.as_fd()).ok()?;
        let trusted = kind_of(&st) == SFlag::S_IFREG
            && st.st_uid == uid()
            && st.st_mode & 0o7777 == 0o600
            && st.st_nlink == 1
            && (st.st_size as u64) <= MAX_RECORD;
        if !trusted {
            return None;
        }
        let mut text = String::new();
        File::from(fd)
            .take(MAX_RECORD)
            .read_to_string(&mut text)
            .ok()?;
        Record::parse(&text)
    }

    /// Removes the entry `name` unless it is a directory.
    pub fn remove(&self, name: &str) {
        let _ = unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir);
    }

    /// Writes `record` (0600) through a temporary file renamed over it, so a reader never sees
    /// half of it.
    pub fn save(&self, record: &Record) -> Result<(), StubError> {
        let name = record.file_name();
        let tmp = format!("{name}.tmp");
        let write = || -> io::Result<()> {
            let fd = openat(
                &self.fd,
                tmp.as_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_TRUNC
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o600),
            )?;
            // The umask may have narrowed it; readers insist on exactly 0600.
            fchmod(fd.as_fd(), Mode::from_bits_truncate(0o600))?;
            // No fsync: the record guards against srt being killed, which the page cache
            // survives; a power loss takes the stubs' own creation with it too.
            File::from(fd).write_all(record.text().as_bytes())?;
            renameat(&self.fd, tmp.as_str(), &self.fd, name.as_str())?;
            Ok(())
        };
        write().map_err(|source| StubError::StateDir {
            dir: self.path.join(&name),
            source,
        })
    }
}
