//! `srt __proxy-connect`: the SSH ProxyCommand speaks CONNECT and relays stdin/stdout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};

/// A one-connection fake proxy: answers `status` to the CONNECT, then echoes upper-cased data.
fn fake_proxy(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut request = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            request.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut conn = conn;
        conn.write_all(format!("HTTP/1.1 {status}\r\n\r\n").as_bytes())
            .unwrap();
        if status.starts_with("200") {
            conn.write_all(b"SSH-2.0-fake\r\n").unwrap();
            let mut data = Vec::new();
            reader.read_to_end(&mut data).unwrap();
            conn.write_all(&data.to_ascii_uppercase()).unwrap();
        }
        request
    });
    (addr, handle)
}

#[test]
fn tunnels_stdin_and_stdout_through_connect() {
    let (addr, server) = fake_proxy("200 Connection Established");
    let mut child = Command::new(env!("CARGO_BIN_EXE_srt"))
        .args(["__proxy-connect", "github.com", "22", "--proxy", &addr])
        .env_remove("SRT_PROXY_AUTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"client hello\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "SSH-2.0-fake\r\nCLIENT HELLO\n"
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("CONNECT github.com:22 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        !request.to_ascii_lowercase().contains("proxy-authorization"),
        "{request}"
    );
}

#[test]
fn credentials_come_from_the_environment() {
    let (addr, server) = fake_proxy("200 Connection Established");
    let out = Command::new(env!("CARGO_BIN_EXE_srt"))
        .args(["__proxy-connect", "github.com", "22", "--proxy", &addr])
        .env("SRT_PROXY_AUTH", "srt:0123456789abcdef")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let request = server.join().unwrap();
    // base64("srt:0123456789abcdef")
    assert!(
        request.contains("\r\nProxy-Authorization: Basic c3J0OjAxMjM0NTY3ODlhYmNkZWY=\r\n"),
        "{request}"
    );
}

#[test]
fn a_refusal_is_an_error_with_the_reason() {
    let (addr, _server) = fake_proxy("403 host is not on the allow list");
    let out = Command::new(env!("CARGO_BIN_EXE_srt"))
        .args(["__proxy-connect", "::1", "22", "--proxy", &addr])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("refused [::1]:22: 403 host is not on the allow list"),
        "{err}"
    );
}
