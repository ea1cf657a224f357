use std::net::{IpAddr, Ipv4Addr};

use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};

use super::*;

pub(crate) fn ir(json: &str) -> Ir {
    let loaded = srt_schema::load_str(".srt.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/p".into(),
        home: "/h".into(),
        settings_path: None,
    };
    resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &FakeFs::new(),
    )
    .0
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn address_classes() {
    use AddressClass::*;
    let table: &[(&str, Option<AddressClass>)] = &[
        ("127.0.0.1", Some(Loopback)),
        ("127.255.0.9", Some(Loopback)),
        ("::1", Some(Loopback)),
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("0.0.0.0", Some(Unspecified)),
        ("0.1.2.3", Some(Unspecified)),
        ("::", Some(Unspecified)),
        ("169.254.169.254", Some(CloudMetadata)),
        ("100.100.100.200", Some(CloudMetadata)),
        ("168.63.129.16", Some(CloudMetadata)),
        ("fd00:ec2::254", Some(CloudMetadata)),
        ("fd00:ec2::23", Some(CloudMetadata)),
        ("fd20:ce::254", Some(CloudMetadata)),
        ("169.254.1.1", Some(LinkLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("febf::1", Some(LinkLocal)),
        ("224.0.0.1", Some(Multicast)),
        ("239.255.255.250", Some(Multicast)),
        ("ff02::1", Some(Multicast)),
        ("255.255.255.255", Some(Broadcast)),
        // IPv6 forms carrying an IPv4 address are judged by that address.
        ("64:ff9b::7f00:1", Some(Loopback)),
        ("2002:7f00:1::", Some(Loopback)),
        ("::ffff:0:a9fe:a9fe", Some(CloudMetadata)),
        ("::169.254.169.254", Some(CloudMetadata)),
        // Ordinary unicast, private ranges included (those are opt-in via
        // deniedResolvedAddresses).
        ("93.184.216.34", None),
        ("10.0.0.1", None),
        ("192.168.1.1", None),
        ("100.64.0.1", None),
        ("fec0::1", None),
        ("fd00:ec3::254", None),
        ("2606:4700::1111", None),
        ("64:ff9b::5db8:d822", None),
    ];
    for (addr, want) in table {
        assert_eq!(classify(ip(addr)), *want, "{addr}");
    }
}

#[test]
fn embedded_forms() {
    let e = |s: &str| match ip(s) {
        IpAddr::V6(v6) => embedded_ipv4(v6),
        IpAddr::V4(_) => None,
    };
    assert_eq!(e("::ffff:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e("::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e("::ffff:0:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e("64:ff9b::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e("2002:102:304::1"), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(e("64:ff9b:1::1.2.3.4"), None);
    assert_eq!(e("2001:db8::1"), None);
}

const POLICY: &str = r#"{
  "network": {
    "allowedDomains": ["allowed.test", "*.allowed.test", "localhost", "app.localhost",
                       "127.0.0.1:8080", "[::1]:9090", "10.9.9.9"],
    "deniedDomains": ["10.6.6.6", "[2001:db8::66]:443"],
    "deniedResolvedAddresses": ["10.0.0.0/8", "fc00::/7"]
  },
  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}
}"#;

#[test]
fn guard_rules() {
    let ir = ir(POLICY);
    let local = [ip("192.0.2.7"), ip("2001:db8::7")];
    let g = |name: &str, addr: &str, port: u16| check(&ir, name, ip(addr), port, &local);
    use GuardRefusal::*;

    // Public addresses pass.
    assert_eq!(g("allowed.test", "93.184.216.34", 443), Ok(()));
    assert_eq!(g("allowed.test", "2606:4700::1111", 443), Ok(()));
    // The fixed classes.
    assert_eq!(
        g("allowed.test", "127.0.0.1", 443),
        Err(Class(AddressClass::Loopback))
    );
    assert_eq!(
        g("x.allowed.test", "169.254.169.254", 80),
        Err(Class(AddressClass::CloudMetadata))
    );
    assert_eq!(
        g("allowed.test", "::ffff:127.0.0.1", 80),
        Err(Class(AddressClass::Loopback))
    );
    // An address allowed by an IP-literal entry is exempt, port included.
    assert_eq!(g("allowed.test", "127.0.0.1", 8080), Ok(()));
    assert_eq!(g("allowed.test", "::ffff:127.0.0.1", 8080), Ok(()));
    assert_eq!(g("allowed.test", "::1", 9090), Ok(()));
    assert_eq!(
        g("allowed.test", "::1", 9091),
        Err(Class(AddressClass::Loopback))
    );
    // …but not through a form that merely carries it.
    assert_eq!(
        g("allowed.test", "64:ff9b::7f00:1", 8080),
        Err(Class(AddressClass::Loopback))
    );
    // deniedResolvedAddresses, with the entry named; the literal allow still wins.
    let listed = g("allowed.test", "10.1.2.3", 443).unwrap_err();
    assert!(
        matches!(&listed, Listed(r) if r.starts_with("network.deniedResolvedAddresses[0] (.srt.json:")),
        "{listed:?}"
    );
    assert_eq!(g("allowed.test", "10.9.9.9", 443), Ok(()));
    assert!(matches!(g("allowed.test", "fd12::1", 443), Err(Listed(_))));
    assert!(matches!(
        g("allowed.test", "64:ff9b::a01:203", 443),
        Err(Listed(_))
    ));
    // IP literals on deniedDomains are refused by name too, before the exemption.
    let denied = g("allowed.test", "10.6.6.6", 443).unwrap_err();
    assert!(
        matches!(&denied, DenyListed(r) if r.starts_with("network.deniedDomains[0]")),
        "{denied:?}"
    );
    assert!(matches!(
        g("allowed.test", "2001:db8::66", 443),
        Err(DenyListed(_))
    ));
    assert_eq!(g("allowed.test", "2001:db8::66", 80), Ok(()));
    // This host's own addresses.
    assert_eq!(g("allowed.test", "192.0.2.7", 443), Err(OwnAddress));
    assert_eq!(g("allowed.test", "2001:db8::7", 443), Err(OwnAddress));
    // localhost names: loopback only.
    assert_eq!(g("localhost", "127.0.0.1", 5432), Ok(()));
    assert_eq!(g("app.localhost", "::1", 80), Ok(()));
    assert_eq!(g("localhost", "93.184.216.34", 80), Err(NotLoopback));
    assert_eq!(g("localhost", "169.254.169.254", 80), Err(NotLoopback));
}

#[test]
fn refusal_phrases_are_ordered() {
    let mut set = BTreeSet::new();
    set.insert(GuardRefusal::OwnAddress);
    set.insert(GuardRefusal::Class(AddressClass::LinkLocal));
    set.insert(GuardRefusal::Class(AddressClass::Loopback));
    set.insert(GuardRefusal::Class(AddressClass::Loopback));
    assert_eq!(
        refusal_phrase(&set),
        "resolved to a loopback address / a link-local address / one of this host's addresses"
    );
}

#[test]
fn local_addresses_include_loopback() {
    let addrs = local_addresses();
    assert!(addrs.contains(&ip("127.0.0.1")), "{addrs:?}");
}
