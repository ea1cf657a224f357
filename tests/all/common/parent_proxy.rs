//! A small HTTP proxy on 127.0.0.1 standing in for a corporate parent proxy (or, on a Unix
//! socket, for an inspecting proxy). It records every request head it receives, checks
//! `Proxy-Authorization` when it is given credentials (407 otherwise), tunnels `CONNECT` to the
//! address its name table gives (200, then bytes both ways), and answers absolute-form
//! requests itself with `200` and a body naming what it saw.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request head as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Asked {
    pub line: String,
    pub proxy_authorization: Option<String>,
    #[allow(dead_code)] // no test reads it yet; it shows in assertion messages (Debug)
    pub headers: Vec<(String, String)>,
}

pub struct ParentProxy {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Asked>>>,
}

type Names = Arc<HashMap<String, String>>;

impl ParentProxy {
    /// `names`: host → address its CONNECTs go to (e.g. `origin.test` → `127.0.0.1`).
    /// `basic`: the `Proxy-Authorization` value required, if any.
    pub fn start(names: &[(&str, &str)], basic: Option<String>) -> ParentProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let names: Names = Arc::new(
            names
                .iter()
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .collect(),
        );
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (log, names, basic) = (log.clone(), names.clone(), basic.clone());
                std::thread::spawn(move || serve(conn, &log, &names, basic.as_deref()));
            }
        });
        ParentProxy { port, seen }
    }

    /// The same proxy on a Unix socket at `path` (an inspecting proxy for `mitmProxy`).
    pub fn start_unix(path: &std::path::Path, names: &[(&str, &str)]) -> ParentProxy {
        let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let names: Names = Arc::new(
            names
                .iter()
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .collect(),
        );
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (log, names) = (log.clone(), names.clone());
                std::thread::spawn(move || {
                    serve_stream(conn, &log, &names, None, |c| c.try_clone().unwrap())
                });
            }
        });
        ParentProxy { port: 0, seen }
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.seen.lock().unwrap().clone()
    }

    /// Every request line, joined (for `contains` checks).
    pub fn lines(&self) -> String {
        self.asked()
            .iter()
            .map(|a| a.line.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Serves one connection on any stream (TCP or Unix).
pub fn serve_stream<S: Read + Write + Send + 'static>(
    conn: S,
    log: &Mutex<Vec<Asked>>,
    names: &HashMap<String, String>,
    basic: Option<&str>,
    reconnect: impl Fn(&mut S) -> S,
) {
    let mut conn = conn;
    let mut reader = BufReader::new(reconnect(&mut conn));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let line = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let auth = headers
        .iter()
        .find(|(k, _)| k == "proxy-authorization")
        .map(|(_, v)| v.clone());
    log.lock().unwrap().push(Asked {
        line: line.clone(),
        proxy_authorization: auth.clone(),
        headers: headers.clone(),
    });
    if basic.is_some() && auth.as_deref() != basic {
        let _ = conn.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"parent\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method == "CONNECT" {
        let (host, port) = target.rsplit_once(':').unwrap();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = names.get(host).cloned().unwrap_or_else(|| host.to_string());
        let Ok(up) = TcpStream::connect((addr.as_str(), port.parse::<u16>().unwrap())) else {
            let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            return;
        };
        let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let mut up_w = up.try_clone().unwrap();
        // What the reader already buffered belongs to the tunnel.
        let buffered = reader.buffer().to_vec();
        let _ = up_w.write_all(&buffered);
        let mut up_r = up;
        let mut client_r = reader.into_inner();
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut client_r, &mut up_w);
            let _ = up_w.shutdown(std::net::Shutdown::Write);
        });
        let _ = std::io::copy(&mut up_r, &mut conn);
        let _ = t.join();
    } else {
        // Drain a declared body, then answer with what was asked.
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        let text = format!("parent saw {line}\n");
        let _ = conn.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )
            .as_bytes(),
        );
    }
}

fn serve(
    conn: TcpStream,
    log: &Mutex<Vec<Asked>>,
    names: &HashMap<String, String>,
    basic: Option<&str>,
) {
    serve_stream(conn, log, names, basic, |c| c.try_clone().unwrap());
}
