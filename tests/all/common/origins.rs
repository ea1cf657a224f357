//! Local origins for `srt learn`'s tests: one HTTP listener on 127.0.0.1 that srt's proxy
//! reaches as its parent proxy (`HTTP_PROXY` in srt's environment), answering plain-HTTP
//! requests for any name with the body the test gave for `host/path` (else `hello from
//! HOST`). Names need no DNS and no loopback entry in the policy: srt decides on the name,
//! then hands the request to this parent, as it would to a corporate proxy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub struct Origins {
    pub port: u16,
    /// Every request line received.
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Origins {
    /// `bodies`: `host/path` (no port) → body.
    pub fn start(bodies: &[(&str, &str)]) -> Origins {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Arc<HashMap<String, String>> = Arc::new(
            bodies
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (bodies, log) = (bodies.clone(), log.clone());
                std::thread::spawn(move || {
                    let mut conn = conn;
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let line = line.trim_end().to_string();
                    log.lock().unwrap().push(line.clone());
                    // `GET http://host[:port]/path HTTP/1.1`
                    let target = line.split_whitespace().nth(1).unwrap_or("");
                    let rest = target.strip_prefix("http://").unwrap_or(target);
                    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                    let host = authority.split(':').next().unwrap_or("");
                    let body = bodies
                        .get(&format!("{host}/{path}"))
                        .cloned()
                        .unwrap_or_else(|| format!("hello from {host}\n"));
                    let _ = conn.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                });
            }
        });
        Origins { port, seen }
    }

    pub fn lines(&self) -> String {
        self.seen.lock().unwrap().join("\n")
    }
}
