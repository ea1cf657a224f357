//! `network.httpProxyPort` / `network.socksProxyPort`: the user's own proxy on this host in
//! place of srt's, with the npm srt's meaning. The sandbox still reaches the network only
//! through srt's socket, but each connection is relayed byte for byte to `localhost:PORT`, and
//! that proxy decides: srt reads nothing of it, so `allowedDomains`/`deniedDomains`, TLS
//! termination and masked credentials do not apply to that traffic (the `external-proxy` lint
//! says so).
//!
//! It fails closed: the run refuses to start when nothing listens on the port, and a
//! connection the proxy does not accept later is closed, never sent anywhere else.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use super::listen::ClientStream;
use super::tunnel::relay;
use super::upstream::UpstreamStream;
use super::{ProxyError, Shared};

/// `localhost`, as the npm srt's bridge dials it: IPv4 first.
const LOCALHOST: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// Checks, before the run starts, that a proxy accepts connections on `localhost:port`.
pub(crate) fn check_listening(key: &'static str, port: u16) -> Result<(), ProxyError> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for ip in LOCALHOST {
        match std::net::TcpStream::connect_timeout(
            &SocketAddr::new(ip, port),
            Duration::from_secs(2),
        ) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(ProxyError::ExternalProxy {
        key,
        port,
        cause: last,
    })
}

async fn connect(port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for ip in LOCALHOST {
        match TcpStream::connect(SocketAddr::new(ip, port)).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Relays one client connection to the user's proxy on `port`.
pub(crate) async fn serve(
    client: ClientStream,
    port: u16,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    let connected = tokio::time::timeout(shared.limits.connect_timeout, connect(port)).await;
    let Ok(Ok(upstream)) = connected else {
        // Closed: the client sees its proxy go away, as it would without srt in between.
        return;
    };
    relay(
        client,
        UpstreamStream::Tcp(upstream),
        &[],
        shared.limits.idle_timeout,
        shared.zero_copy,
    )
    .await;
}
