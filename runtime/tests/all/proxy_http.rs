//! The HTTP proxy, end to end: real proxies on Unix sockets, real origins on 127.0.0.1, raw
//! clients. Names are mapped by a test resolver (`allowed.test` → 127.0.0.1).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::time::Duration;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver, ViolationKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn resolver() -> StaticResolver {
    StaticResolver::new()
        .with("allowed.test", &[loopback()])
        .with("sub.allowed.test", &[loopback()])
        .with("reasoned.test", &[loopback()])
}

/// Allows `allowed.test` and, as an IP literal, the origin's own address.
fn allowing_origin(port: u16) -> std::sync::Arc<srt_compiler::Ir> {
    policy(
        &["allowed.test".into(), format!("127.0.0.1:{port}")],
        &["denied.test", "reasoned.test"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reaches_an_allowed_loopback_origin() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let mut s = p.http().await;
    let head = connect(&mut s, &format!("allowed.test:{}", origin.port())).await;
    assert!(
        head.starts_with("HTTP/1.1 200 Connection Established\n"),
        "{head}"
    );
    let body = exchange(s, b"GET /through HTTP/1.1\r\nHost: allowed.test\r\n\r\n").await;
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(
        body.contains("origin saw:\nGET /through HTTP/1.1\n"),
        "{body}"
    );
    assert!(p.violation_lines().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_a_name_resolving_to_loopback() {
    let origin = http_origin().await;
    // Only the name is allowed: its loopback address is refused.
    let ir = policy(&["allowed.test".into(), "127.0.0.1:1".into()], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let mut s = p.http().await;
    let target = format!("allowed.test:{}", origin.port());
    let head = connect(&mut s, &target).await;
    assert!(
        head.starts_with("HTTP/1.1 403 resolved to a loopback address\n"),
        "{head}"
    );
    assert!(
        head.contains("x-proxy-error: resolved to a loopback address\n"),
        "{head}"
    );
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);

    let get = format!("GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\n\r\n");
    let resp = exchange(p.http().await, get.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{resp}");
    assert!(resp.contains(&format!(
        "srt: blocked GET allowed.test:{} — resolved to a loopback address\n",
        origin.port()
    )));
    let lines = p.violation_lines();
    assert_eq!(
        lines,
        [
            format!(
                "srt: blocked CONNECT allowed.test:{} — resolved to a loopback address",
                origin.port()
            ),
            format!(
                "srt: blocked GET allowed.test:{} — resolved to a loopback address",
                origin.port()
            )
        ]
    );
    let v = p.violations.lock().unwrap()[0].clone();
    assert_eq!(v.kind, ViolationKind::ResolvedAddress);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refusals_carry_the_reason() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );

    let mut s = p.http().await;
    let head = connect(&mut s, "example.com:443").await;
    assert!(
        head.starts_with("HTTP/1.1 403 host is not on the allow list\n"),
        "{head}"
    );
    assert!(head.contains("x-proxy-error: host is not on the allow list\n"));
    assert!(head.contains("connection: close\n"));
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);

    let mut s = p.http().await;
    let head = connect(&mut s, "Denied.Test.:443").await;
    assert!(
        head.starts_with("HTTP/1.1 403 host is on the deny list\n"),
        "{head}"
    );

    let mut s = p.http().await;
    let head = connect(&mut s, "reasoned.test:443").await;
    assert!(
        head.starts_with("HTTP/1.1 403 that mirror is compromised\n"),
        "{head}"
    );

    let lines = p.violation_lines();
    assert_eq!(
        lines[0],
        "srt: blocked CONNECT example.com:443 — not in network.allowedDomains"
    );
    assert!(
        lines[1].starts_with(
            "srt: blocked CONNECT denied.test:443 — on network.deniedDomains[0] (.srt.json:"
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(
            "srt: blocked CONNECT reasoned.test:443 — on network.deniedDomains[1] (.srt.json:"
        ) && lines[2].ends_with("): that mirror is compromised"),
        "{}",
        lines[2]
    );
    let v = p.violations.lock().unwrap()[1].clone();
    assert_eq!(v.kind, ViolationKind::Denied);
    assert_eq!(v.reason, "host is on the deny list");
    assert!(v
        .rule
        .unwrap()
        .starts_with("network.deniedDomains[0] (.srt.json:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_uri_requests_are_forwarded_in_origin_form() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let port = origin.port();
    let req = format!(
        "POST http://ALLOWED.test.:{port}/path?q=1 HTTP/1.1\r\nHost: allowed.test:{port}\r\n\
         Proxy-Authorization: Basic c3J0OnRva2Vu\r\nProxy-Connection: keep-alive\r\n\
         Connection: close, X-Drop-Me\r\nX-Drop-Me: 1\r\nX-Keep: 2\r\nContent-Length: 5\r\n\r\nhello"
    );
    let resp = exchange(p.http().await, req.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    let seen = resp
        .split_once("origin saw:\n")
        .unwrap()
        .1
        .to_ascii_lowercase();
    assert!(seen.starts_with("post /path?q=1 http/1.1\n"), "{seen}");
    assert!(
        seen.contains(&format!("host: allowed.test:{port}\n")),
        "{seen}"
    );
    assert!(seen.contains("x-keep: 2\n"), "{seen}");
    assert!(seen.contains("body: hello\n"), "{seen}");
    for gone in ["proxy-authorization", "proxy-connection", "x-drop-me"] {
        assert!(!seen.contains(gone), "{gone} was forwarded: {seen}");
    }
    // Hop-by-hop headers of the response are not passed back either.
    assert!(
        !resp.to_ascii_lowercase().contains("keep-alive: timeout"),
        "{resp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let port = origin.port();
    let mut s = p.http().await;
    for path in ["/one", "/two"] {
        let req = format!(
            "GET http://allowed.test:{port}{path} HTTP/1.1\r\nHost: allowed.test:{port}\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let head = read_head(&mut s).await.unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\n"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains(&format!("GET {path} HTTP/1.1")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_uri_refusals() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let port = origin.port();

    let resp = exchange(
        p.http().await,
        b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{resp}");
    assert!(
        resp.contains("x-proxy-error: host is not on the allow list\r\n"),
        "{resp}"
    );
    assert!(
        resp.ends_with("srt: blocked GET example.com:80 — not in network.allowedDomains\n"),
        "{resp}"
    );

    // A Host header naming another destination is refused, not rewritten.
    let req = format!("GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
    let resp = exchange(p.http().await, req.as_bytes()).await;
    assert!(
        resp.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
        "{resp}"
    );
    let v = p.violations.lock().unwrap().last().cloned().unwrap();
    assert_eq!(v.kind, ViolationKind::HostMismatch);
    // Another spelling of the same destination is fine.
    let req = format!(
        "GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: ALLOWED.TEST.:{port}\r\nConnection: close\r\n\r\n"
    );
    let resp = exchange(p.http().await, req.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
}

/// Each hostile request gets an answer of the given status and the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_closed_tunnels_deliver_the_rest_then_close() {
    for zero_copy in [true, false] {
        half_closed_tunnel(zero_copy).await;
    }
}

async fn half_closed_tunnel(zero_copy: bool) {
    // Megabytes each way, so both directions also pass the switch to splice.
    const UP: usize = 3_000_000;
    let origin = drain_then_answer_origin().await;
    let ir = policy(&[format!("127.0.0.1:{}", origin.port())], &[]);
    let p = Proxies::start_with(ir, resolver(), Limits::default(), zero_copy);
    let mut s = p.http().await;
    let data: Vec<u8> = (0..UP).map(pattern).collect();
    // Data pipelined right behind the CONNECT must reach the origin too, in order.
    let mut req = format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n\r\n", origin.port()).into_bytes();
    req.extend_from_slice(&data[..1000]);
    s.write_all(&req).await.unwrap();
    let head = read_head(&mut s).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    s.write_all(&data[1000..]).await.unwrap();
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    let line = format!("got {UP} bytes, {UP} in pattern\n");
    assert!(
        rest.starts_with(line.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(&rest[..rest.len().min(60)])
    );
    let tail = &rest[line.len()..];
    assert_eq!(tail.len(), TAIL);
    assert!(tail.iter().enumerate().all(|(i, b)| *b == pattern(i)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_sending_still_gets_its_answer() {
    let origin = http_origin().await;
    let p = Proxies::start(
        allowing_origin(origin.port()),
        resolver(),
        Limits::default(),
    );
    let mut s = p.http().await;
    let req = format!(
        "GET http://allowed.test:{}/eof HTTP/1.1\r\nHost: allowed.test:{}\r\n\r\n",
        origin.port(),
        origin.port()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.contains("GET /eof HTTP/1.1"), "{out}");
    // A refusal is answered too.
    let mut s = p.http().await;
    s.write_all(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    assert!(out.starts_with(b"HTTP/1.1 403 host is not on the allow list\r\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_are_502() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ir = policy(&[format!("127.0.0.1:{port}"), "nowhere.test".into()], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let mut s = p.http().await;
    let head = connect(&mut s, &format!("127.0.0.1:{port}")).await;
    assert!(head.starts_with("HTTP/1.1 502 Bad Gateway\n"), "{head}");
    let mut s = p.http().await;
    let head = connect(&mut s, "nowhere.test:443").await;
    assert!(head.starts_with("HTTP/1.1 502 "), "{head}");
    assert!(
        head.contains("x-proxy-error: upstream: cannot resolve nowhere.test"),
        "{head}"
    );
    assert!(
        p.violation_lines().is_empty(),
        "failures are not violations"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_removes_the_socket_directory() {
    let p = Proxies::start(policy(&[], &[]), resolver(), Limits::default());
    let dir = p.server.socket_dir().unwrap().to_path_buf();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(p.server.http_socket().unwrap().exists() && p.server.socks_socket().unwrap().exists());
    p.server.shutdown();
    assert!(!dir.exists());
}
