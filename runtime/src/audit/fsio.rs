//! The audit's only ways of touching the filesystem. Everything it reads is hostile: entries
//! are opened relative to a directory descriptor, never through a symlink (`O_NOFOLLOW`,
//! `AT_SYMLINK_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`), and files are read up to a
//! bound.

use std::ffi::CStr;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

#[cfg(not(target_os = "linux"))]
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, AT_FDCWD};
use nix::sys::stat::Mode;

use super::cache::Stamp;

/// What an entry is, without following it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl Kind {
    #[allow(clippy::unnecessary_cast)] // mode_t is u16 on macOS
    fn from_mode(mode: u32) -> Kind {
        match mode & libc::S_IFMT as u32 {
            m if m == libc::S_IFREG as u32 => Kind::File,
            m if m == libc::S_IFDIR as u32 => Kind::Dir,
            m if m == libc::S_IFLNK as u32 => Kind::Symlink,
            _ => Kind::Other,
        }
    }

    /// From a directory entry's `d_type`; `None` when the filesystem does not say.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn from_dirent(t: Option<nix::dir::Type>) -> Option<Kind> {
        use nix::dir::Type;
        Some(match t? {
            Type::File => Kind::File,
            Type::Directory => Kind::Dir,
            Type::Symlink => Kind::Symlink,
            _ => Kind::Other,
        })
    }
}

/// The few fields of `stat` the audit uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub kind: Kind,
    pub size: u64,
    /// Seconds since the epoch: the inode's last change, which user space cannot set.
    pub ctime: i64,
    /// Seconds since the epoch: when the inode was made, where the filesystem records it.
    pub btime: Option<i64>,
}

/// `statx` of `name` in `dir`, not following a final symlink.
#[cfg(target_os = "linux")]
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Meta, Errno> {
    use rustix::fs::{statx, AtFlags, StatxFlags};
    let st = statx(
        dir,
        name,
        AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT,
        StatxFlags::TYPE | StatxFlags::SIZE | StatxFlags::CTIME | StatxFlags::BTIME,
    )
    .map_err(from_rustix)?;
    Ok(Meta {
        kind: Kind::from_mode(u32::from(st.stx_mode)),
        size: st.stx_size,
        ctime: st.stx_ctime.tv_sec,
        btime: (st.stx_mask & StatxFlags::BTIME.bits() != 0).then_some(st.stx_btime.tv_sec),
    })
}

/// The identity and last change of what `name` in `dir` is (the empty name: `dir` itself),
/// not following a final symlink.
#[cfg(target_os = "linux")]
fn stamp_statx(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: rustix::fs::AtFlags,
) -> Result<(Stamp, Kind), Errno> {
    use rustix::fs::{statx, StatxFlags};
    let st = statx(
        dir,
        name,
        flags | rustix::fs::AtFlags::NO_AUTOMOUNT,
        StatxFlags::TYPE | StatxFlags::INO | StatxFlags::CTIME,
    )
    .map_err(from_rustix)?;
    let stamp = Stamp {
        dev: (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor),
        ino: st.stx_ino,
        ctime_sec: st.stx_ctime.tv_sec,
        ctime_nsec: st.stx_ctime.tv_nsec,
    };
    Ok((stamp, Kind::from_mode(u32::from(st.stx_mode))))
}

/// The stamp of the directory open at `fd`.
#[cfg(target_os = "linux")]
pub(crate) fn stamp_of(fd: BorrowedFd<'_>) -> Result<Stamp, Errno> {
    stamp_statx(fd, c"", rustix::fs::AtFlags::EMPTY_PATH).map(|(s, _)| s)
}

/// The stamp of the directory open at `fd`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn stamp_of(fd: BorrowedFd<'_>) -> Result<Stamp, Errno> {
    let st = nix::sys::stat::fstat(fd)?;
    Ok(Stamp {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        ctime_sec: st.st_ctime as i64,
        ctime_nsec: st.st_ctime_nsec as u32,
    })
}

/// The stamp of the directory at `path` under `dir` (a symlink or anything else than a
/// directory there is `ENOTDIR`).
#[cfg(target_os = "linux")]
pub(crate) fn dir_stamp_at(dir: BorrowedFd<'_>, path: &CStr) -> Result<Stamp, Errno> {
    match stamp_statx(dir, path, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)? {
        (s, Kind::Dir) => Ok(s),
        _ => Err(Errno::ENOTDIR),
    }
}

/// The filesystem type (`statfs`'s `f_type`) of the directory at `path` under `dir`.
#[cfg(target_os = "linux")]
pub(crate) fn fs_magic_at(dir: BorrowedFd<'_>, path: &CStr) -> Option<u64> {
    let fd;
    let target = if path == c"." {
        dir
    } else {
        fd = openat(
            dir,
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        fd.as_fd()
    };
    let st = rustix::fs::fstatfs(target).ok()?;
    #[allow(clippy::unnecessary_cast)] // the field's type differs between libcs
    Some(st.f_type as u64)
}

/// Opens the directory `name` in `dir` as a handle for looking up and `stat`-ing (`O_PATH`),
/// not following a final symlink.
#[cfg(target_os = "linux")]
pub(crate) fn open_path_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// Opens the directory at `path` under `dir` without following any symlink on the way
/// (`openat2` with `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH`).
#[cfg(target_os = "linux")]
pub(crate) fn open_dir_beneath(
    dir: BorrowedFd<'_>,
    path: &std::path::Path,
) -> Result<OwnedFd, Errno> {
    use rustix::fs::{openat2, Mode as RMode, OFlags, ResolveFlags};
    openat2(
        dir,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        RMode::empty(),
        ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )
    .map_err(from_rustix)
}

#[cfg(target_os = "linux")]
fn from_rustix(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// `fstatat` of `name` in `dir`, not following a final symlink.
#[cfg(not(target_os = "linux"))]
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Meta, Errno> {
    let st = nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)?;
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Ok(Meta {
        kind: Kind::from_mode(st.st_mode as u32),
        size: u64::try_from(st.st_size).unwrap_or(0),
        ctime: st.st_ctime as i64,
        btime: None,
    })
}

/// Opens the directory `name` in `dir` for listing; a symlink there is refused (`ELOOP`).
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY
            | OFlag::O_DIRECTORY
            | OFlag::O_NOFOLLOW
            | OFlag::O_CLOEXEC
            | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
}

/// Lists directories into one reused buffer: `getdents64` straight from the descriptor, with
/// no `fdopendir` (its `fstat` and `fcntl`s) and no rewind, two system calls per directory.
pub(crate) struct Lister {
    #[cfg(target_os = "linux")]
    buf: Vec<std::mem::MaybeUninit<u8>>,
}

impl Lister {
    pub fn new() -> Self {
        Lister {
            #[cfg(target_os = "linux")]
            buf: vec![std::mem::MaybeUninit::uninit(); 64 * 1024],
        }
    }

    /// Calls `each` with every entry's name (not `.` or `..`) and type, if the filesystem says,
    /// until it returns `false`.
    #[cfg(target_os = "linux")]
    pub fn list(
        &mut self,
        dir: &OwnedFd,
        mut each: impl FnMut(&CStr, Option<Kind>) -> bool,
    ) -> Result<(), Errno> {
        use rustix::fs::{FileType, RawDir};
        let mut raw = RawDir::new(dir, &mut self.buf);
        while let Some(entry) = raw.next() {
            let entry = entry.map_err(from_rustix)?;
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            let kind = match entry.file_type() {
                FileType::RegularFile => Some(Kind::File),
                FileType::Directory => Some(Kind::Dir),
                FileType::Symlink => Some(Kind::Symlink),
                FileType::Unknown => None,
                _ => Some(Kind::Other),
            };
            if !each(name, kind) {
                break;
            }
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    pub fn list(
        &mut self,
        dir: &OwnedFd,
        mut each: impl FnMut(&CStr, Option<Kind>) -> bool,
    ) -> Result<(), Errno> {
        let mut listing = Dir::from_fd(dir.try_clone().map_err(|_| Errno::EMFILE)?)?;
        for entry in listing.iter() {
            let entry = entry?;
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            if !each(name, Kind::from_dirent(entry.file_type())) {
                break;
            }
        }
        Ok(())
    }
}

/// Opens a root (a path from the plan, or one git would follow) as a directory.
pub(crate) fn open_dir_path(path: &Path) -> Result<OwnedFd, Errno> {
    openat(
        AT_FDCWD,
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
}

/// What a bounded read found.
pub(crate) struct Contents {
    pub bytes: Vec<u8>,
    /// The file is longer than the bound; `bytes` holds its start.
    pub truncated: bool,
    pub meta: Meta,
}

fn meta_of(fd: BorrowedFd<'_>) -> Result<Meta, Errno> {
    let st = nix::sys::stat::fstat(fd)?;
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Ok(Meta {
        kind: Kind::from_mode(st.st_mode as u32),
        size: u64::try_from(st.st_size).unwrap_or(0),
        ctime: st.st_ctime as i64,
        btime: None,
    })
}

fn read_bounded(fd: OwnedFd, limit: u64) -> Result<Contents, Errno> {
    let meta = meta_of(fd.as_fd())?;
    if meta.kind != Kind::File {
        return Ok(Contents {
            bytes: Vec::new(),
            truncated: false,
            meta,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.size.min(limit)).unwrap_or(0));
    let mut file = std::fs::File::from(fd);
    // One byte past the bound tells a file of exactly `limit` bytes from a longer one.
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let truncated = bytes.len() as u64 > limit;
    bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Contents {
        bytes,
        truncated,
        meta,
    })
}

/// Reads at most `limit` bytes of the regular file `name` in `dir`, not following a final
/// symlink. Anything but a regular file is returned with no bytes (its `meta` says what it is).
pub(crate) fn read_at(dir: BorrowedFd<'_>, name: &CStr, limit: u64) -> Result<Contents, Errno> {
    let fd = openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::empty(),
    )?;
    read_bounded(fd, limit)
}

/// Reads at most `limit` bytes of the regular file at `path`, following symlinks as git does
/// for included files (reading is all the audit does with them).
pub(crate) fn read_path(path: &Path, limit: u64) -> Result<Contents, Errno> {
    // The path may come from a hostile config: only a regular file is opened at all (opening
    // a device can do something).
    let meta = std::fs::metadata(path)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    if !meta.is_file() {
        return Err(Errno::EINVAL);
    }
    let fd = openat(
        AT_FDCWD,
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::empty(),
    )?;
    read_bounded(fd, limit)
}

/// The target of the symlink `name` in `dir`, at most 4096 bytes.
pub(crate) fn read_link_at(dir: BorrowedFd<'_>, name: &CStr) -> Option<std::ffi::OsString> {
    nix::fcntl::readlinkat(dir, name).ok()
}
