//! Where the proxies listen, and the client connections they accept: Unix sockets in a private
//! directory (Linux, where only that directory enters the sandbox) or loopback TCP ports
//! (macOS, where Seatbelt can allow a loopback port but not one Unix socket per connection).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use super::ProxyError;

/// Where [`super::ProxyServer`] listens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Listen {
    /// `http.sock` and `socks.sock` in a private `0700` directory made for the run: only this
    /// user can connect, so no credentials are asked for.
    #[default]
    UnixDir,
    /// `127.0.0.1` on two ports the OS picks ([`super::ProxyServer::http_addr`],
    /// [`super::ProxyServer::socks_addr`]). Any local process can connect to a loopback port,
    /// so every client must present the run's random credentials
    /// ([`super::ProxyServer::credentials`]).
    Loopback,
}

/// A bound listener of either kind.
pub(crate) enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// Binds a Unix socket at `path`; must be called inside the proxies' runtime.
    pub fn unix(path: &Path) -> Result<Listener, ProxyError> {
        UnixListener::bind(path)
            .map(Listener::Unix)
            .map_err(|source| ProxyError::Bind {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Binds `127.0.0.1:0` (the OS picks a free port); must be called inside the proxies'
    /// runtime.
    pub fn loopback() -> Result<Listener, ProxyError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let bind_error = |source| ProxyError::BindLoopback { addr, source };
        let std = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        std.set_nonblocking(true).map_err(bind_error)?;
        TcpListener::from_std(std)
            .map(Listener::Tcp)
            .map_err(bind_error)
    }

    /// The TCP address, for a loopback listener.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Unix(_) => None,
            Listener::Tcp(l) => l.local_addr().ok(),
        }
    }

    pub async fn accept(&self) -> io::Result<ClientStream> {
        match self {
            Listener::Unix(l) => l.accept().await.map(|(s, _)| ClientStream::Unix(s)),
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                // Proxy heads and answers are small writes; do not hold them back.
                let _ = s.set_nodelay(true);
                Ok(ClientStream::Tcp(s))
            }
        }
    }
}

/// One client connection, on either kind of listener.
pub(crate) enum ClientStream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl ClientStream {
    pub fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            ClientStream::Unix(s) => s.try_write(data),
            ClientStream::Tcp(s) => s.try_write(data),
        }
    }
}

impl AsFd for ClientStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            ClientStream::Unix(s) => s.as_fd(),
            ClientStream::Tcp(s) => s.as_fd(),
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            ClientStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Unix(s) => Pin::new(s).poll_write(cx, data),
            ClientStream::Tcp(s) => Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ClientStream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ClientStream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            ClientStream::Unix(s) => s.is_write_vectored(),
            ClientStream::Tcp(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Unix(s) => Pin::new(s).poll_flush(cx),
            ClientStream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ClientStream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            ClientStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(target_os = "linux")]
impl super::pump::RawSocket for ClientStream {
    async fn io<R>(
        &self,
        interest: tokio::io::Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            ClientStream::Unix(s) => s.async_io(interest, f).await,
            ClientStream::Tcp(s) => s.async_io(interest, f).await,
        }
    }

    fn for_bulk_sending(&self) {
        if let ClientStream::Unix(s) = self {
            s.for_bulk_sending();
        }
    }
}
