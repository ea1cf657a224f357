//! Chaining to the user's own proxies in `srt run`: `network.parentProxy` (and its
//! `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` fallback). Real bubblewrap, real clients inside, a
//! real HTTPS origin and a small parent proxy on the host's loopback that records what it is
//! asked. srt's proxy decides first: the parent only ever sees allowed destinations.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;
use crate::common::parent_proxy;
use crate::common::tls_origin;

use base64::Engine;
use common::{ok, text, Sandbox};
use parent_proxy::ParentProxy;
use tls_origin::Origin;

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// srt with the test's names pinned and no proxy variables inherited from the test's own
/// environment.
fn srt_run(
    sb: &Sandbox,
    env: &[(&str, &str)],
    args: &[&str],
    script: &str,
) -> std::process::Output {
    let mut c = sb.srt();
    for k in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["run", "-s", ".srt.json"]);
    for pin in [
        "origin.test=127.0.0.1",
        "direct.test=127.0.0.1",
        "plain.test=127.0.0.1",
        "meta.test=169.254.169.254",
    ] {
        c.args(["--resolve", pin]);
    }
    c.args(args).args(["-c", script]).output().unwrap()
}

/// The parent sees only allowed destinations, with its credentials; denied hosts and names
/// the resolved-address guard refuses never reach it; `noProxy` hosts go direct; plain HTTP
/// reaches it in absolute form; SOCKS tunnels go through it too; its password is nowhere in
/// the sandbox or in srt's output.
#[test]
fn parent_proxy_sees_only_allowed_destinations() {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test", "direct.test"]);
    let auth = basic("corp user", "p@ss:word");
    let parent = ParentProxy::start(&[("origin.test", "127.0.0.1")], Some(auth.clone()));
    let (op, pp) = (origin.port, parent.port);
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["origin.test","direct.test","plain.test","meta.test","127.0.0.1"],"deniedDomains":[],
   "parentProxy":{{"http":"http://corp%20user:p%40ss%3Aword@127.0.0.1:{pp}","noProxy":"localhost, .direct.test"}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
    ));
    let ca = origin.ca_pem.display();
    let code = "-o /dev/null -w '%{http_code}\\n'";
    let connect_code = "-o /dev/null -w '%{http_connect}\\n'";
    let script = format!(
        "curl -sS --cacert {ca} https://origin.test:{op}/tunnel; \
         curl -sS http://plain.test/plain; \
         echo denied=$(curl -sS {connect_code} https://denied.test:{op}/ 2>/dev/null); \
         echo meta=$(curl -sS {code} http://meta.test/latest 2>/dev/null); \
         curl -sS --cacert {ca} https://direct.test:{op}/direct; \
         curl -sS --cacert {ca} --socks5-hostname localhost:1080 https://origin.test:{op}/socks; \
         echo secrets=$(env | grep -c -e 'p@ss' -e 'p%40ss' -e {pp})"
    );
    let out = srt_run(&sb, &[], &["-d"], &script);
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains("parent saw GET http://plain.test/plain HTTP/1.1"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("denied=403"), "{stdout}");
    assert!(stdout.contains("meta=403"), "{stdout}");
    assert!(stdout.contains("secrets=0"), "{stdout}");

    let asked = parent.asked();
    let lines = parent.lines();
    assert_eq!(asked.len(), 3, "{lines}");
    assert_eq!(
        lines
            .matches(&format!("CONNECT origin.test:{op} HTTP/1.1"))
            .count(),
        2,
        "{lines}"
    );
    assert!(
        lines.contains("GET http://plain.test/plain HTTP/1.1"),
        "{lines}"
    );
    for a in &asked {
        assert_eq!(
            a.proxy_authorization.as_deref(),
            Some(auth.as_str()),
            "{a:?}"
        );
    }
    for never in ["denied.test", "meta.test", "direct.test", "169.254"] {
        assert!(
            !lines.contains(never),
            "{never} reached the parent:\n{lines}"
        );
    }
    let seen: Vec<String> = origin.requests().iter().map(|s| s.line.clone()).collect();
    for path in ["/tunnel", "/direct", "/socks"] {
        assert!(seen.iter().any(|l| l.contains(path)), "{path}: {seen:?}");
    }
    for leak in ["p@ss:word", "p%40ss"] {
        assert!(!stderr.contains(leak) && !stdout.contains(leak), "{stderr}");
    }
    assert!(
        stderr.contains("parent proxy (from network.parentProxy)"),
        "{stderr}"
    );
}

/// Without `parentProxy`, `HTTPS_PROXY` in srt's environment is the parent (the npm srt's
/// rule), and TLS-terminated tunnels reach the origin through it too: the origin gets the
/// masked credential's real value, the parent only the CONNECT.
#[test]
fn environment_parent_carries_terminated_tunnels() {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test"]);
    let parent = ParentProxy::start(&[("origin.test", "127.0.0.1")], None);
    let (op, pp) = (origin.port, parent.port);
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["origin.test","127.0.0.1"],"deniedDomains":[],
   "tlsTerminate":{{"extraCaCertPaths":["{ca}"]}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{"envVars":[{{"name":"TOKEN","mode":"mask","injectHosts":["origin.test"]}}]}}}}"#,
        ca = origin.ca_pem.display()
    ));
    const TOKEN: &str = "ghp_R3alS3cretTok3nV4lue0123456789ABCDEF";
    let parent_url = format!("http://127.0.0.1:{pp}");
    let out = srt_run(
        &sb,
        &[("HTTPS_PROXY", &parent_url), ("TOKEN", TOKEN)],
        &[],
        &format!(
            "curl -sS -H \"Authorization: Bearer $TOKEN\" https://origin.test:{op}/terminated"
        ),
    );
    ok(&out);
    assert_eq!(
        parent.lines(),
        format!("CONNECT origin.test:{op} HTTP/1.1"),
        "the parent carries the upstream leg"
    );
    let seen = origin.requests();
    let got = seen
        .iter()
        .find(|s| s.line.contains("/terminated"))
        .unwrap();
    assert_eq!(
        got.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert!(!parent
        .asked()
        .iter()
        .any(|a| format!("{a:?}").contains(TOKEN)));
}

/// `srt compile` shows the parent in force, its credentials redacted.
#[test]
fn compile_shows_the_parent_redacted() {
    let sb = Sandbox::new();
    sb.settings(
        r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[],
   "parentProxy":{"https":"http://u:secretpw@proxy.corp:3128","noProxy":"10.0.0.0/8"}},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":[],"denyWrite":[]}}"#,
    );
    let out = sb
        .srt()
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .args(["compile", "--target", "linux", "-s", ".srt.json"])
        .output()
        .unwrap();
    let stdout = ok(&out);
    assert!(
        stdout.contains("parent proxy (from network.parentProxy): http -> direct, https and tunnels -> http://***:***@proxy.corp:3128; direct: loopback, 10.0.0.0/8"),
        "{stdout}"
    );
    assert!(!stdout.contains("secretpw"));
}

/// `httpProxyPort`: the user's own proxy on this host gets the sandbox's HTTP proxy traffic as
/// it is and decides (nothing is allowed here, yet it gets through); the SOCKS side stays
/// srt's and refuses. With the proxy down, the run refuses to start and the command never runs.
#[test]
fn external_http_proxy_decides_its_traffic() {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test"]);
    let theirs = ParentProxy::start(&[("origin.test", "127.0.0.1")], None);
    let (op, tp) = (origin.port, theirs.port);
    let settings = |port: u16| {
        format!(
            r#"{{"network":{{"allowedDomains":[],"deniedDomains":[],"httpProxyPort":{port}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#
        )
    };
    sb.settings(&settings(tp));
    let script = format!(
        "curl -sS http://anything.test/plain -H 'Proxy-Authorization: Basic dTpw'; \
         curl -sS --cacert {ca} https://origin.test:{op}/through-theirs; \
         echo socks=$(curl -sS -o /dev/null -w '%{{http_code}}' --socks5-hostname localhost:1080 http://anything.test/ 2>/dev/null)",
        ca = origin.ca_pem.display()
    );
    let out = srt_run(&sb, &[], &[], &script);
    let stdout = ok(&out);
    assert!(
        stdout.contains("parent saw GET http://anything.test/plain HTTP/1.1"),
        "{stdout}"
    );
    assert!(stdout.contains("socks=000"), "{stdout}");
    let asked = theirs.asked();
    // Byte for byte: the client's own Proxy-Authorization reaches the user's proxy.
    assert_eq!(asked[0].proxy_authorization.as_deref(), Some("Basic dTpw"));
    assert_eq!(asked[1].line, format!("CONNECT origin.test:{op} HTTP/1.1"));
    assert!(origin
        .requests()
        .iter()
        .any(|s| s.line.contains("/through-theirs")));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("blocked SOCKS5 anything.test:80"),
        "{stderr}"
    );

    // Fail closed: nothing listens, nothing runs.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    sb.settings(&settings(port));
    let out = srt_run(&sb, &[], &[], "touch ran");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "network.httpProxyPort is {port}, but nothing accepts"
        )),
        "{stderr}"
    );
    assert!(!sb.project().join("ran").exists());
}

/// `mitmProxy`: srt decides, then the listed domains (any spelling of them) go through the
/// inspecting proxy's Unix socket: CONNECT for tunnels (HTTP and SOCKS), absolute form for
/// plain HTTP. Other allowed hosts go direct; refused ones reach nothing. A socket nobody
/// listens on stops the run.
#[test]
fn mitm_proxy_gets_only_its_allowed_domains() {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test", "direct.test"]);
    let socket = sb.root.path().join("mitm.sock");
    let mitm = ParentProxy::start_unix(&socket, &[("origin.test", "127.0.0.1")]);
    let op = origin.port;
    let settings = |path: &std::path::Path| {
        format!(
            r#"{{"network":{{"allowedDomains":["origin.test","direct.test","127.0.0.1"],"deniedDomains":["blocked.origin.test"],
   "mitmProxy":{{"socketPath":"{}","domains":["origin.test","*.origin.test"]}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#,
            path.display()
        )
    };
    sb.settings(&settings(&socket));
    let ca = origin.ca_pem.display();
    let script = format!(
        "curl -sS --cacert {ca} https://origin.test:{op}/via-mitm; \
         curl -sS http://Origin.Test./plain; \
         curl -sS --cacert {ca} --socks5-hostname localhost:1080 https://origin.test:{op}/socks-via-mitm; \
         curl -sS --cacert {ca} https://direct.test:{op}/direct; \
         echo blocked=$(curl -sS -o /dev/null -w '%{{http_connect}}' https://blocked.origin.test:{op}/ 2>/dev/null)"
    );
    let out = srt_run(&sb, &[], &[], &script);
    let stdout = ok(&out);
    assert!(
        stdout.contains("parent saw GET http://origin.test/plain HTTP/1.1"),
        "{stdout}"
    );
    assert!(stdout.contains("blocked=403"), "{stdout}");
    let lines = mitm.lines();
    assert_eq!(
        lines,
        format!("CONNECT origin.test:{op} HTTP/1.1\nGET http://origin.test/plain HTTP/1.1\nCONNECT origin.test:{op} HTTP/1.1"),
    );
    let seen: Vec<String> = origin.requests().iter().map(|s| s.line.clone()).collect();
    for path in ["/via-mitm", "/socks-via-mitm", "/direct"] {
        assert!(seen.iter().any(|l| l.contains(path)), "{path}: {seen:?}");
    }

    // Nobody listening: the run refuses, the command never runs.
    sb.settings(&settings(&sb.root.path().join("nobody.sock")));
    let out = srt_run(&sb, &[], &[], "touch ran");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("accepts connections there"),
        "{}",
        text(&out.stderr)
    );
    assert!(!sb.project().join("ran").exists());
}
