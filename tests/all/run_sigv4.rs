//! SigV4 re-signing in `srt run`: masked AWS credentials inside a real sandbox, real clients
//! signing with them (curl's `--aws-sigv4`, and a SigV4 client on Python's standard library),
//! a real HTTPS origin standing in for AWS, and a verifier written from the spec (Python, not
//! srt's signer) that checks what the origin received against the real secret.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;
use crate::common::tls_origin;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{ok, text, Sandbox};
use tls_origin::{Origin, Seen};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789abcdefABCDEF";

fn helper(name: &str) -> String {
    format!(
        "{}/tests/all/common/sigv4/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The spec's verdict on `seen`'s signature under `secret`.
fn verify(seen: &Seen, secret: &str) -> String {
    let hex: String = seen.body.iter().map(|b| format!("{b:02x}")).collect();
    let doc = serde_json::json!({
        "secret": secret,
        "request": {"line": seen.line, "headers": seen.headers, "body_hex": hex},
    });
    let mut child = Command::new("python3")
        .arg(helper("verify.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    text(&child.wait_with_output().unwrap().stdout)
        .trim()
        .to_string()
}

/// Requests signed with the masked key reach the origin signed with the real one (header
/// SigV4 with a literal body hash, with UNSIGNED-PAYLOAD, and curl's own signer); the shapes
/// that cannot be re-signed are refused or passed through as `credentials.sigv4` says; a
/// request signed with a key srt did not mask is left alone; no real value is in srt's output.
#[test]
fn masked_aws_requests_are_re_signed_with_the_real_key() {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["aws.test"]);
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["aws.test","127.0.0.1"],"deniedDomains":[],
   "tlsTerminate":{{"extraCaCertPaths":["{ca}"]}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{"envVars":[{{"name":"AWS_ACCESS_KEY_ID","mode":"mask"}},
                            {{"name":"AWS_SECRET_ACCESS_KEY","mode":"mask"}},
                            {{"name":"AWS_SESSION_TOKEN","mode":"mask"}}],
                 "sigv4":{{"presigned":"passthrough"}}}}}}"#,
        ca = origin.ca_pem.display()
    ));
    let base = format!("https://aws.test:{}", origin.port);
    let client = helper("client.py");
    let mut script = String::from("echo \"akid=$AWS_ACCESS_KEY_ID\"; ");
    for mode in [
        "s3put",
        "unsigned",
        "streaming",
        "presigned",
        "sigv4a",
        "foreign",
    ] {
        script.push_str(&format!("python3 {client} {mode} {base}; "));
    }
    script.push_str(&format!(
        "echo curl: $(curl -sS -o /dev/null -w '%{{http_code}}' --aws-sigv4 'aws:amz:us-east-1:execute-api' \
         --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" -H \"x-amz-security-token: $AWS_SESSION_TOKEN\" \
         -H 'content-type: application/json' --data '{{\"q\":1}}' '{base}/prod/items?b=2&a=1')"
    ));
    let out = sb
        .srt()
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .args([
            "run",
            "-d",
            "-s",
            ".srt.json",
            "--resolve",
            "aws.test=127.0.0.1",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    let akid_inside = stdout
        .lines()
        .find_map(|l| l.strip_prefix("akid="))
        .unwrap()
        .to_string();
    assert!(
        akid_inside.starts_with("AKIA") && akid_inside != AKID,
        "{akid_inside}"
    );
    for want in [
        "s3put: 200",
        "unsigned: 200",
        "streaming: 403",
        "presigned: 200",
        "sigv4a: 403",
        "foreign: 200",
        "curl: 200",
    ] {
        assert!(stdout.contains(want), "{want}:\n{stdout}\n{stderr}");
    }
    let seen = origin.requests();
    let at = |path: &str| {
        seen.iter()
            .find(|s| s.line.contains(path))
            .cloned()
            .unwrap_or_else(|| panic!("{path} never reached the origin: {seen:#?}"))
    };
    for path in ["/bucket/key%20one", "/bucket/big", "/prod/items"] {
        let s = at(path);
        assert_eq!(verify(&s, SECRET), "OK", "{path}: {s:#?}");
        assert_ne!(verify(&s, "not-the-secret"), "OK", "the verifier checks");
        let auth = s.header("authorization").unwrap();
        assert!(auth.contains(&format!("Credential={AKID}/")), "{auth}");
        assert_eq!(s.header("x-amz-security-token"), Some(TOKEN), "{path}");
    }
    // Streaming and SigV4A are refused before the origin; presigned passes through as sent.
    assert!(!seen
        .iter()
        .any(|s| s.line.contains("/bucket/chunked") || s.line.contains("/bucket/sigv4a")));
    let presigned = at("/bucket/presigned");
    assert!(
        presigned
            .line
            .contains(&format!("X-Amz-Credential={akid_inside}")),
        "{}",
        presigned.line
    );
    assert!(stderr.contains("cannot be re-signed"), "{stderr}");
    // A key srt did not mask: untouched, still valid under its own secret.
    let foreign = at("/foreign");
    assert_eq!(verify(&foreign, "foreign-secret-not-masked"), "OK");
    for secret in [SECRET, TOKEN] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a real value in srt's output"
        );
    }
}
