//! `srt explain` and `srt run` agree: for a table of paths and hosts, the decision `explain`
//! prints is what a real command observes inside the real sandbox.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::{ok, text, Sandbox};

fn origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = conn;
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

/// `srt explain` for one query, as JSON: the `allowed` of each decision.
fn explain(sb: &Sandbox, args: &[&str]) -> Vec<bool> {
    let out = sb
        .srt()
        .args(["explain", "-s", ".srt.json", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    doc["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["allowed"].as_bool().unwrap())
        .collect()
}

#[test]
fn explain_and_the_runtime_agree_on_paths() {
    let sb = Sandbox::new();
    let (home, project) = (sb.home(), sb.project());
    for (path, body) in [
        (home.join(".ssh/id_rsa"), "k"),
        (home.join(".ssh/known_hosts"), "h"),
        (home.join(".cargo/registry/index"), "i"),
        (home.join(".profile"), "p"),
        (project.join("src/main.rs"), "m"),
        (project.join(".env"), "e"),
        (project.join("keys/server.pem"), "s"),
        (project.join(".bashrc"), "b"),
        (project.join("out/gen/a.txt"), "a"),
        (project.join("Cargo.lock"), "l"),
    ] {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
    }
    sb.settings(
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh","**/*.pem"],"allowRead":["~/.ssh/known_hosts"],
  "allowWrite":["src","out/**","~/.cargo/registry"],"denyWrite":["*.lock",".env"]}}"#,
    );
    let probes: Vec<String> = [
        "~/.ssh/id_rsa",
        "~/.ssh/known_hosts",
        "~/.cargo/registry/index",
        "~/.cargo/registry/new-file",
        "~/.profile",
        "src/main.rs",
        "src/new.rs",
        ".env",
        "keys/server.pem",
        ".bashrc",
        "out/gen/a.txt",
        "out/new.txt",
        "Cargo.lock",
        "README.md",
        "/etc/hostname",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    // Reads are compared only for files that exist (nothing can read a missing file).
    let existed: Vec<bool> = probes
        .iter()
        .map(|p| {
            let expanded = p.replacen('~', &home.display().to_string(), 1);
            std::path::Path::new(&expanded).is_absolute()
                && std::path::Path::new(&expanded).exists()
                || project.join(p).exists()
        })
        .collect();
    // One sandboxed run probes every path: a real read, and a real append (or create).
    let mut script = String::new();
    for p in &probes {
        let p = p.replacen('~', "$HOME", 1);
        script.push_str(&format!(
            "if head -c1 \"{p}\" >/dev/null 2>&1; then r=1; else r=0; fi; \
             if [ -e \"{p}\" ]; then (printf x >> \"{p}\") 2>/dev/null && w=1 || w=0; else (: > \"{p}\") 2>/dev/null && w=1 || w=0; fi; \
             echo \"$r $w\"\n"
        ));
    }
    let out = sb.run(&script);
    let observed: Vec<(bool, bool)> = ok(&out)
        .lines()
        .map(|l| {
            let (r, w) = l.split_once(' ').unwrap();
            (r == "1", w == "1")
        })
        .collect();
    assert_eq!(observed.len(), probes.len(), "{}", text(&out.stderr));
    let mut disagreements = Vec::new();
    for ((p, (read, write)), existed) in probes.iter().zip(&observed).zip(&existed) {
        let decided = explain(&sb, &["--path", p]);
        if *existed && decided[0] != *read {
            disagreements.push(format!("read {p}: explain={} sandbox={read}", decided[0]));
        }
        if decided[1] != *write {
            disagreements.push(format!("write {p}: explain={} sandbox={write}", decided[1]));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The table exercises both outcomes of both accesses.
    assert!(observed.iter().any(|o| o.0) && observed.iter().any(|o| !o.0));
    assert!(observed.iter().any(|o| o.1) && observed.iter().any(|o| !o.1));
}

#[test]
fn explain_and_the_runtime_agree_on_hosts() {
    let (p1, p2) = (origin(), origin());
    let sb = Sandbox::new();
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["allowed.test:{p1}","*.wild.test","127.0.0.1:{p1}","127.0.0.1:{p2}"],
  "deniedDomains":["bad.wild.test"]}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
    ));
    let hosts = [
        format!("allowed.test:{p1}"),
        format!("allowed.test:{p2}"),
        format!("a.wild.test:{p2}"),
        format!("bad.wild.test:{p1}"),
        format!("wild.test:{p1}"),
        format!("other.test:{p1}"),
        format!("ALLOWED.TEST.:{p1}"),
    ];
    let mut script = String::new();
    for h in &hosts {
        script.push_str(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}\\n' http://{h}/\n"
        ));
    }
    let mut cmd = sb.srt();
    cmd.args(["run", "-s", ".srt.json"]);
    for name in [
        "allowed.test",
        "a.wild.test",
        "bad.wild.test",
        "wild.test",
        "other.test",
    ] {
        cmd.args(["--resolve", &format!("{name}=127.0.0.1")]);
    }
    let out = cmd.args(["-c", &script]).output().unwrap();
    let codes: Vec<String> = ok(&out).lines().map(str::to_string).collect();
    assert_eq!(codes.len(), hosts.len());
    let mut disagreements = Vec::new();
    for (h, code) in hosts.iter().zip(&codes) {
        let decided = explain(&sb, &["--host", h])[0];
        let reached = code == "200";
        if decided != reached || !(code == "200" || code == "403") {
            disagreements.push(format!("{h}: explain={decided} sandbox answered {code}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{disagreements:#?}\n{}",
        text(&out.stderr)
    );
    assert!(codes.iter().any(|c| c == "200") && codes.iter().any(|c| c == "403"));
}
