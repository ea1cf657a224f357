//! Unit tests of the emitter; the profile-level tests (snapshots, the SBPL reader, the
//! comparison with the npm srt's profiles) are in `snapshots/tests/all/macos.rs`.

use super::*;
use crate::{resolve, FakeFs, ResolveOptions};

fn ir(json: &str) -> Ir {
    let loaded = srt_schema::load_str("t.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/Users/dev/project".into(),
        home: "/Users/dev".into(),
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

#[test]
fn a_control_character_in_a_path_is_an_error_not_a_profile() {
    let ir = ir(r#"{"filesystem":{"denyRead":["/p/a\u001bb"]}}"#);
    let err = emit(&ir, &Options::for_ir(&ir)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"filesystem.denyRead[0] (t.json:1:28): "/p/a\u{1b}b" cannot be written into a Seatbelt profile: it contains the control character U+001B, which an SBPL string cannot hold reliably"#
    );
}

#[test]
fn quotes_in_names_cannot_end_the_string() {
    let ir = ir(r#"{"filesystem":{"denyRead":["/p/x\") (allow default) (\""]}}"#);
    let text = emit(&ir, &Options::for_ir(&ir)).unwrap();
    assert!(
        text.contains(r#"(subpath "/p/x\") (allow default) (\"")"#),
        "{text}"
    );
}

#[test]
fn log_tag_and_ports_are_the_callers() {
    let ir = ir(r#"{"network":{"allowedDomains":[]}}"#);
    let opts = Options {
        proxy: ProxyPorts {
            http: 4000,
            socks: 4001,
        },
        log_tag: "my-tag".into(),
        ..Options::for_ir(&ir)
    };
    let text = emit(&ir, &opts).unwrap();
    assert!(text.starts_with("(version 1)\n(deny default (with message \"my-tag\"))\n"));
    for port in [4000, 4001] {
        assert!(text.contains(&format!(
            "(allow network-outbound (remote ip \"localhost:{port}\"))"
        )));
    }
    assert!(emit(
        &ir,
        &Options {
            log_tag: "a\u{7}b".into(),
            ..opts
        }
    )
    .is_err());
}

#[test]
fn settings_ports_override_the_own_proxy() {
    let ir = ir(r#"{"network":{"allowedDomains":[],"httpProxyPort":8080}}"#);
    assert_eq!(
        ProxyPorts::for_ir(&ir, 3128),
        ProxyPorts {
            http: 8080,
            socks: 3128
        }
    );
}

#[test]
fn annotations_name_keys_and_builtins() {
    let ir = ir(r#"{"filesystem":{"denyRead":["~/.ssh"],"allowWrite":["."]},"allowPty":true}"#);
    let loaded = srt_schema::load_str(
        "t.json",
        None,
        r#"{"filesystem":{"denyRead":["~/.ssh"],"allowWrite":["."]},"allowPty":true}"#,
    );
    let opts = Options {
        annotate: true,
        key_spans: KeySpans::from_settings(&loaded.settings),
        ..Options::for_ir(&ir)
    };
    let text = emit(&ir, &opts).unwrap();
    for want in [
        "  ; filesystem.denyRead[0] (t.json:1:28) as \"~/.ssh\"\n  (subpath \"/Users/dev/.ssh\")",
        "  ; built-in default-write-path\n  (subpath \"/dev/stdout\")",
        "  ; built-in mandatory-deny: .bashrc under /Users/dev/project\n",
        "; Pseudo-terminal (pty) support: allowPty (t.json:1:69)\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn emitting_twice_gives_the_same_bytes() {
    let ir = ir(
        r#"{"filesystem":{"denyRead":["**/*.pem","~/.ssh"],"allowRead":["~/.ssh/k"],"allowWrite":[".","/tmp/x"],"denyWrite":["a/*.json"]}}"#,
    );
    let opts = Options::for_ir(&ir);
    assert_eq!(emit(&ir, &opts).unwrap(), emit(&ir, &opts).unwrap());
}

/// Each [`EmitError`] variant, raised by the emitter itself, carries a code of
/// [`ERROR_CODES`] (the match below stops a new variant from slipping past the list).
#[cfg(unix)]
#[test]
fn every_emit_error_carries_a_listed_code() {
    use miette::Diagnostic as _;
    use std::os::unix::ffi::OsStrExt;
    let position = |e: &EmitError| match e {
        EmitError::Unrepresentable { .. } => 0,
        EmitError::NotUtf8 { .. } => 1,
    };
    let control = ir(r#"{"filesystem":{"denyRead":["/p/a\u001bb"]}}"#);
    let mut not_utf8 = ir(r#"{"filesystem":{"denyRead":["/p/x"]}}"#);
    not_utf8.fs.deny_read[0].pattern =
        crate::path::PathPattern::Literal(std::ffi::OsStr::from_bytes(b"/p/\xff").into());
    for (i, ir) in [control, not_utf8].iter().enumerate() {
        let err = emit(ir, &Options::for_ir(ir)).unwrap_err();
        assert_eq!(position(&err), i, "{err}");
        assert_eq!(err.code().unwrap().to_string(), ERROR_CODES[i]);
    }
    assert_eq!(ERROR_CODES.len(), 2);
}

#[test]
fn masked_files_are_denied_and_the_ca_bundle_is_readable() {
    let masked = ir(
        r#"{"network":{"allowedDomains":["api.test"],"tlsTerminate":{}},
        "filesystem":{"denyRead":["/var/run"]},
        "credentials":{"files":[{"path":"~/.api-key","mode":"mask"}]}}"#,
    );
    let opts = Options {
        annotate: true,
        trust_files: vec!["/var/run/srt-secrets-1/ca-bundle.pem".into()],
        ..Options::for_ir(&masked)
    };
    let text = emit(&masked, &opts).unwrap();
    let deny = text
        .split("(deny file-read*")
        .nth(1)
        .and_then(|rest| rest.split("(with message").next())
        .unwrap();
    assert!(
        deny.contains("credentials.files[0]")
            && deny.contains(r#"(subpath "/Users/dev/.api-key")"#),
        "{text}"
    );
    // The bundle's allow comes after the denies it must beat (Seatbelt: the last match wins).
    let literal = text
        .find(r#"(literal "/var/run/srt-secrets-1/ca-bundle.pem")"#)
        .unwrap_or_else(|| panic!("{text}"));
    // The rule it is a filter of is a read allow.
    let before = &text[..literal];
    let header = ["(allow ", "(deny "]
        .iter()
        .filter_map(|h| before.rfind(h))
        .max()
        .unwrap();
    assert!(before[header..].starts_with("(allow file-read*"), "{text}");
    assert!(literal > text.find("(deny file-read*").unwrap());
    // Without the key nothing changes.
    let plain = ir(r#"{"filesystem":{"denyRead":[]}}"#);
    assert!(!emit(&plain, &Options::for_ir(&plain))
        .unwrap()
        .contains("(deny file-read*"));
}
