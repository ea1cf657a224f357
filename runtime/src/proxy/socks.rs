//! The SOCKS5 proxy (RFC 1928, with RFC 1929 username/password): `CONNECT` only, to domain
//! names (resolved here, as `socks5h://` asks), IPv4 and IPv6 addresses.
//!
//! On a private Unix socket no authentication and username/password are both offered, and
//! credentials are accepted and ignored. On loopback only username/password is offered and the
//! password must be the run's (else status 1 and the connection is closed). BIND and UDP
//! ASSOCIATE are answered "command not supported". The whole negotiation must finish within
//! the header timeout.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OwnedSemaphorePermit;

use super::dial::{DialError, Dialled, Refusal, Upstream};
use super::listen::ClientStream;
use super::target::printable;
use super::tunnel::relay;
use super::violation::{Protocol, ViolationKind};
use super::Shared;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASS: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;

/// Reply codes (RFC 1928 section 6).
pub(crate) mod reply {
    pub const SUCCEEDED: u8 = 0;
    pub const GENERAL_FAILURE: u8 = 1;
    pub const NOT_ALLOWED: u8 = 2;
    pub const NETWORK_UNREACHABLE: u8 = 3;
    pub const HOST_UNREACHABLE: u8 = 4;
    pub const CONNECTION_REFUSED: u8 = 5;
    pub const TTL_EXPIRED: u8 = 6;
    pub const COMMAND_NOT_SUPPORTED: u8 = 7;
    pub const ADDRESS_TYPE_NOT_SUPPORTED: u8 = 8;
}

pub(crate) async fn serve(
    mut stream: ClientStream,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    let limits = shared.limits.clone();
    let negotiated =
        tokio::time::timeout(limits.header_timeout, negotiate(&mut stream, &shared)).await;
    if let Ok(Ok(Some(dialled))) = negotiated {
        relay(
            stream,
            dialled.stream,
            &[],
            limits.idle_timeout,
            shared.zero_copy,
        )
        .await;
    }
}

async fn send_reply(stream: &mut ClientStream, code: u8) -> io::Result<()> {
    // The bound address is not disclosed: 0.0.0.0:0.
    stream
        .write_all(&[VERSION, code, 0, 1, 0, 0, 0, 0, 0, 0])
        .await
}

/// Runs the handshake; `Some` when the destination is connected and the success reply sent.
async fn negotiate(stream: &mut ClientStream, shared: &Shared) -> io::Result<Option<Dialled>> {
    let mut greeting = [0u8; 2];
    stream.read_exact(&mut greeting).await?;
    if greeting[0] != VERSION {
        return Ok(None);
    }
    let mut methods = vec![0u8; usize::from(greeting[1])];
    stream.read_exact(&mut methods).await?;
    let required = shared.auth.as_ref();
    let method = if required.is_none() && methods.contains(&NO_AUTH) {
        NO_AUTH
    } else if methods.contains(&USER_PASS) {
        USER_PASS
    } else {
        NO_ACCEPTABLE
    };
    stream.write_all(&[VERSION, method]).await?;
    if method == NO_ACCEPTABLE {
        return Ok(None);
    }
    if method == USER_PASS {
        // VER ULEN UNAME PLEN PASSWD (RFC 1929); the user name is not checked.
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await?;
        let mut user = vec![0u8; usize::from(head[1])];
        stream.read_exact(&mut user).await?;
        let mut plen = [0u8; 1];
        stream.read_exact(&mut plen).await?;
        let mut pass = vec![0u8; usize::from(plen[0])];
        stream.read_exact(&mut pass).await?;
        let accepted = required.is_none_or(|c| c.password_matches(&pass));
        if head[0] != 1 || !accepted {
            stream.write_all(&[1, 1]).await?;
            return Ok(None);
        }
        stream.write_all(&[1, 0]).await?;
    }

    let mut req = [0u8; 4];
    stream.read_exact(&mut req).await?;
    if req[0] != VERSION {
        return Ok(None);
    }
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            stream.read_exact(&mut a).await?;
            Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            let mut name = vec![0u8; usize::from(len[0])];
            stream.read_exact(&mut name).await?;
            // Not UTF-8 becomes U+FFFD, which the decision procedure refuses as malformed.
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut a = [0u8; 16];
            stream.read_exact(&mut a).await?;
            format!("[{}]", Ipv6Addr::from(a))
        }
        _ => {
            send_reply(stream, reply::ADDRESS_TYPE_NOT_SUPPORTED).await?;
            return Ok(None);
        }
    };
    let mut port = [0u8; 2];
    stream.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    if req[1] != 1 {
        send_reply(stream, reply::COMMAND_NOT_SUPPORTED).await?;
        return Ok(None);
    }
    if port == 0 {
        shared.record(
            Protocol::Socks5,
            &Refusal::bad_request(&host, Some(0), "port 0"),
        );
        send_reply(stream, reply::NOT_ALLOWED).await?;
        return Ok(None);
    }
    if shared.dialer.ir.secrets.refuse_opaque_tunnels {
        // A SOCKS tunnel is opaque: under refuseOpaqueTunnels every one is refused (after the
        // policy's own refusal, when it has one).
        let r = shared
            .dialer
            .decide(&host, port)
            .err()
            .unwrap_or_else(|| Refusal {
                kind: ViolationKind::OpaqueTunnel,
                host: printable(&host),
                port: Some(port),
                reason: "this proxy does not tunnel connections it cannot inspect".into(),
                rule: Some("network.refuseOpaqueTunnels".into()),
                explanation: "a SOCKS tunnel cannot be inspected (network.refuseOpaqueTunnels)"
                    .into(),
            });
        shared.record(Protocol::Socks5, &r);
        send_reply(stream, reply::NOT_ALLOWED).await?;
        return Ok(None);
    }
    match shared.dialer.dial(&host, port).await {
        Ok(d) => {
            send_reply(stream, reply::SUCCEEDED).await?;
            Ok(Some(d))
        }
        Err(DialError::Refused(r)) => {
            shared.record(Protocol::Socks5, &r);
            send_reply(stream, reply::NOT_ALLOWED).await?;
            Ok(None)
        }
        Err(DialError::Upstream(u)) => {
            send_reply(stream, upstream_code(&u)).await?;
            Ok(None)
        }
    }
}

fn upstream_code(u: &Upstream) -> u8 {
    match u {
        Upstream::Connect(e) => match e.kind() {
            io::ErrorKind::ConnectionRefused => reply::CONNECTION_REFUSED,
            io::ErrorKind::NetworkUnreachable => reply::NETWORK_UNREACHABLE,
            io::ErrorKind::HostUnreachable => reply::HOST_UNREACHABLE,
            _ => reply::GENERAL_FAILURE,
        },
        Upstream::Timeout => reply::TTL_EXPIRED,
        Upstream::Resolve(..) | Upstream::NoAddress(_) => reply::HOST_UNREACHABLE,
        Upstream::Hop(_) => reply::GENERAL_FAILURE,
    }
}
