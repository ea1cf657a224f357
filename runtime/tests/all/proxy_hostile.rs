//! Hostile and costly clients of the HTTP proxy: malformed and smuggling request lines, giant
//! heads, slow and idle clients, and more connections than the limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::time::Duration;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver};
use tokio::io::AsyncWriteExt;

fn resolver() -> StaticResolver {
    StaticResolver::new().with("allowed.test", &[loopback()])
}

fn allowing_origin(port: u16) -> std::sync::Arc<srt_compiler::Ir> {
    policy(
        &["allowed.test".into(), format!("127.0.0.1:{port}")],
        &["denied.test"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_cleanly() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let port = origin.port();
    let cases: Vec<(String, &str)> = vec![
        ("CONNECT a\0b.test:443 HTTP/1.1\r\n\r\n".into(), "400"),
        (
            "CONNECT allowed.test\0.evil.test:443 HTTP/1.1\r\n\r\n".into(),
            "400",
        ),
        (
            "CONNECT evil.test\r\nX: allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "400",
        ),
        (
            "CONNECT evil.test\nHost: allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "400",
        ),
        (
            "CONNECT evil.test%00.allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "400",
        ),
        (
            "CONNECT evil.test%0d%0a.allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "400",
        ),
        // What the HTTP parser lets through, the decision procedure refuses as malformed.
        (
            "CONNECT evil.test!.allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "403",
        ),
        (
            "CONNECT evil..allowed.test:443 HTTP/1.1\r\n\r\n".into(),
            "403",
        ),
        ("CONNECT 1.2.3.4.5:443 HTTP/1.1\r\n\r\n".into(), "403"),
        (
            format!("CONNECT allowed.test@evil.test:{port} HTTP/1.1\r\n\r\n"),
            "400",
        ),
        (
            format!("CONNECT user:pw@allowed.test:{port} HTTP/1.1\r\n\r\n"),
            "400",
        ),
        (
            format!("CONNECT allowed.test:{port}:80 HTTP/1.1\r\n\r\n"),
            "400",
        ),
        ("CONNECT allowed.test HTTP/1.1\r\n\r\n".into(), "400"),
        ("CONNECT allowed.test:0 HTTP/1.1\r\n\r\n".into(), "400"),
        ("CONNECT allowed.test:99999 HTTP/1.1\r\n\r\n".into(), "400"),
        ("CONNECT [::1 HTTP/1.1\r\n\r\n".into(), "400"),
        ("CONNECT ::1:443 HTTP/1.1\r\n\r\n".into(), "400"),
        (
            format!("CONNECT http://allowed.test:{port}/ HTTP/1.1\r\n\r\n"),
            "400",
        ),
        ("CONNECT /etc/passwd HTTP/1.1\r\n\r\n".into(), "400"),
        ("CONNECT  HTTP/1.1\r\n\r\n".into(), "400"),
        (
            format!("CONNECT allowed.test:{port} HTTP/1.1\r\nX: a\0b\r\n\r\n"),
            "400",
        ),
        (
            format!("CONNECT allowed.test:{port} HTTP/1.1\r\nX: a\r\n folded\r\n\r\n"),
            "400",
        ),
        (
            format!("GET http://allowed.test@evil.test:{port}/ HTTP/1.1\r\n\r\n"),
            "400",
        ),
        (
            format!("GET http://allowed.test:{port}@evil.test/ HTTP/1.1\r\n\r\n"),
            "400",
        ),
        (
            format!("GET http://allowed.test:{port}:1/ HTTP/1.1\r\n\r\n"),
            "400",
        ),
        ("GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n".into(), "400"),
        ("GET https://allowed.test/ HTTP/1.1\r\n\r\n".into(), "400"),
        ("GET ftp://allowed.test/ HTTP/1.1\r\n\r\n".into(), "400"),
        (
            format!("GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            "421",
        ),
        (
            "\x16\x03\x01\x02\x00\x01\x00\x01\x7f\x03\x03\r\n\r\n".into(),
            "400",
        ),
        ("GARBAGE\r\n\r\n".into(), "400"),
    ];
    for (req, want) in &cases {
        let resp = exchange(p.http().await, req.as_bytes()).await;
        assert!(
            resp.starts_with(&format!("HTTP/1.1 {want} ")),
            "{req:?} got {resp:?}"
        );
    }
    // Every refusal the proxy itself decided was reported, hostile text escaped.
    let lines = p.violation_lines();
    assert!(
        lines.iter().any(|l| l.contains("malformed host")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("userinfo")), "{lines:#?}");
    assert!(lines
        .iter()
        .all(|l| !l.contains('\0') && !l.contains('\r') && !l.contains('\n')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giant_heads_get_431_and_are_closed() {
    let origin = http_origin().await;
    let limits = Limits {
        max_header_bytes: 16 * 1024,
        ..Limits::default()
    };
    let p = Proxies::start(allowing_origin(origin.port()), resolver(), limits);
    let big = format!(
        "CONNECT allowed.test:{} HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        origin.port(),
        "a".repeat(100_000)
    );
    let resp = exchange(p.http().await, big.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 431 "), "{resp:.200}");
    let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
    let req = format!(
        "CONNECT allowed.test:{} HTTP/1.1\r\n{many}\r\n",
        origin.port()
    );
    let resp = exchange(p.http().await, req.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 431 "), "{resp:.200}");
    let long_line = format!(
        "GET http://allowed.test/{} HTTP/1.1\r\n\r\n",
        "p".repeat(100_000)
    );
    let resp = exchange(p.http().await, long_line.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 4"), "{resp:.200}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_closed() {
    let origin = http_origin().await;
    let limits = Limits {
        header_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(1500),
        ..Limits::default()
    };
    let p = Proxies::start(allowing_origin(origin.port()), resolver(), limits);
    // A head that never ends.
    let mut s = p.http().await;
    s.write_all(b"CONNECT allowed.test:443 HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    // A connection that never sends anything.
    let mut s = p.http().await;
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    // An established tunnel with nothing moving.
    let mut s = p.http().await;
    let head = connect(&mut s, &format!("allowed.test:{}", origin.port())).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(closed_within(&mut s, Duration::from_secs(6)).await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while p.server.active_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(p.server.active_connections(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excess_connections_are_refused_and_slots_come_back() {
    let origin = http_origin().await;
    let limits = Limits {
        max_connections: 3,
        ..Limits::default()
    };
    let p = Proxies::start(allowing_origin(origin.port()), resolver(), limits);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = p.http().await;
        let head = connect(&mut s, &format!("allowed.test:{}", origin.port())).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        held.push(s);
    }
    let resp = exchange(p.http().await, b"CONNECT allowed.test:1 HTTP/1.1\r\n\r\n").await;
    assert!(
        resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{resp}"
    );
    assert!(
        resp.contains("X-Proxy-Error: too many connections\r\n"),
        "{resp}"
    );
    let mut s = p.socks().await;
    s.write_all(&[5, 1, 0]).await.unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);

    drop(held);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while p.server.active_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(p.server.active_connections(), 0);
    let mut s = p.http().await;
    let head = connect(&mut s, &format!("allowed.test:{}", origin.port())).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
}
