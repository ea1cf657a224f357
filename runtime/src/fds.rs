//! Descriptors srt inherited stay out of the sandbox.
//!
//! Whatever srt's caller left open without `O_CLOEXEC` would pass through bubblewrap (or
//! `sandbox-exec`) into the command: a directory descriptor is a handle on the host's mount,
//! and `/proc/self/fd/N/…` writes outside every write root through it. So a run first marks
//! every descriptor from 3 up close-on-exec, before srt opens any of its own: what srt hands
//! the sandbox on purpose (bwrap's `--info-fd`, the seccomp memfd) is created afterwards,
//! inheritable, and nothing else crosses.
//!
//! A descriptor srt itself reads (the npm srt's `--control-fd`, should srt support it) stays
//! open in srt: close-on-exec only keeps it from the programs srt executes.

use std::io;
use std::os::fd::RawFd;

/// Marks every descriptor from 3 up close-on-exec: `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)`
/// (Linux 5.11), else one `fcntl` per descriptor listed in `/proc/self/fd` (`/dev/fd` where
/// there is no procfs). Fails, rather than leave one inheritable, when neither works.
pub fn close_inherited_on_exec() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        if rc == 0 {
            return Ok(());
        }
    }
    mark_listed_cloexec()
}

fn fd_dir() -> &'static str {
    if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    }
}

fn mark_listed_cloexec() -> io::Result<()> {
    let dir = fd_dir();
    let fds: Vec<RawFd> = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot list {dir}: {e}")))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= 3)
        .collect();
    for fd in fds {
        set_cloexec(fd)?;
    }
    Ok(())
}

/// Sets `FD_CLOEXEC` on `fd`; one that is already closed (the listing's own) is fine.
fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor number only reads or sets its flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EBADF) => Ok(()),
            _ => Err(err),
        };
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};

    fn inheritable_pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: a valid out-array; flags 0 leaves both ends inheritable.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: fresh descriptors we own.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn is_cloexec(fd: &OwnedFd) -> bool {
        use std::os::fd::AsRawFd;
        // SAFETY: reads the flags of a descriptor we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
    }

    #[test]
    fn both_ways_mark_every_descriptor() {
        let (r, w) = inheritable_pipe();
        assert!(!is_cloexec(&r) && !is_cloexec(&w));
        close_inherited_on_exec().unwrap();
        assert!(is_cloexec(&r) && is_cloexec(&w));
        // The fallback, on its own.
        let (r, w) = inheritable_pipe();
        mark_listed_cloexec().unwrap();
        assert!(is_cloexec(&r) && is_cloexec(&w));
    }
}
