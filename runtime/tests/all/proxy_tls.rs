//! TLS termination in the HTTP proxy against hostile and greedy clients: real proxies on real
//! Unix sockets, a real TLS origin on 127.0.0.1 with its own CA, real TLS clients.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use srt_compiler::Ir;
use srt_runtime::proxy::tls::TlsContext;
use srt_runtime::proxy::{
    Limits, Listen, ProxyOptions, ProxyServer, StaticResolver, Violation, ViolationKind,
    ViolationOptions,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixStream};

struct Setup {
    server: ProxyServer,
    tls: Arc<TlsContext>,
    violations: Arc<Mutex<Vec<Violation>>>,
    origin_port: u16,
    _dir: tempfile::TempDir,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    let p = rustls::crypto::ring::default_provider();
    Arc::new(p)
}

/// A TLS origin for `origin.test`: `GET /big` streams 64 MiB, anything else gets `ok`.
async fn tls_origin(dir: &std::path::Path) -> (u16, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let ca_path = dir.join("origin-ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["origin.test".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                if head.starts_with(b"GET /big") {
                    let n = 64 << 20;
                    let _ = s
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").as_bytes(),
                        )
                        .await;
                    let chunk = vec![b'x'; 64 << 10];
                    for _ in 0..(n / chunk.len()) {
                        if s.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                } else {
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
                        .await;
                    let _ = s.shutdown().await;
                }
            });
        }
    });
    (port, ca_path)
}

async fn setup(extra_network: &str, max_connections: usize, handshake_ms: u64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (port, ca) = tls_origin(dir.path()).await;
    let json = format!(
        r#"{{"network":{{"allowedDomains":["origin.test","plain.test","127.0.0.1:{port}"],"deniedDomains":[],
  "tlsTerminate":{{"extraCaCertPaths":["{ca}"],"maxTunnels":16,"handshakeTimeoutMs":{handshake_ms},
                   "excludeDomains":["plain.test"]}}{extra_network}}},
 "filesystem":{{"denyRead":[],"allowWrite":[],"denyWrite":[]}}}}"#,
        ca = ca.display()
    );
    let ir: Arc<Ir> = common::ir(&json);
    let tls = Arc::new(TlsContext::new(ir.secrets.tls.as_ref().unwrap()).unwrap());
    let violations = Arc::new(Mutex::new(Vec::new()));
    let seen = violations.clone();
    let resolver = StaticResolver::new()
        .with("origin.test", &[common::loopback()])
        .with("plain.test", &[common::loopback()]);
    let opts = ProxyOptions {
        limits: Limits {
            max_connections,
            tunnel_request_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        violations: ViolationOptions {
            stderr: false,
            callback: Some(Arc::new(move |v: &Violation| {
                seen.lock().unwrap().push(v.clone())
            })),
            ..ViolationOptions::default()
        },
        resolver: Arc::new(resolver),
        listen: Listen::UnixDir,
        socket_parent: Some(dir.path().to_path_buf()),
        tls: Some(tls.clone()),
        ..ProxyOptions::default()
    };
    let server = ProxyServer::start(ir, opts).unwrap();
    Setup {
        server,
        tls,
        violations,
        origin_port: port,
        _dir: dir,
    }
}

impl Setup {
    async fn connect(&self, target: &str) -> (UnixStream, String) {
        let mut s = UnixStream::connect(self.server.http_socket().unwrap())
            .await
            .unwrap();
        s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let head = read_head(&mut s).await;
        (s, head)
    }

    fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(self.tls.ca.ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    async fn tls_over<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        s: S,
        sni: &str,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<S>> {
        let connector = tokio_rustls::TlsConnector::from(self.client_config());
        connector
            .connect(ServerName::try_from(sni.to_string()).unwrap(), s)
            .await
    }

    fn kinds(&self) -> Vec<ViolationKind> {
        self.violations
            .lock()
            .unwrap()
            .iter()
            .map(|v| v.kind)
            .collect()
    }
}

async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b).await {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

async fn closed_within<S: AsyncRead + Unpin>(s: &mut S, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline.into(), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A request through a terminated tunnel reaches the origin over verified TLS; the tunnel
/// then holds a slot until it closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_tunnel_forwards_over_verified_tls() {
    // A handshake deadline far above a busy machine's handshake time: only the deadline test
    // below uses a short one.
    let s = setup("", 1024, 10_000).await;
    let target = format!("origin.test:{}", s.origin_port);
    let (sock, head) = s.connect(&target).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut t = s.tls_over(sock, "origin.test").await.unwrap();
    t.write_all(b"GET /x HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut t).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut body = [0u8; 3];
    t.read_exact(&mut body).await.unwrap();
    assert_eq!(&body, b"ok\n");
}

/// A terminated tunnel that carries no request for the request timeout (here 1 s), after a
/// response or right after its handshake, is closed and frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tunnel_is_closed_and_frees_its_slot() {
    let s = setup("", 1024, 5000).await;
    let target = format!("origin.test:{}", s.origin_port);
    let (sock, _) = s.connect(&target).await;
    let mut quiet = s.tls_over(sock, "origin.test").await.unwrap();
    let (sock, _) = s.connect(&target).await;
    let mut used = s.tls_over(sock, "origin.test").await.unwrap();
    used.write_all(b"GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        .await
        .unwrap();
    assert!(read_head(&mut used).await.starts_with("HTTP/1.1 200"));
    assert_eq!(s.tls.open_tunnels(), 2);
    assert!(closed_within(&mut quiet, Duration::from_secs(4)).await);
    assert!(closed_within(&mut used, Duration::from_secs(4)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.tls.open_tunnels(), 0);
}

/// A client that never finishes its handshake (silent, or a ClientHello cut short) is cut
/// off at handshakeTimeoutMs, and its slot freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_never_finished_is_cut_off_at_the_deadline() {
    let s = setup("", 1024, 500).await;
    let target = format!("origin.test:{}", s.origin_port);
    let (mut silent, head) = s.connect(&target).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (mut partial, _) = s.connect(&target).await;
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    assert_eq!(s.tls.open_tunnels(), 2);
    let t0 = Instant::now();
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
    assert!(closed_within(&mut partial, Duration::from_secs(3)).await);
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.tls.open_tunnels(), 0);
}

/// Bytes that are not TLS after CONNECT are tunnelled opaquely (to the target), and under
/// refuseOpaqueTunnels refused and recorded. A CONNECT to an excluded host is never terminated
/// and, under refuseOpaqueTunnels, refused outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_connect_is_tunnelled_or_refused() {
    let s = setup("", 1024, 500).await;
    let target = format!("origin.test:{}", s.origin_port);
    let (mut sock, _) = s.connect(&target).await;
    sock.write_all(b"garbage, not TLS\r\n\r\n").await.unwrap();
    // The origin's TLS server gets the garbage and closes: an opaque tunnel to it.
    assert!(closed_within(&mut sock, Duration::from_secs(3)).await);
    assert_eq!(s.tls.open_tunnels(), 0);

    let strict = setup(r#","refuseOpaqueTunnels":true"#, 1024, 500).await;
    let target = format!("origin.test:{}", strict.origin_port);
    let (mut sock, head) = strict.connect(&target).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    sock.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await.unwrap();
    assert!(closed_within(&mut sock, Duration::from_secs(3)).await);
    let (_, head) = strict
        .connect(&format!("plain.test:{}", strict.origin_port))
        .await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    // SOCKS carries only opaque tunnels: refused (reply 2, not allowed).
    let mut socks = UnixStream::connect(strict.server.socks_socket().unwrap())
        .await
        .unwrap();
    socks.write_all(&[5, 1, 0]).await.unwrap();
    let mut hello = [0u8; 2];
    socks.read_exact(&mut hello).await.unwrap();
    let mut req = vec![5, 1, 0, 3, 11];
    req.extend_from_slice(b"origin.test");
    req.extend_from_slice(&strict.origin_port.to_be_bytes());
    socks.write_all(&req).await.unwrap();
    let mut reply = [0u8; 2];
    socks.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply, [5, 2]);
    assert_eq!(strict.kinds(), [ViolationKind::OpaqueTunnel; 3]);
}

/// Under requireHostMatch a server name or Host other than the CONNECT target gets 421.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_host_match_answers_421() {
    let s = setup(r#","requireHostMatch":true"#, 1024, 500).await;
    let target = format!("origin.test:{}", s.origin_port);
    // The leaf is the target's whatever name the client asks for; a client that checks it
    // against the name it asked for refuses it, so ask for the target and lie in Host.
    let (sock, _) = s.connect(&target).await;
    let mut t = s.tls_over(sock, "origin.test").await.unwrap();
    t.write_all(b"GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut t).await;
    assert!(head.starts_with("HTTP/1.1 421"), "{head}");
    assert_eq!(s.kinds(), [ViolationKind::HostMismatch]);
}

/// 1,000 CONNECTs at once against maxTunnels 16: 16 tunnels, the rest 503 and recorded; the
/// proxy's descriptors stay bounded, and it serves a request right after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tunnels_at_once_are_capped() {
    if !common::in_own_process(module_path!(), "a_thousand_tunnels_at_once_are_capped") {
        return;
    }
    let s = Arc::new(setup("", 2048, 60_000).await);
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let target = format!("origin.test:{}", s.origin_port);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (s, target) = (s.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let (sock, head) = s.connect(&target).await;
            (sock, head)
        }));
    }
    let mut held = Vec::new();
    let (mut ok, mut busy) = (0, 0);
    for t in tasks {
        let (sock, head) = t.await.unwrap();
        if head.starts_with("HTTP/1.1 200") {
            ok += 1;
        } else if head.starts_with("HTTP/1.1 503") {
            assert!(
                head.to_ascii_lowercase().contains("too-many-tunnels"),
                "{head}"
            );
            busy += 1;
        }
        held.push(sock);
    }
    assert_eq!((ok, busy), (16, 984));
    assert_eq!(s.tls.open_tunnels(), 16);
    let fds_during = std::fs::read_dir("/proc/self/fd").unwrap().count();
    // Ours (1,000 clients) plus the proxy's side of each: no more than a few per client.
    assert!(
        fds_during < fds_before + 2 * 1000 + 64,
        "{fds_before} -> {fds_during}"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.tls.open_tunnels(), 0);
    assert_eq!(s.server.active_connections(), 0);
    let fds_after = std::fs::read_dir("/proc/self/fd").unwrap().count();
    assert!(fds_after <= fds_before + 8, "{fds_before} -> {fds_after}");
    let (sock, _) = s.connect(&target).await;
    let mut t = s.tls_over(sock, "origin.test").await.unwrap();
    t.write_all(b"GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        .await
        .unwrap();
    assert!(read_head(&mut t).await.starts_with("HTTP/1.1 200"));
    let recorded = s
        .kinds()
        .iter()
        .filter(|k| **k == ViolationKind::TooManyTunnels)
        .count();
    assert_eq!(recorded, 984);
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A 64 MiB response the client never reads: the proxy holds a bounded amount (hyper's and
/// rustls's buffers and the sockets'), not the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_never_read_is_not_buffered() {
    if !common::in_own_process(module_path!(), "a_response_never_read_is_not_buffered") {
        return;
    }
    // The handshake deadline is not what this measures: a 0.5 s one cut a handshake off on a
    // busy machine (the client then read an EOF where the response should be).
    let s = setup("", 1024, 10_000).await;
    let target = format!("origin.test:{}", s.origin_port);
    let before = rss_kib();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (sock, _) = s.connect(&target).await;
        let mut t = s.tls_over(sock, "origin.test").await.unwrap();
        t.write_all(b"GET /big HTTP/1.1\r\nHost: origin.test\r\n\r\n")
            .await
            .unwrap();
        clients.push(t);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let grown = rss_kib().saturating_sub(before);
    // Four tunnels with 64 MiB each pending: far less than one response is held.
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    // Reading one to the end still works.
    let mut t = clients.pop().unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    while total < (64 << 20) {
        let n = t.read(&mut buf).await.unwrap();
        assert!(n > 0);
        total += n;
    }
}
