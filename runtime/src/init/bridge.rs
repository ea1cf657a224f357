//! The in-sandbox bridge: TCP listeners on loopback inside the sandbox's empty network
//! namespace, each connection relayed to a proxy's Unix socket bound in from the host.
//!
//! Plain threads and blocking I/O: the init has no other work, a relay is two copy loops, and
//! this keeps the init free of an async runtime.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;

/// Relay buffer: large enough that a bulk transfer is a few syscalls per megabyte.
const BUFFER: usize = 256 * 1024;

/// One bridged port: where to listen inside the sandbox, and the Unix socket to relay to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bridge {
    pub port: u16,
    pub unix_socket: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("cannot listen on 127.0.0.1:{port} inside the sandbox: {source}")]
    Listen { port: u16, source: io::Error },
}

/// Binds `127.0.0.1:port` (required) and `[::1]:port` (when the namespace has IPv6 loopback)
/// and relays every accepted connection. Returns once the listeners are bound, so the command
/// starts only after the ports answer.
pub fn start(bridge: &Bridge) -> Result<(), BridgeError> {
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
        let target = bridge.unix_socket.clone();
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

fn accept_loop(listener: TcpListener, target: PathBuf) {
    for conn in listener.incoming() {
        let Ok(tcp) = conn else { continue };
        let target = target.clone();
        let _ = thread::Builder::new()
            .name("srt-relay".into())
            .spawn(move || relay(tcp, &target));
    }
}

/// Relays one connection both ways. Each direction ends with a half-close, so a client that
/// shuts down its write side still receives the rest of the answer.
fn relay(tcp: TcpStream, target: &std::path::Path) {
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
