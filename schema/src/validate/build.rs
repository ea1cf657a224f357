//! Building the typed model from a parsed file. Lenient: anything invalid was reported by the
//! checks in the parent module and is skipped here.

use super::*;

fn spanned_bool(root: &Json, key: &str) -> Option<Spanned<bool>> {
    let m = root.get(key)?;
    Some(Spanned::new(m.value.as_bool()?, m.value.span).with_key(m.key.span))
}

fn spanned_u16(root: &Json, key: &str) -> Option<Spanned<u16>> {
    let m = root.get(key)?;
    let n = u16::try_from(m.value.as_i64()?).ok().filter(|&n| n >= 1)?;
    Some(Spanned::new(n, m.value.span).with_key(m.key.span))
}

fn list<T>(obj: &Json, key: &str, item: impl Fn(&Json) -> Option<T>) -> List<T> {
    let m = obj.get(key)?;
    let items = m.value.as_array()?;
    Some(
        Spanned::new(
            items
                .iter()
                .filter_map(|j| Some(Spanned::new(item(j)?, j.span)))
                .collect::<Vec<_>>(),
            m.value.span,
        )
        .with_key(m.key.span),
    )
}

fn path_entry(j: &Json) -> Option<PathEntry> {
    match &j.kind {
        JsonKind::String(s) if !s.is_empty() => Some(PathEntry {
            path: s.clone(),
            literal: false,
        }),
        JsonKind::Object(_) => {
            let path = j.get("path")?.value.as_str().filter(|s| !s.is_empty())?;
            (j.get("literal")?.value.as_bool() == Some(true) && j.members()?.len() == 2).then(
                || PathEntry {
                    path: path.to_string(),
                    literal: true,
                },
            )
        }
        _ => None,
    }
}

fn domain_entry(list: DomainList) -> impl Fn(&Json) -> Option<DomainEntry> {
    move |j| {
        let raw = j.as_str()?;
        Some(DomainEntry {
            raw: raw.to_string(),
            pattern: parse_pattern(raw, list).ok(),
        })
    }
}

fn string_map(obj: &Json) -> Vec<(Spanned<String>, &Json)> {
    obj.members()
        .unwrap_or_default()
        .iter()
        .map(|m| (m.key.clone(), &m.value))
        .collect()
}

/// Keys the model holds as typed fields; every other known key is kept as an [`OtherKey`].
const MODELLED_TOP: [&str; 9] = [
    "network",
    "filesystem",
    "ignoreViolations",
    "enableWeakerNestedSandbox",
    "enableWeakerNetworkIsolation",
    "allowNestedUserNamespaces",
    "allowAppleEvents",
    "allowPty",
    "mandatoryDenySearchDepth",
];
const MODELLED_NETWORK: [&str; 11] = [
    "allowedDomains",
    "deniedDomains",
    "deniedDomainReasons",
    "allowUnixSockets",
    "allowAllUnixSockets",
    "allowLocalBinding",
    "httpProxyPort",
    "socksProxyPort",
    "strictAllowlist",
    "deniedResolvedAddresses",
    "allowMachLookup",
];

pub(super) fn build(root: &Json) -> Settings {
    let mut s = Settings {
        span: root.span,
        ..Settings::default()
    };
    if root.members().is_none() {
        return s;
    }
    // The schema is parsed (for its key lists) only when a key outside the model turns up.
    for m in root.members().unwrap_or_default() {
        let k = m.key.value.as_str();
        if k == "bwrapPath" {
            s.bwrap_path = m
                .value
                .as_str()
                .filter(|p| p.starts_with('/'))
                .map(|p| Spanned::new(p.to_string(), m.value.span).with_key(m.key.span));
        } else if !MODELLED_TOP.contains(&k) && k != "$schema" && known_keys("").contains(&k) {
            push_other(&mut s.other, k.to_string(), m);
        }
    }
    if let Some(m) = root.get("network").filter(|m| m.value.members().is_some()) {
        let n = &m.value;
        let mut net = Network {
            allowed_domains: list(n, "allowedDomains", domain_entry(DomainList::Allow)),
            denied_domains: list(n, "deniedDomains", domain_entry(DomainList::Deny)),
            allow_unix_sockets: list(n, "allowUnixSockets", |j| j.as_str().map(str::to_string)),
            allow_all_unix_sockets: spanned_bool(n, "allowAllUnixSockets"),
            allow_local_binding: spanned_bool(n, "allowLocalBinding"),
            http_proxy_port: spanned_u16(n, "httpProxyPort"),
            socks_proxy_port: spanned_u16(n, "socksProxyPort"),
            strict_allowlist: spanned_bool(n, "strictAllowlist"),
            denied_resolved_addresses: list(n, "deniedResolvedAddresses", |j| {
                parse_ip_range(j.as_str()?)
            }),
            allow_mach_lookup: list(n, "allowMachLookup", |j| j.as_str().map(str::to_string)),
            denied_domain_reasons: Vec::new(),
        };
        if let Some(r) = n.get("deniedDomainReasons") {
            net.denied_domain_reasons = string_map(&r.value)
                .into_iter()
                .filter_map(|(k, v)| Some((k, Spanned::new(v.as_str()?.to_string(), v.span))))
                .collect();
        }
        for nm in n.members().unwrap_or_default() {
            let k = nm.key.value.as_str();
            if !MODELLED_NETWORK.contains(&k) && known_keys("/network").contains(&k) {
                push_other(&mut s.other, format!("network.{k}"), nm);
            }
        }
        s.network = Some(Spanned::new(net, n.span).with_key(m.key.span));
    }
    if let Some(m) = root
        .get("filesystem")
        .filter(|m| m.value.members().is_some())
    {
        let f = &m.value;
        let fs = Filesystem {
            deny_read: list(f, "denyRead", path_entry),
            allow_read: list(f, "allowRead", path_entry),
            allow_write: list(f, "allowWrite", path_entry),
            deny_write: list(f, "denyWrite", path_entry),
            allow_git_config: spanned_bool(f, "allowGitConfig"),
            disabled: spanned_bool(f, "disabled"),
        };
        s.filesystem = Some(Spanned::new(fs, f.span).with_key(m.key.span));
    }
    if let Some(m) = root.get("ignoreViolations") {
        s.ignore_violations = string_map(&m.value)
            .into_iter()
            .filter_map(|(k, v)| {
                let vals = v
                    .as_array()?
                    .iter()
                    .filter_map(|i| Some(Spanned::new(i.as_str()?.to_string(), i.span)))
                    .collect();
                Some((k, vals))
            })
            .collect();
    }
    s.enable_weaker_nested_sandbox = spanned_bool(root, "enableWeakerNestedSandbox");
    s.enable_weaker_network_isolation = spanned_bool(root, "enableWeakerNetworkIsolation");
    s.allow_nested_user_namespaces = spanned_bool(root, "allowNestedUserNamespaces");
    s.allow_apple_events = spanned_bool(root, "allowAppleEvents");
    s.allow_pty = spanned_bool(root, "allowPty");
    s.mandatory_deny_search_depth = root.get("mandatoryDenySearchDepth").and_then(|m| {
        let d = u8::try_from(m.value.as_i64()?)
            .ok()
            .filter(|d| (1..=10).contains(d))?;
        Some(Spanned::new(d, m.value.span).with_key(m.key.span))
    });
    s
}

fn push_other(other: &mut Vec<OtherKey>, path: String, m: &Member) {
    other.push(OtherKey {
        path,
        key: m.key.span,
        value: Spanned::new(m.value.to_value(), m.value.span),
        json: m.value.clone(),
    });
}
