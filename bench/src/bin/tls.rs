//! Throughput through a TLS-terminated tunnel against an opaque one, in one process and one
//! run: a TLS origin on 127.0.0.1 streams `--bytes N` (default 1 GiB) to a client that reaches
//! it through the proxy's `CONNECT`, once opaquely (the client's TLS goes to the origin) and
//! once terminated (TLS to the proxy, which forwards over its own verified TLS). Prints MB/s
//! for each, the ratio, and this process's CPU time per GiB for each (client, proxy and origin
//! together: the difference is the termination's cost). `--rounds N` (median, default 3).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use srt_bench::{cpu_time, mb_per_s, median};
use srt_runtime::proxy::tls::TlsContext;
use srt_runtime::proxy::{ProxyOptions, ProxyServer, StaticResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn flag(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[allow(deprecated)]
    let p = rustls::crypto::ring::default_provider();
    Arc::new(p)
}

fn roots(pem: &[u8]) -> Result<rustls::RootCertStore> {
    let mut r = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pem) {
        r.add(c?)?;
    }
    Ok(r)
}

/// The origin: each connection gets `n` bytes after its request head.
async fn origin(n: u64, dir: &std::path::Path) -> Result<(u16, Vec<u8>)> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key)?.pem();
    std::fs::write(dir.join("ca.pem"), &ca_pem)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate()?;
    let leaf =
        CertificateParams::new(vec!["origin.bench".to_string()])?.signed_by(&key, &issuer)?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key.serialize_der().try_into()?)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
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
                let hdr =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n");
                if s.write_all(hdr.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![0x5a; 1 << 16];
                let mut left = n;
                while left > 0 {
                    let k = left.min(chunk.len() as u64) as usize;
                    if s.write_all(&chunk[..k]).await.is_err() {
                        return;
                    }
                    left -= k as u64;
                }
                let _ = s.shutdown().await;
            });
        }
    });
    Ok((port, ca_pem.into_bytes()))
}

/// One download through the proxy; TLS verified against `trust`.
async fn download(server: &ProxyServer, port: u16, trust: &[u8], n: u64) -> Result<Duration> {
    let t0 = Instant::now();
    let mut s = tokio::net::UnixStream::connect(server.http_socket().ok_or("no socket")?).await?;
    let target = format!("origin.bench:{port}");
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(trust)?)
        .with_no_client_auth();
    let mut t = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("origin.bench")?, s)
        .await?;
    t.write_all(b"GET /bytes HTTP/1.1\r\nHost: origin.bench\r\n\r\n")
        .await?;
    let mut got = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    // Head and body together: stop once the body's bytes have come.
    let mut body_from: Option<u64> = None;
    let mut seen = Vec::new();
    loop {
        let k = t.read(&mut buf).await?;
        if k == 0 {
            break;
        }
        got += k as u64;
        if body_from.is_none() {
            seen.extend_from_slice(&buf[..k]);
            if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                body_from = Some(i as u64 + 4);
            }
        }
        if body_from.is_some_and(|h| got >= h + n) {
            break;
        }
    }
    Ok(t0.elapsed())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = flag(&args, "--bytes", 1 << 30);
    let rounds = flag(&args, "--rounds", 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("srt-tls-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (port, origin_ca) = rt.block_on(origin(n, &dir))?;
    let json = |tls: bool| {
        let t = if tls {
            format!(
                r#","tlsTerminate":{{"extraCaCertPaths":["{}"]}}"#,
                dir.join("ca.pem").display()
            )
        } else {
            String::new()
        };
        format!(
            r#"{{"network":{{"allowedDomains":["origin.bench","127.0.0.1:{port}"],"deniedDomains":[]{t}}},
                "filesystem":{{"denyRead":[],"allowWrite":[],"denyWrite":[]}}}}"#
        )
    };
    let me = std::process::id();
    let mut report = Vec::new();
    for tls in [false, true] {
        let loaded = srt_schema::load_str("bench.json", None, &json(tls));
        let (ir, _) = srt_compiler::resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &srt_compiler::ResolveOptions::from_env(),
            &srt_compiler::RealFs,
        );
        let ctx = match &ir.secrets.tls {
            Some(p) => Some(Arc::new(TlsContext::new(p)?)),
            None => None,
        };
        let trust = match &ctx {
            Some(c) => c.ca.ca_pem.clone().into_bytes(),
            None => origin_ca.clone(),
        };
        let server = ProxyServer::start(
            Arc::new(ir),
            ProxyOptions {
                resolver: Arc::new(
                    StaticResolver::new().with("origin.bench", &["127.0.0.1".parse()?]),
                ),
                socket_parent: Some(dir.clone()),
                tls: ctx,
                ..ProxyOptions::default()
            },
        )?;
        let cpu0 = cpu_time(me).unwrap_or_default();
        let mut times = Vec::new();
        for _ in 0..rounds {
            times.push(rt.block_on(download(&server, port, &trust, n))?);
        }
        let cpu = cpu_time(me).unwrap_or_default().saturating_sub(cpu0);
        let gib = (n * rounds) as f64 / f64::from(1u32 << 30);
        let m = median(times);
        report.push((tls, mb_per_s(n, m), cpu.as_secs_f64() / gib));
        server.shutdown();
    }
    let _ = std::fs::remove_dir_all(&dir);
    for (tls, mbs, cpu) in &report {
        let what = if *tls { "terminated" } else { "opaque    " };
        println!("{what}  {mbs:8.1} MB/s  CPU {cpu:6.2} s/GiB (client, proxy and origin)");
    }
    let ratio = report[1].1 / report[0].1;
    println!("terminated/opaque throughput: {ratio:.2} (bar: 0.50)");
    Ok(())
}
