//! `network.tlsTerminate` and `credentials` in `srt run`: real bubblewrap, real proxies, real
//! clients (curl, Python, Node, git) inside, and a real HTTPS origin on the host's loopback
//! with its own test CA (passed as `extraCaCertPaths`). The origin records what it receives.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;
use crate::common::tls_origin;

use common::{ok, text, Sandbox};
use tls_origin::Origin;

/// A GitHub-shaped token and a file secret, long enough to keep their shape when masked.
pub(crate) const TOKEN: &str = "ghp_R3alS3cretTok3nV4lue0123456789ABCDEF";
pub(crate) const FILE_SECRET: &str = "sk-ant-api03-REALfileSECRETvalue0123456789abcdefXYZ";
const DENIED: &str = "denied-credential-value-0123456789";

fn policy(origin: &Origin, extra: &str) -> String {
    format!(
        r#"{{"network":{{"allowedDomains":["origin.test","other.test","127.0.0.1:{port}"],"deniedDomains":[],
   "tlsTerminate":{{"extraCaCertPaths":["{ca}"]{extra}}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{
   "envVars":[{{"name":"TOKEN","mode":"mask","injectHosts":["origin.test"]}},
              {{"name":"DENIED_TOKEN","mode":"deny"}}],
   "files":[{{"path":"~/.api-key","mode":"mask","injectHosts":["origin.test"]}}]}}}}"#,
        port = origin.port,
        ca = origin.ca_pem.display(),
    )
}

pub(crate) fn srt_run(sb: &Sandbox, extra_args: &[&str], script: &str) -> std::process::Output {
    let mut c = sb.srt();
    c.env("TOKEN", TOKEN).env("DENIED_TOKEN", DENIED).args([
        "run",
        "-s",
        ".srt.json",
        "--resolve",
        "origin.test=127.0.0.1",
        "--resolve",
        "other.test=127.0.0.1",
    ]);
    c.args(extra_args).args(["-c", script]).output().unwrap()
}

pub(crate) fn setup() -> (Sandbox, Origin) {
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test", "other.test"]);
    std::fs::write(sb.home().join(".api-key"), format!("{FILE_SECRET}\n")).unwrap();
    sb.settings(&policy(&origin, ""));
    (sb, origin)
}

/// Inside: only sentinels (same length and prefix), the denied variable absent. Outside: the
/// inject host gets the real values in a header and in the body, not in the URL; another
/// allowed host gets the sentinels. No srt output, log or violation record holds a real value.
#[test]
fn masked_credentials_reach_only_their_inject_hosts() {
    let (sb, origin) = setup();
    let violations = sb.root.path().join("violations.jsonl");
    let p = origin.port;
    let script = format!(
        "echo \"env=$TOKEN\"; echo \"file=$(cat ~/.api-key)\"; echo \"denied=${{DENIED_TOKEN-absent}}\"; \
         curl -sS -H \"Authorization: Bearer $TOKEN\" -H \"X-Key: $(cat ~/.api-key)\" \
              --data \"token=$TOKEN&key=$(cat ~/.api-key)\" \"https://origin.test:{p}/p/$TOKEN?q=$TOKEN\"; \
         curl -sS -H \"Authorization: Bearer $TOKEN\" --data \"token=$TOKEN\" https://other.test:{p}/other; \
         curl -sS -o /dev/null -w '%{{http_code}}\\n' https://denied.test:{p}/ 2>&1; true"
    );
    let out = srt_run(
        &sb,
        &["-d", "--violations", violations.to_str().unwrap()],
        &script,
    );
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    let line = |k: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_default()
            .to_string()
    };
    let (env, file) = (line("env="), line("file="));
    assert_eq!(env.len(), TOKEN.len(), "{stdout}");
    assert!(env.starts_with("ghp_") && env != TOKEN, "{env}");
    assert_eq!(file.len(), FILE_SECRET.len(), "{stdout}");
    assert!(
        file.starts_with("sk-ant-api03-") && file != FILE_SECRET,
        "{file}"
    );
    assert_eq!(line("denied="), "absent");

    let seen = origin.requests();
    let to = |path: &str| {
        seen.iter()
            .find(|s| s.line.contains(path))
            .cloned()
            .unwrap()
    };
    let inject = to("/p/");
    assert_eq!(
        inject.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(inject.header("x-key"), Some(FILE_SECRET));
    assert_eq!(
        String::from_utf8_lossy(&inject.body),
        format!("token={TOKEN}&key={FILE_SECRET}")
    );
    // The request target is not rewritten (as in the npm srt).
    assert!(
        inject.line.contains(&format!("/p/{env}?q={env}")),
        "{}",
        inject.line
    );
    assert_eq!(inject.sni.as_deref(), Some("origin.test"));
    let other = to("/other");
    assert_eq!(
        other.header("authorization"),
        Some(&*format!("Bearer {env}"))
    );
    assert_eq!(String::from_utf8_lossy(&other.body), format!("token={env}"));

    // No real value in anything srt wrote: stdout, stderr (with -d), the violations file.
    let record = std::fs::read_to_string(&violations).unwrap_or_default();
    assert!(record.contains("denied.test"), "{record}");
    for secret in [TOKEN, FILE_SECRET, DENIED] {
        for (what, s) in [
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("violations", &record),
        ] {
            assert!(!s.contains(secret), "{what} holds a secret:\n{s}");
        }
    }
    // The other host never saw a real value either.
    assert!(!other.all().contains(TOKEN) && !other.all().contains(FILE_SECRET));
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

/// The usual clients trust the run CA with no flag: curl, Python's urllib and requests, git,
/// and Node (through a CONNECT it opens itself: Node 20's fetch reads no proxy variable).
#[test]
fn clients_trust_the_run_ca_without_flags() {
    let (sb, origin) = setup();
    let p = origin.port;
    let node = format!(
        r#"const http=require('http'),tls=require('tls');
const r=http.request({{host:'127.0.0.1',port:3128,method:'CONNECT',path:'origin.test:{p}'}});
r.on('connect',(res,sock)=>{{const t=tls.connect({{socket:sock,servername:'origin.test'}},()=>{{
t.write('GET /node HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Bearer '+process.env.TOKEN+'\r\nConnection: close\r\n\r\n');}});
let d='';t.on('data',c=>d+=c);t.on('end',()=>console.log('node:'+d.split('\r\n')[0]));
t.on('error',e=>console.log('node error: '+e.message));}});r.end();"#
    );
    std::fs::write(sb.project().join("n.js"), node).unwrap();
    let script = format!(
        "curl -sS https://origin.test:{p}/curl; \
         python3 -c \"import urllib.request,os; r=urllib.request.Request('https://origin.test:{p}/urllib', headers={{'Authorization':'Bearer '+os.environ['TOKEN']}}); print('urllib:', urllib.request.urlopen(r).status)\"; \
         python3 -c \"import requests,os; print('requests:', requests.get('https://origin.test:{p}/requests', headers={{'Authorization':'Bearer '+os.environ['TOKEN']}}).status_code)\"; \
         git -c http.extraHeader=\"Authorization: Bearer $TOKEN\" ls-remote https://origin.test:{p}/repo.git && echo git: ok; \
         node n.js"
    );
    let out = srt_run(&sb, &[], &script);
    let stdout = ok(&out);
    for want in [
        "ok ",
        "urllib: 200",
        "requests: 200",
        "git: ok",
        "node:HTTP/1.1 200 OK",
    ] {
        assert!(
            stdout.contains(want),
            "missing {want:?} in\n{stdout}\n{}",
            text(&out.stderr)
        );
    }
    let seen = origin.requests();
    for path in ["/urllib", "/requests", "/repo.git/info/refs", "/node"] {
        let s = seen.iter().find(|s| s.line.contains(path)).unwrap();
        assert_eq!(
            s.header("authorization"),
            Some(&*format!("Bearer {TOKEN}")),
            "{path}"
        );
    }
}

/// `extract` masks only the captured span of a variable (a connection string stays a
/// connection string); `decode: "jwt"` with `maskClaims` re-encodes a file's token with the
/// claim masked. Both are substituted back at the inject host, whole token and claim alike.
#[test]
fn extract_and_jwt_masks_keep_the_shape_and_substitute_back() {
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(r#"{"iss":"issuer.test","secret":"claim-secret-0123456789abcdef"}"#)
    );
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test"]);
    std::fs::write(
        sb.home().join("token.json"),
        format!("{{\"token\": \"{jwt}\"}}\n"),
    )
    .unwrap();
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["origin.test","127.0.0.1:{port}"],"deniedDomains":[],
   "tlsTerminate":{{"extraCaCertPaths":["{ca}"]}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{
   "envVars":[{{"name":"DATABASE_URL","mode":"mask","extract":"://[^:]+:([^@]+)@"}}],
   "files":[{{"path":"~/token.json","mode":"mask","decode":"jwt","maskClaims":["secret"]}}]}}}}"#,
        port = origin.port,
        ca = origin.ca_pem.display(),
    ));
    let url = "postgres://app:db-password-0123456789XYZ@db.internal:5432/app";
    let p = origin.port;
    let out = sb
        .srt()
        .env("DATABASE_URL", url)
        .args(["run", "-s", ".srt.json", "--resolve", "origin.test=127.0.0.1", "-c"])
        .arg(format!(
            "echo \"url=$DATABASE_URL\"; T=$(sed -E 's/.*\"(ey[^\"]+)\".*/\\1/' ~/token.json); echo \"jwt=$T\"; \
             curl -sS -H \"Authorization: Bearer $T\" -H \"X-Db: $DATABASE_URL\" https://origin.test:{p}/t"
        ))
        .output()
        .unwrap();
    let stdout = ok(&out);
    let masked_url = stdout.lines().find_map(|l| l.strip_prefix("url=")).unwrap();
    assert!(
        masked_url.starts_with("postgres://app:") && masked_url.ends_with("@db.internal:5432/app")
    );
    assert!(!masked_url.contains("db-password"), "{masked_url}");
    let fake = stdout.lines().find_map(|l| l.strip_prefix("jwt=")).unwrap();
    assert_ne!(fake, jwt);
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(fake.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["iss"], "issuer.test");
    assert_ne!(payload["secret"], "claim-secret-0123456789abcdef");
    let seen = origin.requests();
    let r = seen.iter().find(|s| s.line.contains("/t")).unwrap();
    assert_eq!(r.header("authorization"), Some(&*format!("Bearer {jwt}")));
    assert_eq!(r.header("x-db"), Some(url));
    assert!(!text(&out.stderr).contains("db-password"));
}

/// Masking without TLS termination (and without allowPlaintextInject) is refused before
/// anything runs, as the npm srt refuses the file.
#[test]
fn masking_without_tls_termination_is_refused() {
    let sb = Sandbox::new();
    sb.settings(
        r#"{"network":{"allowedDomains":["origin.test"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]},
 "credentials":{"envVars":[{"name":"TOKEN","mode":"mask"}]}}"#,
    );
    let out = srt_run(&sb, &[], "echo ran");
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stdout).contains("ran"));
    assert!(
        text(&out.stderr).contains("mask-without-tls"),
        "{}",
        text(&out.stderr)
    );
}

/// With `caCertPath`/`caKeyPath` the leaves are signed by that CA: a client that trusts only it
/// reaches the origin through the proxy.
#[test]
fn a_user_ca_signs_the_leaves() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let sb = Sandbox::new();
    let origin = Origin::start(sb.root.path(), &["origin.test"]);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let (ca, ca_key) = (
        sb.root.path().join("my-ca.pem"),
        sb.root.path().join("my-ca.key"),
    );
    std::fs::write(&ca, cert.pem()).unwrap();
    std::fs::write(&ca_key, key.serialize_pem()).unwrap();
    sb.settings(&format!(
        r#"{{"network":{{"allowedDomains":["origin.test","127.0.0.1:{port}"],"deniedDomains":[],
   "tlsTerminate":{{"caCertPath":"{ca}","caKeyPath":"{key}","extraCaCertPaths":["{oca}"]}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}}}"#,
        port = origin.port,
        ca = ca.display(),
        key = ca_key.display(),
        oca = origin.ca_pem.display(),
    ));
    let out = srt_run(
        &sb,
        &[],
        &format!(
            "curl -sS --cacert {} https://origin.test:{}/mine",
            ca.display(),
            origin.port
        ),
    );
    assert!(ok(&out).starts_with("ok "), "{}", text(&out.stderr));
    // A key that is not the certificate's is refused at start, and nothing runs.
    std::fs::write(&ca_key, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let out = srt_run(&sb, &[], "touch ran");
    assert_eq!(out.status.code(), Some(1));
    assert!(!sb.project().join("ran").exists());
    assert!(
        text(&out.stderr).contains("does not verify against this CA"),
        "{}",
        text(&out.stderr)
    );
}

/// `onExtractNoMatch`: `deny` withholds a variable `extract` finds nothing in, `error` refuses
/// the run, and `warn` (the default) leaves it as it is with a warning naming the entry.
#[test]
fn on_extract_no_match_withholds_refuses_or_warns() {
    let sb = Sandbox::new();
    let settings = |mode: &str| {
        format!(
            r#"{{"network":{{"allowedDomains":["origin.test"],"deniedDomains":[],"tlsTerminate":{{}}}},
 "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}},
 "credentials":{{"envVars":[{{"name":"TOKEN","mode":"mask","extract":"password=(\\w+)"{mode}}}]}}}}"#
        )
    };
    sb.settings(&settings(r#","onExtractNoMatch":"deny""#));
    let out = srt_run(&sb, &[], "echo \"token=${TOKEN-absent}\"");
    assert!(ok(&out).contains("token=absent"));
    sb.settings(&settings(r#","onExtractNoMatch":"error""#));
    let out = srt_run(&sb, &[], "touch ran");
    assert_eq!(out.status.code(), Some(1));
    assert!(!sb.project().join("ran").exists());
    assert!(
        text(&out.stderr).contains("extract matched nothing"),
        "{}",
        text(&out.stderr)
    );
    sb.settings(&settings(""));
    let out = srt_run(&sb, &[], "echo \"token=$TOKEN\"");
    assert!(ok(&out).contains(&format!("token={TOKEN}")));
    assert!(
        text(&out.stderr).contains("UNPROTECTED"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains(TOKEN));
}

/// The JVM reads none of the PEM variables: srt writes the bundle's certificates as a PKCS#12
/// trust store and names it in `JAVA_TOOL_OPTIONS`, so a real `java` fetches from the HTTPS
/// origin through the terminating proxy with no flag (before, it failed with `PKIX path
/// building failed`).
#[test]
fn java_trusts_the_run_ca_without_flags() {
    let (sb, origin) = setup();
    let p = origin.port;
    std::fs::write(
        sb.project().join("Fetch.java"),
        "public class Fetch { public static void main(String[] a) throws Exception {\n\
         var c = (javax.net.ssl.HttpsURLConnection) new java.net.URL(a[0]).openConnection();\n\
         System.out.println(\"status=\" + c.getResponseCode()); } }\n",
    )
    .unwrap();
    let out = srt_run(
        &sb,
        &[],
        &format!(
            "java Fetch.java https://origin.test:{p}/java 2>&1 | grep -E 'status=|PKIX' || true"
        ),
    );
    assert_eq!(ok(&out).trim(), "status=200");
    assert!(origin.requests().iter().any(|s| s.line.contains("/java")));
}
