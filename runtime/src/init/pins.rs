//! The init's link pins, and the capabilities they need dropped for good.
//!
//! bwrap's mounts follow symlinks, so a protection on a path through a link sits on its
//! target, and the link stays an ordinary entry of a directory the command may write. The
//! plan lists such links ([`srt_compiler::backend::linux::LinkPin`]); bwrap starts the init
//! with `CAP_SYS_ADMIN` and `CAP_SETPCAP` in the sandbox's user namespace, and the init mounts
//! each link on itself: `open_tree(OPEN_TREE_CLONE)` of the link and `move_mount` onto it,
//! neither following it (a symlink mounted on a symlink passes the kernel's file-type check).
//! A mount point cannot be unlinked, renamed or replaced (`EBUSY`), and the command, with no
//! capability, cannot unmount it. Then the init drops every capability, the bounding and
//! ambient sets included, before any other thread or the command starts.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("cannot pin the symlink {path}: {source}")]
    Pin { path: PathBuf, source: io::Error },
    #[error(
        "cannot pin {path}: it is no longer a symlink (it changed after srt planned the sandbox)"
    )]
    NotALink { path: PathBuf },
    #[error("cannot drop the init's capabilities: {0}")]
    Capabilities(io::Error),
}

/// Mounts each link on itself. Fails on the first one that cannot be pinned: the command
/// must not start with a protected name left replaceable.
pub fn pin_links(links: &[PathBuf]) -> Result<(), PinError> {
    for link in links {
        pin_link(link).map_err(|e| match e {
            Pinning::NotALink => PinError::NotALink { path: link.clone() },
            Pinning::Io(source) => PinError::Pin {
                path: link.clone(),
                source,
            },
        })?;
    }
    Ok(())
}

enum Pinning {
    NotALink,
    Io(io::Error),
}

impl From<io::Error> for Pinning {
    fn from(e: io::Error) -> Self {
        Pinning::Io(e)
    }
}

fn check(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn owned(fd: libc::c_long) -> io::Result<OwnedFd> {
    let raw = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: `raw` is a descriptor the kernel just returned to us and nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn pin_link(link: &Path) -> Result<(), Pinning> {
    let c = CString::new(link.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // The link itself, not its target: one descriptor for the check and both mount calls, so
    // what is checked is what is mounted.
    // SAFETY: a valid NUL-terminated path; the result is checked.
    let fd = check(
        unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        }
        .into(),
    )?;
    let fd = owned(fd)?;
    // SAFETY: `st` is a plain struct the kernel fills; the descriptor is ours.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc =
        // SAFETY: as above; AT_EMPTY_PATH with "" stats the descriptor itself.
        unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    check(rc.into())?;
    if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
        return Err(Pinning::NotALink);
    }
    let clone_flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_EMPTY_PATH as u32;
    // SAFETY: open_tree on our descriptor with an empty path; the result is checked.
    let tree = check(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            fd.as_raw_fd(),
            c"".as_ptr(),
            clone_flags,
        )
    })?;
    let tree = owned(tree)?;
    // No MOVE_MOUNT_T_SYMLINKS: the mount lands on the link, not on what it points to.
    let move_flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both descriptors are ours; empty paths; the result is checked.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            fd.as_raw_fd(),
            c"".as_ptr(),
            move_flags,
        )
    })?;
    Ok(())
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

fn capget() -> io::Result<[CapData; 2]> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capget(2) wants for version 3.
    check(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    Ok(data)
}

/// Drops every capability of this thread for good: the ambient set, the bounding set (while
/// `CAP_SETPCAP` is still held), then the effective, permitted and inheritable sets. Call it
/// before any other thread exists: each thread has its own sets, and threads started later
/// inherit these. Does nothing when there is nothing to drop (bwrap's `--cap-drop ALL`
/// alone), and checks the outcome.
pub fn drop_all_capabilities() -> Result<(), PinError> {
    let err = |e| PinError::Capabilities(e);
    let held = capget().map_err(err)?;
    // SAFETY: prctl with integer arguments only.
    let in_bounding =
        |cap: u32| unsafe { libc::prctl(libc::PR_CAPBSET_READ, libc::c_ulong::from(cap), 0, 0, 0) } > 0;
    let last = last_cap();
    let any_bounding = (0..=last).any(in_bounding);
    let any_held = held
        .iter()
        .any(|d| d.effective | d.permitted | d.inheritable != 0);
    if !any_bounding && !any_held {
        return Ok(());
    }
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    check(rc.into()).map_err(err)?;
    for cap in (0..=last).filter(|c| in_bounding(*c)) {
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0, 0, 0) };
        check(rc.into()).map_err(err)?;
    }
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let none = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capset(2) wants for version 3.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header, none.as_ptr()) }).map_err(err)?;
    let after = capget().map_err(err)?;
    if (0..=last).any(in_bounding)
        || after
            .iter()
            .any(|d| d.effective | d.permitted | d.inheritable != 0)
    {
        return Err(err(io::Error::other(
            "capabilities remain after dropping them",
        )));
    }
    Ok(())
}
