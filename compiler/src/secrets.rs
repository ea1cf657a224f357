//! `network.tlsTerminate`, `credentials` and the request options that go with them
//! (`requireHostMatch`, `refuseOpaqueTunnels`), resolved: paths absolute, domain patterns
//! parsed, every entry with its [`Origin`].
//!
//! The settings model keeps these keys as parsed JSON ([`srt_schema::OtherKey`]); validation
//! has already checked their shapes, so what does not fit here is simply left out.

use std::path::PathBuf;
use std::time::Duration;

use srt_schema::domain::{canonical_host, parse_pattern, DomainList, DomainPattern, Host};
use srt_schema::json::{Json, JsonKind};
use srt_schema::{Diagnostic, Settings, Span};

use crate::fsview::FsView;
use crate::ir::{HostRule, ResolveOptions};
use crate::origin::Origin;
use crate::path::{resolve_spelling, PathPattern};

/// `network.tlsTerminate`, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPolicy {
    pub origin: Origin,
    /// `caCertPath` and `caKeyPath`; `None`: a CA made for the run, its key only in memory.
    pub ca: Option<(PathBuf, PathBuf)>,
    /// Hosts tunnelled opaquely (`excludeDomains`).
    pub exclude: Vec<HostRule>,
    /// PEM files whose certificates are trusted upstream and added to the sandbox's bundle.
    pub extra_ca_cert_paths: Vec<PathBuf>,
    pub max_tunnels: usize,
    pub handshake_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialMode {
    Deny,
    Mask,
}

/// `onExtractNoMatch`: what happens when `extract` or `decode` masks nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnNoMatch {
    /// Leave the value as it is, with a warning (the npm srt's default).
    #[default]
    Warn,
    /// Withhold it (unset the variable, hide the file).
    Deny,
    /// Refuse the run.
    Error,
}

/// What a credential entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    Env(String),
    /// The absolute path (symlinks resolved as for any path entry); a glob only for `deny`.
    File(PathPattern),
}

/// One `credentials.envVars` or `credentials.files` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRule {
    pub source: CredentialSource,
    pub mode: CredentialMode,
    pub extract: Option<String>,
    pub on_no_match: OnNoMatch,
    /// `decode: "jwt"`.
    pub decode_jwt: bool,
    pub mask_claims: Vec<String>,
    pub mask_duplicates: bool,
    /// `injectHosts`; `None`: every `allowedDomains` host (ports dropped).
    pub inject_hosts: Option<Vec<DomainPattern>>,
    pub origin: Origin,
}

/// The secrets-related part of the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretsPolicy {
    pub tls: Option<TlsPolicy>,
    pub credentials: Vec<CredentialRule>,
    /// `credentials.allowPlaintextInject`.
    pub allow_plaintext_inject: bool,
    /// `network.requireHostMatch`.
    pub require_host_match: bool,
    /// `network.refuseOpaqueTunnels`.
    pub refuse_opaque_tunnels: bool,
    /// `credentials.awsPairs`, plus the conventional `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` trio when no explicit pair names one of
    /// them: masked AWS credentials whose SigV4 signatures the proxy re-signs.
    pub aws_pairs: Vec<AwsPairSpec>,
    /// `credentials.sigv4`: what happens to the SigV4 shapes that cannot be re-signed.
    pub sigv4: Sigv4Policies,
}

/// One AWS credential pair: the names of the masked variables that hold its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsPairSpec {
    pub access_key_id_var: String,
    pub secret_access_key_var: String,
    pub session_token_var: Option<String>,
    /// `None` for the conventional trio srt pairs by itself.
    pub origin: Option<Origin>,
}

/// `deny` (403, the default) or `passthrough` (forwarded with its placeholder signature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sigv4Policy {
    #[default]
    Deny,
    Passthrough,
}

/// `credentials.sigv4`, per request shape the proxy cannot re-sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigv4Policies {
    /// aws-chunked uploads (`x-amz-content-sha256: STREAMING-…`).
    pub streaming: Sigv4Policy,
    /// Presigned URLs (the signature in the query).
    pub presigned: Sigv4Policy,
    /// SigV4A (`AWS4-ECDSA-P256-SHA256`).
    pub sigv4a: Sigv4Policy,
}

impl SecretsPolicy {
    /// Whether a CONNECT to `host` is TLS-terminated (termination is on and the host is in no
    /// `excludeDomains` entry).
    pub fn terminates(&self, host: &Host) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| !t.exclude.iter().any(|r| r.pattern.matches(host, 0)))
    }

    /// Whether anything is masked (the proxies then substitute).
    pub fn masks(&self) -> bool {
        self.credentials
            .iter()
            .any(|c| c.mode == CredentialMode::Mask)
    }
}

impl CredentialRule {
    /// The hosts this credential's real value may be sent to: its `injectHosts`, else every
    /// allowed host (ports dropped: injection is per host).
    pub fn inject_patterns(&self, allowed: &[HostRule]) -> Vec<DomainPattern> {
        match &self.inject_hosts {
            Some(h) => h.clone(),
            None => allowed
                .iter()
                .map(|r| DomainPattern {
                    host: r.pattern.host.clone(),
                    port: None,
                })
                .collect(),
        }
    }

    /// Whether `host` (any spelling) is one of this credential's inject hosts.
    pub fn injects_at(&self, allowed: &[HostRule], host: &str) -> bool {
        let Ok(h) = canonical_host(host) else {
            return false;
        };
        self.inject_patterns(allowed)
            .iter()
            .any(|p| p.matches(&h, 0))
    }

    /// `credentials.envVars[2]`-style name of the entry, for messages.
    pub fn what(&self) -> String {
        match &self.source {
            CredentialSource::Env(n) => format!("${n}"),
            CredentialSource::File(p) => pattern_text(p),
        }
    }
}

impl SecretsPolicy {
    /// `mode: "deny"` files, as read denies with their origins (the decision procedure then
    /// hides them like any `denyRead` entry).
    pub fn denied_files(&self) -> Vec<crate::ir::PathRule> {
        self.credentials
            .iter()
            .filter(|c| c.mode == CredentialMode::Deny)
            .filter_map(|c| match &c.source {
                CredentialSource::File(p) => Some(crate::ir::PathRule {
                    pattern: p.clone(),
                    origin: c.origin.clone(),
                    spelled: pattern_text(p),
                    symlink_not_followed: None,
                }),
                CredentialSource::Env(_) => None,
            })
            .collect()
    }
}

impl SecretsPolicy {
    /// `mode: "mask"` files, as read denies with their origins: what a macOS run does with
    /// them (the npm srt denies masked files there; only Linux can bind a masked copy).
    pub fn masked_files_as_denies(&self) -> Vec<crate::ir::PathRule> {
        self.credentials
            .iter()
            .filter(|c| c.mode == CredentialMode::Mask)
            .filter_map(|c| match &c.source {
                CredentialSource::File(p) => Some(crate::ir::PathRule {
                    pattern: p.clone(),
                    origin: c.origin.clone(),
                    spelled: pattern_text(p),
                    symlink_not_followed: None,
                }),
                CredentialSource::Env(_) => None,
            })
            .collect()
    }
}

fn pattern_text(p: &PathPattern) -> String {
    match p {
        PathPattern::Literal(p) => p.display().to_string(),
        PathPattern::Glob { glob, .. } => glob.clone(),
    }
}

fn member<'a>(j: &'a Json, key: &str) -> Option<&'a Json> {
    j.get(key).map(|m| &m.value)
}

fn strings(j: Option<&Json>) -> Vec<(String, Span)> {
    j.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(|s| (s.to_string(), e.span)))
                .collect()
        })
        .unwrap_or_default()
}

fn flag(j: Option<&Json>) -> bool {
    j.and_then(Json::as_bool).unwrap_or(false)
}

fn patterns(j: Option<&Json>) -> Vec<(DomainPattern, String, Span)> {
    strings(j)
        .into_iter()
        .filter_map(|(s, span)| Some((parse_pattern(&s, DomainList::Allow).ok()?, s, span)))
        .collect()
}

/// Resolves `network.tlsTerminate`, `credentials`, `network.requireHostMatch` and
/// `network.refuseOpaqueTunnels`.
pub fn resolve(
    settings: &Settings,
    opts: &ResolveOptions,
    fs: &dyn FsView,
    notes: &mut Vec<Diagnostic>,
) -> SecretsPolicy {
    let mut out = SecretsPolicy::default();
    let other = |p: &str| settings.other(p).map(|o| &o.json);
    out.require_host_match = flag(other("network.requireHostMatch"));
    out.refuse_opaque_tunnels = flag(other("network.refuseOpaqueTunnels"));
    if let Some(t) = settings.other("network.tlsTerminate") {
        if matches!(t.json.kind, JsonKind::Object(_)) {
            out.tls = Some(tls_policy(&t.json, t.key, opts));
        }
    }
    let Some(c) = other("credentials") else {
        return out;
    };
    out.allow_plaintext_inject = flag(member(c, "allowPlaintextInject"));
    if let Some(p) = member(c, "sigv4") {
        let policy = |k: &str| match member(p, k).and_then(Json::as_str) {
            Some("passthrough") => Sigv4Policy::Passthrough,
            _ => Sigv4Policy::Deny,
        };
        out.sigv4 = Sigv4Policies {
            streaming: policy("streaming"),
            presigned: policy("presigned"),
            sigv4a: policy("sigv4a"),
        };
    }
    for (index, e) in member(c, "envVars")
        .and_then(Json::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(name) = member(e, "name").and_then(Json::as_str) else {
            continue;
        };
        let origin = Origin::policy("credentials.envVars", index, e.span);
        if let Some(rule) = credential(e, CredentialSource::Env(name.to_string()), origin) {
            out.credentials.push(rule);
        }
    }
    for (index, e) in member(c, "files")
        .and_then(Json::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(spelled) = member(e, "path").and_then(Json::as_str) else {
            continue;
        };
        let origin = Origin::policy("credentials.files", index, e.span);
        let mode_is_mask = member(e, "mode").and_then(Json::as_str) == Some("mask");
        // A masked file is one file, however it is spelled; a denied one reads like denyRead.
        match resolve_spelling(spelled, mode_is_mask, &opts.cwd, &opts.home, fs) {
            Ok(r) => {
                if let Some(rule) = credential(e, CredentialSource::File(r.pattern), origin) {
                    out.credentials.push(rule);
                }
            }
            Err(err) => notes.push(
                Diagnostic::error(
                    srt_schema::code::INVALID_PATH_ENTRY,
                    format!("credentials.files[{index}]: {err}"),
                )
                .with_label(e.span, ""),
            ),
        }
    }
    out.aws_pairs = aws_pairs(c, &out.credentials, notes);
    out
}

/// `credentials.awsPairs`, checked as the npm srt's schema does (each variable fills one slot
/// and is a whole-value `mask` entry of `envVars`), then the conventional trio unless an
/// explicit pair names one of its variables.
fn aws_pairs(c: &Json, rules: &[CredentialRule], notes: &mut Vec<Diagnostic>) -> Vec<AwsPairSpec> {
    const CONVENTIONAL: [&str; 3] = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ];
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (index, e) in member(c, "awsPairs")
        .and_then(Json::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let field = |k: &str| member(e, k).and_then(Json::as_str).map(str::to_string);
        let (Some(akid), Some(secret)) = (field("accessKeyIdVar"), field("secretAccessKeyVar"))
        else {
            continue;
        };
        let token = field("sessionTokenVar");
        let mut ok = true;
        for (slot, name) in [
            ("accessKeyIdVar", Some(&akid)),
            ("secretAccessKeyVar", Some(&secret)),
            ("sessionTokenVar", token.as_ref()),
        ] {
            let Some(name) = name else { continue };
            let span = e.get(slot).map_or(e.span, |m| m.value.span);
            let why = if seen.contains(name) {
                Some(format!("\"{name}\" appears in more than one awsPairs slot; each variable can fill exactly one"))
            } else {
                match rules.iter().find(|r| r.source == CredentialSource::Env(name.clone())) {
                    Some(r) if r.mode == CredentialMode::Mask && (r.extract.is_some() || r.decode_jwt) => Some(format!("\"{name}\" uses extract/decode, but an AWS pair member must be masked whole-value: the re-signer needs the whole real value")),
                    Some(r) if r.mode == CredentialMode::Mask => None,
                    _ => Some(format!("\"{name}\" is not a credentials.envVars entry with mode \"mask\"; an AWS pair links masked variables")),
                }
            };
            seen.push(name.clone());
            if let Some(why) = why {
                ok = false;
                notes.push(
                    Diagnostic::error(srt_schema::code::INVALID_VALUE, format!("credentials.awsPairs[{index}].{slot}: {why}"))
                        .with_label(span, "")
                        .with_help("add the variable to credentials.envVars with mode \"mask\" (no extract or decode), or remove the pair"),
                );
            }
        }
        if ok {
            out.push(AwsPairSpec {
                access_key_id_var: akid,
                secret_access_key_var: secret,
                session_token_var: token,
                origin: Some(Origin::policy("credentials.awsPairs", index, e.span)),
            });
        }
    }
    if !CONVENTIONAL.iter().any(|n| seen.iter().any(|s| s == n)) {
        out.push(AwsPairSpec {
            access_key_id_var: CONVENTIONAL[0].into(),
            secret_access_key_var: CONVENTIONAL[1].into(),
            session_token_var: Some(CONVENTIONAL[2].into()),
            origin: None,
        });
    }
    out
}

fn tls_policy(j: &Json, key: Span, opts: &ResolveOptions) -> TlsPolicy {
    let path = |k: &str| {
        member(j, k)
            .and_then(Json::as_str)
            .map(|s| PathBuf::from(crate::path::absolutize(s, &opts.cwd, &opts.home)))
    };
    let ca = path("caCertPath").zip(path("caKeyPath"));
    let exclude = patterns(member(j, "excludeDomains"))
        .into_iter()
        .enumerate()
        .map(|(index, (pattern, raw, span))| HostRule {
            pattern,
            origin: Origin::policy("network.tlsTerminate.excludeDomains", index, span),
            raw,
        })
        .collect();
    let extra_ca_cert_paths = strings(member(j, "extraCaCertPaths"))
        .into_iter()
        .map(|(s, _)| PathBuf::from(crate::path::absolutize(&s, &opts.cwd, &opts.home)))
        .collect();
    let int = |k: &str, default: i64| member(j, k).and_then(Json::as_i64).unwrap_or(default);
    TlsPolicy {
        origin: Origin::policy("network.tlsTerminate", 0, key.join(j.span)),
        ca,
        exclude,
        extra_ca_cert_paths,
        max_tunnels: usize::try_from(int("maxTunnels", 256).clamp(1, 65536)).unwrap_or(256),
        handshake_timeout: Duration::from_millis(
            u64::try_from(int("handshakeTimeoutMs", 10_000).clamp(100, 600_000)).unwrap_or(10_000),
        ),
    }
}

fn credential(e: &Json, source: CredentialSource, origin: Origin) -> Option<CredentialRule> {
    let mode = match member(e, "mode").and_then(Json::as_str)? {
        "deny" => CredentialMode::Deny,
        "mask" => CredentialMode::Mask,
        _ => return None,
    };
    let on_no_match = match member(e, "onExtractNoMatch").and_then(Json::as_str) {
        Some("deny") => OnNoMatch::Deny,
        Some("error") => OnNoMatch::Error,
        _ => OnNoMatch::Warn,
    };
    let inject_hosts = member(e, "injectHosts")
        .map(|h| patterns(Some(h)).into_iter().map(|(p, _, _)| p).collect());
    Some(CredentialRule {
        source,
        mode,
        extract: member(e, "extract")
            .and_then(Json::as_str)
            .map(str::to_string),
        on_no_match,
        decode_jwt: member(e, "decode").and_then(Json::as_str) == Some("jwt"),
        mask_claims: strings(member(e, "maskClaims"))
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
        mask_duplicates: flag(member(e, "maskDuplicates")),
        inject_hosts,
        origin,
    })
}
