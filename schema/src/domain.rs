//! Network destinations: the domain-pattern grammar of `allowedDomains`/`deniedDomains`, and
//! the canonical form of a requested host.
//!
//! Patterns follow the npm srt 0.0.83 grammar (`domain-pattern.js`), with the stricter checks
//! srt adds: no control characters, spaces, empty labels or non-punycode non-ASCII. Requested
//! hosts are canonicalised once, the way the WHATWG URL parser does it (lowercase, one trailing
//! dot dropped, `127.1`/`2130706433`/`0x7f.0.0.1` → `127.0.0.1`, IPv4-mapped IPv6 → IPv4),
//! before any pattern is compared.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which list an entry sits in: deny lists also accept a bare `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainList {
    Allow,
    Deny,
}

/// The host part of a pattern, canonical.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostPattern {
    /// `*` (deny lists only): every host.
    Any,
    /// `*.base`: strict subdomains of `base`, never `base` itself, never an IP literal.
    Subdomains(String),
    /// A name, lowercased.
    Name(String),
    /// An IP literal (IPv6 written bracketed in the file).
    Ip(IpAddr),
}

/// One parsed entry of `allowedDomains`/`deniedDomains`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainPattern {
    pub host: HostPattern,
    /// `None` matches every port.
    pub port: Option<u16>,
}

/// A requested destination host after canonicalisation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(IpAddr::V4(a)) => write!(f, "{a}"),
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Any => f.write_str("*"),
            HostPattern::Subdomains(b) => write!(f, "*.{b}"),
            HostPattern::Name(n) => f.write_str(n),
            HostPattern::Ip(IpAddr::V4(a)) => write!(f, "{a}"),
            HostPattern::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
        }
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

impl DomainPattern {
    /// Does this pattern match a canonical host on `port`?
    pub fn matches(&self, host: &Host, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (&self.host, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::Subdomains(base), Host::Name(name)) => name
                .strip_suffix(base.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
            (HostPattern::Name(p), Host::Name(name)) => p == name,
            (HostPattern::Name(p), Host::Ip(ip)) => p == &ip.to_string(),
            (HostPattern::Ip(p), Host::Ip(ip)) => p == ip,
            _ => false,
        }
    }

    /// True when the pattern names an IP literal (exempt from the resolved-address guard).
    pub fn is_ip_literal(&self) -> bool {
        match &self.host {
            HostPattern::Ip(_) => true,
            HostPattern::Name(n) => n.parse::<Ipv4Addr>().is_ok(),
            _ => false,
        }
    }
}

/// Why a pattern is rejected. Each message says what is wrong; `help` says what to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainPatternError {
    Empty,
    Scheme { host: String },
    Path { host: String },
    BareWildcard,
    WildcardPlacement,
    WildcardTooBroad { base: String },
    NoDot,
    EdgeDot,
    EmptyLabel,
    BadPort { port: String },
    UnbracketedIpv6,
    BadBracketedIpv6,
    Whitespace,
    ControlCharacter,
    NonAscii { punycode: Option<String> },
    BadCharacter { ch: char },
    TooLong,
}

impl DomainPatternError {
    pub fn message(&self) -> String {
        use DomainPatternError::*;
        match self {
            Empty => "empty domain pattern".into(),
            Scheme { .. } => "a domain pattern is a host, not a URL".into(),
            Path { .. } => "a domain pattern cannot contain a path".into(),
            BareWildcard => {
                "a bare `*` would allow every host; it is accepted only in deniedDomains".into()
            }
            WildcardPlacement => {
                "`*` is allowed only as a whole leading label, as in `*.example.com`".into()
            }
            WildcardTooBroad { base } => {
                format!("`*.{base}` is too broad: the part after `*.` must contain a dot")
            }
            NoDot => {
                "a domain pattern must contain a dot (or be `localhost` or an IP literal)".into()
            }
            EdgeDot => "a domain pattern cannot start or end with a dot".into(),
            EmptyLabel => "a domain pattern cannot contain an empty label (`..`)".into(),
            BadPort { port } => {
                format!("`{port}` is not a port: write 1-65535, without leading zeros")
            }
            UnbracketedIpv6 => "an IPv6 literal must be bracketed".into(),
            BadBracketedIpv6 => "not a valid bracketed IPv6 literal".into(),
            Whitespace => "a domain pattern cannot contain spaces".into(),
            ControlCharacter => "a domain pattern cannot contain control characters".into(),
            NonAscii { .. } => "non-ASCII host names must be written in punycode".into(),
            BadCharacter { ch } => {
                format!("`{}` cannot appear in a host name", ch.escape_default())
            }
            TooLong => "a host name is at most 253 characters, each label at most 63".into(),
        }
    }

    pub fn help(&self) -> Option<String> {
        use DomainPatternError::*;
        Some(match self {
            Scheme { host } | Path { host } if !host.is_empty() => {
                format!("write just the host: \"{host}\"")
            }
            BareWildcard => {
                "to allow everything, srt is the wrong tool; list the hosts the command needs"
                    .into()
            }
            WildcardPlacement => {
                "write `*.example.com` to allow every subdomain of example.com".into()
            }
            WildcardTooBroad { .. } => "list the hosts you need, e.g. `*.example.com`".into(),
            UnbracketedIpv6 => {
                "write it as `[2001:db8::1]`, or `[2001:db8::1]:443` with a port".into()
            }
            NonAscii { punycode: Some(p) } => format!("write \"{p}\""),
            _ => return None,
        })
    }
}

/// Parses one entry of `allowedDomains` (`list = Allow`) or `deniedDomains` (`Deny`).
pub fn parse_pattern(raw: &str, list: DomainList) -> Result<DomainPattern, DomainPatternError> {
    use DomainPatternError::*;
    if raw.is_empty() {
        return Err(Empty);
    }
    if raw.chars().any(char::is_control) {
        return Err(ControlCharacter);
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(Whitespace);
    }
    if let Some((_, rest)) = raw.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("").to_string();
        return Err(Scheme { host });
    }
    if raw.contains('/') {
        let host = raw.split('/').next().unwrap_or("").to_string();
        return Err(Path { host });
    }
    // Bracketed IPv6, with an optional port.
    if let Some(inner) = raw.strip_prefix('[') {
        let (addr, after) = inner.split_once(']').ok_or(BadBracketedIpv6)?;
        let port = match after {
            "" => None,
            p => Some(parse_port(p.strip_prefix(':').ok_or(BadBracketedIpv6)?)?),
        };
        let addr = addr.split('%').next().unwrap_or(addr); // a zone is dropped, as the peer does
        let ip: Ipv6Addr = addr.parse().map_err(|_| BadBracketedIpv6)?;
        return Ok(DomainPattern {
            host: HostPattern::Ip(unmap(IpAddr::V6(ip))),
            port,
        });
    }
    let colons = raw.matches(':').count();
    if colons >= 2 {
        return Err(UnbracketedIpv6);
    }
    let (host, port) = match raw.rsplit_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (raw, None),
    };
    if !host.is_ascii() {
        let punycode = idna::domain_to_ascii(host).ok().filter(|p| p != host);
        return Err(NonAscii { punycode });
    }
    let host = host.to_ascii_lowercase();
    if host == "*" {
        return match list {
            DomainList::Deny => Ok(DomainPattern {
                host: HostPattern::Any,
                port,
            }),
            DomainList::Allow => Err(BareWildcard),
        };
    }
    if let Some(base) = host.strip_prefix("*.") {
        if base.contains('*') && !base.starts_with("*.") {
            return Err(WildcardPlacement);
        }
        check_name(base)?;
        if !base.contains('.') {
            return Err(WildcardTooBroad {
                base: base.to_string(),
            });
        }
        return Ok(DomainPattern {
            host: HostPattern::Subdomains(base.to_string()),
            port,
        });
    }
    if host.contains('*') {
        return Err(WildcardPlacement);
    }
    if host == "localhost" {
        return Ok(DomainPattern {
            host: HostPattern::Name(host),
            port,
        });
    }
    check_name(&host)?;
    if !host.contains('.') {
        return Err(NoDot);
    }
    Ok(DomainPattern {
        host: HostPattern::Name(host),
        port,
    })
}

/// Characters and label shape of a (lowercase, ASCII) name. `*` labels are allowed only in the
/// leading position, which the caller has already stripped; `*.*.x` keeps a literal `*` label
/// that matches no real host, as in the peer.
fn check_name(name: &str) -> Result<(), DomainPatternError> {
    use DomainPatternError::*;
    if name.starts_with('.') || name.ends_with('.') {
        return Err(EdgeDot);
    }
    if name.len() > 253 {
        return Err(TooLong);
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty() {
            return Err(EmptyLabel);
        }
        if label.len() > 63 {
            return Err(TooLong);
        }
        if label == "*" && i == 0 {
            continue;
        }
        if let Some(ch) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(if ch == '*' {
                WildcardPlacement
            } else {
                BadCharacter { ch }
            });
        }
    }
    Ok(())
}

fn parse_port(p: &str) -> Result<u16, DomainPatternError> {
    let bad = || DomainPatternError::BadPort {
        port: p.to_string(),
    };
    if p.is_empty() || p.len() > 5 || p.starts_with('0') || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    p.parse::<u16>().ok().filter(|&n| n >= 1).ok_or_else(bad)
}

/// Why a requested host is refused before any rule is consulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MalformedHost {
    Empty,
    TooLong,
    /// NUL, CR, LF, other control characters, space, `%` or another character no host has.
    BadCharacter(char),
    EmptyLabel,
    BadIp,
}

impl fmt::Display for MalformedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedHost::Empty => f.write_str("empty host"),
            MalformedHost::TooLong => f.write_str("host name too long"),
            MalformedHost::BadCharacter(c) => write!(f, "character {:?} in host", c),
            MalformedHost::EmptyLabel => f.write_str("empty label in host"),
            MalformedHost::BadIp => f.write_str("not a valid IP address"),
        }
    }
}

/// Canonicalises a requested host: the one spelling every rule is compared against.
///
/// Accepts a name, an IPv4 address in any WHATWG spelling, or an IPv6 address with or without
/// brackets. IPv4-mapped IPv6 becomes IPv4.
pub fn canonical_host(raw: &str) -> Result<Host, MalformedHost> {
    if raw.is_empty() {
        return Err(MalformedHost::Empty);
    }
    if raw.len() > 255 {
        return Err(MalformedHost::TooLong);
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')))
    {
        return Err(MalformedHost::BadCharacter(c));
    }
    let bracketed = raw.starts_with('[');
    let unbracketed = match raw.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or(MalformedHost::BadIp)?,
        None => raw,
    };
    if bracketed || unbracketed.contains(':') {
        let ip: Ipv6Addr = unbracketed.parse().map_err(|_| MalformedHost::BadIp)?;
        return Ok(Host::Ip(unmap(IpAddr::V6(ip))));
    }
    if unbracketed.contains(['[', ']']) {
        return Err(MalformedHost::BadCharacter('['));
    }
    let lower = unbracketed.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return Err(MalformedHost::EmptyLabel);
    }
    if let Some(v4) = whatwg_ipv4(name)? {
        return Ok(Host::Ip(IpAddr::V4(v4)));
    }
    if name.len() > 253 || name.split('.').any(|l| l.len() > 63) {
        return Err(MalformedHost::TooLong);
    }
    Ok(Host::Name(name.to_string()))
}

/// The WHATWG "ends in a number" rule: if the last label is numeric, the whole host must parse
/// as IPv4 (1–4 parts, each decimal, `0x` hex or leading-zero octal) or it is invalid.
fn whatwg_ipv4(name: &str) -> Result<Option<Ipv4Addr>, MalformedHost> {
    let parts: Vec<&str> = name.split('.').collect();
    let last = parts.last().copied().unwrap_or("");
    let last_is_number =
        last.bytes().all(|b| b.is_ascii_digit()) || parse_ipv4_part(last).is_some();
    if !last_is_number {
        return Ok(None);
    }
    if parts.len() > 4 {
        return Err(MalformedHost::BadIp);
    }
    let nums: Vec<u64> = parts
        .iter()
        .map(|p| parse_ipv4_part(p).ok_or(MalformedHost::BadIp))
        .collect::<Result<_, _>>()?;
    let (init, tail) = nums.split_at(nums.len() - 1);
    if init.iter().any(|&n| n > 255) {
        return Err(MalformedHost::BadIp);
    }
    let tail = tail[0];
    if tail >= 256u64.pow(5 - nums.len() as u32) {
        return Err(MalformedHost::BadIp);
    }
    let mut value = tail;
    for (i, n) in init.iter().enumerate() {
        value += n << (8 * (3 - i));
    }
    u32::try_from(value)
        .map(|v| Some(Ipv4Addr::from(v)))
        .map_err(|_| MalformedHost::BadIp)
}

fn parse_ipv4_part(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return Some(0); // "0x" alone is zero in WHATWG
    }
    if digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
