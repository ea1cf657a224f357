//! `srt run` enforces the network policy: real proxies, the in-sandbox bridge, a real origin
//! server on the host's loopback, real clients inside real bubblewrap.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::{ok, text, Sandbox};

/// A tiny HTTP origin on 127.0.0.1 answering `hello from origin` to every request.
fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\nhello from origin");
            });
        }
    });
    port
}

fn policy(port: u16, literal: bool) -> String {
    let literal = if literal {
        format!(", \"127.0.0.1:{port}\"")
    } else {
        String::new()
    };
    format!(
        r#"{{"network":{{"allowedDomains":["allowed.test"{literal}],"deniedDomains":["denied.test"]}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
    )
}

/// `srt run --resolve allowed.test=127.0.0.1 --resolve denied.test=127.0.0.1 -c SCRIPT`.
fn run(sb: &Sandbox, script: &str) -> std::process::Output {
    sb.srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--resolve",
            "allowed.test=127.0.0.1",
            "--resolve",
            "denied.test=127.0.0.1",
            "-c",
            script,
        ])
        .output()
        .unwrap()
}

#[test]
fn http_clients_reach_an_allowed_origin_and_get_403_for_a_denied_one() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&policy(port, true));
    let out = run(
        &sb,
        &format!(
            "curl -s http://allowed.test:{port}/; echo; \
             curl -s -p http://allowed.test:{port}/; echo; \
             curl -s -o /dev/null -w '%{{http_code}}\\n' http://denied.test:{port}/; \
             curl -s -o /dev/null -w '%{{http_code}}\\n' http://other.test:{port}/; \
             curl -s -p -o /dev/null -w '%{{http_connect}}\\n' http://denied.test:{port}/ 2>/dev/null; \
             curl -s -o /dev/null -w '%{{http_code}}\\n' --noproxy '*' http://127.0.0.1:{port}/; true"
        ),
    );
    let stdout = ok(&out);
    assert_eq!(
        stdout, "hello from origin\nhello from origin\n403\n403\n403\n000\n",
        "the last line is a direct connection: the sandbox has no network but the proxies"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "srt: blocked GET denied.test:{port} — on network.deniedDomains[0] (.srt.json:1:"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "srt: blocked GET other.test:{port} — not in network.allowedDomains"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("srt: blocked CONNECT denied.test:{port}")),
        "{stderr}"
    );
}

#[test]
fn socks5_clients_are_decided_the_same_way() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&policy(port, true));
    let out = run(
        &sb,
        &format!(
            "curl -s --noproxy '' --socks5-hostname 127.0.0.1:1080 http://allowed.test:{port}/; echo; \
             curl -s --noproxy '' --socks5-hostname 127.0.0.1:1080 http://denied.test:{port}/; echo \"exit $?\"; \
             curl -s --noproxy '' --proxy \"$ALL_PROXY\" http://allowed.test:{port}/; echo"
        ),
    );
    assert_eq!(ok(&out), "hello from origin\nexit 97\nhello from origin\n");
    assert!(
        text(&out.stderr).contains(&format!("srt: blocked SOCKS5 denied.test:{port}")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_name_resolving_to_loopback_is_refused_without_its_ip_literal_entry() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&policy(port, false));
    let out = run(
        &sb,
        &format!("curl -s -o /dev/null -w '%{{http_code}}\\n' http://allowed.test:{port}/"),
    );
    assert_eq!(ok(&out), "403\n");
    assert!(
        text(&out.stderr).contains("resolved to"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn hostile_proxy_requests_are_refused_cleanly() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&policy(port, true));
    let script = format!(
        r#"import socket
for req in [b"CONNECT allowed.test:{port}\r\nHost: evil:1 HTTP/1.1\r\n\r\n",
            b"CONNECT allowed.test\x00.evil.com:{port} HTTP/1.1\r\n\r\n",
            b"CONNECT user@allowed.test:{port} HTTP/1.1\r\n\r\n",
            b"CONNECT allowed.test:{port}:80 HTTP/1.1\r\n\r\n",
            b"CONNECT denied.test:{port} HTTP/1.1\r\n\r\n",
            b"GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: denied.test\r\n\r\n",
            b"CONNECT allowed.test:{port} HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n"]:
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(req)
    print(s.recv(200).split(b"\r\n")[0].decode())
    s.close()
"#
    );
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--resolve",
            "allowed.test=127.0.0.1",
            "--",
            "python3",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    let stdout = ok(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    for (line, req) in lines.iter().zip([
        "CRLF in target",
        "NUL",
        "userinfo",
        "extra port",
        "denied",
        "host mismatch",
        "giant header",
    ]) {
        assert!(
            line.starts_with("HTTP/1.1 4"),
            "{req}: expected a 4xx refusal, got {line:?}\nstderr: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn violations_are_written_as_json_lines() {
    let port = origin();
    let sb = Sandbox::new();
    sb.settings(&policy(port, true));
    let log = sb.root.path().join("violations.jsonl");
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "--violations"])
        .arg(&log)
        .args(["-c", &format!("curl -s -o /dev/null http://denied.test:{port}/; curl -s -o /dev/null http://nope.test/")])
        .output()
        .unwrap();
    ok(&out);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0]["host"], "denied.test");
    assert_eq!(lines[1]["host"], "nope.test");
}

#[test]
fn git_over_ssh_goes_through_the_proxy() {
    let sb = Sandbox::new();
    sb.settings(&policy(1, true));
    // ssh runs srt __proxy-connect as its ProxyCommand; the destination is refused by policy.
    let out = run(&sb, "echo $GIT_SSH_COMMAND; sh -c \"$GIT_SSH_COMMAND -o BatchMode=yes git@github.com true\" 2>&1 | tail -1; true");
    let stdout = ok(&out);
    assert!(stdout.contains("__proxy-connect %h %p"), "{stdout}");
    assert!(
        text(&out.stderr).contains("srt: blocked CONNECT github.com:22"),
        "{}{}",
        stdout,
        text(&out.stderr)
    );
}

/// srt installed under a directory whose name has a space: git's ssh still runs srt as its
/// ProxyCommand (the path is quoted for ssh), so the connection reaches the proxy.
#[test]
fn git_over_ssh_works_with_srt_under_a_path_with_a_space() {
    let sb = Sandbox::new();
    sb.settings(&policy(1, true));
    let dir = sb.root.path().join("my srt");
    std::fs::create_dir(&dir).unwrap();
    let srt = dir.join("srt");
    std::fs::copy(env!("CARGO_BIN_EXE_srt"), &srt).unwrap();
    let out = std::process::Command::new(&srt)
        .current_dir(sb.project())
        .env("HOME", sb.home())
        .env("XDG_STATE_HOME", sb.state())
        .env("XDG_RUNTIME_DIR", sb.root.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .args([
            "run",
            "-s",
            ".srt.json",
            "-c",
            "echo \"$GIT_SSH_COMMAND\"; sh -c \"$GIT_SSH_COMMAND -o BatchMode=yes git@github.com true\" 2>&1 | tail -1; true",
        ])
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(
        stdout.contains(r"my\ srt/srt __proxy-connect %h %p"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("srt: blocked CONNECT github.com:22"),
        "ssh did not reach the proxy:\n{stdout}{}",
        text(&out.stderr)
    );
}
