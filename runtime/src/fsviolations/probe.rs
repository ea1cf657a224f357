//! Can this kernel run the observer? It needs seccomp user notification (Linux 5.0) and
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE` (5.5): without `CONTINUE` an observed call could only
//! be failed or faked, never let through, so srt then runs without the observer.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The kernel release as `(major, minor)`.
fn release() -> Option<(u32, u32)> {
    // SAFETY: an all-zero utsname is valid; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    if unsafe { libc::uname(&mut u) } != 0 {
        return None;
    }
    // SAFETY: uname NUL-terminates the field.
    let text = unsafe { std::ffi::CStr::from_ptr(u.release.as_ptr()) }.to_string_lossy();
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Why the observer cannot run here, if it cannot (a quick check: the action is available
/// and the kernel is 5.5 or newer).
pub fn unsupported() -> Option<String> {
    let mut action: u32 = libc::SECCOMP_RET_USER_NOTIF;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL reads a u32.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0,
            &mut action as *mut u32,
        )
    };
    if rc != 0 {
        return Some(format!(
            "the kernel has no seccomp user notification ({}; Linux 5.0+)",
            io::Error::last_os_error()
        ));
    }
    match release() {
        Some(v) if v >= (5, 5) => None,
        Some((a, b)) => Some(format!(
            "the kernel ({a}.{b}) cannot let an observed call continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5+)"
        )),
        None => Some("the kernel release cannot be read".into()),
    }
}

/// The real thing, for `srt doctor`: a child installs a listener on `mkdirat`, makes one
/// call, and srt lets it continue; the call must reach the kernel (and fail with `ENOENT`).
pub fn probe() -> Result<(), String> {
    if let Some(why) = unsupported() {
        return Err(why);
    }
    let mut fds = [0; 2];
    // SAFETY: valid out-array.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } != 0
    {
        return Err(format!("socketpair: {}", io::Error::last_os_error()));
    }
    // SAFETY: fresh descriptors we own.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let program = srt_compiler::backend::linux::seccomp::observer::ObserverProgram::build(
        srt_compiler::backend::linux::seccomp::Arch::host()
            .ok_or("srt has no seccomp program for this architecture")?,
        Default::default(),
    );
    let insns = crate::init::filter_from_bytes(&program.to_bytes())
        .ok_or("the observer program does not load")?;
    let config = super::config::ObserverConfig {
        program: insns.0,
        reads: false,
        rules: srt_compiler::fs_rules::FsRules::of(&srt_compiler::Ir::default()),
    };
    let side = super::supervisor::probe_side(&config, theirs.as_raw_fd());
    // SAFETY: the child only makes system calls on data prepared here, then exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: in the child: system calls only, then _exit.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            super::supervisor::install_in_child(&side);
            let rc = libc::mkdirat(libc::AT_FDCWD, c"/nonexistent-srt-probe/x".as_ptr(), 0o700);
            let ok = rc < 0 && *libc::__errno_location() == libc::ENOENT;
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    drop(theirs);
    let result = super::supervisor::answer_one(&ours);
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
    }
    result?;
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err("a call the observer let continue did not reach the kernel".into())
    }
}
