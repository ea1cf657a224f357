//! Real clients through the proxies: curl, to the HTTP proxy over a TCP bridge like the
//! in-sandbox one (CONNECT and absolute-URI), and to the SOCKS5 proxy (`socks5h`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver};

fn resolver() -> StaticResolver {
    StaticResolver::new().with("allowed.test", &[loopback()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_http_proxy() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let bridge = tcp_bridge(&p.server.http_socket().unwrap()).await;
    let proxy = format!("http://srt.Y3VybA:token@127.0.0.1:{}", bridge.port());
    let url = format!("http://allowed.test:{port}/curl");

    // Absolute-URI request.
    let r = curl(&["-x", &proxy, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("GET /curl HTTP/1.1"), "{}", r.stdout);
    assert!(!r
        .stdout
        .to_ascii_lowercase()
        .contains("proxy-authorization"));
    // CONNECT tunnel.
    let r = curl(&["-p", "-x", &proxy, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("GET /curl HTTP/1.1"), "{}", r.stdout);

    // Denied: 403 for the plain request, a failed tunnel for CONNECT.
    let r = curl(&[
        "-x",
        &proxy,
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        "http://example.com/",
    ])
    .await;
    assert_eq!(r.stdout, "403");
    let r = curl(&["-p", "-x", &proxy, "http://example.com/"]).await;
    assert_eq!(r.code, Some(56), "{}", r.stderr);
    assert!(r.stderr.contains("403"), "{}", r.stderr);
    assert_eq!(
        p.violation_lines(),
        [
            "srt: blocked GET example.com:80 — not in network.allowedDomains",
            "srt: blocked CONNECT example.com:80 — not in network.allowedDomains"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_socks_proxy() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let bridge = tcp_bridge(&p.server.socks_socket().unwrap()).await;
    let url = format!("http://allowed.test:{port}/socks");
    for proxy in [
        format!("socks5h://127.0.0.1:{}", bridge.port()),
        format!("socks5h://srt.Y3VybA:token@127.0.0.1:{}", bridge.port()),
    ] {
        let r = curl(&["-x", &proxy, &url]).await;
        assert_eq!(r.code, Some(0), "{proxy}: {}", r.stderr);
        assert!(r.stdout.contains("GET /socks HTTP/1.1"), "{}", r.stdout);
    }
    // curl resolves for plain socks5://; the address is then decided as an IP literal.
    let proxy = format!("socks5://127.0.0.1:{}", bridge.port());
    let r = curl(&["-x", &proxy, &format!("http://127.0.0.1:{port}/ip")]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Denied: curl reports the SOCKS refusal (exit 97).
    let proxy = format!("socks5h://127.0.0.1:{}", bridge.port());
    let r = curl(&["-x", &proxy, "http://example.com/"]).await;
    assert_eq!(r.code, Some(97), "{}", r.stderr);
    assert_eq!(
        p.violation_lines(),
        ["srt: blocked SOCKS5 example.com:80 — not in network.allowedDomains"]
    );
}
