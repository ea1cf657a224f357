//! The in-sandbox bridge: TCP listeners on loopback inside the sandbox's empty network
//! namespace, each connection relayed to a proxy's Unix socket bound in from the host.
//!
//! The socket is reached through a descriptor, never by its path: before the command starts,
//! [`start`] opens the path (`O_PATH`, not following a final symlink), checks it is a socket of
//! this user with the device and inode the host reported, and every connection then goes to
//! `/proc/self/fd/N`, which names that very inode. The command may rename a directory above
//! the path and plant a symlink to another host socket under the same name; the descriptor
//! still names srt's socket.
//!
//! Plain threads and blocking I/O: the init has no other work, a relay is two copy loops, and
//! this keeps the init free of an async runtime.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode, SFlag};
use srt_compiler::backend::linux::FileId;

/// Relay buffer: large enough that a bulk transfer is a few syscalls per megabyte.
const BUFFER: usize = 256 * 1024;

/// One bridged port: where to listen inside the sandbox, the Unix socket to relay to, and what
/// that socket must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bridge {
    pub port: u16,
    pub unix_socket: PathBuf,
    pub socket_id: FileId,
}

impl Bridge {
    /// Parses `PORT=DEV:INO:SOCKET` ([`srt_compiler::backend::linux::LinuxPlan::init_args`]).
    pub fn parse(spec: &str) -> Option<Bridge> {
        let (port, rest) = spec.split_once('=')?;
        let mut parts = rest.splitn(3, ':');
        let dev = parts.next()?.parse().ok()?;
        let ino = parts.next()?.parse().ok()?;
        let unix_socket = PathBuf::from(parts.next().filter(|p| p.starts_with('/'))?);
        Some(Bridge {
            port: port.parse().ok()?,
            unix_socket,
            socket_id: FileId { dev, ino },
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("cannot listen on 127.0.0.1:{port} inside the sandbox: {source}")]
    Listen { port: u16, source: io::Error },
    #[error("refusing to bridge 127.0.0.1:{port} to {}: {reason}", path.display())]
    Socket {
        port: u16,
        path: PathBuf,
        reason: String,
    },
}

/// The proxy's socket, held open: connections go to `/proc/self/fd/N`.
struct Target {
    _fd: OwnedFd,
    via: PathBuf,
}

/// Opens `bridge.unix_socket` and checks it is the socket the host made.
fn open_target(bridge: &Bridge) -> Result<Target, BridgeError> {
    let refuse = |reason: String| BridgeError::Socket {
        port: bridge.port,
        path: bridge.unix_socket.clone(),
        reason,
    };
    let fd = openat(
        nix::fcntl::AT_FDCWD,
        bridge.unix_socket.as_path(),
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| refuse(format!("cannot open it: {e}")))?;
    let st = fstat(fd.as_fd()).map_err(|e| refuse(format!("cannot stat it: {e}")))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFSOCK {
        return Err(refuse("it is not a socket".into()));
    }
    if st.st_uid != nix::unistd::geteuid().as_raw() {
        return Err(refuse(format!("it belongs to uid {}", st.st_uid)));
    }
    let found = FileId {
        dev: st.st_dev,
        ino: st.st_ino,
    };
    if found != bridge.socket_id {
        return Err(refuse(format!(
            "it is {}:{}, not the socket srt bound ({}:{})",
            found.dev, found.ino, bridge.socket_id.dev, bridge.socket_id.ino
        )));
    }
    let via = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    Ok(Target { _fd: fd, via })
}

/// Opens and checks the socket, binds `127.0.0.1:port` (required) and `[::1]:port` (when the
/// namespace has IPv6 loopback) and relays every accepted connection. Returns once the
/// listeners are bound, so the command starts only after the ports answer.
pub fn start(bridge: &Bridge) -> Result<(), BridgeError> {
    let target = Arc::new(open_target(bridge)?);
    let v4 =
        TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], bridge.port))).map_err(|source| {
            BridgeError::Listen {
                port: bridge.port,
                source,
            }
        })?;
    let mut listeners = vec![v4];
    if let Ok(v6) = TcpListener::bind(SocketAddr::from((
        std::net::Ipv6Addr::LOCALHOST,
        bridge.port,
    ))) {
        listeners.push(v6);
    }
    for listener in listeners {
        let target = target.clone();
        thread::Builder::new()
            .name(format!("srt-bridge-{}", bridge.port))
            .spawn(move || accept_loop(listener, target))
            .map_err(|source| BridgeError::Listen {
                port: bridge.port,
                source,
            })?;
    }
    Ok(())
}

fn accept_loop(listener: TcpListener, target: Arc<Target>) {
    for conn in listener.incoming() {
        let Ok(tcp) = conn else { continue };
        let target = target.clone();
        let _ = thread::Builder::new()
            .name("srt-relay".into())
            .spawn(move || relay(tcp, &target.via));
    }
}

/// Relays one connection both ways. Each direction ends with a half-close, so a client that
/// shuts down its write side still receives the rest of the answer.
fn relay(tcp: TcpStream, target: &Path) {
    let Ok(unix) = UnixStream::connect(target) else {
        let _ = tcp.shutdown(Shutdown::Both);
        return;
    };
    widen_send_buffer(&unix);
    let _ = tcp.set_nodelay(true);
    let (Ok(tcp_r), Ok(unix_w)) = (tcp.try_clone(), unix.try_clone()) else {
        return;
    };
    let upstream = thread::Builder::new()
        .name("srt-relay-up".into())
        .spawn(move || {
            pump(tcp_r, &unix_w);
            let _ = unix_w.shutdown(Shutdown::Write);
        });
    pump(unix, &tcp);
    let _ = tcp.shutdown(Shutdown::Write);
    if let Ok(handle) = upstream {
        let _ = handle.join();
    }
}

/// Unix sockets do not autotune their buffers; a bulk upload through the bridge needs a wide
/// one to keep the proxy's splice busy.
fn widen_send_buffer(sock: &UnixStream) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 2 * 1024 * 1024;
    // SAFETY: setsockopt on our own socket with a valid int option.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn pump(mut from: impl Read, mut to: impl Write) {
    let mut buf = vec![0u8; BUFFER];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
