//! Proxy URLs and `NO_PROXY` lists, as the npm srt (and curl, and Go) read them.

use std::fmt;
use std::net::IpAddr;

use srt_schema::domain::Host;

/// A proxy URL: `http://[user[:password]@]host[:port]` or `https://…`; a schemeless
/// `host:port` is read as `http://` (as curl does).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// `https://`: srt speaks TLS to the proxy (verified against the system roots).
    pub tls: bool,
    /// The proxy's host, unbracketed, lowercase.
    pub host: String,
    pub port: u16,
    /// Percent-decoded `user:password`, sent as `Proxy-Authorization: Basic`.
    user: Option<(String, String)>,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ProxyUrl {
    pub fn parse(raw: &str) -> Result<ProxyUrl, String> {
        let raw = raw.trim();
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, r))
                if s.starts_with(|c: char| c.is_ascii_alphabetic())
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
            {
                (s.to_ascii_lowercase(), r)
            }
            _ => ("http".to_string(), raw),
        };
        let tls = match scheme.as_str() {
            "http" => false,
            "https" => true,
            other => {
                return Err(format!(
                    "a {other}:// proxy is not supported (only http:// and https://)"
                ))
            }
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (inside, after) = v6
                .split_once(']')
                .ok_or("unbalanced brackets in the host")?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("junk after the bracketed host")?),
            };
            (inside.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let host = host.to_ascii_lowercase();
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c));
        if !host_ok {
            return Err("the proxy URL has no usable host".into());
        }
        let port = match port {
            None | Some("") => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("port {p:?} is not a number from 1 to 65535"))?,
        };
        let user = userinfo.map(|u| {
            let (name, pw) = u.split_once(':').unwrap_or((u, ""));
            (percent_decode(name), percent_decode(pw))
        });
        Ok(ProxyUrl {
            tls,
            host,
            port,
            user,
        })
    }

    /// `http://***:***@host:port`: what srt prints (never the password).
    pub fn redacted(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let who = if self.user.is_some() { "***:***@" } else { "" };
        format!("{scheme}://{who}{}", self.authority())
    }

    /// `host:port`, IPv6 bracketed.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The credentials in the URL, percent-decoded (for `Proxy-Authorization: Basic`).
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.user.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

/// A `NO_PROXY` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    pub all: bool,
    /// Lowercase suffixes, `.x` or `x` (both cover `x` and its subdomains).
    pub suffixes: Vec<String>,
    pub ranges: Vec<ipnet::IpNet>,
}

impl NoProxy {
    pub fn parse(raw: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
                continue;
            }
            if entry.contains('/') {
                // A malformed range is ignored, not read as a name.
                if let Ok(net) = entry.parse::<ipnet::IpNet>() {
                    out.ranges.push(net.trunc());
                }
                continue;
            }
            let mut v = entry.to_ascii_lowercase();
            if let Some(inside) = v
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .filter(|(_, after)| {
                    after.is_empty()
                        || after
                            .strip_prefix(':')
                            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
                })
                .map(|(inside, _)| inside.to_string())
            {
                v = inside;
            }
            if let Some(rest) = v.strip_prefix("*.") {
                v = format!(".{rest}");
            }
            if let Ok(ip) = v.parse::<IpAddr>() {
                out.ranges.push(ipnet::IpNet::from(ip));
                continue;
            }
            if let Some((h, p)) = v.rsplit_once(':') {
                if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                    v = h.to_string();
                }
            }
            out.suffixes.push(v);
        }
        out
    }

    /// Whether a connection to `host` skips the parent proxy (loopback always does).
    pub fn bypasses(&self, host: &Host) -> bool {
        match host {
            Host::Ip(ip) => {
                ip.is_loopback() || self.all || self.ranges.iter().any(|n| n.contains(ip))
            }
            Host::Name(n) => {
                let h = n.trim_end_matches('.').to_ascii_lowercase();
                h == "localhost"
                    || self.all
                    || self.suffixes.iter().any(|v| match v.strip_prefix('.') {
                        Some(bare) => h == bare || h.ends_with(v.as_str()),
                        None => h == *v || h.ends_with(&format!(".{v}")),
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use srt_schema::domain::canonical_host;

    fn host(s: &str) -> Host {
        canonical_host(s).unwrap()
    }

    #[test]
    fn proxy_urls() {
        let u = ProxyUrl::parse("http://us%40er:p%3Ass@Proxy.Corp:3128/ignored").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port),
            (false, "proxy.corp", 3128)
        );
        assert_eq!(u.credentials(), Some(("us@er", "p:ss")));
        assert_eq!(u.redacted(), "http://***:***@proxy.corp:3128");
        assert!(!format!("{u:?}").contains("p:ss"));
        let u = ProxyUrl::parse("proxy.corp:8080").unwrap();
        assert_eq!((u.tls, u.port, u.credentials()), (false, 8080, None));
        let u = ProxyUrl::parse("https://[::1]").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port), (true, "::1", 443));
        assert_eq!(u.authority(), "[::1]:443");
        assert!(ProxyUrl::parse("socks5://proxy:1080").is_err());
        assert!(ProxyUrl::parse("http://proxy:0").is_err());
        assert!(ProxyUrl::parse("http://").is_err());
        assert!(ProxyUrl::parse("http://a b:1").is_err());
    }

    #[test]
    fn no_proxy_follows_golang_suffix_rules() {
        let n = NoProxy::parse(" example.com, .corp.test, *.wild.test,10.0.0.0/8, 192.0.2.7, [::2]:80, host.test:8080, bad/x ");
        for yes in [
            "example.com",
            "a.example.com",
            "corp.test",
            "x.corp.test",
            "a.wild.test",
            "wild.test",
            "10.1.2.3",
            "192.0.2.7",
            "[::2]",
            "host.test",
            "localhost",
            "127.0.0.5",
            "[::1]",
        ] {
            assert!(n.bypasses(&host(yes)), "{yes}");
        }
        for no in [
            "notexample.com",
            "corp.test.evil",
            "11.0.0.1",
            "192.0.2.8",
            "other.test",
        ] {
            assert!(!n.bypasses(&host(no)), "{no}");
        }
        assert!(NoProxy::parse("*").bypasses(&host("anything.test")));
    }
}
