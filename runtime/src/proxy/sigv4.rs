//! SigV4 re-signing inside a TLS-terminated tunnel, with the npm srt's policies.
//!
//! A request whose signature names a masked AWS access key id ([`crate::secrets::aws`]),
//! exactly, on its way to one of that key's inject hosts, is signed again with the real
//! credential by the `aws-sigv4` crate: same credential scope (date, region, service), same
//! signed-header set, same `x-amz-date`, over the request as it goes upstream (sentinels already
//! replaced). The body hash is recomputed over the bytes sent, so a body with a literal hash is
//! buffered (at most [`MAX_BODY`] per request and [`MAX_BUFFERED`] for all tunnels together;
//! past them the request is refused); `UNSIGNED-PAYLOAD` bodies stream.
//!
//! What cannot be re-signed: aws-chunked uploads (`STREAMING-…`: each chunk's signature chains
//! off the first), presigned URLs (the signature is in the URL) and SigV4A (`AWS4-ECDSA-…`: no
//! shared key). `credentials.sigv4` says `deny` (403, the default) or `passthrough` (forwarded
//! with the placeholder signature, which the service rejects). Requests signed with any other
//! key, real ones included, are never touched.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use srt_compiler::secrets::{Sigv4Policies, Sigv4Policy};
use srt_schema::domain::Host;

use crate::secrets::aws::AwsPair;
use crate::secrets::Registry;

/// The most body bytes one request may have buffered for re-signing (the npm srt's limit).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;
/// The most body bytes buffered for re-signing at once, all tunnels together.
pub(crate) const MAX_BUFFERED: usize = 256 * 1024 * 1024;

const HMAC: &str = "AWS4-HMAC-SHA256";
const ECDSA: &str = "AWS4-ECDSA-P256-SHA256";
const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const CONTENT_SHA: &str = "x-amz-content-sha256";

/// What to do with a request.
pub(crate) enum Plan<'a> {
    /// Refuse it (403), for this reason.
    Deny(String),
    Resign(Resign<'a>),
}

/// A header-signed request to sign again.
pub(crate) struct Resign<'a> {
    pair: &'a AwsPair,
    amz_date: String,
    region: String,
    service: String,
    /// The client's signed headers, lowercase.
    signed: Vec<String>,
    /// The client signed `UNSIGNED-PAYLOAD`: the body streams.
    pub unsigned_payload: bool,
    /// The client sent `x-amz-content-sha256` (it is then recomputed and signed).
    content_sha: bool,
}

fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Credential=AKID/…` → `AKID`.
fn credential_key(auth: &str) -> Option<&str> {
    let rest = &auth[auth.find("Credential=")? + "Credential=".len()..];
    let akid = rest.split(['/', ',', ' ', '\t']).next()?;
    (!akid.is_empty() && rest[akid.len()..].starts_with('/')).then_some(akid)
}

/// `Name=value` from an Authorization value (the value ends at `,` or whitespace).
fn auth_field<'a>(auth: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=");
    let rest = &auth[auth.find(&key)? + key.len()..];
    let v = rest.split([',', ' ', '\t']).next()?;
    (!v.is_empty()).then_some(v)
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
        if let (b'%', Some(h), Some(l)) = (b[i], hex(b.get(i + 1)), hex(b.get(i + 2))) {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The SigV4 shape of a request and the access key id it names.
enum Shape<'h> {
    Header(&'h str),
    Streaming(&'h str),
    Sigv4a(&'h str),
    Presigned(String),
}

fn detect<'h>(path: &str, headers: &'h HeaderMap) -> Option<Shape<'h>> {
    if let Some(auth) = single(headers, AUTHORIZATION.as_str()) {
        if auth.starts_with(ECDSA) {
            if let Some(k) = credential_key(auth) {
                return Some(Shape::Sigv4a(k));
            }
        } else if auth.starts_with(HMAC) {
            if let Some(k) = credential_key(auth) {
                let streaming =
                    single(headers, CONTENT_SHA).is_some_and(|v| v.starts_with("STREAMING-"));
                return Some(if streaming {
                    Shape::Streaming(k)
                } else {
                    Shape::Header(k)
                });
            }
        }
    }
    // Presigned: looked for whenever the Authorization header did not classify, so a
    // malformed header beside presigned parameters does not hide them from the policy.
    let query = path.split_once('?')?.1;
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    };
    if param("X-Amz-Algorithm").as_deref() != Some(HMAC) || param("X-Amz-Signature").is_none() {
        return None;
    }
    let credential = param("X-Amz-Credential")?;
    let akid = credential.split('/').next().filter(|k| !k.is_empty())?;
    Some(Shape::Presigned(akid.to_string()))
}

/// What to do with a request to `host` with these (forwarded) headers; `None`: forward it as
/// it is.
pub(crate) fn plan<'a>(
    registry: &'a Registry,
    policies: Sigv4Policies,
    path: &str,
    headers: &HeaderMap,
    host: &Host,
) -> Option<Plan<'a>> {
    if !registry.has_aws_pairs() {
        return None;
    }
    let shape = detect(path, headers)?;
    let (akid, kind, policy) = match &shape {
        Shape::Header(k) => (*k, "header", Sigv4Policy::Deny),
        Shape::Streaming(k) => (*k, "streaming", policies.streaming),
        Shape::Sigv4a(k) => (*k, "sigv4a", policies.sigv4a),
        Shape::Presigned(k) => (k.as_str(), "presigned", policies.presigned),
    };
    let pair = registry.aws_pair(akid)?;
    if !pair.signs_at(host) {
        return None;
    }
    if !matches!(shape, Shape::Header(_)) {
        return match policy {
            Sigv4Policy::Passthrough => None,
            Sigv4Policy::Deny => Some(Plan::Deny(format!(
                "AWS SigV4 {kind} request uses a masked credential but cannot be re-signed by the sandbox proxy; denied by policy (set credentials.sigv4.{kind} to \"passthrough\" to forward it unmodified; it will fail upstream)"
            ))),
        };
    }
    let deny = |why: &str| {
        Some(Plan::Deny(format!(
            "AWS SigV4 request uses a masked credential but {why}; the proxy cannot re-sign it"
        )))
    };
    let auth = single(headers, AUTHORIZATION.as_str()).unwrap_or_default();
    let (Some(cred), Some(signed), Some(_)) = (
        auth_field(auth, "Credential"),
        auth_field(auth, "SignedHeaders"),
        auth_field(auth, "Signature"),
    ) else {
        return deny("its Authorization header is malformed");
    };
    let scope: Vec<&str> = cred.split('/').collect();
    let [_, date, region, service, "aws4_request"] = scope.as_slice() else {
        return deny("its credential scope is not <key>/<date>/<region>/<service>/aws4_request");
    };
    if date.is_empty() || region.is_empty() || service.is_empty() {
        return deny("its credential scope has an empty part");
    }
    let Some(amz_date) = single(headers, "x-amz-date") else {
        return deny("it carries no x-amz-date header");
    };
    let signed: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    for name in &signed {
        let supplied = matches!(name.as_str(), "host" | "x-amz-date")
            || (name == "x-amz-security-token" && pair.real_session_token.is_some());
        if !supplied && !headers.contains_key(name.as_str()) {
            return deny(&format!("signed header \"{name}\" is missing"));
        }
    }
    let content = single(headers, CONTENT_SHA);
    Some(Plan::Resign(Resign {
        pair,
        amz_date: amz_date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed,
        unsigned_payload: content == Some(UNSIGNED),
        content_sha: content.is_some(),
    }))
}

/// `20240102T030405Z` as a time.
fn amz_time(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(n(0..4)?).ok()?,
        month,
        u8::try_from(n(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(n(9..11)?).ok()?,
        u8::try_from(n(11..13)?).ok()?,
        u8::try_from(n(13..15)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc().into())
}

impl Resign<'_> {
    /// Signs `headers` (as they go upstream, `host` set) again with the real credential;
    /// `body` is the whole body unless the payload is unsigned.
    pub fn apply(
        &self,
        method: &str,
        authority: &str,
        path: &str,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        let time = amz_time(&self.amz_date).ok_or("x-amz-date is not YYYYMMDDTHHMMSSZ")?;
        let mut pairs: Vec<(&str, &str)> = vec![("host", authority)];
        let token_supplied = self.pair.real_session_token.is_some();
        for name in &self.signed {
            // The signer puts these in itself (the date, the real session token, the
            // recomputed body hash).
            if matches!(name.as_str(), "host" | "x-amz-date" | CONTENT_SHA)
                || (name == "x-amz-security-token" && token_supplied)
            {
                continue;
            }
            for v in headers.get_all(name.as_str()) {
                let v = v
                    .to_str()
                    .map_err(|_| format!("signed header \"{name}\" is not visible ASCII"))?;
                pairs.push((name.as_str(), v));
            }
        }
        let token = self
            .pair
            .real_session_token
            .as_ref()
            .map(|t| t.as_str().to_string());
        let creds = aws_credential_types::Credentials::new(
            self.pair.real_access_key_id.as_str(),
            self.pair.real_secret.as_str(),
            token,
            None,
            "srt",
        );
        let identity = creds.into();
        let mut settings = SigningSettings::default();
        settings.excluded_headers = Some(vec![Cow::Borrowed("authorization")]);
        if self.content_sha {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        if self.service == "s3" {
            // S3 verifies against the path as sent: no normalisation, no second encoding.
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let body = match body {
            Some(b) if !self.unsigned_payload => SignableBody::Bytes(b),
            _ => SignableBody::UnsignedPayload,
        };
        let uri = format!(
            "https://{authority}{}",
            if path == "*" { "/" } else { path }
        );
        let request = SignableRequest::new(method, uri, pairs.into_iter(), body)
            .map_err(|e| format!("cannot read the request for signing: {e}"))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| format!("signing failed: {e}"))?
            .into_parts();
        for (name, value) in instructions.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let mut value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(())
    }
}

/// A share of [`MAX_BUFFERED`], returned when dropped.
pub(crate) struct Buffered<'a> {
    registry: &'a Registry,
    bytes: usize,
}

impl<'a> Buffered<'a> {
    pub fn new(registry: &'a Registry) -> Self {
        Buffered { registry, bytes: 0 }
    }

    /// Takes `n` more bytes of the budget; `false` when this request or all of them together
    /// would pass their limit.
    pub fn take(&mut self, n: usize) -> bool {
        if self.bytes + n > MAX_BODY {
            return false;
        }
        let total = &self.registry.resign_buffered;
        let mut now = total.load(Ordering::Relaxed);
        loop {
            if now + n > MAX_BUFFERED {
                return false;
            }
            match total.compare_exchange_weak(now, now + n, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => now = actual,
            }
        }
        self.bytes += n;
        true
    }
}

impl Drop for Buffered<'_> {
    fn drop(&mut self) {
        self.registry
            .resign_buffered
            .fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amz_dates() {
        let t = amz_time("20240102T030405Z").unwrap();
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_704_164_645);
        for bad in [
            "20241302T030405Z",
            "20240102T030405",
            "2024-01-02T03:04:05Z",
        ] {
            assert!(amz_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn shapes() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIAX/20240102/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"),
        );
        assert!(matches!(detect("/", &h), Some(Shape::Header("AKIAX"))));
        h.insert(
            CONTENT_SHA,
            HeaderValue::from_static("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        );
        assert!(matches!(detect("/", &h), Some(Shape::Streaming("AKIAX"))));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("AWS4-ECDSA-P256-SHA256 Credential=AKIAY/20240102/s3/aws4_request, SignedHeaders=host, Signature=ab"),
        );
        assert!(matches!(detect("/", &h), Some(Shape::Sigv4a("AKIAY"))));
        let q = "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAZ%2F20240102%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=ab";
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(matches!(detect(q, &h), Some(Shape::Presigned(k)) if k == "AKIAZ"));
        assert!(detect("/k?X-Amz-Algorithm=AWS4-HMAC-SHA256", &h).is_none());
    }
}
