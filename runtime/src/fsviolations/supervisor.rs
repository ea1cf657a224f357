//! The init's half of the observer.
//!
//! The command's child, between fork and exec, installs the observer's program after the
//! policy filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER`, hands the listener descriptor to the
//! init over a socket pair made before the fork (`SCM_RIGHTS`), and closes its own copy: the
//! command never holds it. A failure there leaves the command running without an observer
//! (the observer reports; it never stands between the command and its run) and is said once.
//!
//! The init serves the listener on a thread of its own: for each notification it reads what
//! the call touches ([`capture`]), checks the caller is still the one that called when it read
//! `/proc/PID/…`, and answers `SECCOMP_USER_NOTIF_FLAG_CONTINUE` at once. Only then does it
//! decide the paths with the host's rules (`decide_path`, on a copy of the host's rules),
//! check that the sandbox refused the denied ones ([`enforced`]), and send those to the host
//! on a non-blocking pipe; a full pipe drops the record and counts it. The thread never stops
//! answering: an observer that stopped would leave every observed call waiting.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use srt_compiler::backend::linux::seccomp::Arch;
use srt_compiler::Ir;

use super::capture::{capture, Capture};
use super::config::ObserverConfig;
use super::target::{Reader, Unreadable};
use super::wire::{encode, Access, AccessKind, Record};
use super::{enforced, SYNC_WAKE_UP};

/// What the child needs between fork and exec, made before the fork.
pub struct ChildSide {
    prog: libc::sock_fprog,
    sock: RawFd,
}

// SAFETY: the program points into a Vec the `Pending` owns, which outlives the spawn; the
// child only reads it.
unsafe impl Send for ChildSide {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for ChildSide {}

/// Installs the observer in the calling (child) process and sends the listener to the init.
/// Async-signal-safe: system calls only, on data made before the fork; nothing allocates.
///
/// # Safety
/// Call only in the forked child, after the policy filter is installed.
pub unsafe fn install_in_child(side: &ChildSide) {
    // SAFETY: a valid program; the flag asks the kernel for a listener descriptor.
    let listener = libc::syscall(
        libc::SYS_seccomp,
        libc::SECCOMP_SET_MODE_FILTER,
        libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
        &side.prog as *const libc::sock_fprog,
    ) as libc::c_int;
    let mut byte: [u8; 5] = [b'L', 0, 0, 0, 0];
    // SAFETY: an all-zero msghdr and cmsg buffer are valid; filled below.
    let mut cmsg_buf = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: byte.len(),
    };
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if listener >= 0 {
        msg.msg_control = cmsg_buf.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if !cmsg.is_null() {
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>(), listener);
        }
    } else {
        let errno = *libc::__errno_location();
        byte[0] = b'E';
        byte[1..5].copy_from_slice(&errno.to_ne_bytes());
    }
    libc::sendmsg(side.sock, &msg, libc::MSG_NOSIGNAL);
    if listener >= 0 {
        libc::close(listener);
    }
    libc::close(side.sock);
}

/// The init's observer, from the command line's descriptors to a running thread.
pub struct Pending {
    config: ObserverConfig,
    events: OwnedFd,
    ours: OwnedFd,
    theirs: OwnedFd,
}

impl Pending {
    /// Reads the config from `config_fd` (closing it) and takes `events_fd`.
    pub fn new(config: ObserverConfig, events: OwnedFd) -> io::Result<Self> {
        let mut fds = [0; 2];
        // SAFETY: a valid out-array; both ends close-on-exec (the child uses its end before
        // exec).
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptors we own.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // A full pipe must drop a record, never stop the observer.
        // SAFETY: fcntl on our own descriptor.
        unsafe {
            let fl = libc::fcntl(events.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(events.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        Ok(Pending {
            config,
            events,
            ours,
            theirs,
        })
    }

    /// What the child's `pre_exec` passes to [`install_in_child`].
    pub fn child_side(&self) -> ChildSide {
        ChildSide {
            prog: libc::sock_fprog {
                len: self.config.program.len() as libc::c_ushort,
                filter: self.config.program.as_ptr() as *mut libc::sock_filter,
            },
            sock: self.theirs.as_raw_fd(),
        }
    }

    /// After the spawn: takes the listener the child sent and serves it on a thread. A child
    /// that could not install the observer is reported to the host once. The handle flushes
    /// the count of dropped records when the command has ended.
    pub fn start(self) -> Option<Flush> {
        let Pending {
            config,
            events,
            ours,
            theirs,
        } = self;
        drop(theirs);
        let sink = Sink {
            events,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        let listener = match receive_listener(&ours) {
            Ok(l) => l,
            Err(why) => {
                sink.send(&Record::Notice(format!(
                    "filesystem violations are not reported in this run: {why}"
                )));
                return None;
            }
        };
        let flush = Flush {
            events: sink.events.try_clone().ok()?,
            dropped: sink.dropped.clone(),
        };
        let ir = config.rules.to_ir();
        let arch = Arch::host().unwrap_or(Arch::X86_64);
        std::thread::Builder::new()
            .name("srt-observer".into())
            .spawn(move || serve(listener, sink, ir, arch, config.reads))
            .ok()?;
        Some(flush)
    }
}

/// Sends the last count of dropped records when the command has ended.
pub struct Flush {
    events: OwnedFd,
    dropped: Arc<AtomicU64>,
}

impl Flush {
    /// Tries for at most 100 ms (the host may be busy draining the pipe).
    pub fn flush(self) {
        let n = self.dropped.swap(0, Ordering::Relaxed);
        let Some(bytes) = encode(&Record::Dropped(n)).filter(|_| n > 0) else {
            return;
        };
        for _ in 0..100 {
            // SAFETY: writes a local buffer to our descriptor.
            let w =
                unsafe { libc::write(self.events.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
            if w == bytes.len() as isize {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// The listener descriptor, or why there is none.
fn receive_listener(sock: &OwnedFd) -> Result<OwnedFd, String> {
    let mut byte = [0u8; 5];
    let mut cmsg_buf = [0u64; 4];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: byte.len(),
    };
    // SAFETY: an all-zero msghdr is valid; it points at the local buffers above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_buf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg_buf) as _;
    // SAFETY: valid descriptor and message; the child's end is closed, so this cannot block
    // past the child's exec or exit.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n <= 0 {
        return Err("the command did not start".into());
    }
    if byte[0] == b'E' {
        let errno = i32::from_ne_bytes([byte[1], byte[2], byte[3], byte[4]]);
        let e = io::Error::from_raw_os_error(errno);
        return Err(match errno {
            libc::EBUSY => {
                format!("srt already runs under a seccomp listener (nested sandbox?): {e}")
            }
            _ => format!("the kernel refused the observer's seccomp listener: {e}"),
        });
    }
    // SAFETY: reading the control message the kernel wrote into our buffer.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            return Err("the command's child sent no listener".into());
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>());
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Where records go: the pipe to the host, dropping (and counting) when it is full.
struct Sink {
    events: OwnedFd,
    dropped: Arc<AtomicU64>,
}

impl Sink {
    fn write(&self, bytes: &[u8]) -> bool {
        // SAFETY: writes a local buffer to our descriptor; at most PIPE_BUF bytes, so the
        // non-blocking pipe takes all of it or none.
        let n = unsafe { libc::write(self.events.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
        n == bytes.len() as isize
    }

    fn send(&self, r: &Record) {
        let pending = self.dropped.load(Ordering::Relaxed);
        if pending > 0 {
            if let Some(b) = encode(&Record::Dropped(pending)) {
                if self.write(&b) {
                    self.dropped.fetch_sub(pending, Ordering::Relaxed);
                }
            }
        }
        let sent = encode(r).is_some_and(|b| self.write(&b));
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `struct seccomp_notif`, in a buffer the kernel's size (it may be larger than ours).
struct Buffers {
    req: Vec<u64>,
    resp: Vec<u64>,
}

impl Buffers {
    fn new() -> Self {
        let mut sizes = libc::seccomp_notif_sizes {
            seccomp_notif: 0,
            seccomp_notif_resp: 0,
            seccomp_data: 0,
        };
        // SAFETY: the kernel fills the struct.
        unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_GET_NOTIF_SIZES,
                0,
                &mut sizes as *mut libc::seccomp_notif_sizes,
            );
        }
        let words = |kernel: u16, ours: usize| (usize::from(kernel).max(ours)).div_ceil(8);
        Buffers {
            req: vec![
                0;
                words(
                    sizes.seccomp_notif,
                    std::mem::size_of::<libc::seccomp_notif>()
                )
            ],
            resp: vec![
                0;
                words(
                    sizes.seccomp_notif_resp,
                    std::mem::size_of::<libc::seccomp_notif_resp>()
                )
            ],
        }
    }
}

fn serve(listener: OwnedFd, sink: Sink, ir: Ir, arch: Arch, reads: bool) {
    let fd = listener.as_raw_fd();
    // The caller and the init hand over on one CPU, without a trip through the scheduler
    // (Linux 6.6+; older kernels say EINVAL and lose only that).
    // SAFETY: an ioctl with an integer argument on our descriptor.
    unsafe {
        libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS, SYNC_WAKE_UP);
    }
    let mut bufs = Buffers::new();
    let mut reader = match Reader::new() {
        Ok(r) => Some(r),
        Err(e) => {
            sink.send(&Record::Notice(format!(
                "filesystem violations are not reported: cannot open the sandbox's /proc: {e}"
            )));
            None
        }
    };
    let mut denied_said = false;
    let mut failures = 0u32;
    loop {
        bufs.req.iter_mut().for_each(|w| *w = 0);
        // SAFETY: the buffer is zeroed and at least the kernel's notification size.
        let rc = unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, bufs.req.as_mut_ptr()) };
        if rc != 0 {
            // EINTR, or ENOENT for a caller gone before it was read. Never stop answering.
            failures += 1;
            if failures > 1000 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            continue;
        }
        failures = 0;
        // SAFETY: the kernel wrote a `seccomp_notif` at the start of the buffer.
        let notif: libc::seccomp_notif =
            unsafe { std::ptr::read_unaligned(bufs.req.as_ptr().cast()) };
        let id = notif.id;
        let captured = reader.as_mut().map(|r| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                capture(
                    r,
                    arch,
                    reads,
                    notif.pid,
                    notif.data.nr as u32,
                    notif.data.args,
                )
            }))
            .unwrap_or_default()
        });
        let valid = captured
            .as_ref()
            .is_some_and(|c| !c.used_proc || id_valid(fd, id));
        answer_continue(fd, id, &mut bufs.resp);
        let Some(captured) = captured.filter(|_| valid) else {
            continue;
        };
        if captured.unreadable == Some(Unreadable::Denied) && !denied_said {
            denied_said = true;
            sink.send(&Record::Notice(
                "the observer may not read the command's memory (it made itself non-dumpable, or kernel.yama.ptrace_scope forbids); some accesses are not reported".into(),
            ));
        }
        if let Some(r) = reader.as_mut() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                forward(
                    r,
                    &sink,
                    &ir,
                    notif.pid,
                    notif.data.nr as u32,
                    arch,
                    captured,
                )
            }));
        }
    }
}

fn id_valid(fd: RawFd, mut id: u64) -> bool {
    // SAFETY: the ioctl reads a u64 from our local variable.
    unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &mut id) == 0 }
}

fn answer_continue(fd: RawFd, id: u64, resp: &mut [u64]) {
    resp.iter_mut().for_each(|w| *w = 0);
    let r = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: the buffer is at least `seccomp_notif_resp` long and 8-aligned; the kernel reads
    // it. ENOENT (the caller was interrupted or is gone) needs nothing more.
    unsafe {
        std::ptr::write_unaligned(resp.as_mut_ptr().cast(), r);
        libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, resp.as_mut_ptr());
    }
}

/// Off the caller's path: the accesses the policy denies and the sandbox refused go to the
/// host.
fn forward(
    reader: &mut Reader,
    sink: &Sink,
    ir: &Ir,
    pid: u32,
    nr: u32,
    arch: Arch,
    captured: Capture,
) {
    use std::os::unix::ffi::OsStrExt;
    for t in captured.touched {
        let access = match t.access {
            AccessKind::Read => srt_compiler::Access::Read,
            AccessKind::Write => srt_compiler::Access::Write,
        };
        let path = Path::new(std::ffi::OsStr::from_bytes(&t.path));
        if ir.decide_path(path, access).allowed || !enforced::refused(&t.path, t.access, t.effect) {
            continue;
        }
        let syscall =
            srt_compiler::backend::linux::seccomp::observer::Observed::from_number(arch, nr)
                .map_or("?", |o| o.name());
        sink.send(&Record::Access(Access {
            access: t.access,
            pid,
            syscall: syscall.to_string(),
            comm: reader.comm(pid).unwrap_or_else(|| "?".into()),
            path: t.path,
        }));
    }
}

/// The child's side for `srt doctor`'s probe ([`super::probe`]).
pub fn probe_side(config: &ObserverConfig, sock: RawFd) -> ChildSide {
    ChildSide {
        prog: libc::sock_fprog {
            len: config.program.len() as libc::c_ushort,
            filter: config.program.as_ptr() as *mut libc::sock_filter,
        },
        sock,
    }
}

/// The probe's parent: takes the listener, lets one call continue (waiting at most 5 s).
pub fn answer_one(sock: &OwnedFd) -> Result<(), String> {
    let listener = receive_listener(sock)?;
    let mut pfd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut pfd, 1, 5000) } != 1 {
        return Err("no notification arrived".into());
    }
    let mut bufs = Buffers::new();
    // SAFETY: a zeroed buffer of the kernel's size.
    if unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            bufs.req.as_mut_ptr(),
        )
    } != 0
    {
        return Err(format!(
            "cannot receive a notification: {}",
            io::Error::last_os_error()
        ));
    }
    // SAFETY: the kernel wrote a `seccomp_notif` at the start of the buffer.
    let notif: libc::seccomp_notif = unsafe { std::ptr::read_unaligned(bufs.req.as_ptr().cast()) };
    bufs.resp.iter_mut().for_each(|w| *w = 0);
    let r = libc::seccomp_notif_resp {
        id: notif.id,
        val: 0,
        error: 0,
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: as in `answer_continue`.
    let rc = unsafe {
        std::ptr::write_unaligned(bufs.resp.as_mut_ptr().cast(), r);
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            bufs.resp.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "the kernel refused SECCOMP_USER_NOTIF_FLAG_CONTINUE: {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}
