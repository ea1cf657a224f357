//! The typed settings model. Every user value keeps its span, so later stages (lints, the
//! compiler's provenance, `--fix`) can point at exactly what the user wrote.
//!
//! Building the model never fails: values that failed validation are left out (validation has
//! already reported them), so a file with one bad entry still yields every good one.

use crate::domain::DomainPattern;
use crate::{Span, Spanned};

/// A list as written: `None` when the key is absent (which srt reads as empty, and which the
/// npm srt rejects for its required lists), otherwise the array's span and its elements.
pub type List<T> = Option<Spanned<Vec<Spanned<T>>>>;

/// The elements of an optional list (empty when it is absent).
pub fn items<T>(list: &List<T>) -> &[Spanned<T>] {
    list.as_ref().map_or(&[], |l| l.value.as_slice())
}

/// One `filesystem.*` entry: a path spelling, or `{ "path": …, "literal": true }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathEntry {
    pub path: String,
    /// `literal: true`: glob characters are ordinary characters.
    pub literal: bool,
}

/// One `allowedDomains`/`deniedDomains` entry. `pattern` is `None` when the entry failed
/// validation (it was reported, and it allows or denies nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEntry {
    pub raw: String,
    pub pattern: Option<DomainPattern>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Network {
    pub allowed_domains: List<DomainEntry>,
    pub denied_domains: List<DomainEntry>,
    /// `deniedDomainReasons`: deniedDomains entry → reason shown on denial.
    pub denied_domain_reasons: Vec<(Spanned<String>, Spanned<String>)>,
    pub allow_unix_sockets: List<String>,
    pub allow_all_unix_sockets: Option<Spanned<bool>>,
    pub allow_local_binding: Option<Spanned<bool>>,
    pub http_proxy_port: Option<Spanned<u16>>,
    pub socks_proxy_port: Option<Spanned<u16>>,
    pub strict_allowlist: Option<Spanned<bool>>,
    pub denied_resolved_addresses: List<ipnet::IpNet>,
    pub allow_mach_lookup: List<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filesystem {
    pub deny_read: List<PathEntry>,
    pub allow_read: List<PathEntry>,
    pub allow_write: List<PathEntry>,
    pub deny_write: List<PathEntry>,
    pub allow_git_config: Option<Spanned<bool>>,
    pub disabled: Option<Spanned<bool>>,
}

/// A key srt parses and validates but does not model (npm-srt machinery such as `ripgrep`, or
/// features this runtime does not enforce such as `network.tlsTerminate`). Lints and `srt run`
/// decide what each means for them.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherKey {
    /// Dotted path, e.g. `network.tlsTerminate`.
    pub path: String,
    pub key: Span,
    pub value: Spanned<serde_json::Value>,
    /// The value as parsed, with a span on every member and element (for rules that need to
    /// point inside it, such as `credentials` entries).
    pub json: crate::json::Json,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// The span of the root object.
    pub span: Span,
    pub network: Option<Spanned<Network>>,
    pub filesystem: Option<Spanned<Filesystem>>,
    /// `ignoreViolations`: command substring (or `*`) → violation substrings.
    pub ignore_violations: Vec<(Spanned<String>, Vec<Spanned<String>>)>,
    pub enable_weaker_nested_sandbox: Option<Spanned<bool>>,
    pub enable_weaker_network_isolation: Option<Spanned<bool>>,
    pub allow_nested_user_namespaces: Option<Spanned<bool>>,
    pub allow_apple_events: Option<Spanned<bool>>,
    pub allow_pty: Option<Spanned<bool>>,
    pub mandatory_deny_search_depth: Option<Spanned<u8>>,
    pub bwrap_path: Option<Spanned<String>>,
    pub other: Vec<OtherKey>,
}

impl Settings {
    pub fn network(&self) -> Option<&Network> {
        self.network.as_ref().map(|n| &n.value)
    }

    pub fn filesystem(&self) -> Option<&Filesystem> {
        self.filesystem.as_ref().map(|f| &f.value)
    }

    /// A boolean option's value, `false` when absent.
    pub fn flag(opt: &Option<Spanned<bool>>) -> bool {
        opt.as_ref().is_some_and(|b| b.value)
    }

    /// A key srt keeps as JSON rather than a typed field (`network.tlsTerminate`, …).
    pub fn other(&self, path: &str) -> Option<&OtherKey> {
        self.other.iter().find(|o| o.path == path)
    }
}
