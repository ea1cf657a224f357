//! THE decision procedure. Whether a path may be read or written, or a host:port reached, is
//! decided here and nowhere else: the proxies, `explain`, the lints and the backends call these
//! functions.
//!
//! Paths (all absolute, normalised; callers resolve symlinks first where it matters):
//! - read: allowed by default; `denyRead` denies; `allowRead` re-allows inside a denied region;
//!   a deny more specific than the allow still holds (ties go to the allow).
//! - write: denied by default; a write root (`allowWrite`, defaults) allows; inside it
//!   `denyWrite`, the settings file and the mandatory denies always win; a path that cannot be
//!   read cannot be written either.
//!
//! Hosts: canonicalised once (see [`srt_schema::domain::canonical_host`]); a malformed host is
//! denied; then `deniedDomains` (first match denies), then `allowedDomains` (first match
//! allows), else denied.

use std::path::Path;

use srt_schema::domain::{canonical_host, Host, MalformedHost};

use crate::ir::{HostRule, Ir, PathRule};
use crate::origin::builtin;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// The outcome for a path, and the rule that decided it. `rule` is `None` when the default
/// for the access applied; `default` then names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathDecision<'a> {
    pub allowed: bool,
    pub rule: Option<&'a PathRule>,
    /// Why, when no rule decided: `default` (the access's default), or
    /// `filesystem-disabled`.
    pub default: crate::origin::BuiltIn,
    /// For a write denied because reading is denied, this is set.
    pub via_read_deny: bool,
}

/// Why a host was allowed or refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostReason {
    Malformed(MalformedHost),
    /// On `deniedDomains`; the reason is `deniedDomainReasons[entry]` or the default text.
    Denied(String),
    Allowed,
    NotAllowed,
}

impl HostReason {
    /// The peer's reason phrases: used as the 403 status phrase and in violation lines.
    pub fn phrase(&self) -> String {
        match self {
            HostReason::Malformed(_) => "malformed host".into(),
            HostReason::Denied(r) => r.clone(),
            HostReason::Allowed => "allowed".into(),
            HostReason::NotAllowed => "host is not on the allow list".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostDecision<'a> {
    pub allowed: bool,
    /// The canonical host that was matched, unless it was malformed.
    pub host: Option<Host>,
    pub rule: Option<&'a HostRule>,
    pub reason: HostReason,
}

/// The path being decided (plain absolute, as [`Ir::absolute`] makes it), and its text (made
/// once: a decision asks dozens of patterns).
struct Query<'p> {
    path: &'p Path,
    text: std::borrow::Cow<'p, str>,
}

/// The most specific rule of `rules` covering `path`.
fn most_specific<'a>(rules: &'a [PathRule], q: &Query, beneath: bool) -> Option<&'a PathRule> {
    rules
        .iter()
        .filter(|r| r.pattern.covers_text(q.path, &q.text, beneath))
        .max_by_key(|r| r.pattern.specificity())
}

fn first_covering<'a>(rules: &'a [PathRule], q: &Query) -> Option<&'a PathRule> {
    rules
        .iter()
        .find(|r| r.pattern.covers_text(q.path, &q.text, true))
}

impl Ir {
    /// May `path` be accessed? `path` may be relative (to the IR's cwd) or use `~`.
    pub fn decide_path(&self, path: &Path, access: Access) -> PathDecision<'_> {
        let path = self.absolute(path);
        let path = &Query {
            path: &path,
            text: path.to_string_lossy(),
        };
        let decided = |allowed, rule| PathDecision {
            allowed,
            rule,
            default: builtin::DEFAULT,
            via_read_deny: false,
        };
        if self.fs.disabled {
            return PathDecision {
                default: builtin::FILESYSTEM_DISABLED,
                ..decided(true, None)
            };
        }
        let read = {
            let deny = most_specific(&self.fs.deny_read, path, true);
            let allow = most_specific(&self.fs.allow_read, path, false).or_else(|| {
                most_specific(&self.fs.allow_read, path, true).filter(|r| !r.pattern.is_glob())
            });
            match (deny, allow) {
                (None, _) => decided(true, None),
                (Some(d), Some(a)) if a.pattern.specificity() >= d.pattern.specificity() => {
                    decided(true, Some(a))
                }
                (Some(d), _) => decided(false, Some(d)),
            }
        };
        match access {
            Access::Read => read,
            Access::Write => {
                if !read.allowed {
                    return PathDecision {
                        via_read_deny: true,
                        ..read
                    };
                }
                let Some(root) = most_specific(&self.fs.allow_write, path, false).or_else(|| {
                    first_covering(&self.fs.allow_write, path).filter(|r| !r.pattern.is_glob())
                }) else {
                    return decided(false, None);
                };
                if let Some(d) = first_covering(&self.fs.deny_write, path)
                    .or_else(|| first_covering(&self.fs.mandatory_deny, path))
                {
                    return decided(false, Some(d));
                }
                decided(true, Some(root))
            }
        }
    }

    /// May a connection to `host:port` be made? `host` is as requested (any spelling; IPv6
    /// with or without brackets).
    pub fn decide_host(&self, host: &str, port: u16) -> HostDecision<'_> {
        let host = match canonical_host(host) {
            Ok(h) => h,
            Err(e) => {
                return HostDecision {
                    allowed: false,
                    host: None,
                    rule: None,
                    reason: HostReason::Malformed(e),
                }
            }
        };
        if let Some(rule) = self
            .net
            .denied
            .iter()
            .find(|r| r.pattern.matches(&host, port))
        {
            let reason = self
                .net
                .denied_reasons
                .get(&rule.raw)
                .cloned()
                .unwrap_or_else(|| "host is on the deny list".into());
            return HostDecision {
                allowed: false,
                host: Some(host),
                rule: Some(rule),
                reason: HostReason::Denied(reason),
            };
        }
        if let Some(rule) = self
            .net
            .allowed
            .iter()
            .find(|r| r.pattern.matches(&host, port))
        {
            return HostDecision {
                allowed: true,
                host: Some(host),
                rule: Some(rule),
                reason: HostReason::Allowed,
            };
        }
        HostDecision {
            allowed: false,
            host: Some(host),
            rule: None,
            reason: HostReason::NotAllowed,
        }
    }
}
