//! The per-run credentials the proxies ask for when they listen on loopback TCP
//! ([`super::Listen::Loopback`]): there any local process, another user's included, could
//! connect, and use srt's proxy to reach the allowlist. The sandboxed command gets them in its
//! proxy URLs' userinfo.
//!
//! As in the npm srt, only the password (a random 128-bit token) is checked; the user name is
//! free. It is compared in constant time.

use std::fmt;
use std::io::{self, Read};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};

/// The user name srt puts in its proxy URLs.
pub const PROXY_USER: &str = "srt";

/// Standard base64; padding optional when decoding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A user name and a secret token. `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// `srt` and 32 hex digits from the system's random source. Fails rather than fall back
    /// to anything guessable.
    pub fn random() -> io::Result<Credentials> {
        let mut bytes = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Credentials {
            user: PROXY_USER.to_string(),
            password: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// `(user, password)`, as `srt_compiler::env::ProxyEnv::auth` takes them.
    pub fn pair(&self) -> (String, String) {
        (self.user.clone(), self.password.clone())
    }

    /// Does this RFC 1929 password match?
    pub(crate) fn password_matches(&self, password: &[u8]) -> bool {
        constant_time_eq(password, self.password.as_bytes())
    }

    /// Does this `Proxy-Authorization` value (`Basic base64(user:password)`) carry the
    /// password?
    pub(crate) fn basic_matches(&self, header: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(header) else {
            return false;
        };
        let text = text.trim();
        let Some((scheme, encoded)) = text.split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(encoded.trim()) else {
            return false;
        };
        match decoded.iter().position(|&b| b == b':') {
            Some(i) => self.password_matches(&decoded[i + 1..]),
            None => false,
        }
    }
}

/// `Proxy-Authorization` for `user:password`.
pub fn basic_authorization(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

/// Equal length and bytes, without an early exit that would time how much of a guess was
/// right (the length is not secret: every token has 32 digits).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_differ_and_are_hex() {
        let a = Credentials::random().unwrap();
        let b = Credentials::random().unwrap();
        assert_eq!(a.user(), "srt");
        assert_eq!(a.password().len(), 32);
        assert!(a.password().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.password(), b.password());
        assert!(!format!("{a:?}").contains(a.password()));
    }

    #[test]
    fn basic_header() {
        let c = Credentials {
            user: "srt".into(),
            password: "0123456789abcdef0123456789abcdef".into(),
        };
        let good = basic_authorization("srt", c.password());
        assert!(c.basic_matches(good.as_bytes()));
        // Any user name; scheme case-insensitive; padding optional.
        assert!(c.basic_matches(basic_authorization("srt.Y3VybA", c.password()).as_bytes()));
        assert!(c.basic_matches(good.replace("Basic", "basic").as_bytes()));
        assert!(c.basic_matches(good.trim_end_matches('=').as_bytes()));
        for bad in [
            basic_authorization("srt", "0123456789abcdef0123456789abcdee"),
            basic_authorization("srt", "0123456789abcdef0123456789abcde"),
            basic_authorization("srt", ""),
            basic_authorization(c.password(), "srt"),
            format!("Bearer {}", c.password()),
            "Basic".to_string(),
            "Basic !!!".to_string(),
            String::new(),
        ] {
            assert!(!c.basic_matches(bad.as_bytes()), "{bad}");
        }
        assert!(c.password_matches(c.password().as_bytes()));
        assert!(!c.password_matches(b"0123456789abcdef0123456789abcdeF"));
    }
}
