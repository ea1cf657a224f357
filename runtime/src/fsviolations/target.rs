//! Reading a notified call's arguments out of the calling process, which is hostile: every
//! read is bounded (`PATH_MAX`, one page at a time so that a string ending before an unmapped
//! page is still read), nothing is trusted to be UTF-8 or even NUL-terminated, and a process
//! that is gone, changed its memory or made itself non-dumpable yields "unreadable", never a
//! panic or a block.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The longest path the kernel accepts, its NUL included.
pub const PATH_MAX: usize = 4096;
const PAGE: u64 = 4096;

/// Why an argument could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Not mapped, or the process is gone (`EFAULT`, `ESRCH`).
    Fault,
    /// The kernel refused (`EPERM`: the process made itself non-dumpable, or Yama forbids).
    Denied,
    /// No NUL within `PATH_MAX` bytes: the call fails with `ENAMETOOLONG`.
    TooLong,
    /// A `NULL` pointer (the call fails with `EFAULT`, or means "the descriptor's file").
    Null,
}

/// Reads from processes of the sandbox through `/proc` (the sandbox's own).
pub struct Reader {
    proc_dir: OwnedFd,
    buf: Vec<u8>,
}

fn err_kind(e: &io::Error) -> Unreadable {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => Unreadable::Denied,
        _ => Unreadable::Fault,
    }
}

impl Reader {
    pub fn new() -> io::Result<Self> {
        // SAFETY: a static NUL-terminated path; the result is checked.
        let fd = unsafe {
            libc::open(
                c"/proc".as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Reader {
            // SAFETY: a fresh descriptor we own.
            proc_dir: unsafe { OwnedFd::from_raw_fd(fd) },
            buf: vec![0; PATH_MAX],
        })
    }

    /// `len` bytes at `addr` in `pid`'s memory into `self.buf[at..]`; how many were read.
    fn read_mem(
        &mut self,
        pid: u32,
        addr: u64,
        at: usize,
        len: usize,
    ) -> Result<usize, Unreadable> {
        let local = libc::iovec {
            iov_base: self.buf[at..].as_mut_ptr().cast(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: addr as *mut libc::c_void,
            iov_len: len,
        };
        // SAFETY: the local buffer has at least `len` bytes from `at` (callers keep
        // `at + len <= PATH_MAX`); the remote range is only read by the kernel, on the
        // target's behalf, and faults there are reported, not taken.
        let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
        if n < 0 {
            return Err(err_kind(&io::Error::last_os_error()));
        }
        Ok(n as usize)
    }

    /// The NUL-terminated string at `addr` in `pid`'s memory, without its NUL.
    pub fn c_string(&mut self, pid: u32, addr: u64) -> Result<Vec<u8>, Unreadable> {
        if addr == 0 {
            return Err(Unreadable::Null);
        }
        let mut have = 0usize;
        let mut at = addr;
        while have < PATH_MAX {
            // Up to the end of this page: the next one may not be mapped.
            let to_page_end = (PAGE - at % PAGE) as usize;
            let want = to_page_end.min(PATH_MAX - have);
            let n = self.read_mem(pid, at, have, want)?;
            if n == 0 {
                return Err(Unreadable::Fault);
            }
            if let Some(end) = self.buf[have..have + n].iter().position(|&b| b == 0) {
                return Ok(self.buf[..have + end].to_vec());
            }
            have += n;
            at = at.checked_add(n as u64).ok_or(Unreadable::Fault)?;
        }
        Err(Unreadable::TooLong)
    }

    /// The `u64` at `addr` (an `openat2` `struct open_how`'s flags).
    pub fn u64_at(&mut self, pid: u32, addr: u64) -> Result<u64, Unreadable> {
        if addr == 0 {
            return Err(Unreadable::Null);
        }
        let n = self.read_mem(pid, addr, 0, 8)?;
        if n < 8 {
            return Err(Unreadable::Fault);
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[..8]);
        Ok(u64::from_ne_bytes(b))
    }

    /// `readlink("/proc/PID/NAME")` (`cwd`, `fd/N`, `root`), bounded.
    pub fn link(&mut self, pid: u32, name: &str) -> Option<Vec<u8>> {
        // `PID/NAME\0` on the stack: this runs while the caller waits.
        let mut rel = [0u8; 64];
        let mut w = std::io::Cursor::new(&mut rel[..]);
        std::io::Write::write_fmt(&mut w, format_args!("{pid}/{name}\0")).ok()?;
        // SAFETY: valid descriptor, NUL-terminated path, buffer of PATH_MAX bytes.
        let n = unsafe {
            libc::readlinkat(
                self.proc_dir.as_raw_fd(),
                rel.as_ptr().cast(),
                self.buf.as_mut_ptr().cast(),
                PATH_MAX,
            )
        };
        if n <= 0 || n as usize >= PATH_MAX {
            return None;
        }
        Some(self.buf[..n as usize].to_vec())
    }

    /// The process's name (`/proc/PID/comm`), if it is still there.
    pub fn comm(&mut self, pid: u32) -> Option<String> {
        let rel = std::ffi::CString::new(format!("{pid}/comm")).ok()?;
        // SAFETY: valid descriptor and path; the result is checked and owned below.
        let fd = unsafe {
            libc::openat(
                self.proc_dir.as_raw_fd(),
                rel.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut b = [0u8; 64];
        // SAFETY: reads into a local buffer of its size.
        let n = unsafe { libc::read(fd.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) };
        if n <= 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&b[..n as usize]);
        Some(text.trim_end_matches('\n').to_string())
    }
}
