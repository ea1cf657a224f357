//! The in-sandbox bridge reaches srt's proxies and nothing else (issue 10, item 4): a command
//! that renames the directory above the proxy sockets and plants a symlink to another host Unix
//! socket in its place must still be relayed to srt's proxy, never to the planted socket.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{ok, text, Sandbox};

/// An HTTP origin on 127.0.0.1 answering `hello from origin`.
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

/// A host Unix socket that is not srt's: it answers `EVIL-MARKER` and counts its connections.
fn foreign_socket(path: &Path) -> Arc<AtomicUsize> {
    let listener = UnixListener::bind(path).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nEVIL-MARKER");
        }
    });
    hits
}

/// Renames `run/` (the socket dir's parent, when srt put it there) away, recreates the socket
/// dir's name with `http.sock` and `socks.sock` as symlinks to the foreign socket, then asks
/// 127.0.0.1:3128 for the allowed origin.
fn exploit(evil: &Path, port: u16) -> String {
    format!(
        r#"d=$(cd run 2>/dev/null && ls -d srt-* 2>/dev/null | head -1)
if [ -n "$d" ]; then
  mv run run-moved && mkdir -p "run/$d" && ln -s {evil} "run/$d/http.sock" && ln -s {evil} "run/$d/socks.sock" && echo planted
else
  echo no-socket-dir-under-a-write-root
fi
python3 - <<'EOF'
import socket
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(b"GET http://allowed.test:{port}/ HTTP/1.1\r\nHost: allowed.test:{port}\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
body = data.decode(errors="replace")
print("reached:", body.split("\r\n\r\n", 1)[-1])
EOF
"#,
        evil = evil.display()
    )
}

/// `allowed.test` (pinned to 127.0.0.1) and the origin's IP literal, which the resolved-address
/// guard wants before it lets a name reach loopback.
fn policy(port: u16) -> String {
    format!(
        r#"{{"network":{{"allowedDomains":["allowed.test", "127.0.0.1:{port}"],"deniedDomains":[]}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
    )
}

fn run(sb: &Sandbox, script: &str, envs: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = sb.srt();
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.args([
        "run",
        "-s",
        ".srt.json",
        "--resolve",
        "allowed.test=127.0.0.1",
        "-c",
        script,
    ])
    .output()
    .unwrap()
}

/// `XDG_RUNTIME_DIR` lies in the project (a write root) with a plain directory in between: srt
/// puts its socket directory elsewhere, so the command finds nothing to rename.
#[test]
fn the_socket_dir_is_not_placed_under_a_write_root() {
    let sb = Sandbox::new();
    let port = origin();
    sb.settings(&policy(port));
    let runtime_dir = sb.project().join("run");
    std::fs::create_dir(&runtime_dir).unwrap();
    let evil = sb.root.path().join("evil.sock");
    let hits = foreign_socket(&evil);
    let out = run(
        &sb,
        &exploit(&evil, port),
        &[("XDG_RUNTIME_DIR", &runtime_dir)],
    );
    let stdout = ok(&out);
    assert_eq!(
        stdout,
        "no-socket-dir-under-a-write-root\nreached: hello from origin\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the foreign socket was reached"
    );
    assert_eq!(std::fs::read_dir(&runtime_dir).unwrap().count(), 0);
}

/// Every place srt could put the socket directory is writable by the command (`XDG_RUNTIME_DIR`
/// and `TMPDIR` both in the project): the init still reaches the very sockets srt bound, which
/// it opened and checked before the command started.
#[test]
fn the_init_reaches_the_sockets_it_checked_even_after_the_command_replaces_their_path() {
    let sb = Sandbox::new();
    let port = origin();
    sb.settings(&policy(port));
    let runtime_dir = sb.project().join("run");
    let tmp = sb.project().join("tmp");
    std::fs::create_dir(&runtime_dir).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    let evil = sb.root.path().join("evil.sock");
    let hits = foreign_socket(&evil);
    let out = run(
        &sb,
        &exploit(&evil, port),
        &[("XDG_RUNTIME_DIR", &runtime_dir), ("TMPDIR", &tmp)],
    );
    let stdout = ok(&out);
    assert_eq!(
        stdout,
        "planted\nreached: hello from origin\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the foreign socket was reached"
    );
    // srt removed its own directory wherever the command moved it, and left the planted one.
    let moved: Vec<_> = std::fs::read_dir(sb.project().join("run-moved"))
        .unwrap()
        .collect();
    assert!(moved.is_empty(), "{moved:?}");
}
