//! The plan's part for `credentials` and `network.tlsTerminate`: the run CA's trust bundle bound
//! read-only and named by the usual trust variables, masked credential files bound read-only
//! over the real ones, masked variables set to their sentinels, denied variables withheld.
//!
//! The values are the runtime's ([`SecretsOptions`]): sentinels and masked copies are made per
//! run. Without them (`srt compile`) the plan shows what a run does with placeholders.

use std::path::{Path, PathBuf};

use super::{path_word, BwrapArg, Step};
use crate::ir::Ir;
use crate::origin::Origin;
use crate::secrets::{CredentialMode, CredentialSource};
use crate::Access;

/// Variables HTTPS clients read a CA bundle from. Each replaces the tool's own trust store, so
/// the bundle holds the system roots as well as the run CA.
pub const CA_TRUST_VARS: [&str; 11] = [
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "PIP_CERT",
    "CARGO_HTTP_CAINFO",
    "DENO_CERT",
    "CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE",
    "NIX_SSL_CERT_FILE",
];

/// Shown by `srt compile` where a run has a per-run file or value.
pub const CA_BUNDLE_PLACEHOLDER: &str = "<per-run CA bundle>";
pub const SENTINEL_PLACEHOLDER: &str = "<per-run sentinel>";
pub const MASKED_COPY_PLACEHOLDER: &str = "<per-run masked copy>";
pub const JAVA_TRUST_STORE_PLACEHOLDER: &str = "<per-run-java-trust-store>";

/// `JAVA_TOOL_OPTIONS` words naming a PKCS#12 trust store (the JVM splits the variable on
/// whitespace, so a path holding any is not passed).
pub fn java_trust_options(store: &Path) -> Option<String> {
    let p = store.to_str()?;
    if p.chars().any(char::is_whitespace) {
        return None;
    }
    Some(format!(
        "-Djavax.net.ssl.trustStore={p} -Djavax.net.ssl.trustStoreType=PKCS12"
    ))
}

/// Adds `set` to an environment: a variable already there is replaced, except
/// `JAVA_TOOL_OPTIONS`, which is extended (it carries the proxy properties already).
pub fn apply_secrets_env(env: &mut Vec<(String, String)>, set: Vec<(String, String)>) {
    for (name, value) in set {
        match env.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) if name == "JAVA_TOOL_OPTIONS" => {
                *old = format!("{old} {value}").trim().to_string();
            }
            _ => {
                env.retain(|(n, _)| *n != name);
                env.push((name, value));
            }
        }
    }
}

/// What the runtime made for this run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretsOptions {
    /// The trust bundle (run CA, system roots, `extraCaCertPaths`) on the host; bound read-only
    /// at the same path. `None` in `srt compile`.
    pub ca_bundle: Option<PathBuf>,
    /// The same certificates as a PKCS#12 trust store for JVMs (which read no PEM variable);
    /// bound read-only at the same path and named in `JAVA_TOOL_OPTIONS`. `None` in `srt
    /// compile`.
    pub java_trust_store: Option<PathBuf>,
    /// Set when the runtime has masked the credentials (a run); `None` in `srt compile`.
    pub masked: Option<MaskedCredentials>,
}

/// The outcome of masking, per entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaskedCredentials {
    /// Variable → its value in the sandbox (sentinels in place of the secret), or `None`
    /// when it is withheld (`onExtractNoMatch: "deny"`). A masked variable unset on the host,
    /// or left as it is (`"warn"`), is absent.
    pub env: Vec<(String, Option<String>)>,
    /// Real file → the masked copy bound over it, or `None` when it is hidden.
    pub files: Vec<(PathBuf, Option<PathBuf>)>,
}

/// What this part adds to the plan.
#[derive(Default)]
pub(super) struct SecretsPlan {
    pub args: Vec<BwrapArg>,
    pub env: Vec<(String, String)>,
    /// Variables removed from the command's environment, with why.
    pub env_unset: Vec<(String, Origin)>,
}

fn ro_bind(src: &Path, dst: &Path, origin: Origin, effect: &'static str) -> BwrapArg {
    BwrapArg {
        words: vec!["--ro-bind".into(), path_word(src), path_word(dst)],
        step: Step::Credential,
        origin,
        effect,
    }
}

/// The command's variables for `credentials` and `tlsTerminate`, on every OS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretsEnv {
    /// The trust variables (naming the bundle), then the masked variables' sentinels.
    pub set: Vec<(String, String)>,
    /// Variables removed from the command's environment, with why.
    pub unset: Vec<(String, Origin)>,
}

/// The trust variables name the bundle (when the run has proxies); a masked variable holds
/// its sentinel, or is withheld; a denied one is withheld.
pub fn secrets_env(ir: &Ir, opts: &SecretsOptions, proxied: bool) -> SecretsEnv {
    let mut out = SecretsEnv::default();
    if let (Some(_), true) = (&ir.secrets.tls, proxied) {
        let bundle = opts
            .ca_bundle
            .clone()
            .unwrap_or_else(|| PathBuf::from(CA_BUNDLE_PLACEHOLDER));
        for var in CA_TRUST_VARS {
            out.set
                .push((var.to_string(), bundle.display().to_string()));
        }
        let store = opts
            .java_trust_store
            .clone()
            .unwrap_or_else(|| PathBuf::from(JAVA_TRUST_STORE_PLACEHOLDER));
        if let Some(words) = java_trust_options(&store) {
            out.set.push(("JAVA_TOOL_OPTIONS".to_string(), words));
        }
    }
    for c in &ir.secrets.credentials {
        match (&c.source, c.mode) {
            (CredentialSource::Env(name), CredentialMode::Deny) => {
                out.unset.push((name.clone(), c.origin.clone()));
            }
            (CredentialSource::Env(name), CredentialMode::Mask) => match &opts.masked {
                None => out
                    .set
                    .push((name.clone(), SENTINEL_PLACEHOLDER.to_string())),
                Some(m) => match m.env.iter().find(|(n, _)| n == name) {
                    Some((_, Some(fake))) => out.set.push((name.clone(), fake.clone())),
                    Some((_, None)) => out.unset.push((name.clone(), c.origin.clone())),
                    None => {}
                },
            },
            _ => {}
        }
    }
    out
}

pub(super) fn plan(ir: &Ir, opts: &SecretsOptions, proxied: bool) -> SecretsPlan {
    let env = secrets_env(ir, opts, proxied);
    let mut out = SecretsPlan {
        env: env.set,
        env_unset: env.unset,
        ..SecretsPlan::default()
    };
    if let (Some(tls), true) = (&ir.secrets.tls, proxied) {
        let bundle = opts
            .ca_bundle
            .clone()
            .unwrap_or_else(|| PathBuf::from(CA_BUNDLE_PLACEHOLDER));
        out.args.push(ro_bind(
            &bundle,
            &bundle,
            tls.origin.clone(),
            "read-only CA bundle",
        ));
        let store = opts
            .java_trust_store
            .clone()
            .unwrap_or_else(|| PathBuf::from(JAVA_TRUST_STORE_PLACEHOLDER));
        out.args.push(ro_bind(
            &store,
            &store,
            tls.origin.clone(),
            "read-only Java trust store",
        ));
    }
    // Denied files are read denies in the IR; the filesystem plan hides them.
    for c in &ir.secrets.credentials {
        if let (CredentialSource::File(crate::PathPattern::Literal(path)), CredentialMode::Mask) =
            (&c.source, c.mode)
        {
            // A path the policy hides stays hidden: there is nothing to mask.
            if !ir.decide_path(path, Access::Read).allowed {
                continue;
            }
            let copy = match &opts.masked {
                None => Some(PathBuf::from(MASKED_COPY_PLACEHOLDER)),
                Some(m) => match m.files.iter().find(|(p, _)| p == path) {
                    Some((_, c)) => c.clone(),
                    None => continue,
                },
            };
            match copy {
                Some(copy) => {
                    out.args
                        .push(ro_bind(&copy, path, c.origin.clone(), "masked (sentinels)"))
                }
                None => out.args.push(ro_bind(
                    Path::new("/dev/null"),
                    path,
                    c.origin.clone(),
                    "hidden",
                )),
            }
        }
    }
    out
}
