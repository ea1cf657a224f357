//! Which way an allowed connection leaves the proxy, after the decision procedure has allowed
//! it: directly (resolved, checked by the [guard](super::guard), dialled), through the user's
//! parent proxy (`network.parentProxy` or `HTTP_PROXY`/`HTTPS_PROXY`, [`ParentProxy`]), or,
//! for `network.mitmProxy`'s domains, through the inspecting proxy on its Unix socket. Tunnels
//! reach a parent or the inspecting proxy with `CONNECT host:port`; plain HTTP requests go to
//! them in absolute form.
//!
//! A name sent to a parent or to the inspecting proxy is resolved there. srt still resolves it
//! itself first and refuses it when every address it gets is one the guard refuses (a name
//! pointing at loopback would otherwise make a parent on this host connect to this host's
//! services); a name srt cannot resolve is left to that hop.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use rustls::pki_types::ServerName;
use srt_compiler::chain::{MitmProxy, ParentProxy, ProxyUrl};
use srt_schema::domain::Host;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::dial::Upstream;

/// A connection towards the destination: to it, or to a hop that leads there.
pub(crate) enum UpstreamStream {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// To an `https://` parent proxy.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            UpstreamStream::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            UpstreamStream::Unix($s) => {
                let $s = Pin::new($s);
                $e
            }
            UpstreamStream::Tls($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for UpstreamStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for UpstreamStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write(cx, data))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            UpstreamStream::Tcp(s) => s.is_write_vectored(),
            UpstreamStream::Unix(s) => s.is_write_vectored(),
            UpstreamStream::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_shutdown(cx))
    }
}

/// The hops a run may use besides direct connections.
#[derive(Default)]
pub(crate) struct Routes {
    pub parent: Option<ParentProxy>,
    pub mitm: Option<MitmProxy>,
    /// Verifies `https://` parents (the system roots); `None` when no parent is `https://`.
    pub parent_tls: Option<Arc<rustls::ClientConfig>>,
}

/// How a connection to an allowed host leaves.
#[derive(Clone, Debug)]
pub(crate) enum Via {
    Direct,
    Parent(ProxyUrl),
    Mitm(PathBuf),
}

impl Routes {
    /// The way out for `host:port`; `plain_http` for an `http://` request forwarded as such.
    pub fn via(&self, host: &Host, port: u16, plain_http: bool) -> Via {
        if let Some(m) = self
            .mitm
            .as_ref()
            .filter(|m| m.routes(host, port).is_some())
        {
            return Via::Mitm(m.socket_path.clone());
        }
        let parent = self.parent.as_ref().and_then(|p| {
            if plain_http {
                p.for_plain_http(host)
            } else {
                p.for_tunnel(host)
            }
        });
        match parent {
            Some(u) => Via::Parent(u.clone()),
            None => Via::Direct,
        }
    }

    /// A connection to the parent proxy `url` itself (TLS when it is `https://`).
    pub async fn reach_parent(&self, url: &ProxyUrl) -> Result<UpstreamStream, Upstream> {
        let tcp = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| {
                Upstream::Hop(format!(
                    "cannot connect to the parent proxy {}: {e}",
                    url.redacted()
                ))
            })?;
        let _ = tcp.set_nodelay(true);
        if !url.tls {
            return Ok(UpstreamStream::Tcp(tcp));
        }
        let config = self
            .parent_tls
            .clone()
            .ok_or_else(|| Upstream::Hop("no TLS configuration for the parent proxy".into()))?;
        let name = match url.host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(url.host.clone()).map_err(|_| {
                Upstream::Hop("the parent proxy's name is not a TLS server name".into())
            })?,
        };
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| {
                Upstream::Hop(format!(
                    "TLS to the parent proxy {} failed: {e}",
                    url.redacted()
                ))
            })?;
        Ok(UpstreamStream::Tls(Box::new(tls)))
    }
}

/// A connection to the inspecting proxy's Unix socket.
pub(crate) async fn reach_mitm(path: &std::path::Path) -> Result<UpstreamStream, Upstream> {
    UnixStream::connect(path)
        .await
        .map(UpstreamStream::Unix)
        .map_err(|e| {
            Upstream::Hop(format!(
                "cannot connect to network.mitmProxy's socket {}: {e}",
                path.display()
            ))
        })
}

/// `Proxy-Authorization` for a parent whose URL carries credentials.
pub(crate) fn proxy_authorization(url: &ProxyUrl) -> Option<String> {
    url.credentials().map(|(user, password)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    })
}

/// `host:port` as it goes in a CONNECT request (IPv6 bracketed).
pub(crate) fn authority(host: &Host, port: u16) -> String {
    format!("{host}:{port}")
}

/// The longest CONNECT answer head srt reads from a hop.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

/// Asks the hop on `stream` for a tunnel to `authority` and waits for its `2xx`. The answer
/// is read a byte at a time so that nothing after its head (an SSH server's banner, say) is
/// taken from the tunnel.
pub(crate) async fn connect_through(
    mut stream: UpstreamStream,
    authority: &str,
    auth: Option<&str>,
) -> Result<UpstreamStream, Upstream> {
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(a) = auth {
        head.push_str(&format!("Proxy-Authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    let hop = |e: io::Error| Upstream::Hop(format!("the proxy hop failed during CONNECT: {e}"));
    stream.write_all(head.as_bytes()).await.map_err(hop)?;
    stream.flush().await.map_err(hop)?;
    let mut answer = Vec::with_capacity(128);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_ANSWER_HEAD {
            return Err(Upstream::Hop(
                "the proxy hop's CONNECT answer is too large".into(),
            ));
        }
        let b = stream.read_u8().await.map_err(hop)?;
        answer.push(b);
    }
    let status = answer
        .split(|&b| b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .unwrap_or_default();
    let ok = status
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..))
        .is_some_and(|code| code.starts_with('2') && code.len() >= 3);
    if !ok {
        return Err(Upstream::Hop(format!(
            "the proxy hop refused CONNECT {authority}: {}",
            super::target::printable(&status)
        )));
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::net::TcpListener;

    /// A hop that reads the CONNECT head and answers `answer`.
    async fn hop(answer: &'static [u8]) -> (UpstreamStream, tokio::task::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                head.push(s.read_u8().await.unwrap());
            }
            s.write_all(answer).await.unwrap();
            String::from_utf8(head).unwrap()
        });
        (
            UpstreamStream::Tcp(TcpStream::connect(addr).await.unwrap()),
            server,
        )
    }

    #[tokio::test]
    async fn bytes_after_the_answer_stay_in_the_tunnel() {
        let (s, server) =
            hop(b"HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-banner\r\n").await;
        let mut s = connect_through(s, "git.example:22", Some("Basic dTpw"))
            .await
            .unwrap();
        let head = server.await.unwrap();
        assert_eq!(
            head,
            "CONNECT git.example:22 HTTP/1.1\r\nHost: git.example:22\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        let mut banner = [0u8; 16];
        s.read_exact(&mut banner).await.unwrap();
        assert_eq!(&banner, b"SSH-2.0-banner\r\n");
    }

    #[tokio::test]
    async fn a_refusal_or_an_endless_head_is_an_error() {
        let (s, _server) = hop(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
        let e = connect_through(s, "a.example:443", None)
            .await
            .err()
            .unwrap();
        assert!(e.describe().contains("407"), "{}", e.describe());
        static LONG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let long = LONG.get_or_init(|| {
            let mut v = b"HTTP/1.1 200 OK\r\n".to_vec();
            v.extend(std::iter::repeat_n(b'x', MAX_ANSWER_HEAD + 10));
            v
        });
        let (s, _server) = hop(long).await;
        let e = connect_through(s, "a.example:443", None)
            .await
            .err()
            .unwrap();
        assert!(e.describe().contains("too large"), "{}", e.describe());
    }
}
