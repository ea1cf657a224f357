//! The audit's only ways of touching the filesystem. Everything it reads is hostile: entries
//! are opened relative to a directory descriptor, never through a symlink (`O_NOFOLLOW`,
//! `AT_SYMLINK_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`), and files are read up to a
//! bound.

use std::ffi::CStr;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, AT_FDCWD};
use nix::sys::stat::Mode;

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

/// `statx`/`fstatat` of `name` in `dir`, not following a final symlink.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Meta, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: statx only writes the struct; an all-zero statx is a valid value.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated, `buf` is a valid out-pointer, `dir` is open.
    let rc = unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT,
            libc::STATX_TYPE | libc::STATX_SIZE | libc::STATX_CTIME | libc::STATX_BTIME,
            &mut buf,
        )
    };
    Errno::result(rc)?;
    Ok(Meta {
        kind: Kind::from_mode(u32::from(buf.stx_mode)),
        size: buf.stx_size,
        ctime: buf.stx_ctime.tv_sec,
        btime: (buf.stx_mask & libc::STATX_BTIME != 0).then_some(buf.stx_btime.tv_sec),
    })
}

/// `fstatat` of `name` in `dir`, not following a final symlink.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
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
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> Result<Dir, Errno> {
    Dir::openat(
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
