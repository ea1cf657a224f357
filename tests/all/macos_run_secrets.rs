//! `credentials` and `network.tlsTerminate` in the macOS run (`srt_runtime::run` with
//! `MacosSandbox`), on Linux against a stand-in for `sandbox-exec` that saves the profile and
//! the environment, then runs the command **without any sandbox** (as `tests/macos_run.rs`).
//! The proxies are real and shared with Linux: a real `curl` reaches a real HTTPS origin
//! (its own test CA in `extraCaCertPaths`) through the terminating proxy, trusting the run CA
//! through the variables only. What the stand-in cannot show — that Seatbelt denies the masked
//! file — is checked in the profile srt hands over.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common::tls_origin;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use srt_compiler::{resolve, RealFs, ResolveOptions};
use srt_runtime::proxy::ViolationOptions;
use srt_runtime::run::macos::MacosSandbox;
use srt_runtime::run::RunRequest;
use tls_origin::Origin;

const TOKEN: &str = "ghp_R3alS3cretTok3nV4lue0123456789ABCDEF";
const FILE_SECRET: &str = "sk-ant-api03-REALfileSECRETvalue0123456789abcdefXYZ";
const DENIED: &str = "denied-credential-value-0123456789";

/// Saves profile and environment under `dir`, then runs the command unsandboxed.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("sandbox-exec");
    let out = dir.display();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n\
             [ \"$1\" = -p ] || exit 90\n\
             printf '%s' \"$2\" > '{out}/profile.sb'\n\
             shift 2\n\
             env > '{out}/env'\n\
             exec \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The run reads its credentials from this process's environment: the names are this test's
/// own, so no other test sees or sets them.
#[test]
fn credentials_and_tls_termination_through_the_macos_run() {
    std::env::set_var("SRT_MACOS_TEST_TOKEN", TOKEN);
    std::env::set_var("SRT_MACOS_TEST_DENIED", DENIED);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(dir.join("project")).unwrap();
    let key_file = home.join(".api-key");
    std::fs::write(&key_file, format!("{FILE_SECRET}\n")).unwrap();
    let origin = Origin::start(dir, &["origin.test", "other.test"]);
    let port = origin.port;
    let json = format!(
        r#"{{"network":{{"allowedDomains":["origin.test","other.test","127.0.0.1:{port}"],"deniedDomains":[],
   "tlsTerminate":{{"extraCaCertPaths":["{ca}"]}}}},
 "filesystem":{{"denyRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{
   "envVars":[{{"name":"SRT_MACOS_TEST_TOKEN","mode":"mask","injectHosts":["origin.test"]}},
              {{"name":"SRT_MACOS_TEST_DENIED","mode":"deny"}}],
   "files":[{{"path":"~/.api-key","mode":"mask","injectHosts":["origin.test"]}}]}}}}"#,
        ca = origin.ca_pem.display(),
    );
    let loaded = srt_schema::load_str(".srt.json", None, &json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: dir.join("project"),
        home: home.clone(),
        settings_path: None,
    };
    let ir = resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &RealFs,
    )
    .0;
    let violations = dir.join("violations.jsonl");
    let script = format!(
        r#"cd '{d}'
echo "env=$SRT_MACOS_TEST_TOKEN" > seen
echo "denied=${{SRT_MACOS_TEST_DENIED-absent}}" >> seen
cp "$SSL_CERT_FILE" bundle-copy.pem
curl -sS --max-time 20 -H "Authorization: Bearer $SRT_MACOS_TEST_TOKEN" https://origin.test:{port}/inject > inject.out 2>&1
curl -sS --max-time 20 -H "Authorization: Bearer $SRT_MACOS_TEST_TOKEN" https://other.test:{port}/other > other.out 2>&1
exit 0"#,
        d = dir.display()
    );
    let req = RunRequest {
        ir: Arc::new(ir),
        command: vec!["/bin/sh".into(), "-c".into(), script.into()],
        srt_binary: PathBuf::from(env!("CARGO_BIN_EXE_srt")),
        state_dir: dir.join("state"),
        violations: ViolationOptions {
            jsonl: Some(violations.clone()),
            ..ViolationOptions::default()
        },
        resolve: vec![
            ("origin.test".into(), "127.0.0.1".parse().unwrap()),
            ("other.test".into(), "127.0.0.1".parse().unwrap()),
        ],
        debug: false,
        fs_violations: None,
        control: None,
        report_network: false,
    };
    let status = srt_runtime::run::run(req, &mut MacosSandbox::new(stand_in(dir))).unwrap();
    assert_eq!(status, 0);

    // The environment: every trust variable names one bundle, the masked variable holds a
    // sentinel of the token's shape, the denied one is absent.
    let env: BTreeMap<String, String> = read(dir, "env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let bundle = PathBuf::from(&env["SSL_CERT_FILE"]);
    for var in srt_compiler::backend::linux::CA_TRUST_VARS {
        assert_eq!(env.get(var), Some(&env["SSL_CERT_FILE"]), "{var}");
    }
    let seen = read(dir, "seen");
    let sentinel = seen
        .lines()
        .find_map(|l| l.strip_prefix("env="))
        .unwrap()
        .to_string();
    assert_eq!(sentinel.len(), TOKEN.len(), "{seen}");
    assert!(sentinel.starts_with("ghp_") && sentinel != TOKEN, "{seen}");
    assert!(seen.contains("denied=absent"), "{seen}");
    assert!(!env.contains_key("SRT_MACOS_TEST_DENIED"));
    // The bundle held the run CA while the command ran, and is gone after it.
    let copy = read(dir, "bundle-copy.pem");
    assert!(copy.contains("BEGIN CERTIFICATE"), "{copy}");
    assert!(!bundle.exists(), "{} outlived the run", bundle.display());

    // The profile: the masked file is denied (as the npm srt does on macOS), the bundle is
    // readable, and no secret is in it.
    let profile = read(dir, "profile.sb");
    let key_rule = format!("(subpath \"{}\")", key_file.display());
    let read_deny = profile
        .split("(deny file-read*")
        .nth(1)
        .and_then(|rest| rest.split("(with message").next())
        .unwrap_or_else(|| panic!("no read deny in:\n{profile}"));
    assert!(
        read_deny.contains(&key_rule),
        "{key_rule} not denied in:\n{profile}"
    );
    // The JVM's trust store sits beside the bundle; JAVA_TOOL_OPTIONS names it after the
    // proxy properties.
    let store = bundle.with_file_name("java-truststore.p12");
    let java = &env["JAVA_TOOL_OPTIONS"];
    assert!(java.contains("-Dhttps.proxyHost="), "{java}");
    assert!(
        java.ends_with(&format!(
            "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStoreType=PKCS12",
            store.display()
        )),
        "{java}"
    );
    let allow = profile
        .split("(allow file-read*\n")
        .find(|rule| rule.contains("ca-bundle.pem"))
        .and_then(|rule| rule.split("(with message").next())
        .unwrap_or_else(|| panic!("no allow for the trust files in:\n{profile}"));
    for f in [&bundle, &store] {
        let literal = format!("(literal \"{}\")", f.display());
        assert!(
            allow.contains(&literal),
            "{literal} not allowed in:\n{profile}"
        );
    }
    for secret in [TOKEN, FILE_SECRET, DENIED] {
        assert!(!profile.contains(secret));
        assert!(!read(dir, "env").contains(secret));
    }

    // Through the terminating proxy: curl trusted the run CA with no flag; the inject host got
    // the real token, the other allowed host the sentinel.
    assert!(
        read(dir, "inject.out").starts_with("ok"),
        "{}",
        read(dir, "inject.out")
    );
    assert!(
        read(dir, "other.out").starts_with("ok"),
        "{}",
        read(dir, "other.out")
    );
    let requests = origin.requests();
    let to = |path: &str| {
        requests
            .iter()
            .find(|s| s.line.contains(path))
            .cloned()
            .unwrap_or_else(|| panic!("no request to {path}: {requests:?}"))
    };
    assert_eq!(
        to("/inject").header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        to("/other").header("authorization"),
        Some(&*format!("Bearer {sentinel}"))
    );
    let record = std::fs::read_to_string(&violations).unwrap_or_default();
    for secret in [TOKEN, FILE_SECRET, DENIED] {
        assert!(!record.contains(secret), "{record}");
    }
}

/// Seatbelt's denial of a masked file (read from the unified log; a stand-in here) is reported
/// with the `credentials.files` entry that denied it, as the profile's rules decide it.
#[test]
fn a_masked_file_denial_is_reported_with_its_credentials_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(dir.join("project")).unwrap();
    std::fs::write(home.join(".api-key"), format!("{FILE_SECRET}\n")).unwrap();
    let json = r#"{"network":{"allowedDomains":[],"deniedDomains":[],"tlsTerminate":{}},
        "filesystem":{"denyRead":[],"allowWrite":["."],"denyWrite":[]},
        "credentials":{"files":[{"path":"~/.api-key","mode":"mask"}]}}"#;
    let loaded = srt_schema::load_str(".srt.json", None, json);
    let opts = ResolveOptions {
        cwd: dir.join("project"),
        home: home.clone(),
        settings_path: None,
    };
    let ir = resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &RealFs,
    )
    .0;
    let log = dir.join("log");
    std::fs::write(
        &log,
        format!(
            "#!/bin/sh\n\
             tag=$(printf '%s' \"$5\" | sed 's/.*\"\\(.*\\)\"/\\1/')\n\
             echo \"2026-01-01 10:00:00.000 E  kernel[0:1a2] Sandbox: cat(42) deny(1) file-read-data {}/.api-key $tag\"\n\
             sleep 5\n",
            home.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o755)).unwrap();
    let jsonl = dir.join("v.jsonl");
    let req = RunRequest {
        ir: Arc::new(ir),
        command: vec!["/bin/true".into()],
        srt_binary: PathBuf::from(env!("CARGO_BIN_EXE_srt")),
        state_dir: dir.join("state"),
        violations: ViolationOptions::default(),
        resolve: Vec::new(),
        debug: false,
        fs_violations: Some(srt_runtime::fsviolations::ReportOptions {
            stderr: false,
            jsonl: Some(jsonl.clone()),
            ignore: Vec::new(),
            reads: true,
        }),
        control: None,
        report_network: false,
    };
    let status =
        srt_runtime::run::run(req, &mut MacosSandbox::new(stand_in(dir)).with_log(log)).unwrap();
    assert_eq!(status, 0);
    let record = std::fs::read_to_string(&jsonl).unwrap_or_default();
    let denial = record
        .lines()
        .find(|l| l.contains("\"filesystem\""))
        .unwrap_or_else(|| panic!("no file denial reported: {record}"));
    assert!(denial.contains("credentials.files[0]"), "{denial}");
    assert!(!record.contains(FILE_SECRET));
}
