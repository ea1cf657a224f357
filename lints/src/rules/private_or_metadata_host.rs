//! `private-or-metadata-host`: cloud metadata endpoints, loopback and private addresses.

use std::net::IpAddr;

use srt_schema::domain::HostPattern;
use srt_schema::items;

use crate::knowledge::places::{
    EMBEDDED_ADDRESS_DOMAINS, LOOPBACK_DNS_DOMAINS, LOOPBACK_NAMES, METADATA_HOSTS,
};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags allowed destinations inside the machine or its network: cloud metadata endpoints
    /// (`169.254.169.254`, `metadata.google.internal`, ECS and Alibaba endpoints) as errors;
    /// `localhost` and names under it, loopback, link-local, RFC 1918, carrier-grade NAT and IPv6
    /// unique-local literals, and `host.docker.internal`, as warnings. Metadata endpoints are
    /// found by asking the decision procedure, so `169.254.169.254` reached through any entry
    /// counts.
    ///
    /// Names other than `localhost` that resolve to loopback are warnings too, and the finding
    /// says what `srt run` does with them: hosts-file aliases (`localhost.localdomain`,
    /// `ip6-localhost`) and public wildcard-DNS loopback names (`lvh.me`, `*.localtest.me`,
    /// `*.vcap.me`, `127.0.0.1.nip.io`) are refused by its resolved-address guard, so they
    /// allow nothing there (the npm srt lets them reach every port of the machine); `*.nip.io`
    /// and `*.sslip.io` reach any address a name embeds, private networks included, which the
    /// guard lets through.
    ///
    /// ### Why is this bad
    /// A metadata endpoint hands out the machine's cloud credentials to anyone who asks: one
    /// request from the sandbox and they can leave through any allowed host. Loopback and
    /// private addresses reach local services (databases, admin panels, the Docker API over
    /// TCP) that trust their network. srt refuses *names* that resolve to such addresses, but
    /// IP-literal entries are exempt from that guard, so they open exactly what they say; and
    /// `localhost` (or a name under `.localhost`) is allowed to resolve to loopback, so without
    /// a port it opens every port of the host's loopback interface: a Node or Chrome debugger
    /// (9229, 9222) runs code for whoever connects, and databases there often trust loopback.
    /// With a port (`localhost:8080`) only that service is reachable: the narrow form, and a
    /// note rather than a warning.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com", "169.254.169.254", "10.0.0.5"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (a local service, if truly needed, on its port only):
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub PRIVATE_OR_METADATA_HOST {
        code: "private-or-metadata-host",
        level: Deny,
        summary: "a cloud metadata endpoint (error), or a loopback or private address (warning), is allowed",
        check: check,
    }
}

/// `localhost` and the names under `.localhost`, which resolve to loopback.
fn is_loopback_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost")
}

/// What a private address reaches, or `None` for a public one.
/// What a name that resolves inside the machine through DNS reaches: `Some((kind, refused))`,
/// where `refused` says `srt run`'s resolved-address guard refuses it.
fn dns_inside(pattern: &HostPattern) -> Option<(String, bool)> {
    let under = |name: &str, base: &str| name == base || name.ends_with(&format!(".{base}"));
    match pattern {
        HostPattern::Subdomains(b) if b == "localhost" => None,
        HostPattern::Name(n) if LOOPBACK_NAMES.contains(&n.as_str()) => Some((
            "is a hosts-file alias of loopback".to_string(),
            true,
        )),
        HostPattern::Name(n) | HostPattern::Subdomains(n)
            if LOOPBACK_DNS_DOMAINS.iter().any(|d| under(n, d)) =>
        {
            Some(("is a public DNS name for 127.0.0.1".to_string(), true))
        }
        HostPattern::Name(n) => {
            let base = EMBEDDED_ADDRESS_DOMAINS
                .iter()
                .find(|d| n.ends_with(&format!(".{d}")))?;
            let head = &n[..n.len() - base.len() - 1];
            // `app.10.0.0.5.nip.io`, `10-0-0-5.nip.io`: the last four numbers before the domain.
            let numbers: Vec<&str> = head
                .split(['.', '-'])
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let ip: IpAddr = numbers.join(".").parse().ok()?;
            let kind = private_kind(ip)?;
            let refused = !ip_is_private_network(ip);
            Some((format!("is a public DNS name for {ip}, {kind}"), refused))
        }
        HostPattern::Subdomains(b) if EMBEDDED_ADDRESS_DOMAINS.contains(&b.as_str()) => Some((
            format!("reaches every address there is: a name under {b} resolves to the address it embeds (`10.0.0.5.{b}`, `127.0.0.1.{b}`, `169.254.169.254.{b}`)"),
            false,
        )),
        _ => None,
    }
}

/// RFC 1918, carrier-grade NAT and unique-local addresses: the guard lets a name resolve there.
fn ip_is_private_network(ip: IpAddr) -> bool {
    [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    ]
    .iter()
    .filter_map(|n| n.parse::<ipnet::IpNet>().ok())
    .any(|n| n.contains(&ip))
}

fn private_kind(ip: IpAddr) -> Option<String> {
    let in_net = |net: &str| {
        net.parse::<ipnet::IpNet>()
            .is_ok_and(|n: ipnet::IpNet| n.contains(&ip))
    };
    let kind = if ip.is_loopback() {
        "a loopback address: services on this machine"
    } else if ip.is_unspecified() {
        "the unspecified address, which connects to this machine"
    } else if in_net("169.254.0.0/16") || in_net("fe80::/10") {
        "a link-local address"
    } else if in_net("10.0.0.0/8") || in_net("172.16.0.0/12") || in_net("192.168.0.0/16") {
        "a private (RFC 1918) address: services on the local network"
    } else if in_net("100.64.0.0/10") {
        "a carrier-grade NAT address (also used by VPN meshes)"
    } else if in_net("fc00::/7") {
        "an IPv6 unique-local address: services on the local network"
    } else {
        return None;
    };
    Some(kind.to_string())
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut reported = Vec::new();
    for (host, what) in METADATA_HOSTS {
        let d = ctx.host(host, 80);
        let Some(rule) = d.rule.filter(|_| d.allowed) else {
            continue;
        };
        let Some(span) = rule.origin.span() else {
            continue;
        };
        reported.push(span);
        let target = if rule.raw == *host {
            format!("`{host}` is {what}")
        } else {
            format!("`{}` reaches {host}, {what}", rule.raw)
        };
        let diag = out
            .diag(format!("{target}: it hands out this machine's cloud credentials"))
            .with_label(span, "reaches the metadata endpoint")
            .with_help("remove it: nothing in a build needs the instance's credentials, and whatever it fetches can leave through any allowed host");
        out.emit_at(Level::Deny, diag);
    }
    let Some(net) = ctx.settings.network() else {
        return;
    };
    for entry in items(&net.allowed_domains) {
        if reported.contains(&entry.span) {
            continue;
        }
        let Some(pattern) = &entry.value.pattern else {
            continue;
        };
        if let Some((kind, refused)) = dns_inside(&pattern.host) {
            let (message, help) = if refused {
                (
                    format!("`{}` {kind}: `srt run`'s resolved-address guard refuses it, so it allows nothing there, while the npm srt lets it reach this machine (every port of it)", entry.value.raw),
                    "for a local service write `localhost:PORT`: the guard lets `localhost` reach loopback, and the port keeps it to that service".to_string(),
                )
            } else {
                (
                    format!("`{}` {kind}", entry.value.raw),
                    "`srt run`'s resolved-address guard refuses loopback, link-local and metadata addresses, but not private networks (10.0.0.0/8, 192.168.0.0/16, …), whose services often trust their network; allow the exact host the job needs".to_string(),
                )
            };
            let diag = out
                .diag(message)
                .with_label(entry.span, "resolves inside the machine or its network")
                .with_help(help);
            out.emit_at(Level::Warn, diag);
            continue;
        }
        let loopback_name = matches!(&pattern.host, HostPattern::Name(n) if is_loopback_name(n));
        let loopback_ip = matches!(&pattern.host, HostPattern::Ip(ip) if ip.is_loopback());
        let kind = match &pattern.host {
            HostPattern::Ip(_) if loopback_ip && pattern.port.is_none() => {
                Some("a loopback address of this machine, every port of it".to_string())
            }
            HostPattern::Ip(ip) => private_kind(*ip),
            // The guard refuses names that resolve to loopback, but a `localhost` entry asks
            // for loopback: it is allowed to resolve there.
            HostPattern::Name(_) if loopback_name => Some(match pattern.port {
                None => "this machine's loopback interface, every port of it".to_string(),
                Some(p) => format!("the service on port {p} of this machine"),
            }),
            HostPattern::Name(n) if n.parse::<IpAddr>().is_ok() => {
                n.parse::<IpAddr>().ok().and_then(private_kind)
            }
            HostPattern::Name(n) if n.ends_with("docker.internal") => {
                Some("the Docker host machine from inside a container".to_string())
            }
            _ => None,
        };
        let Some(kind) = kind else { continue };
        let opens = if (loopback_name || loopback_ip) && pattern.port.is_none() {
            ": whatever listens there is reachable from the sandbox, such as a Node or Chrome debugger (9229, 9222, which run code for whoever connects), a database (PostgreSQL 5432, MySQL 3306, Redis 6379) or a dev server's admin API"
        } else {
            ""
        };
        let port_help = match (pattern.port, loopback_name) {
            (Some(_), _) => {
                "make sure the service on that port authenticates its clients".to_string()
            }
            (None, true) => format!(
                "allow only the port the command needs, such as `{}:8080`, and make sure that service authenticates its clients",
                entry.value.raw.trim_end_matches('.')
            ),
            (None, false) => "if a local service is truly needed, allow only its port (`host:port`) and make sure it authenticates its clients".to_string(),
        };
        let diag = out
            .diag(format!("`{}` is {kind}{opens}", entry.value.raw))
            .with_label(entry.span, "inside the machine or its network")
            .with_help(format!("local services often trust their network, so the sandbox can reach them without credentials (SSRF); {port_help}"));
        // `localhost:PORT` is the narrow form this lint recommends: a note, not a warning.
        let level = if loopback_name && pattern.port.is_some() {
            Level::Note
        } else {
            Level::Warn
        };
        out.emit_at(level, diag);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "private-or-metadata-host";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["api.anthropic.com", "8.8.8.8", "[2001:db8::1]:443"], "deniedDomains": []}}"#,
            r#"{"network": {"allowedDomains": ["*.internal.example.com"], "deniedDomains": ["169.254.169.254"]}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "metadata endpoints are errors",
                r#"{"network": {"allowedDomains": ["169.254.169.254", "metadata.google.internal:80"], "deniedDomains": []}}"#,
            ),
            (
                "loopback and private ranges are warnings",
                r#"{"network": {"allowedDomains": ["localhost", "127.0.0.1:5432", "10.1.2.3", "192.168.1.10", "[::1]", "[fd00::5]", "host.docker.internal"], "deniedDomains": []}}"#,
            ),
            (
                "localhost with a port opens that port only",
                r#"{"network": {"allowedDomains": ["localhost:8080", "app.localhost"], "deniedDomains": []}}"#,
            ),
            (
                "loopback names beyond localhost, and names that embed an address",
                r#"{"network": {"allowedDomains": ["localhost.localdomain", "lvh.me", "*.localtest.me", "app.127.0.0.1.nip.io", "10-0-0-5.sslip.io", "*.nip.io"], "deniedDomains": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
