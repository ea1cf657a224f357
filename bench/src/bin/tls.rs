//! Throughput through a TLS-terminated tunnel against an opaque one, in one run: a TLS origin
//! on 127.0.0.1 streams `--bytes N` (default 1 GiB) to a client that reaches it through the
//! proxy's `CONNECT`, once opaquely (the client's TLS goes to the origin) and once terminated
//! (TLS to the proxy, which forwards over its own verified TLS). Prints MB/s for each, the
//! ratio, and the CPU time per GiB of the proxy alone and of everything (client, proxy and
//! origin: the difference between the modes is the termination's cost).
//!
//! The proxy runs in a child process (this binary with `--serve-proxy`), as in `srt run`; the
//! client and the origin run here. `--rounds N` (median, default 3); `--mode opaque` or
//! `--mode terminated` measures one mode only (for `perf record -p` on the proxy).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use srt_bench::{cpu_time, mb_per_s, median};
use srt_runtime::proxy::tls::TlsContext;
use srt_runtime::proxy::{ProxyOptions, ProxyServer, StaticResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const BAR: f64 = 0.50;
const CHUNK: usize = 1 << 16;

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number(args: &[String], name: &str, default: u64) -> Result<u64> {
    match flag(args, name) {
        Some(v) => Ok(v
            .parse()
            .map_err(|_| format!("{name}: not a number: {v}"))?),
        None => Ok(default),
    }
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--serve-proxy") {
        serve_proxy(&args[1..])
    } else {
        run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tls bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child: `--serve-proxy PORT DIR opaque|terminated`. Allows the origin, terminates TLS
/// when asked (trusting the origin's CA in `DIR/ca.pem` upstream and writing the run CA to
/// `DIR/run-ca.pem`), prints the socket's path and serves until stdin closes.
fn serve_proxy(args: &[String]) -> Result<()> {
    let [port, dir, mode] = args else {
        return Err("usage: --serve-proxy PORT DIR opaque|terminated".into());
    };
    let dir = PathBuf::from(dir);
    let terminated = mode == "terminated";
    let tls = if terminated {
        format!(
            r#","tlsTerminate":{{"extraCaCertPaths":["{}"]}}"#,
            dir.join("ca.pem").display()
        )
    } else {
        String::new()
    };
    let json = format!(
        r#"{{"network":{{"allowedDomains":["origin.bench","127.0.0.1:{port}"],"deniedDomains":[]{tls}}},
            "filesystem":{{"denyRead":[],"allowWrite":[],"denyWrite":[]}}}}"#
    );
    let loaded = srt_schema::load_str("bench.json", None, &json);
    if loaded.has_errors() {
        return Err(format!("bad bench policy: {:?}", loaded.diagnostics).into());
    }
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
    if let Some(c) = &ctx {
        std::fs::write(dir.join("run-ca.pem"), &c.ca.ca_pem)?;
    }
    let server = ProxyServer::start(
        Arc::new(ir),
        ProxyOptions {
            resolver: Arc::new(StaticResolver::new().with("origin.bench", &["127.0.0.1".parse()?])),
            socket_parent: Some(dir.clone()),
            tls: ctx,
            ..ProxyOptions::default()
        },
    )?;
    let socket = server.http_socket().ok_or("the proxy has no Unix socket")?;
    println!("{}", socket.display());
    std::io::stdout().flush()?;
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    server.shutdown();
    Ok(())
}

struct ProxyChild(Child);

impl Drop for ProxyChild {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

fn start_proxy(port: u16, dir: &Path, mode: &str) -> Result<(ProxyChild, PathBuf)> {
    let mut child = ProxyChild(
        Command::new(std::env::current_exe()?)
            .arg("--serve-proxy")
            .arg(port.to_string())
            .arg(dir)
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().ok_or("no stdout from the proxy")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let socket = PathBuf::from(line.trim());
    if !socket.exists() {
        return Err(format!("the proxy did not start ({line:?})").into());
    }
    Ok((child, socket))
}

/// The origin: each connection gets `n` bytes after its request head.
async fn origin(n: u64, dir: &Path) -> Result<(u16, Vec<u8>)> {
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
                let chunk = vec![0x5a; CHUNK];
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

/// One download through the proxy; TLS verified against `trust`. Checks the byte count.
async fn download(socket: &Path, port: u16, trust: &[u8], n: u64) -> Result<Duration> {
    let t0 = Instant::now();
    let mut s = tokio::net::UnixStream::connect(socket).await?;
    let target = format!("origin.bench:{port}");
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(format!("CONNECT refused: {}", String::from_utf8_lossy(&head)).into());
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
    let mut buf = vec![0u8; CHUNK];
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
    match body_from {
        Some(h) if got >= h + n => Ok(t0.elapsed()),
        _ => Err(format!("short download: {got} bytes").into()),
    }
}

struct Measured {
    mode: &'static str,
    mb_s: f64,
    proxy_s_per_gib: f64,
    all_s_per_gib: f64,
}

fn run(args: &[String]) -> Result<()> {
    let n = number(args, "--bytes", 1 << 30)?;
    let rounds = number(args, "--rounds", 3)?.max(1);
    let modes: &[&'static str] = match flag(args, "--mode") {
        None => &["opaque", "terminated"],
        Some("opaque") => &["opaque"],
        Some("terminated") => &["terminated"],
        Some(other) => return Err(format!("--mode opaque|terminated, not {other}").into()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("srt-tls-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&rt, &dir, n, rounds, modes);
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    println!(
        "srt tls bench: {} MiB per download, median of {rounds} rounds",
        n >> 20
    );
    for m in &report {
        println!(
            "  {:<10}  {:7.1} MB/s  proxy CPU {:5.2} s/GiB  all CPU (client, proxy, origin) {:5.2} s/GiB",
            m.mode, m.mb_s, m.proxy_s_per_gib, m.all_s_per_gib
        );
    }
    if let [opaque, terminated] = report.as_slice() {
        let ratio = terminated.mb_s / opaque.mb_s;
        println!(
            "  terminated/opaque throughput: {ratio:.2} (bar: {BAR:.2}: {})",
            if ratio >= BAR { "met" } else { "NOT met" }
        );
    }
    Ok(())
}

fn measure(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    n: u64,
    rounds: u64,
    modes: &[&'static str],
) -> Result<Vec<Measured>> {
    let (port, origin_ca) = rt.block_on(origin(n, dir))?;
    let me = std::process::id();
    let gib = (n * rounds) as f64 / f64::from(1u32 << 30);
    let mut report = Vec::new();
    for &mode in modes {
        let (child, socket) = start_proxy(port, dir, mode)?;
        let trust = if mode == "terminated" {
            std::fs::read(dir.join("run-ca.pem"))?
        } else {
            origin_ca.clone()
        };
        let pid = child.0.id();
        let (proxy0, me0) = (cpu_time(pid), cpu_time(me));
        let mut times = Vec::new();
        for _ in 0..rounds {
            times.push(rt.block_on(download(&socket, port, &trust, n))?);
        }
        let proxy = cpu_time(pid).zip(proxy0).map(|(b, a)| b.saturating_sub(a));
        let here = cpu_time(me).zip(me0).map(|(b, a)| b.saturating_sub(a));
        let proxy = proxy.ok_or("cannot read the proxy's CPU time")?;
        let here = here.ok_or("cannot read this process's CPU time")?;
        report.push(Measured {
            mode,
            mb_s: mb_per_s(n, median(times)),
            proxy_s_per_gib: proxy.as_secs_f64() / gib,
            all_s_per_gib: (proxy + here).as_secs_f64() / gib,
        });
    }
    Ok(report)
}
