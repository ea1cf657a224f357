//! Shared pieces of the proxy tests: real proxies on real Unix sockets, real origin servers on
//! 127.0.0.1, and small raw clients.

// Most tests that use these run on Linux only.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

pub mod tree;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};
use srt_runtime::proxy::{
    Limits, Listen, ProxyOptions, ProxyServer, StaticResolver, Violation, ViolationOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixStream};

pub fn ir(json: &str) -> Arc<Ir> {
    let loaded = srt_schema::load_str(".srt.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/p".into(),
        home: "/h".into(),
        settings_path: None,
    };
    Arc::new(
        resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &FakeFs::new(),
        )
        .0,
    )
}

/// A settings file with these network lists.
pub fn policy(allowed: &[String], denied: &[&str]) -> Arc<Ir> {
    let json = serde_json::json!({
        "network": {
            "allowedDomains": allowed,
            "deniedDomains": denied,
            "deniedDomainReasons": {"reasoned.test": "that mirror is compromised"}
        },
        "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}
    });
    ir(&serde_json::to_string_pretty(&json).unwrap())
}

pub struct Proxies {
    pub server: ProxyServer,
    pub violations: Arc<Mutex<Vec<Violation>>>,
    _parent: tempfile::TempDir,
}

impl Proxies {
    pub fn start(ir: Arc<Ir>, resolver: StaticResolver, limits: Limits) -> Proxies {
        Self::start_with(ir, resolver, limits, true)
    }

    /// `zero_copy: false` keeps every tunnel on the user-space copy.
    pub fn start_with(
        ir: Arc<Ir>,
        resolver: StaticResolver,
        limits: Limits,
        zero_copy: bool,
    ) -> Proxies {
        let parent = tempfile::tempdir().unwrap();
        let violations = Arc::new(Mutex::new(Vec::new()));
        let seen = violations.clone();
        let opts = ProxyOptions {
            limits,
            violations: ViolationOptions {
                stderr: true,
                callback: Some(Arc::new(move |v: &Violation| {
                    seen.lock().unwrap().push(v.clone())
                })),
                ..ViolationOptions::default()
            },
            resolver: Arc::new(resolver),
            listen: Listen::UnixDir,
            socket_parent: Some(parent.path().to_path_buf()),
            worker_threads: 2,
            zero_copy,
            ..ProxyOptions::default()
        };
        let server = ProxyServer::start(ir, opts).unwrap();
        Proxies {
            server,
            violations,
            _parent: parent,
        }
    }

    /// The proxies on loopback TCP ports, with credentials.
    pub fn start_loopback(ir: Arc<Ir>, resolver: StaticResolver) -> Proxies {
        let parent = tempfile::tempdir().unwrap();
        let violations = Arc::new(Mutex::new(Vec::new()));
        let seen = violations.clone();
        let opts = ProxyOptions {
            violations: ViolationOptions {
                stderr: true,
                callback: Some(Arc::new(move |v: &Violation| {
                    seen.lock().unwrap().push(v.clone())
                })),
                ..ViolationOptions::default()
            },
            resolver: Arc::new(resolver),
            listen: Listen::Loopback,
            // Unused on loopback; a directory there would show it is not.
            socket_parent: Some(parent.path().to_path_buf()),
            ..ProxyOptions::default()
        };
        let server = ProxyServer::start(ir, opts).unwrap();
        Proxies {
            server,
            violations,
            _parent: parent,
        }
    }

    pub fn violation_lines(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap()
            .iter()
            .map(Violation::line)
            .collect()
    }

    pub async fn http(&self) -> UnixStream {
        UnixStream::connect(self.server.http_socket().unwrap())
            .await
            .unwrap()
    }

    pub async fn socks(&self) -> UnixStream {
        UnixStream::connect(self.server.socks_socket().unwrap())
            .await
            .unwrap()
    }
}

pub fn loopback() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// An HTTP origin on 127.0.0.1: answers every request with a body naming what it saw (request
/// line and headers, one per line), then closes.
pub async fn http_origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Some(head) = read_head(&mut s).await else {
                    return;
                };
                let body_len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; body_len];
                let _ = s.read_exact(&mut body).await;
                let mut text = format!("origin saw:\n{head}");
                if !body.is_empty() {
                    text.push_str(&format!("body: {}\n", String::from_utf8_lossy(&body)));
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\nKeep-Alive: timeout=5\r\n\r\n{text}",
                    text.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    addr
}

/// The byte at position `i` of the test pattern (a period no buffer size divides).
pub fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// A TCP origin that reads until EOF, then answers `got N bytes, M in pattern` and
/// `TAIL` pattern bytes, then closes: it only answers once the client has half-closed.
pub async fn drain_then_answer_origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut all = Vec::new();
                let _ = s.read_to_end(&mut all).await;
                let good = all
                    .iter()
                    .enumerate()
                    .take_while(|(i, b)| **b == pattern(*i))
                    .count();
                let _ = s
                    .write_all(format!("got {} bytes, {good} in pattern\n", all.len()).as_bytes())
                    .await;
                let tail: Vec<u8> = (0..TAIL).map(pattern).collect();
                let _ = s.write_all(&tail).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// What [`drain_then_answer_origin`] sends after its count line.
pub const TAIL: usize = 3_000_000;

/// Reads up to and including the blank line ending a head (at most 64 KiB).
pub async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 65_536 || s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&buf).replace("\r\n", "\n"))
}

/// Writes `request` and reads everything until the proxy closes (bounded in time).
pub async fn exchange(mut s: UnixStream, request: &[u8]) -> String {
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the proxy closed the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends a CONNECT and returns the response head (the stream stays open).
pub async fn connect(s: &mut UnixStream, target: &str) -> String {
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), read_head(s))
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Is `s` closed by the peer within `within`?
pub async fn closed_within(s: &mut UnixStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A TCP port on 127.0.0.1 relaying every connection to a Unix socket, as the in-sandbox
/// bridge does; for clients (curl) that speak to proxies over TCP.
pub async fn tcp_bridge(socket: &Path) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let socket = socket.to_path_buf();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Ok(mut unix) = UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    });
    addr
}

/// Opens TCP to a SOCKS5 proxy over Unix and negotiates; returns the reply code.
pub async fn socks_connect(
    s: &mut UnixStream,
    auth: Option<(&str, &str)>,
    addr_type: u8,
    addr: &[u8],
    port: u16,
) -> u8 {
    match auth {
        None => s.write_all(&[5, 1, 0]).await.unwrap(),
        Some(_) => s.write_all(&[5, 1, 2]).await.unwrap(),
    }
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).await.unwrap();
    if let Some((user, pass)) = auth {
        assert_eq!(choice, [5, 2]);
        let mut m = vec![1, user.len() as u8];
        m.extend_from_slice(user.as_bytes());
        m.push(pass.len() as u8);
        m.extend_from_slice(pass.as_bytes());
        s.write_all(&m).await.unwrap();
        let mut ok = [0u8; 2];
        s.read_exact(&mut ok).await.unwrap();
        assert_eq!(ok, [1, 0]);
    } else {
        assert_eq!(choice, [5, 0]);
    }
    let mut req = vec![5, 1, 0, addr_type];
    if addr_type == 3 {
        req.push(addr.len() as u8);
    }
    req.extend_from_slice(addr);
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await.unwrap();
    let mut reply = [0u8; 10];
    s.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[0], 5);
    reply[1]
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// What a curl run printed and how it ended.
pub struct Curl {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real curl (no proxy from the environment), with a timeout.
pub async fn curl(args: &[&str]) -> Curl {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("curl")
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

/// Set in the child [`in_own_process`] starts: the name of the one test it runs.
const OWN_PROCESS_ENV: &str = "SRT_TEST_OWN_PROCESS";

/// For tests that measure the whole process (its descriptor count, its resident memory),
/// which the other tests of this binary would disturb from their threads. Called first, with
/// `module_path!()` and the test's name: in the test run it runs this binary again for that
/// one test alone, asserts that it passed, and returns false (the caller returns); in that
/// child it returns true and the test does its work.
pub fn in_own_process(module: &str, test: &str) -> bool {
    let module = module.split_once("::").map_or(module, |(_, m)| m); // without the crate
    let name = format!("{module}::{test}");
    if std::env::var(OWN_PROCESS_ENV).is_ok_and(|v| v == name) {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(OWN_PROCESS_ENV, &name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name} in a process of its own:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}
