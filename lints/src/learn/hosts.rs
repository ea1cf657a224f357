//! Network refusals → `allowedDomains` candidates. Exact names first; a wildcard only when
//! several siblings under one registrable domain were refused, never over a public suffix
//! (the vendored Public Suffix List decides); a port is kept unless it is 443 or 80 (an entry
//! without a port allows every port, as in the npm srt).

use std::collections::{BTreeMap, BTreeSet};

use srt_compiler::Ir;

use super::known;
use super::refusal::destination;
use super::settle::Candidate;
use super::{LearnInput, List, Subject};
use crate::psl;

/// Distinct names under one parent domain before a wildcard is proposed for them.
pub(super) const WILDCARD_MIN: usize = 3;

/// What the host refusals gave.
#[derive(Default)]
pub(super) struct HostOutcome {
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<(usize, String)>,
    /// Refused by the user's own deny list: recorded already.
    pub user_denied: Vec<usize>,
    pub already: u64,
}

/// Why a refusal of this kind is not a missing entry.
fn kind_reason(kind: &str, reason: &str) -> String {
    match kind {
        "resolved-address" => format!(
            "the name is allowed, but {reason}: srt refuses an allowed name that leads to this machine, its network or a metadata endpoint. If it is a local service you mean to reach, add its address with the port (`IP:PORT`) by hand"
        ),
        "malformed-host" | "bad-request" => {
            format!("the request was malformed ({reason}); there is nothing to allow")
        }
        "host-mismatch" => format!(
            "the request's Host header named another destination than its target ({reason}); there is nothing to allow"
        ),
        _ => format!("{reason}: refused by a network option, not for a missing entry"),
    }
}

/// `host` or `host:port` entries for a set of refused ports, each with the port it is for
/// (`None`: no port, every port): no port when 443 or 80 was among them.
fn entries(host: &str, ports: &BTreeSet<Option<u16>>) -> Vec<(String, Option<u16>)> {
    let bare = host_text(host);
    if ports
        .iter()
        .any(|p| matches!(p, None | Some(80) | Some(443)))
    {
        vec![(bare, None)]
    } else {
        ports
            .iter()
            .flatten()
            .map(|p| (format!("{bare}:{p}"), Some(*p)))
            .collect()
    }
}

/// A host as an entry spells it (IPv6 bracketed).
fn host_text(host: &str) -> String {
    destination(host, None)
}

fn candidate(entry: String, known: Option<String>, why: String, refusals: Vec<usize>) -> Candidate {
    Candidate {
        list: List::AllowedDomains,
        json: serde_json::Value::from(entry.clone()).to_string(),
        shown: entry,
        known,
        why,
        refusals,
        fallback: Vec::new(),
        missing_dir: None,
        verify: true,
    }
}

/// The registrable domain of a name (its public suffix and one label), if it has one.
fn registrable(name: &str) -> Option<String> {
    let suffix = psl::public_suffix(name).suffix;
    let rest = name.strip_suffix(&suffix)?.strip_suffix('.')?;
    let label = rest.rsplit('.').next()?;
    Some(format!("{label}.{suffix}"))
}

/// The longest domain every name ends under (strictly), e.g. `cdn.example.com` for
/// `a.cdn.example.com` and `b.cdn.example.com`.
fn common_parent(names: &[&str]) -> Option<String> {
    let split: Vec<Vec<&str>> = names.iter().map(|n| n.rsplit('.').collect()).collect();
    let shortest = split.iter().map(Vec::len).min()?;
    let mut common: Vec<&str> = Vec::new();
    // Strictly under: keep at least one label of the shortest name out.
    for i in 0..shortest.saturating_sub(1) {
        let label = split[0][i];
        if split.iter().all(|s| s[i] == label) {
            common.push(label);
        } else {
            break;
        }
    }
    (!common.is_empty()).then(|| common.iter().rev().cloned().collect::<Vec<_>>().join("."))
}

pub(super) fn candidates(input: &LearnInput<'_>, ir: &Ir, indices: &[usize]) -> HostOutcome {
    let mut out = HostOutcome::default();
    // host → (ports, refusal indices)
    let mut wanted: BTreeMap<String, (BTreeSet<Option<u16>>, Vec<usize>)> = BTreeMap::new();
    for &i in indices {
        let r = &input.refusals[i];
        let Subject::Host { host, port, kind } = &r.subject else {
            continue;
        };
        let d = ir.decide_host(host, port.unwrap_or(443));
        match kind.as_str() {
            "not-allowed" | "denied" if d.allowed => out.already += r.times,
            "not-allowed" | "denied" => match d.rule {
                Some(rule) => {
                    out.user_denied.push(i);
                    out.rejected.push((
                        i,
                        format!(
                            "on your {}: srt learn does not undo a deny",
                            ir.describe(&rule.origin)
                        ),
                    ))
                }
                None => {
                    let e = wanted.entry(host.clone()).or_default();
                    e.0.insert(*port);
                    e.1.push(i);
                }
            },
            other => out.rejected.push((i, kind_reason(other, &r.reason))),
        }
    }
    let times = |idx: &[usize]| idx.iter().map(|i| input.refusals[*i].times).sum::<u64>();
    let exact = |host: &str, ports: &BTreeSet<Option<u16>>, idx: &[usize]| -> Vec<Candidate> {
        let n = times(idx);
        let why = match n {
            1 => "the exact name, refused once".to_string(),
            n => format!("the exact name, refused {n} times"),
        };
        entries(host, ports)
            .into_iter()
            .map(|(entry, for_port)| {
                let mine: Vec<usize> = idx
                    .iter()
                    .copied()
                    .filter(|i| match (&input.refusals[*i].subject, for_port) {
                        (_, None) => true,
                        (Subject::Host { port, .. }, Some(p)) => *port == Some(p),
                        _ => false,
                    })
                    .collect();
                candidate(entry, known::host(host), why.clone(), mine)
            })
            .collect()
    };
    // Names grouped by registrable domain, for wildcards.
    let mut by_domain: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for host in wanted.keys() {
        if host.parse::<std::net::IpAddr>().is_err() {
            // `*.x` never matches `x` itself: the registrable name stays exact.
            if let Some(reg) = registrable(host).filter(|r| r != host) {
                by_domain.entry(reg).or_default().push(host.clone());
            }
        }
    }
    let mut done: BTreeSet<String> = BTreeSet::new();
    for names in by_domain.values().filter(|n| n.len() >= WILDCARD_MIN) {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let Some(parent) = common_parent(&refs) else {
            continue;
        };
        if psl::wildcard_reaches_registrable_names(&parent).is_some() {
            continue;
        }
        let ports: BTreeSet<Option<u16>> = names
            .iter()
            .flat_map(|n| wanted[n].0.iter().copied())
            .collect();
        let web = ports
            .iter()
            .all(|p| matches!(p, None | Some(80) | Some(443)));
        let entry = match (web, ports.iter().next()) {
            (true, _) => format!("*.{parent}"),
            (false, Some(Some(p))) if ports.len() == 1 => format!("*.{parent}:{p}"),
            _ => continue,
        };
        let idx: Vec<usize> = names.iter().flat_map(|n| wanted[n].1.clone()).collect();
        let why = format!(
            "{} names under {parent} were refused ({}): one wildcard for its subdomains",
            names.len(),
            names.join(", ")
        );
        let mut c = candidate(entry, None, why, idx);
        c.fallback = names
            .iter()
            .flat_map(|n| exact(n, &wanted[n].0, &wanted[n].1))
            .collect();
        out.candidates.push(c);
        done.extend(names.iter().cloned());
    }
    for (host, (ports, idx)) in &wanted {
        if !done.contains(host) {
            out.candidates.extend(exact(host, ports, idx));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_parents() {
        let ports = |p: &[Option<u16>]| p.iter().copied().collect::<BTreeSet<_>>();
        let shown = |h: &str, p: &[Option<u16>]| -> Vec<String> {
            entries(h, &ports(p)).into_iter().map(|(e, _)| e).collect()
        };
        assert_eq!(shown("a.example", &[Some(443), Some(8443)]), ["a.example"]);
        assert_eq!(
            shown("a.example", &[Some(8443), Some(8080)]),
            ["a.example:8080", "a.example:8443"]
        );
        assert_eq!(shown("2001:db8::1", &[Some(8443)]), ["[2001:db8::1]:8443"]);
        assert_eq!(
            common_parent(&["a.cdn.example.com", "b.cdn.example.com"]).as_deref(),
            Some("cdn.example.com")
        );
        assert_eq!(
            common_parent(&["a.cdn.example.com", "api.example.com"]).as_deref(),
            Some("example.com")
        );
        assert_eq!(
            common_parent(&["example.com", "a.example.com"]).as_deref(),
            Some("com")
        );
        assert_eq!(
            registrable("a.b.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registrable("co.uk"), None);
    }
}
