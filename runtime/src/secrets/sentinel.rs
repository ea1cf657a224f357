//! Sentinels: what the sandbox sees in place of a masked secret.
//!
//! A sentinel has the shape clients check where it can: the same length, the same public
//! type prefix (`ghp_`, `github_pat_`, `sk-ant-api03-`, `xoxb-`, `AKIA`, …), and at each
//! other position a random character of the same class (lower case, upper case, digit), with
//! punctuation kept where it stands. What it carries of the secret is its length, its prefix
//! and where its punctuation is; every letter and digit is fresh randomness from the OS. A
//! value too short to hold 64 random bits in that shape gets a longer sentinel
//! (`fake_value_` and 26 random characters, 134 bits) instead, whose length then differs.

use std::io;

/// The fallback sentinel's prefix (the npm srt's).
pub const FALLBACK_PREFIX: &str = "fake_value_";
/// Fewer random bits than this in the shaped form, and the fallback is used.
const MIN_BITS: f64 = 64.0;
/// AWS access key id prefixes (`AKIA…`, 20 characters).
const AWS_KEY_PREFIXES: [&str; 8] = [
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA",
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

/// The public type prefix kept from `real`: an AWS key id's four letters, or a run of
/// lower-case words each ended by `_` or `-` within the first 16 bytes, when at least 16
/// bytes follow it.
fn type_prefix(real: &[u8]) -> usize {
    if real.len() == 20
        && AWS_KEY_PREFIXES
            .iter()
            .any(|p| real.starts_with(p.as_bytes()))
    {
        return 4;
    }
    let mut end = 0;
    for (i, &b) in real.iter().enumerate().take(16) {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => {}
            b'_' | b'-' if i > 0 => end = i + 1,
            _ => break,
        }
    }
    if real.len() - end >= 16 {
        end
    } else {
        0
    }
}

/// A sentinel for `real`, shaped like it where that leaves at least 64 random bits.
pub fn mint(real: &[u8]) -> io::Result<Vec<u8>> {
    let keep = type_prefix(real);
    let mut bits = 0.0;
    for &b in &real[keep..] {
        bits += match b {
            b'a'..=b'z' | b'A'..=b'Z' => 26f64.log2(),
            b'0'..=b'9' => 10f64.log2(),
            _ => 0.0,
        };
    }
    if bits < MIN_BITS {
        let mut out = FALLBACK_PREFIX.as_bytes().to_vec();
        out.extend(pick(LOWER_DIGIT, 26)?);
        return Ok(out);
    }
    let mut out = real[..keep].to_vec();
    for &b in &real[keep..] {
        let class = match b {
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            b'0'..=b'9' => DIGIT,
            _ => {
                // Punctuation stays; bytes a client would not expect in a token become
                // letters (they only occur in values that are not tokens).
                if b.is_ascii_graphic() {
                    out.push(b);
                } else {
                    out.extend(pick(LOWER, 1)?);
                }
                continue;
            }
        };
        out.extend(pick(class, 1)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn shape(s: &[u8]) -> String {
        s.iter()
            .map(|b| match b {
                b'a'..=b'z' => 'a',
                b'A'..=b'Z' => 'A',
                b'0'..=b'9' => '9',
                _ => char::from(*b),
            })
            .collect()
    }

    #[test]
    fn keeps_prefix_length_and_classes() {
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
            assert_eq!(shape(&s), shape(real));
            assert_ne!(s, real);
        }
    }

    #[test]
    fn short_values_get_the_long_form() {
        let s = mint(b"hunter2").unwrap();
        assert!(s.starts_with(FALLBACK_PREFIX.as_bytes()));
        assert_eq!(s.len(), FALLBACK_PREFIX.len() + 26);
        // A lower-case word is no type prefix when little follows it.
        assert_eq!(type_prefix(b"my-secret-password"), 0);
    }

    #[test]
    fn two_sentinels_differ() {
        let real = b"ghp_0123456789abcdefABCDEF0123456789abcd";
        assert_ne!(mint(real).unwrap(), mint(real).unwrap());
    }
}
