//! The resolved-address guard: proxy-side policy applied after an allowed *hostname* has been
//! resolved and before anything is dialled.
//!
//! Whoever controls a permitted name's DNS decides what it resolves to, so an allowed name must
//! not lead to this host (loopback, its own interface addresses, the unspecified address),
//! link-local space, cloud metadata endpoints, multicast or broadcast, the IP literals on
//! `deniedDomains`, or the ranges on `network.deniedResolvedAddresses`.
//!
//! The exemption: an address that is itself allowed by an IP-literal entry of `allowedDomains`
//! (with a matching port) may be reached, whoever names it — reaching it by name grants nothing
//! the literal entry does not already grant. Requests for IP literals are never judged here
//! (they were allowed by an explicit literal entry). `localhost` and names under `.localhost`
//! may resolve to loopback (that is what allowing them asks for) and to nothing else.
//!
//! IPv6 forms that deliver to an IPv4 address (mapped, compatible, NAT64 `64:ff9b::/96`, 6to4)
//! are denied when the carried IPv4 address is; they never earn the literal exemption.
//!
//! Every allow/deny question about an address goes to [`Ir::decide_host`]: the guard only adds
//! the fixed address classes and the CIDR list.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use srt_compiler::{HostReason, Ir};
use srt_schema::domain::unmap;

/// A fixed class of addresses no allowed hostname may resolve to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressClass {
    Loopback,
    Unspecified,
    CloudMetadata,
    LinkLocal,
    Multicast,
    Broadcast,
}

impl AddressClass {
    pub fn phrase(self) -> &'static str {
        match self {
            AddressClass::Loopback => "a loopback address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::CloudMetadata => "a cloud metadata address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "the broadcast address",
        }
    }
}

/// Instance-metadata and platform endpoints outside link-local space (169.254.169.254 is
/// link-local and also listed here so the refusal names it).
const METADATA_V4: [(Ipv4Addr, u8); 5] = [
    (Ipv4Addr::new(169, 254, 169, 254), 32), // AWS, GCP (metadata.google.internal), Azure, …
    (Ipv4Addr::new(100, 100, 100, 200), 32), // Alibaba Cloud
    (Ipv4Addr::new(168, 63, 129, 16), 32),   // Azure WireServer
    (Ipv4Addr::new(192, 0, 0, 192), 32),     // Oracle Cloud Classic
    (Ipv4Addr::new(169, 254, 170, 2), 32),   // AWS ECS task metadata
];
const METADATA_V6: [(Ipv6Addr, u8); 6] = [
    (Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0), 32), // AWS (IMDS fd00:ec2::254, …)
    (Ipv6Addr::new(0xfd20, 0x00ce, 0, 0, 0, 0, 0, 0x0254), 128), // Google Cloud
    (
        Ipv6Addr::new(0xfd00, 0x00c1, 0, 0, 0, 0, 0xa9fe, 0xa9fe),
        128,
    ), // Oracle Cloud
    (Ipv6Addr::new(0xfd00, 0x0042, 0, 0, 0, 0, 0, 0x0042), 128), // Scaleway
    (Ipv6Addr::new(0xfd00, 0xa9fe, 0xa9fe, 0, 0, 0, 0, 1), 128), // Akamai / Linode
    (
        Ipv6Addr::new(0xfd00, 0x0100, 0, 0, 0, 0, 0x0100, 0x0200),
        128,
    ), // Alibaba Cloud
];

fn in_v4(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
}

fn in_v6(a: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(a) & mask == u128::from(net) & mask
}

fn classify_one(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(a) => {
            if a.is_loopback() {
                Some(AddressClass::Loopback)
            } else if in_v4(a, Ipv4Addr::UNSPECIFIED, 8) {
                Some(AddressClass::Unspecified)
            } else if METADATA_V4.iter().any(|&(n, l)| in_v4(a, n, l)) {
                Some(AddressClass::CloudMetadata)
            } else if a.is_link_local() {
                Some(AddressClass::LinkLocal)
            } else if a.is_multicast() {
                Some(AddressClass::Multicast)
            } else if a.is_broadcast() {
                Some(AddressClass::Broadcast)
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_loopback() {
                Some(AddressClass::Loopback)
            } else if a.is_unspecified() {
                Some(AddressClass::Unspecified)
            } else if METADATA_V6.iter().any(|&(n, l)| in_v6(a, n, l)) {
                Some(AddressClass::CloudMetadata)
            } else if in_v6(a, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10) {
                Some(AddressClass::LinkLocal)
            } else if a.is_multicast() {
                Some(AddressClass::Multicast)
            } else {
                None
            }
        }
    }
}

/// The IPv4 address an IPv6 address is delivered to: IPv4-mapped and -compatible
/// (`::ffff:0:0/96`, `::/96`), IPv4-translated (`::ffff:0:0:0/96`), NAT64 (`64:ff9b::/96`) and
/// 6to4 (`2002::/16`).
pub fn embedded_ipv4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let g = a.segments();
    let low = Ipv4Addr::new((g[6] >> 8) as u8, g[6] as u8, (g[7] >> 8) as u8, g[7] as u8);
    let zero = |r: std::ops::Range<usize>| g[r].iter().all(|&x| x == 0);
    if g[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (g[1] >> 8) as u8,
            g[1] as u8,
            (g[2] >> 8) as u8,
            g[2] as u8,
        ));
    }
    if (g[0] == 0x64 && g[1] == 0xff9b && zero(2..6))
        || (zero(0..5) && (g[5] == 0 || g[5] == 0xffff))
        || (zero(0..4) && g[4] == 0xffff && g[5] == 0)
    {
        return Some(low);
    }
    None
}

/// The fixed class of `ip`, looking through IPv6 forms that carry an IPv4 address.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    let ip = unmap(ip);
    classify_one(ip).or_else(|| match ip {
        IpAddr::V6(v6) => embedded_ipv4(v6).and_then(|v4| classify_one(IpAddr::V4(v4))),
        IpAddr::V4(_) => None,
    })
}

/// Why the guard refused one resolved address. The order is the order reasons are listed in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuardRefusal {
    /// The address is an IP literal on `deniedDomains` (the rule's description).
    DenyListed(String),
    Class(AddressClass),
    /// In `network.deniedResolvedAddresses` (the entry's description).
    Listed(String),
    OwnAddress,
    /// A `localhost` name resolved to something that is not loopback.
    NotLoopback,
}

impl GuardRefusal {
    pub fn phrase(&self) -> &'static str {
        match self {
            GuardRefusal::DenyListed(_) => "a deny-listed address",
            GuardRefusal::Class(c) => c.phrase(),
            GuardRefusal::Listed(_) => "a listed address",
            GuardRefusal::OwnAddress => "one of this host's addresses",
            GuardRefusal::NotLoopback => "a non-loopback address",
        }
    }

    /// The settings entry behind the refusal, if one is.
    pub fn rule(&self) -> Option<&str> {
        match self {
            GuardRefusal::DenyListed(r) | GuardRefusal::Listed(r) => Some(r),
            _ => None,
        }
    }
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// May the canonical hostname `name` (already allowed by the decision procedure) be reached
/// at the resolved `addr` on `port`? `local` is this host's interface addresses.
pub fn check(
    ir: &Ir,
    name: &str,
    addr: IpAddr,
    port: u16,
    local: &[IpAddr],
) -> Result<(), GuardRefusal> {
    let addr = unmap(addr);
    let carried = match addr {
        IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    let forms = || std::iter::once(addr).chain(carried);
    for ip in forms() {
        let d = ir.decide_host(&ip.to_string(), port);
        if let (HostReason::Denied(_), Some(rule)) = (&d.reason, d.rule) {
            return Err(GuardRefusal::DenyListed(ir.describe(&rule.origin)));
        }
    }
    let d = ir.decide_host(&addr.to_string(), port);
    if d.allowed && d.rule.is_some_and(|r| r.pattern.is_ip_literal()) {
        return Ok(());
    }
    if is_loopback_name(name) {
        return match classify_one(addr) {
            Some(AddressClass::Loopback) => Ok(()),
            _ => Err(GuardRefusal::NotLoopback),
        };
    }
    if let Some(class) = classify(addr) {
        return Err(GuardRefusal::Class(class));
    }
    for ip in forms() {
        if let Some((_, origin)) = ir
            .net
            .denied_resolved_addresses
            .iter()
            .find(|(net, _)| net.contains(&ip))
        {
            return Err(GuardRefusal::Listed(ir.describe(origin)));
        }
    }
    if forms().any(|ip| local.iter().any(|l| unmap(*l) == ip)) {
        return Err(GuardRefusal::OwnAddress);
    }
    Ok(())
}

/// The refusal phrase for a name none of whose addresses passed: `resolved to a loopback
/// address`, or several classes joined with ` / ` in a fixed order.
pub fn refusal_phrase(refusals: &BTreeSet<GuardRefusal>) -> String {
    let mut phrases: Vec<&str> = Vec::new();
    for r in refusals {
        if !phrases.contains(&r.phrase()) {
            phrases.push(r.phrase());
        }
    }
    format!("resolved to {}", phrases.join(" / "))
}

/// This host's interface addresses (empty if they cannot be listed; the fixed classes and
/// loopback still apply).
pub fn local_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ifa in addrs {
        let Some(sa) = ifa.address else { continue };
        if let Some(v4) = sa.as_sockaddr_in() {
            out.push(IpAddr::V4(v4.ip()));
        } else if let Some(v6) = sa.as_sockaddr_in6() {
            out.push(IpAddr::V6(v6.ip()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
