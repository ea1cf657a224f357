//! An evaluator for the profile subset: which rule decides a request.
//!
//! Seatbelt applies the last matching rule. How rules on a wildcard operation (`file-write*`)
//! and on one of its members (`file-write-unlink`) interact is not documented; the npm srt
//! found that a `(deny file-write-unlink …)` is not overridden by a later
//! `(allow file-write* …)`. Both readings are modelled, and srt's profiles must decide every
//! request the same way under both:
//! - [`Model::LastMatch`]: every rule whose operations cover the request, last match wins;
//! - [`Model::SpecificFirst`]: the last matching rule naming the operation itself, else the
//!   last matching wildcard rule, else the default.

use super::profile::{Filter, Profile, Rule};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    LastMatch,
    SpecificFirst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    CharDevice,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `host` is `localhost` (loopback) or anything else (a remote address).
    Ip {
        host: String,
        port: u16,
    },
    Unix(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub op: String,
    pub path: Option<(String, Kind)>,
    pub local: Option<Addr>,
    pub remote: Option<Addr>,
    pub socket_domain: Option<String>,
    pub name: Option<String>,
}

impl Request {
    fn op(op: &str) -> Self {
        Request {
            op: op.into(),
            path: None,
            local: None,
            remote: None,
            socket_domain: None,
            name: None,
        }
    }

    pub fn file(op: &str, path: &str, kind: Kind) -> Self {
        Request {
            path: Some((path.into(), kind)),
            ..Request::op(op)
        }
    }

    pub fn connect(host: &str, port: u16) -> Self {
        Request {
            remote: Some(Addr::Ip {
                host: host.into(),
                port,
            }),
            ..Request::op("network-outbound")
        }
    }

    /// `op` is `network-bind` or `network-inbound`.
    pub fn local_ip(op: &str, host: &str, port: u16) -> Self {
        Request {
            local: Some(Addr::Ip {
                host: host.into(),
                port,
            }),
            ..Request::op(op)
        }
    }

    pub fn unix_connect(path: &str) -> Self {
        Request {
            remote: Some(Addr::Unix(path.into())),
            ..Request::op("network-outbound")
        }
    }

    pub fn unix_bind(path: &str) -> Self {
        Request {
            local: Some(Addr::Unix(path.into())),
            ..Request::op("network-bind")
        }
    }

    pub fn socket(domain: &str) -> Self {
        Request {
            socket_domain: Some(domain.into()),
            ..Request::op("system-socket")
        }
    }

    pub fn named(op: &str, name: &str) -> Self {
        Request {
            name: Some(name.into()),
            ..Request::op(op)
        }
    }

    pub fn bare(op: &str) -> Self {
        Request::op(op)
    }
}

/// Does a rule operation cover the requested one?
pub fn op_covers(rule_op: &str, op: &str) -> bool {
    rule_op == op
        || rule_op == "default"
        || rule_op
            .strip_suffix('*')
            .is_some_and(|prefix| op.starts_with(prefix))
}

fn under(path: &str, dir: &str) -> bool {
    path == dir
        || dir == "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn path_matches(f: &Filter, path: &str) -> bool {
    match f {
        Filter::Literal(p) => path == p,
        Filter::Subpath(p) => under(path, p),
        Filter::Regex(re, _) => re.is_match(path),
        _ => false,
    }
}

pub fn filter_matches(f: &Filter, req: &Request) -> bool {
    let path = req.path.as_ref();
    match f {
        Filter::Literal(_) | Filter::Subpath(_) | Filter::Regex(..) => {
            path.is_some_and(|(p, _)| path_matches(f, p))
        }
        Filter::VnodeType(t) => path.is_some_and(|(_, k)| {
            matches!(
                (t.as_str(), k),
                ("DIRECTORY", Kind::Dir)
                    | ("REGULAR-FILE", Kind::File)
                    | ("CHARACTER-DEVICE", Kind::CharDevice)
            )
        }),
        Filter::RequireAll(fs) => fs.iter().all(|f| filter_matches(f, req)),
        Filter::RequireAny(fs) => fs.iter().any(|f| filter_matches(f, req)),
        Filter::RequireNot(f) => !filter_matches(f, req),
        Filter::Target(_) => false,
        Filter::GlobalName(n) | Filter::SysctlName(n) => req.name.as_deref() == Some(n),
        Filter::GlobalNamePrefix(n) | Filter::SysctlNamePrefix(n) => req
            .name
            .as_deref()
            .is_some_and(|x| x.starts_with(n.as_str())),
        Filter::IokitRegistryEntryClass(_) | Filter::IokitUserClientClass(_) => false,
        Filter::SocketDomain(d) => req.socket_domain.as_deref() == Some(d),
        Filter::SocketProtocol(_) => false,
        Filter::Ip { local, host, port } => {
            let addr = if *local { &req.local } else { &req.remote };
            match addr {
                Some(Addr::Ip { host: h, port: p }) => {
                    (host == "*" || loopback(h)) && (port == "*" || port == &p.to_string())
                }
                _ => false,
            }
        }
        Filter::UnixSocket { local, path } => {
            let addr = if *local { &req.local } else { &req.remote };
            matches!(addr, Some(Addr::Unix(p)) if path_matches(path, p))
        }
    }
}

fn rule_matches(rule: &Rule, req: &Request) -> bool {
    rule.filters.is_empty() || rule.filters.iter().any(|f| filter_matches(f, req))
}

/// The decision and the index of the deciding rule (0 is the default deny).
pub fn decide(profile: &Profile, req: &Request, model: Model) -> (bool, usize) {
    let rules = &profile.rules;
    let last = |pick: &dyn Fn(&Rule) -> bool| {
        rules
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, r)| pick(r) && rule_matches(r, req))
            .last()
            .map(|(i, r)| (r.allow, i))
    };
    let covers = |r: &Rule| r.ops.iter().any(|o| op_covers(o, &req.op));
    let found = match model {
        Model::LastMatch => last(&covers),
        Model::SpecificFirst => last(&|r: &Rule| r.ops.contains(&req.op)).or_else(|| last(&covers)),
    };
    found.unwrap_or((false, 0))
}
