//! Sentinels: what the sandbox sees in place of a masked secret.
//!
//! A sentinel has the shape clients check where it can: the same length, the same public type
//! prefix when the value starts with a well-known one (`ghp_`, `github_pat_`, `sk-ant-api03-`,
//! `xoxb-`, `AKIA`, …, see [`KNOWN_PREFIXES`]), and after it characters drawn at random from
//! the value's alphabet: hexadecimal if the rest is hexadecimal, else the classes (lower case,
//! upper case, digits) that occur in it. It carries of the secret its length, the public prefix
//! and which classes occur, not where they occur nor where punctuation is (a passphrase's word
//! lengths stay hidden). A value too short to hold 64 random bits that way gets a longer
//! sentinel (`fake_value_` and 26 random characters, 134 bits) instead, whose length differs.

use std::io;

/// The fallback sentinel's prefix (the npm srt's).
pub const FALLBACK_PREFIX: &str = "fake_value_";
/// Fewer random bits than this in the shaped form, and the fallback is used.
const MIN_BITS: f64 = 64.0;
/// AWS access key id prefixes (`AKIA…`, 20 characters).
const AWS_KEY_PREFIXES: [&str; 8] = [
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA",
];
/// Public token-type prefixes kept as they are (the longest that matches).
pub const KNOWN_PREFIXES: [&str; 40] = [
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "sk-ant-api03-",
    "sk-ant-admin01-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxe-",
    "xapp-",
    "npm_",
    "pypi-",
    "hf_",
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "shpat_",
    "shpss_",
    "shpca_",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "pk_live_",
    "pk_test_",
    "glc_",
    "lin_api_",
    "ntn_",
    "AIza",
];

/// `n` bytes from the OS's random source.
#[cfg(not(target_os = "linux"))]
pub fn random_bytes(n: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut out)?;
    Ok(out)
}

/// `n` bytes from the OS's random source.
#[cfg(target_os = "linux")]
pub fn random_bytes(n: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        // SAFETY: the pointer and length describe the unfilled tail of `out`.
        let r = unsafe {
            libc::getrandom(
                out[filled..].as_mut_ptr().cast::<libc::c_void>(),
                n - filled,
                0,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += usize::try_from(r).unwrap_or(0);
    }
    Ok(out)
}

/// A uniformly random character of `alphabet` per random byte (rejection sampling, so no
/// character is likelier than another).
fn pick(alphabet: &[u8], count: usize) -> io::Result<Vec<u8>> {
    let limit = 256 - (256 % alphabet.len());
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        for b in random_bytes(count * 2)? {
            if usize::from(b) < limit && out.len() < count {
                out.push(alphabet[usize::from(b) % alphabet.len()]);
            }
        }
    }
    Ok(out)
}

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGIT: &[u8] = b"0123456789";
const LOWER_DIGIT: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// The public type prefix kept from `real`: an AWS key id's four letters, or the longest
/// [`KNOWN_PREFIXES`] entry it starts with, when at least 16 bytes follow it.
fn type_prefix(real: &[u8]) -> usize {
    if real.len() == 20
        && AWS_KEY_PREFIXES
            .iter()
            .any(|p| real.starts_with(p.as_bytes()))
    {
        return 4;
    }
    KNOWN_PREFIXES
        .iter()
        .filter(|p| real.starts_with(p.as_bytes()) && real.len() - p.len() >= 16)
        .map(|p| p.len())
        .max()
        .unwrap_or(0)
}

const HEX_LOWER: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";

/// The alphabet sentinel characters are drawn from for `rest`.
fn alphabet(rest: &[u8]) -> Vec<u8> {
    if !rest.is_empty() && rest.iter().all(|b| HEX_LOWER.contains(b)) {
        return HEX_LOWER.to_vec();
    }
    if !rest.is_empty() && rest.iter().all(|b| HEX_UPPER.contains(b)) {
        return HEX_UPPER.to_vec();
    }
    let mut out = Vec::new();
    for class in [LOWER, UPPER, DIGIT] {
        if rest.iter().any(|b| class.contains(b)) {
            out.extend_from_slice(class);
        }
    }
    if out.len() < 16 {
        out = LOWER_DIGIT.to_vec();
    }
    out
}

/// A sentinel for `real`, shaped like it where that leaves at least 64 random bits.
pub fn mint(real: &[u8]) -> io::Result<Vec<u8>> {
    let keep = type_prefix(real);
    let rest = &real[keep..];
    let chars = alphabet(rest);
    let bits = rest.len() as f64 * (chars.len() as f64).log2();
    if bits < MIN_BITS {
        let mut out = FALLBACK_PREFIX.as_bytes().to_vec();
        out.extend(pick(LOWER_DIGIT, 26)?);
        return Ok(out);
    }
    let mut out = real[..keep].to_vec();
    out.extend(pick(&chars, rest.len())?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn classes(s: &[u8]) -> [bool; 3] {
        [LOWER, UPPER, DIGIT].map(|c| s.iter().any(|b| c.contains(b)))
    }

    #[test]
    fn keeps_known_prefix_and_length() {
        for real in [
            &b"ghp_0123456789abcdefABCDEF0123456789abcd"[..],
            b"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS",
            b"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefgh",
            b"xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            b"AKIAIOSFODNN7EXAMPLE",
        ] {
            let s = mint(real).unwrap();
            assert_eq!(s.len(), real.len());
            let keep = type_prefix(real);
            assert!(keep > 0, "{}", String::from_utf8_lossy(real));
            assert_eq!(&s[..keep], &real[..keep]);
            assert_ne!(s, real);
            assert!(s[keep..].iter().all(u8::is_ascii_alphanumeric));
        }
    }

    #[test]
    fn hex_stays_hex_and_word_boundaries_are_not_kept() {
        let hex = b"0123456789abcdef0123456789abcdef";
        let s = mint(hex).unwrap();
        assert!(s.iter().all(|b| HEX_LOWER.contains(b)) && s.len() == hex.len());
        // A passphrase: no prefix, no punctuation where its words end.
        let phrase = b"correct-horse-battery-staple-mountain";
        assert_eq!(type_prefix(phrase), 0);
        let s = mint(phrase).unwrap();
        assert_eq!(s.len(), phrase.len());
        assert!(s.iter().all(u8::is_ascii_alphanumeric));
        assert_eq!(classes(&s), [true, false, false]);
    }

    #[test]
    fn short_values_get_the_long_form() {
        let s = mint(b"hunter2").unwrap();
        assert!(s.starts_with(FALLBACK_PREFIX.as_bytes()));
        assert_eq!(s.len(), FALLBACK_PREFIX.len() + 26);
        assert_eq!(type_prefix(b"sk-short"), 0);
    }

    #[test]
    fn two_sentinels_differ() {
        let real = b"ghp_0123456789abcdefABCDEF0123456789abcd";
        assert_ne!(mint(real).unwrap(), mint(real).unwrap());
    }
}
