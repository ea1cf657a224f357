//! `decode: "jwt"`: recognising JSON Web Tokens, fakes of the same structure, and masking named
//! claims inside one (the npm srt's rules).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::sentinel;

/// The default `extract` for `decode: "jwt"` on a file: every JWT starts `eyJ` (`{"`).
pub const DEFAULT_PATTERN: &str = r"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)";
/// `base64url("srt-fake")`: never a valid signature.
const FAKE_SIGNATURE: &str = "c3J0LWZha2U";
/// 2286-11-20: far enough that no client refuses the fake as expired.
const FAKE_EXP: u64 = 9_999_999_999;

fn segment(s: &str) -> Option<serde_json::Value> {
    let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Three segments, the first two JSON, the header declaring `alg`.
pub fn verify(candidate: &str) -> bool {
    let parts: Vec<&str> = candidate.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let header_ok = segment(parts[0])
        .as_ref()
        .and_then(|h| h.as_object())
        .is_some_and(|h| h.contains_key("alg"));
    header_ok && segment(parts[1]).is_some()
}

fn encode(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A structurally valid token whose `sub` is a fresh `fake_value_…`, header `HS256` (never
/// `none`, which careless validators accept) and a filler signature.
pub fn fake() -> std::io::Result<String> {
    let id = String::from_utf8_lossy(&sentinel::mint(b"")?).into_owned();
    let header = encode(&serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    let payload = encode(&serde_json::json!({"sub": id, "exp": FAKE_EXP}));
    Ok(format!("{header}.{payload}.{FAKE_SIGNATURE}"))
}

/// The token with each named string claim replaced by `sentinel_for(claim, value)`, re-encoded
/// around the original header with the filler signature (a real signature over a changed
/// payload would let the sandbox test guesses of a masked claim offline). `None` when no named
/// claim is a string.
pub fn mask_claims(
    token: &str,
    claims: &[String],
    mut sentinel_for: impl FnMut(&str, &str) -> std::io::Result<String>,
) -> std::io::Result<Option<String>> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let Some(serde_json::Value::Object(mut map)) = segment(payload) else {
        return Ok(None);
    };
    let mut any = false;
    for claim in claims {
        if let Some(serde_json::Value::String(v)) = map.get(claim) {
            let s = sentinel_for(claim, v)?;
            map.insert(claim.clone(), serde_json::Value::String(s));
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    let payload = encode(&serde_json::Value::Object(map));
    Ok(Some(format!("{header}.{payload}.{FAKE_SIGNATURE}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fakes_verify_and_claims_are_masked() {
        let f = fake().unwrap();
        assert!(verify(&f));
        assert!(!verify("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.x"));
        let token = format!(
            "{}.{}.sig",
            encode(&serde_json::json!({"alg": "RS256"})),
            encode(&serde_json::json!({"iss": "me", "secret": "s3cr3t"}))
        );
        let out = mask_claims(&token, &["secret".into()], |_, _| Ok("SENT".into()))
            .unwrap()
            .unwrap();
        let payload = segment(out.split('.').nth(1).unwrap()).unwrap();
        assert_eq!(payload["secret"], "SENT");
        assert_eq!(payload["iss"], "me");
        assert!(out.ends_with(FAKE_SIGNATURE));
        assert!(mask_claims(&token, &["nope".into()], |_, _| Ok("x".into()))
            .unwrap()
            .is_none());
    }
}
