//! Installs a seccomp program built by `srt_compiler::backend::linux::seccomp` on the calling
//! thread (and everything it later forks or execs). Linux only.
//!
//! Async-signal-safe: no allocation, two system calls. So it can run between `fork` and
//! `exec` (in `Command::pre_exec`), or in the in-sandbox init just before it execs the command.
//! Build the program (and keep its `Vec`) before forking.

use std::io;

use srt_compiler::backend::linux::seccomp::SockFilter;

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`, then `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`.
///
/// Fails (and installs nothing) if the program is empty or longer than `BPF_MAXINSNS`, or if
/// the kernel refuses it; the caller must then refuse to run the command.
pub fn install(program: &[SockFilter]) -> io::Result<()> {
    const BPF_MAXINSNS: usize = 4096;
    if program.is_empty() || program.len() > BPF_MAXINSNS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // `SockFilter` is `#[repr(C)]` with the layout of `struct sock_filter`.
    let fprog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: plain system calls; `fprog` points at `program`, which outlives them.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
