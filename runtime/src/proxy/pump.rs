//! The Linux socket relay behind tunnels: each direction copies through a small user-space
//! buffer at first and, once it has carried [`SPLICE_AFTER`] bytes, switches to `splice(2)`
//! through a pipe, so bulk transfers cross the proxy without being copied into user space.
//! Short or idle tunnels never allocate a pipe (pipes count against a per-user budget).

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{fcntl, splice, FcntlArg, OFlag, SpliceFFlags};
use nix::sys::socket::{send, shutdown, MsgFlags, Shutdown};
use tokio::io::Interest;
use tokio::net::{TcpStream, UnixStream};

use super::tunnel::Activity;

/// Bytes a direction copies before it moves to splice.
const SPLICE_AFTER: u64 = 1 << 20;
/// The user-space buffer of a direction.
const COPY_BUFFER: usize = 64 * 1024;
/// The pipe of a splicing direction (the kernel may grant less).
const PIPE_SIZE: i32 = 1 << 20;

/// The send buffer a splicing direction asks for on a Unix socket (the kernel caps it at
/// `net.core.wmem_max`). Unix sockets do not autotune as TCP does, and a bulk transfer through
/// the default ~200 KiB buffer costs a wake-up per few hundred kilobytes.
const UNIX_SEND_BUFFER: usize = 2 << 20;

/// A tokio socket whose descriptor the relay drives directly.
pub(crate) trait RawSocket: AsFd {
    fn io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> impl Future<Output = io::Result<R>>;

    /// Prepares the socket for a bulk transfer it sends.
    fn for_bulk_sending(&self) {}
}

impl RawSocket for TcpStream {
    fn io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> impl Future<Output = io::Result<R>> {
        self.async_io(interest, f)
    }
}

impl RawSocket for UnixStream {
    fn io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> impl Future<Output = io::Result<R>> {
        self.async_io(interest, f)
    }

    fn for_bulk_sending(&self) {
        let _ = nix::sys::socket::setsockopt(
            self,
            nix::sys::socket::sockopt::SndBuf,
            &UNIX_SEND_BUFFER,
        );
    }
}

/// Writes all of `data` to `dst` (no SIGPIPE: a closed peer is an error, not a signal).
pub(crate) async fn write_all<D: RawSocket>(dst: &D, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = dst
            .io(Interest::WRITABLE, || {
                send(dst.as_fd().as_raw_fd(), data, MsgFlags::MSG_NOSIGNAL).map_err(io::Error::from)
            })
            .await?;
        data = &data[n..];
    }
    Ok(())
}

/// Carries `src`'s bytes to `dst` until `src` ends, then shuts `dst`'s write half.
/// With `zero_copy` off, the direction never moves to splice.
pub(crate) async fn pump<S: RawSocket, D: RawSocket>(
    src: &S,
    dst: &D,
    activity: &Activity,
    zero_copy: bool,
) -> io::Result<()> {
    let mut moved = 0u64;
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        if zero_copy && moved >= SPLICE_AFTER {
            if let Some(pipe) = Pipe::new() {
                drop(buf);
                dst.for_bulk_sending();
                return splice_loop(src, dst, &pipe, activity).await;
            }
        }
        let n = src
            .io(Interest::READABLE, || {
                nix::unistd::read(src.as_fd(), &mut buf).map_err(io::Error::from)
            })
            .await?;
        if n == 0 {
            return finish(dst);
        }
        activity.touch();
        write_all(dst, &buf[..n]).await?;
        activity.touch();
        moved += n as u64;
    }
}

fn finish<D: RawSocket>(dst: &D) -> io::Result<()> {
    match shutdown(dst.as_fd().as_raw_fd(), Shutdown::Write) {
        Ok(()) | Err(nix::errno::Errno::ENOTCONN) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    fn new() -> Option<Pipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).ok()?;
        // Larger pipes mean fewer syscalls; over the per-user budget the default stays.
        let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        Some(Pipe { read, write })
    }
}

async fn splice_loop<S: RawSocket, D: RawSocket>(
    src: &S,
    dst: &D,
    pipe: &Pipe,
    activity: &Activity,
) -> io::Result<()> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    loop {
        // The pipe is empty here, so EAGAIN can only mean the socket has nothing to read.
        let n = src
            .io(Interest::READABLE, || {
                splice(
                    src.as_fd(),
                    None,
                    &pipe.write,
                    None,
                    PIPE_SIZE as usize,
                    flags,
                )
                .map_err(io::Error::from)
            })
            .await?;
        if n == 0 {
            return finish(dst);
        }
        activity.touch();
        let mut left = n;
        // The pipe holds `left` bytes, so EAGAIN can only mean the socket is full.
        while left > 0 {
            let m = dst
                .io(Interest::WRITABLE, || {
                    splice(&pipe.read, None, dst.as_fd(), None, left, flags)
                        .map_err(io::Error::from)
                })
                .await?;
            left -= m;
            activity.touch();
        }
    }
}
