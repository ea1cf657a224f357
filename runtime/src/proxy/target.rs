//! Splitting a requested authority (`host:port`, `[v6]:port`) into host and port, strictly.
//!
//! Only the *shape* is checked here; whether the host is a valid host is the decision
//! procedure's business ([`srt_compiler::Ir::decide_host`] canonicalises and refuses malformed
//! hosts). Anything that could make two parsers disagree about the destination is refused:
//! userinfo (`user@host`), more than one `:` outside brackets, a port that is not 1–65535.

use std::fmt;

/// A destination as the client spelled it (brackets removed from IPv6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// Why an authority was refused (answered 400 / SOCKS general failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetError {
    Empty,
    Userinfo,
    MissingPort,
    BadPort,
    ExtraColon,
    BadBrackets,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetError::Empty => "empty target",
            TargetError::Userinfo => "userinfo (user@) in the target",
            TargetError::MissingPort => "the target has no port",
            TargetError::BadPort => "the port is not a number from 1 to 65535",
            TargetError::ExtraColon => "more than one `:` in the target (bracket IPv6 addresses)",
            TargetError::BadBrackets => "unbalanced brackets in the target",
        })
    }
}

/// Splits `authority`. `default_port` is used when no port is written (absolute-form URLs);
/// `None` makes the port mandatory (CONNECT).
pub fn parse_authority(authority: &str, default_port: Option<u16>) -> Result<Target, TargetError> {
    if authority.is_empty() {
        return Err(TargetError::Empty);
    }
    if authority.contains('@') {
        return Err(TargetError::Userinfo);
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or(TargetError::BadBrackets)?;
        if inside.contains(['[', ']']) {
            return Err(TargetError::BadBrackets);
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(TargetError::BadBrackets)?),
        };
        (inside, port)
    } else {
        if authority.contains(['[', ']']) {
            return Err(TargetError::BadBrackets);
        }
        match authority.split_once(':') {
            Some((_, p)) if p.contains(':') => return Err(TargetError::ExtraColon),
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(TargetError::Empty);
    }
    let port = match (port, default_port) {
        (Some(p), _) => parse_port(p)?,
        (None, Some(d)) => d,
        (None, None) => return Err(TargetError::MissingPort),
    };
    Ok(Target {
        host: host.to_string(),
        port,
    })
}

fn parse_port(p: &str) -> Result<u16, TargetError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError::BadPort);
    }
    p.parse::<u16>()
        .ok()
        .filter(|&n| n != 0)
        .ok_or(TargetError::BadPort)
}

/// Text from a client made safe to print on one terminal line: control and other
/// non-printing characters are escaped, and the length is capped.
pub fn printable(raw: &str) -> String {
    const MAX: usize = 300;
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i >= MAX {
            out.push('…');
            break;
        }
        if c.is_ascii_graphic() || (c.is_alphanumeric() && !c.is_control()) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(host: &str, port: u16) -> Result<Target, TargetError> {
        Ok(Target {
            host: host.into(),
            port,
        })
    }

    #[test]
    fn authorities() {
        use TargetError::*;
        let cases: &[(&str, Option<u16>, Result<Target, TargetError>)] = &[
            ("example.com:443", None, t("example.com", 443)),
            ("example.com", Some(80), t("example.com", 80)),
            ("example.com", None, Err(MissingPort)),
            ("example.com:", None, Err(BadPort)),
            ("example.com:0", None, Err(BadPort)),
            ("example.com:65536", None, Err(BadPort)),
            ("example.com:+443", None, Err(BadPort)),
            ("example.com:44 3", None, Err(BadPort)),
            ("example.com:443:1", None, Err(ExtraColon)),
            ("::1", None, Err(ExtraColon)),
            ("[::1]:8080", None, t("::1", 8080)),
            ("[::1]", Some(80), t("::1", 80)),
            ("[::1]x", None, Err(BadBrackets)),
            ("[::1", None, Err(BadBrackets)),
            ("a]:1", None, Err(BadBrackets)),
            ("user@evil.com:443", None, Err(Userinfo)),
            ("allowed.com@evil.com:443", None, Err(Userinfo)),
            ("user:pw@evil.com", Some(80), Err(Userinfo)),
            ("", None, Err(Empty)),
            (":443", None, Err(Empty)),
            ("[]:443", None, Err(Empty)),
            // Characters are the decision procedure's business, not this parser's.
            ("a\0b.com:443", None, t("a\0b.com", 443)),
            ("[fe80::1%eth0]:80", None, t("fe80::1%eth0", 80)),
        ];
        for (input, default, want) in cases {
            assert_eq!(&parse_authority(input, *default), want, "{input:?}");
        }
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\0b\r\nc"), "a\\u{0}b\\r\\nc");
        assert_eq!(printable("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(printable("ok.example.com"), "ok.example.com");
        assert_eq!(printable(&"x".repeat(400)).chars().count(), 301);
    }
}
