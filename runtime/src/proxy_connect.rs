//! `srt __proxy-connect HOST PORT`: an SSH `ProxyCommand` that tunnels through the sandbox's
//! HTTP proxy with `CONNECT`, so `git` over SSH obeys the same allowlist as everything else
//! (the npm srt uses socat for this; srt is its own helper).
//!
//! On Linux it reaches the in-sandbox bridge (`127.0.0.1:3128`, no credentials); on macOS the
//! proxy's loopback port, with the run's credentials taken from the environment
//! ([`srt_compiler::env::PROXY_AUTH_VAR`]), never from the command line, where other users
//! could read them.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

/// The longest proxy answer head accepted before the tunnel starts.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProxyConnectError {
    #[error("cannot reach the sandbox proxy at {proxy}: {source}")]
    Connect { proxy: String, source: io::Error },
    #[error("the proxy refused {target}: {status}")]
    Refused { target: String, status: String },
    #[error("the proxy's answer was not HTTP")]
    BadAnswer,
    #[error("tunnel I/O failed: {0}")]
    Io(#[from] io::Error),
}

/// `host:port` as a CONNECT target (IPv6 bracketed).
pub fn target(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `user:password` from [`srt_compiler::env::PROXY_AUTH_VAR`], when it is set.
pub fn auth_from_env() -> Option<(String, String)> {
    let value = std::env::var(srt_compiler::env::PROXY_AUTH_VAR).ok()?;
    let (user, password) = value.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The `CONNECT` request head, with `Proxy-Authorization` when there are credentials.
pub fn request_head(target: &str, auth: Option<(&str, &str)>) -> String {
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, password)) = auth {
        head.push_str(&format!(
            "Proxy-Authorization: {}\r\n",
            crate::proxy::auth::basic_authorization(user, password)
        ));
    }
    head.push_str("\r\n");
    head
}

/// Opens the tunnel and relays stdin/stdout through it until both sides close.
pub fn run(
    host: &str,
    port: u16,
    proxy: &str,
    auth: Option<(&str, &str)>,
) -> Result<(), ProxyConnectError> {
    let target = target(host, port);
    let mut stream = TcpStream::connect(proxy).map_err(|source| ProxyConnectError::Connect {
        proxy: proxy.to_string(),
        source,
    })?;
    stream.write_all(request_head(&target, auth).as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte so nothing after the head (the server's SSH banner) is consumed here.
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 || head.len() >= MAX_HEAD {
            return Err(ProxyConnectError::BadAnswer);
        }
        head.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if !version.starts_with("HTTP/1.") {
        return Err(ProxyConnectError::BadAnswer);
    }
    if code != "200" {
        return Err(ProxyConnectError::Refused {
            target,
            status: status_line
                .split_once(' ')
                .map(|x| x.1)
                .unwrap_or_default()
                .to_string(),
        });
    }
    let upstream = stream.try_clone()?;
    let sender = thread::spawn(move || {
        let _ = io::copy(&mut io::stdin().lock(), &mut &upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    io::copy(&mut stream, &mut io::stdout().lock())?;
    io::stdout().flush()?;
    drop(sender); // stdin may stay open after the server closes; do not wait for it
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_with_and_without_credentials() {
        assert_eq!(
            request_head("[::1]:22", None),
            "CONNECT [::1]:22 HTTP/1.1\r\nHost: [::1]:22\r\n\r\n"
        );
        assert_eq!(
            request_head("github.com:22", Some(("srt", "tok"))),
            "CONNECT github.com:22 HTTP/1.1\r\nHost: github.com:22\r\nProxy-Authorization: Basic c3J0OnRvaw==\r\n\r\n"
        );
    }
}
