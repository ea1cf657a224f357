//! Table tests for the host side of the decision procedure, hostile spellings included.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};

fn ir(json: &str) -> Ir {
    let loaded = srt_schema::load_str("t.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/p".into(),
        home: "/h".into(),
        settings_path: None,
    };
    resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &FakeFs::new(),
    )
    .0
}

const POLICY: &str = r#"{
  "network": {
    "allowedDomains": ["example.com", "*.npmjs.org", "api.github.com:443", "127.0.0.1:3000",
                       "[::1]:8080", "localhost:5432", "*.*.weird.com", "10.1.2.3"],
    "deniedDomains": ["bad.npmjs.org", "*:22", "evil.example.com"],
    "deniedDomainReasons": {"bad.npmjs.org": "known bad mirror"}
  },
  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}
}"#;

#[test]
fn host_table() {
    let ir = ir(POLICY);
    // (host, port, allowed, reason phrase)
    let table: &[(&str, u16, bool, &str)] = &[
        ("example.com", 443, true, "allowed"),
        ("example.com", 80, true, "allowed"),
        ("EXAMPLE.COM", 443, true, "allowed"),
        ("Example.COM.", 80, true, "allowed"),
        ("example.com..", 80, false, "malformed host"),
        (
            "www.example.com",
            443,
            false,
            "host is not on the allow list",
        ),
        (
            "evil-example.com",
            443,
            false,
            "host is not on the allow list",
        ),
        (
            "example.com.evil.net",
            443,
            false,
            "host is not on the allow list",
        ),
        ("xexample.com", 443, false, "host is not on the allow list"),
        ("registry.npmjs.org", 443, true, "allowed"),
        ("a.b.npmjs.org", 443, true, "allowed"),
        ("npmjs.org", 443, false, "host is not on the allow list"),
        (".npmjs.org", 443, false, "malformed host"),
        ("bad.npmjs.org", 443, false, "known bad mirror"),
        ("BAD.npmjs.org.", 443, false, "known bad mirror"),
        ("evil.example.com", 443, false, "host is on the deny list"),
        ("api.github.com", 443, true, "allowed"),
        ("api.github.com", 80, false, "host is not on the allow list"),
        ("github.com", 443, false, "host is not on the allow list"),
        ("example.com", 22, false, "host is on the deny list"),
        ("registry.npmjs.org", 22, false, "host is on the deny list"),
        ("127.0.0.1", 3000, true, "allowed"),
        ("127.0.0.1", 3001, false, "host is not on the allow list"),
        ("127.1", 3000, true, "allowed"),
        ("2130706433", 3000, true, "allowed"),
        ("0x7f.0.0.1", 3000, true, "allowed"),
        ("0177.0.0.1", 3000, true, "allowed"),
        ("0x7f000001", 3000, true, "allowed"),
        ("[::ffff:127.0.0.1]", 3000, true, "allowed"),
        ("::ffff:7f00:1", 3000, true, "allowed"),
        ("[::1]", 8080, true, "allowed"),
        ("::1", 8080, true, "allowed"),
        ("[0:0:0:0:0:0:0:1]", 8080, true, "allowed"),
        ("[::1]", 8081, false, "host is not on the allow list"),
        ("localhost", 5432, true, "allowed"),
        ("LOCALHOST.", 5432, true, "allowed"),
        ("localhost", 5433, false, "host is not on the allow list"),
        ("10.1.2.3", 1234, true, "allowed"),
        ("10.1.515", 1234, true, "allowed"),
        ("10.1.2.4", 1234, false, "host is not on the allow list"),
        ("a.weird.com", 443, false, "host is not on the allow list"),
        // hostile spellings
        ("example.com\0", 443, false, "malformed host"),
        ("exa\0mple.com", 443, false, "malformed host"),
        ("example.com\r\nHost: evil", 443, false, "malformed host"),
        ("example .com", 443, false, "malformed host"),
        ("example.com%2f", 443, false, "malformed host"),
        ("[fe80::1%25eth0]", 443, false, "malformed host"),
        ("user@example.com", 443, false, "malformed host"),
        ("example.com/x", 443, false, "malformed host"),
        ("example.com:443", 443, false, "malformed host"),
        ("", 443, false, "malformed host"),
        (".", 443, false, "malformed host"),
        ("ex\u{e4}mple.com", 443, false, "malformed host"),
        ("1.2.3.999", 443, false, "malformed host"),
        ("example.123", 443, false, "malformed host"),
        ("1.2.3.4.5", 443, false, "malformed host"),
        ("[::1", 8080, false, "malformed host"),
        ("[not-v6]", 8080, false, "malformed host"),
        ("*.npmjs.org", 443, false, "malformed host"),
        ("*", 443, false, "malformed host"),
    ];
    let long = format!("{}.com", "a".repeat(300));
    let label = format!("{}.example.com", "b".repeat(64));
    let mut failures = Vec::new();
    for (host, port, allowed, phrase) in table.iter().copied().chain([
        (long.as_str(), 443, false, "malformed host"),
        (label.as_str(), 443, false, "malformed host"),
    ]) {
        let d = ir.decide_host(host, port);
        if d.allowed != allowed || d.reason.phrase() != phrase {
            failures.push(format!(
                "{host:?}:{port} → allowed={} reason={:?}",
                d.allowed, d.reason
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(table.len() >= 60, "{} cases", table.len());
}

#[test]
fn deny_wins_over_allow_and_rule_is_reported() {
    let ir = ir(POLICY);
    let d = ir.decide_host("bad.npmjs.org", 443);
    assert_eq!(d.rule.map(|r| r.raw.as_str()), Some("bad.npmjs.org"));
    let d = ir.decide_host("x.npmjs.org", 443);
    assert_eq!(d.rule.map(|r| r.raw.as_str()), Some("*.npmjs.org"));
    let loc = ir.describe(&d.rule.unwrap().origin);
    assert_eq!(loc, "network.allowedDomains[1] (t.json:3:39)");
}

#[test]
fn deny_all_star_denies_everything() {
    let ir = ir(r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":["*"]}}"#);
    assert!(!ir.decide_host("example.com", 443).allowed);
    let ir2 = ir_plain(r#"{"network":{"allowedDomains":[]}}"#);
    assert!(!ir2.decide_host("example.com", 443).allowed);
}

fn ir_plain(json: &str) -> Ir {
    ir(json)
}
