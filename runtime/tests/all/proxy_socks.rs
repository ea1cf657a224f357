//! The SOCKS5 proxy, end to end: no-auth and username/password, domain names (`socks5h`),
//! IPv4 and IPv6 targets, refusals and protocol errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use srt_runtime::proxy::guard::local_addresses;
use srt_runtime::proxy::{Limits, StaticResolver, ViolationKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NOT_ALLOWED: u8 = 2;

fn resolver() -> StaticResolver {
    let own = local_addresses()
        .into_iter()
        .find(|a| !a.is_loopback())
        .expect("this host has a non-loopback address");
    StaticResolver::new()
        .with("allowed.test", &[loopback()])
        .with("v6.allowed.test", &["::1".parse().unwrap()])
        .with("own.allowed.test", &[own])
        .with("meta.allowed.test", &["169.254.169.254".parse().unwrap()])
}

async fn get_through(mut s: tokio::net::UnixStream, path: &str) -> String {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_reaches_allowed_origins_by_name_and_address() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());

    // socks5h: the proxy resolves the name; no authentication.
    let mut s = p.socks().await;
    assert_eq!(
        socks_connect(&mut s, None, 3, b"allowed.test", port).await,
        0
    );
    assert!(get_through(s, "/by-name")
        .await
        .contains("GET /by-name HTTP/1.1"));

    // Username/password (any credentials are accepted).
    let mut s = p.socks().await;
    let auth = Some(("srt.Y2F0", "token"));
    assert_eq!(
        socks_connect(&mut s, auth, 3, b"ALLOWED.TEST.", port).await,
        0
    );
    assert!(get_through(s, "/auth").await.contains("GET /auth HTTP/1.1"));

    // An IPv4 address, allowed by its literal entry.
    let mut s = p.socks().await;
    assert_eq!(
        socks_connect(&mut s, None, 1, &[127, 0, 0, 1], port).await,
        0
    );
    assert!(get_through(s, "/v4").await.contains("GET /v4 HTTP/1.1"));
    assert!(p.violation_lines().is_empty(), "{:?}", p.violation_lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_reaches_an_ipv6_origin() {
    let listener = TcpListener::bind("[::1]:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        for _ in 0..2 {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"hello over v6").await.unwrap();
        }
    });
    let ir = policy(&["v6.allowed.test".into(), format!("[::1]:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let IpAddr::V6(v6) = "::1".parse().unwrap() else {
        unreachable!()
    };
    // By address, and by a name resolving to it (exempt through the literal entry).
    let mut s = p.socks().await;
    assert_eq!(socks_connect(&mut s, None, 4, &v6.octets(), port).await, 0);
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert_eq!(out, "hello over v6");
    let mut s = p.socks().await;
    assert_eq!(
        socks_connect(&mut s, None, 3, b"v6.allowed.test", port).await,
        0
    );
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert_eq!(out, "hello over v6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_refusals_are_reply_2_and_violations() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(
        &[
            "allowed.test".into(),
            "*.allowed.test".into(),
            "127.0.0.1:1".into(),
        ],
        &["denied.test", "[2001:db8::1]"],
    );
    let p = Proxies::start(ir, resolver(), Limits::default());

    let cases: Vec<(u8, Vec<u8>, u16, ViolationKind, &str)> = vec![
        (
            3,
            b"example.com".to_vec(),
            443,
            ViolationKind::NotAllowed,
            "srt: blocked SOCKS5 example.com:443 — not in network.allowedDomains",
        ),
        (
            3,
            b"denied.test".to_vec(),
            443,
            ViolationKind::Denied,
            "srt: blocked SOCKS5 denied.test:443 — on network.deniedDomains[0] (.srt.json:",
        ),
        (
            4,
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec(),
            80,
            ViolationKind::Denied,
            "srt: blocked SOCKS5 [2001:db8::1]:80 — on network.deniedDomains[1]",
        ),
        (
            1,
            vec![10, 0, 0, 1],
            80,
            ViolationKind::NotAllowed,
            "srt: blocked SOCKS5 10.0.0.1:80 — not in network.allowedDomains",
        ),
        // The resolved-address guard: loopback without a literal entry for that port.
        (
            3,
            b"allowed.test".to_vec(),
            port,
            ViolationKind::ResolvedAddress,
            "— resolved to a loopback address",
        ),
        (
            3,
            b"meta.allowed.test".to_vec(),
            80,
            ViolationKind::ResolvedAddress,
            "— resolved to a cloud metadata address",
        ),
        (
            3,
            b"own.allowed.test".to_vec(),
            80,
            ViolationKind::ResolvedAddress,
            "— resolved to one of this host's addresses",
        ),
        // Malformed names never reach a resolver.
        (
            3,
            b"a\0b.allowed.test".to_vec(),
            80,
            ViolationKind::MalformedHost,
            "srt: blocked SOCKS5 a\\u{0}b.allowed.test:80 — malformed host",
        ),
        (
            3,
            b"evil.test\r\nallowed.test".to_vec(),
            80,
            ViolationKind::MalformedHost,
            "\\r\\n",
        ),
        (
            3,
            b"x.allowed.test\xff".to_vec(),
            80,
            ViolationKind::MalformedHost,
            "malformed host",
        ),
        (
            3,
            Vec::new(),
            80,
            ViolationKind::MalformedHost,
            "malformed host (empty host)",
        ),
        (
            3,
            b"allowed.test".to_vec(),
            0,
            ViolationKind::BadRequest,
            "bad request: port 0",
        ),
    ];
    for (i, (atyp, addr, port, kind, line)) in cases.iter().enumerate() {
        let mut s = p.socks().await;
        let auth = (i % 2 == 1).then_some(("u", "p"));
        assert_eq!(
            socks_connect(&mut s, auth, *atyp, addr, *port).await,
            NOT_ALLOWED,
            "{addr:?}"
        );
        assert!(closed_within(&mut s, Duration::from_secs(5)).await);
        let v = p.violations.lock().unwrap()[i].clone();
        assert_eq!(v.kind, *kind, "{addr:?}");
        assert!(
            v.line().contains(line),
            "{:?} does not contain {line:?}",
            v.line()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_protocol_errors() {
    let p = Proxies::start(
        policy(&["127.0.0.1".into()], &[]),
        resolver(),
        Limits {
            header_timeout: Duration::from_millis(500),
            ..Limits::default()
        },
    );
    // Only GSSAPI offered: no acceptable method.
    let mut s = p.socks().await;
    s.write_all(&[5, 1, 1]).await.unwrap();
    let mut r = [0u8; 2];
    s.read_exact(&mut r).await.unwrap();
    assert_eq!(r, [5, 0xff]);
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    // BIND and UDP ASSOCIATE are not supported.
    for cmd in [2u8, 3] {
        let mut s = p.socks().await;
        s.write_all(&[5, 1, 0, 5, cmd, 0, 1, 127, 0, 0, 1, 0, 80])
            .await
            .unwrap();
        let mut r = [0u8; 12];
        s.read_exact(&mut r).await.unwrap();
        assert_eq!(&r[..2], &[5, 0]);
        assert_eq!(r[3], 7, "command {cmd}");
    }
    // An unknown address type.
    let mut s = p.socks().await;
    s.write_all(&[5, 1, 0, 5, 1, 0, 9]).await.unwrap();
    let mut r = [0u8; 12];
    s.read_exact(&mut r).await.unwrap();
    assert_eq!(r[3], 8);
    // SOCKS4 and garbage are closed.
    for junk in [
        &[4u8, 1, 0, 80, 127, 0, 0, 1, 0][..],
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        let mut s = p.socks().await;
        s.write_all(junk).await.unwrap();
        assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    }
    // A client that stalls mid-negotiation is closed after the header timeout.
    let mut s = p.socks().await;
    s.write_all(&[5, 2, 0]).await.unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    // A connection refused upstream is reply 5.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut s = p.socks().await;
    assert_eq!(
        socks_connect(&mut s, None, 1, &[127, 0, 0, 1], port).await,
        5
    );
    assert!(p.violation_lines().is_empty());
}
