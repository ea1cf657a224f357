//! The proxies on loopback TCP ports (macOS's mode, tested here on Linux): real curl through
//! real listeners, allowed and denied destinations, with the run's credentials, with wrong
//! ones and with none.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn resolver() -> StaticResolver {
    StaticResolver::new()
        .with("allowed.test", &[loopback()])
        .with("denied.test", &[loopback()])
}

/// Proxies on loopback allowing `allowed.test` and the origin's literal port.
async fn setup() -> (Proxies, u16) {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(
        &["allowed.test".into(), format!("127.0.0.1:{port}")],
        &["denied.test"],
    );
    (Proxies::start_loopback(ir, resolver()), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_on_loopback_ports_with_fresh_credentials() {
    let (p, _) = setup().await;
    let (http, socks) = (
        p.server.http_addr().unwrap(),
        p.server.socks_addr().unwrap(),
    );
    assert!(http.ip().is_loopback() && socks.ip().is_loopback());
    assert!(http.port() != 0 && socks.port() != 0 && http.port() != socks.port());
    assert!(p.server.socket_dir().is_none() && p.server.http_socket().is_none());
    let creds = p.server.credentials().unwrap().clone();
    assert_eq!(creds.user(), "srt");
    assert_eq!(creds.password().len(), 32);
    // Another run, another token.
    let (q, _) = setup().await;
    assert_ne!(q.server.credentials().unwrap().password(), creds.password());
    // From a plain thread, as `srt run` calls it: shutdown waits for the listeners to close
    // (inside a runtime it could only detach them).
    let server = p.server;
    std::thread::spawn(move || server.shutdown())
        .join()
        .unwrap();
    assert!(TcpStream::connect(http).await.is_err());
    assert!(TcpStream::connect(socks).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_asks_for_the_credentials() {
    let (p, port) = setup().await;
    let addr = p.server.http_addr().unwrap();
    let token = p.server.credentials().unwrap().password().to_string();
    let good = format!("http://srt:{token}@{addr}");
    let url = format!("http://allowed.test:{port}/loop");

    // Allowed, with the credentials: plain request and CONNECT tunnel.
    let r = curl(&["-x", &good, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("GET /loop HTTP/1.1"), "{}", r.stdout);
    assert!(!r
        .stdout
        .to_ascii_lowercase()
        .contains("proxy-authorization"));
    let r = curl(&["-p", "-x", &good, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("GET /loop HTTP/1.1"), "{}", r.stdout);
    // Any user name will do; the password is what is checked.
    let other_user = format!("http://srt.Y3VybA:{token}@{addr}");
    let r = curl(&["-x", &other_user, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);

    // Denied, with the credentials: 403 and a violation.
    let denied = format!("http://denied.test:{port}/");
    let r = head(&good, &denied).await;
    assert!(r.stdout.starts_with("HTTP/1.1 403"), "{}", r.stdout);

    // Without credentials, or with a wrong token: 407 for both kinds of request, and the
    // destination is never looked at (no violation), allowed or not.
    let wrong = format!("http://srt:{}@{addr}", "0".repeat(32));
    let none = format!("http://{addr}");
    for proxy in [&none, &wrong] {
        for target in [&url, &denied] {
            let r = head(proxy, target).await;
            assert!(
                r.stdout.starts_with("HTTP/1.1 407"),
                "{proxy} {target}: {}",
                r.stdout
            );
            assert!(
                r.stdout
                    .to_ascii_lowercase()
                    .contains("proxy-authenticate: basic realm=\"srt\""),
                "{}",
                r.stdout
            );
            let r = curl(&["-p", "-x", proxy, target]).await;
            assert_eq!(r.code, Some(56), "{proxy} {target}: {}", r.stderr);
            assert!(r.stderr.contains("407"), "{}", r.stderr);
        }
    }
    let lines = p.violation_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "srt: blocked GET denied.test:{port} — on network.deniedDomains[0]"
        )),
        "{lines:?}"
    );
}

/// The response head curl gets (`-D -`), body discarded.
async fn head(proxy: &str, target: &str) -> Curl {
    curl(&["-x", proxy, "-o", "/dev/null", "-D", "-", target]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks_proxy_asks_for_the_credentials() {
    let (p, port) = setup().await;
    let addr = p.server.socks_addr().unwrap();
    let token = p.server.credentials().unwrap().password().to_string();
    let url = format!("http://allowed.test:{port}/socks");

    let good = format!("socks5h://srt:{token}@{addr}");
    let r = curl(&["-x", &good, &url]).await;
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("GET /socks HTTP/1.1"), "{}", r.stdout);
    // Denied with the credentials: SOCKS reply 2 (curl exit 97) and a violation.
    let r = curl(&["-x", &good, &format!("http://denied.test:{port}/")]).await;
    assert_eq!(r.code, Some(97), "{}", r.stderr);
    assert_eq!(p.violation_lines().len(), 1);

    // No credentials (curl offers only "no authentication") or a wrong password: refused
    // before any destination is read.
    for proxy in [
        format!("socks5h://{addr}"),
        format!("socks5h://srt:{}@{addr}", "f".repeat(32)),
        format!("socks5h://srt:@{addr}"),
    ] {
        let r = curl(&["-x", &proxy, &url]).await;
        assert_eq!(r.code, Some(97), "{proxy}: {}", r.stderr);
        assert!(!r.stdout.contains("GET /socks"), "{}", r.stdout);
    }
    assert_eq!(p.violation_lines().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_clients_get_no_way_around_the_check() {
    let (p, port) = setup().await;
    let creds = p.server.credentials().unwrap().clone();
    let basic = srt_runtime::proxy::auth::basic_authorization("srt", creds.password());

    // Two Proxy-Authorization headers, even one right: 407.
    let mut s = TcpStream::connect(p.server.http_addr().unwrap())
        .await
        .unwrap();
    let req = format!(
        "GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: allowed.test:{port}\r\nProxy-Authorization: Basic eDp5\r\nProxy-Authorization: {basic}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 407"), "{answer}");

    // The right one alone: through.
    let mut s = TcpStream::connect(p.server.http_addr().unwrap())
        .await
        .unwrap();
    let req = format!(
        "GET http://allowed.test:{port}/raw HTTP/1.1\r\nHost: allowed.test:{port}\r\nProxy-Authorization: {basic}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("GET /raw HTTP/1.1"), "{answer}");

    // SOCKS5 offering only "no authentication": no acceptable method (0xff), then closed.
    let mut s = TcpStream::connect(p.server.socks_addr().unwrap())
        .await
        .unwrap();
    s.write_all(&[5, 1, 0]).await.unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, [5, 0xff]);

    // Username/password with a wrong password: status 1, then closed before any request.
    let mut s = TcpStream::connect(p.server.socks_addr().unwrap())
        .await
        .unwrap();
    let mut hello = vec![5, 2, 0, 2, 1, 3];
    hello.extend_from_slice(b"srt");
    hello.push(32);
    hello.extend_from_slice("1".repeat(32).as_bytes());
    s.write_all(&hello).await.unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, [5, 2, 1, 1]);

    // The right password: status 0, then a CONNECT that succeeds.
    let mut s = TcpStream::connect(p.server.socks_addr().unwrap())
        .await
        .unwrap();
    let mut hello = vec![5, 1, 2, 1, 3];
    hello.extend_from_slice(b"srt");
    hello.push(32);
    hello.extend_from_slice(creds.password().as_bytes());
    s.write_all(&hello).await.unwrap();
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply, [5, 2, 1, 0]);
    let mut req = vec![5, 1, 0, 3, 12];
    req.extend_from_slice(b"allowed.test");
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await.unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[1], 0, "{reply:?}");
    assert!(p.violation_lines().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_sockets_still_need_no_credentials() {
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let p = Proxies::start(ir, resolver(), Limits::default());
    assert!(p.server.credentials().is_none());
    assert!(p.server.http_addr().is_none() && p.server.socks_addr().is_none());
    let answer = exchange(
        p.http().await,
        format!("GET http://allowed.test:{port}/u HTTP/1.1\r\nHost: allowed.test:{port}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
