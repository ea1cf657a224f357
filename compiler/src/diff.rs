//! Effective-permission difference between two policies.
//!
//! Nothing here compares text. Each policy's rules suggest probes (a host and port, a path and
//! an access); every probe is decided by both policies with the one decision procedure, and a
//! probe whose outcome changes is a change. Reordering, duplicates, or `*.x` already covering
//! `a.x` produce no probe whose outcome differs, so they are no change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use srt_schema::domain::HostPattern;

use crate::decide::Access;
use crate::glob::{parse, GlobToken};
use crate::ir::{HostRule, Ir, PathRule};
use crate::origin::Origin;
use crate::path::PathPattern;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Something is allowed that was not.
    Widened,
    /// Something is refused that was allowed.
    Narrowed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    Host,
    Read,
    Write,
    UnixSocket,
    Option,
}

/// One difference in effect.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Change {
    pub direction: Direction,
    pub subject: Subject,
    /// What changed: `example.com:443`, `/home/dev/.ssh/id_rsa`, `allowAllUnixSockets`.
    pub what: String,
    /// Why, in the new policy's terms (or the old one's when a rule was removed).
    pub because: String,
}

/// Ports tried for a host rule without a port: the common ones, plus one unusual port.
const PROBE_PORTS: [u16; 4] = [443, 80, 22, 8443];
/// The label used to stand for "any subdomain".
const PROBE_LABEL: &str = "srt-probe";

/// Adds `(host, port)` probes for each rule; `pinned` records the ports rules name explicitly.
fn host_probes(
    rules: &[HostRule],
    out: &mut BTreeSet<(String, u16)>,
    pinned: &mut BTreeSet<(String, u16)>,
) {
    for r in rules {
        let host = match &r.pattern.host {
            HostPattern::Any => format!("{PROBE_LABEL}.invalid"),
            HostPattern::Subdomains(base) => {
                format!("{PROBE_LABEL}.{}", base.trim_start_matches("*."))
            }
            HostPattern::Name(n) => n.clone(),
            HostPattern::Ip(std::net::IpAddr::V6(a)) => format!("[{a}]"),
            HostPattern::Ip(a) => a.to_string(),
        };
        match r.pattern.port {
            Some(p) => {
                out.insert((host.clone(), p));
                pinned.insert((host, p));
            }
            None => out.extend(PROBE_PORTS.iter().map(|&p| (host.clone(), p))),
        }
    }
}

/// A concrete path a rule applies to: the literal path, or the glob instantiated.
fn instantiate(rule: &PathRule) -> Vec<PathBuf> {
    match &rule.pattern {
        PathPattern::Literal(p) => vec![p.clone(), p.join(PROBE_LABEL)],
        PathPattern::Glob { glob, .. } => {
            let mut s = String::new();
            for t in parse(glob) {
                match t {
                    GlobToken::Text(x) => s.push_str(&x),
                    GlobToken::Separator => s.push('/'),
                    GlobToken::AnyChar => s.push('x'),
                    GlobToken::Star | GlobToken::Globstar => s.push_str(PROBE_LABEL),
                    GlobToken::GlobstarSlash => {}
                    GlobToken::Set(m) => s.push(m.chars().next().unwrap_or('x')),
                }
            }
            vec![PathBuf::from(s)]
        }
    }
}

fn path_probes(ir: &Ir, out: &mut BTreeSet<PathBuf>) {
    let fs = &ir.fs;
    for rules in [
        &fs.deny_read,
        &fs.allow_read,
        &fs.allow_write,
        &fs.deny_write,
        &fs.mandatory_deny,
    ] {
        for r in rules.iter() {
            // The settings file differs between the two files compared; it is not a change.
            if r.origin == Origin::BuiltIn(crate::origin::builtin::SETTINGS_FILE) {
                continue;
            }
            out.extend(instantiate(r));
        }
    }
    out.insert(ir.cwd.join(PROBE_LABEL));
    out.insert(ir.home.join(PROBE_LABEL));
}

fn rule_text(ir: &Ir, rule: Option<&Origin>, default: &str) -> String {
    match rule {
        Some(o) => ir.describe(o),
        None => format!("the default ({default})"),
    }
}

/// A host whose outcome changed on some probe ports, for one direction and reason.
#[derive(Default)]
struct PortChanges {
    changed: BTreeSet<u16>,
    tried: BTreeSet<u16>,
    pinned: BTreeSet<u16>,
}

fn host_changes(old: &Ir, new: &Ir) -> Vec<Change> {
    let mut hosts = BTreeSet::new();
    let mut pinned = BTreeSet::new();
    for ir in [old, new] {
        host_probes(&ir.net.allowed, &mut hosts, &mut pinned);
        host_probes(&ir.net.denied, &mut hosts, &mut pinned);
    }
    let ports_of = |set: &BTreeSet<(String, u16)>, host: &str| -> BTreeSet<u16> {
        set.iter()
            .filter(|(h, _)| h == host)
            .map(|(_, p)| *p)
            .collect()
    };
    let mut groups: std::collections::BTreeMap<(Direction, String, String), PortChanges> =
        Default::default();
    for (host, port) in &hosts {
        let (a, b) = (old.decide_host(host, *port), new.decide_host(host, *port));
        if a.allowed == b.allowed {
            continue;
        }
        let direction = if b.allowed {
            Direction::Widened
        } else {
            Direction::Narrowed
        };
        let shown = b
            .host
            .as_ref()
            .map_or_else(|| host.clone(), |h| h.to_string())
            .replace(PROBE_LABEL, "*");
        let because = match (b.rule, a.rule) {
            (Some(r), _) => format!("{} \"{}\"", new.describe(&r.origin), r.raw),
            (None, Some(r)) => format!("removed: {} \"{}\"", old.describe(&r.origin), r.raw),
            (None, None) => b.reason.phrase(),
        };
        let group = groups.entry((direction, shown, because)).or_default();
        group.changed.insert(*port);
        group.tried = ports_of(&hosts, host);
        group.pinned = ports_of(&pinned, host);
    }
    let generic: BTreeSet<u16> = PROBE_PORTS.into_iter().collect();
    groups
        .into_iter()
        .map(|((direction, host, because), g)| {
            // If every generic probe port that no rule pins changed, the change is about "any
            // port" (but the pinned ports that kept their outcome); otherwise list the ports.
            let open: BTreeSet<u16> = generic.difference(&g.pinned).copied().collect();
            let unchanged: Vec<String> =
                g.tried.difference(&g.changed).map(u16::to_string).collect();
            let what = if !open.is_empty() && g.changed.is_superset(&open) {
                if unchanged.is_empty() {
                    format!("{host} (any port)")
                } else {
                    format!("{host} (any port but {})", unchanged.join(", "))
                }
            } else {
                let ports: Vec<String> = g.changed.iter().map(u16::to_string).collect();
                format!("{host}:{}", ports.join(","))
            };
            Change {
                direction,
                subject: Subject::Host,
                what,
                because,
            }
        })
        .collect()
}

/// Every change in effect from `old` to `new`, widenings first.
pub fn diff(old: &Ir, new: &Ir) -> Vec<Change> {
    let mut changes = BTreeSet::new();

    changes.extend(host_changes(old, new));

    let mut paths = BTreeSet::new();
    path_probes(old, &mut paths);
    path_probes(new, &mut paths);
    for path in &paths {
        for access in [Access::Read, Access::Write] {
            let (a, b) = (old.decide_path(path, access), new.decide_path(path, access));
            if a.allowed == b.allowed {
                continue;
            }
            let direction = if b.allowed {
                Direction::Widened
            } else {
                Direction::Narrowed
            };
            let because = match b.rule {
                Some(r) => format!("{} \"{}\"", new.describe(&r.origin), r.spelled),
                None => match a.rule {
                    Some(r) => format!("removed: {} \"{}\"", old.describe(&r.origin), r.spelled),
                    None => rule_text(new, None, b.default.name()),
                },
            };
            changes.insert(Change {
                direction,
                subject: if access == Access::Read {
                    Subject::Read
                } else {
                    Subject::Write
                },
                what: shown_path(path),
                because,
            });
        }
    }

    let sockets = |ir: &Ir| -> BTreeSet<String> {
        ir.net
            .allow_unix_sockets
            .iter()
            .map(|r| r.pattern.display())
            .collect()
    };
    let (so, sn) = (sockets(old), sockets(new));
    for s in sn.difference(&so) {
        changes.insert(option_change(
            Direction::Widened,
            Subject::UnixSocket,
            s,
            "added to network.allowUnixSockets",
        ));
    }
    for s in so.difference(&sn) {
        changes.insert(option_change(
            Direction::Narrowed,
            Subject::UnixSocket,
            s,
            "removed from network.allowUnixSockets",
        ));
    }

    for (name, a, b) in weakening_flags(old, new) {
        if a != b {
            let direction = if b {
                Direction::Widened
            } else {
                Direction::Narrowed
            };
            changes.insert(option_change(
                direction,
                Subject::Option,
                name,
                if b { "turned on" } else { "turned off" },
            ));
        }
    }
    if old.fs.mandatory_deny_search_depth != new.fs.mandatory_deny_search_depth {
        let direction = if new.fs.mandatory_deny_search_depth < old.fs.mandatory_deny_search_depth {
            Direction::Widened
        } else {
            Direction::Narrowed
        };
        changes.insert(option_change(
            direction,
            Subject::Option,
            "mandatoryDenySearchDepth",
            &format!(
                "{} → {}",
                old.fs.mandatory_deny_search_depth, new.fs.mandatory_deny_search_depth
            ),
        ));
    }
    for (name, a, b) in [
        (
            "network.httpProxyPort",
            old.net.http_proxy_port,
            new.net.http_proxy_port,
        ),
        (
            "network.socksProxyPort",
            old.net.socks_proxy_port,
            new.net.socks_proxy_port,
        ),
    ] {
        if a != b {
            // An external proxy takes the decisions out of srt's hands: adding one widens.
            let direction = if b.is_some() {
                Direction::Widened
            } else {
                Direction::Narrowed
            };
            changes.insert(option_change(
                direction,
                Subject::Option,
                name,
                &format!("{a:?} → {b:?}"),
            ));
        }
    }
    let mach = |ir: &Ir| -> BTreeSet<String> { ir.net.allow_mach_lookup.iter().cloned().collect() };
    for s in mach(new).difference(&mach(old)) {
        changes.insert(option_change(
            Direction::Widened,
            Subject::Option,
            &format!("allowMachLookup {s}"),
            "added",
        ));
    }
    for s in mach(old).difference(&mach(new)) {
        changes.insert(option_change(
            Direction::Narrowed,
            Subject::Option,
            &format!("allowMachLookup {s}"),
            "removed",
        ));
    }
    changes.into_iter().collect()
}

fn shown_path(p: &Path) -> String {
    p.display().to_string().replace(PROBE_LABEL, "*")
}

fn option_change(direction: Direction, subject: Subject, what: &str, because: &str) -> Change {
    Change {
        direction,
        subject,
        what: what.to_string(),
        because: because.to_string(),
    }
}

/// Options where `true` gives something up.
fn weakening_flags(old: &Ir, new: &Ir) -> Vec<(&'static str, bool, bool)> {
    vec![
        ("filesystem.disabled", old.fs.disabled, new.fs.disabled),
        (
            "filesystem.allowGitConfig",
            old.fs.allow_git_config,
            new.fs.allow_git_config,
        ),
        (
            "network.allowAllUnixSockets",
            old.net.allow_all_unix_sockets,
            new.net.allow_all_unix_sockets,
        ),
        (
            "network.allowLocalBinding",
            old.net.allow_local_binding,
            new.net.allow_local_binding,
        ),
        (
            "enableWeakerNestedSandbox",
            old.process.weaker_nested_sandbox,
            new.process.weaker_nested_sandbox,
        ),
        (
            "enableWeakerNetworkIsolation",
            old.process.weaker_network_isolation,
            new.process.weaker_network_isolation,
        ),
        (
            "allowNestedUserNamespaces",
            old.process.allow_nested_user_namespaces,
            new.process.allow_nested_user_namespaces,
        ),
        (
            "allowAppleEvents",
            old.process.allow_apple_events,
            new.process.allow_apple_events,
        ),
        ("allowPty", old.process.allow_pty, new.process.allow_pty),
    ]
}
