//! Real clients through the proxies: curl (HTTP proxy over a TCP bridge like the in-sandbox
//! one, CONNECT and absolute-URI; SOCKS5 with `socks5h`), and 500 concurrent tunnels with the
//! process's descriptor count checked afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::time::Duration;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

fn resolver() -> StaticResolver {
    StaticResolver::new().with("allowed.test", &[loopback()])
}

struct Curl {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn curl(args: &[&str]) -> Curl {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "--noproxy", ""])
            .args(args)
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("all_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("ALL_PROXY")
            .output(),
    )
    .await
    .unwrap()
    .expect("curl runs (CI installs it)");
    Curl {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_http_proxy() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    let bridge = tcp_bridge(&p.server.http_socket()).await;
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
    let bridge = tcp_bridge(&p.server.socks_socket()).await;
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

/// 500 tunnels at once, each carrying a request and its answer; afterwards every connection
/// is closed and the descriptor count is back where it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_tunnels_leave_no_descriptors_behind() {
    const N: usize = 500;
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let limits = Limits {
        max_connections: 600,
        ..Limits::default()
    };
    let p = Proxies::start(ir, resolver(), limits);
    let before = open_fds();

    // All tunnels are established before any carries data, so they are open together.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for i in 0..N {
        let socket = p.server.http_socket();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::UnixStream::connect(&socket).await.unwrap();
            let head = connect(&mut s, &format!("allowed.test:{port}")).await;
            assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
            barrier.wait().await;
            s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            assert!(String::from_utf8_lossy(&out).contains(&format!("GET /{i} HTTP/1.1")));
        }));
    }
    let peak = tokio::time::timeout(Duration::from_secs(60), async {
        let mut peak = 0;
        while tasks.iter().any(|t| !t.is_finished()) {
            peak = peak.max(p.server.active_connections());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peak
    })
    .await
    .unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(peak >= N * 9 / 10, "only {peak} tunnels were open at once");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (p.server.active_connections() > 0 || open_fds() > before)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(p.server.active_connections(), 0);
    assert_eq!(open_fds(), before, "descriptors leaked");
}
