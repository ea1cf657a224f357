//! Where srt's proxy sends what it has allowed: directly, through the user's corporate proxy
//! (`network.parentProxy`, else `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` of srt's own
//! environment), or, for the listed domains, through the user's inspecting proxy on a Unix
//! socket (`network.mitmProxy`). The decision procedure runs first either way: these only
//! say which way an allowed connection leaves.
//!
//! Semantics are the npm srt 0.0.83's (`parent-proxy.js`): each of `http`, `https`,
//! `noProxy` falls back to its environment variable on its own; `https` falls back to `http`
//! (curl's rule), plain HTTP never to `https`; `NO_PROXY` entries are host suffixes (golang's
//! rules: `example.com` and `.example.com` both cover the name and its subdomains), CIDR
//! ranges, IP literals or `*`; loopback destinations always go direct.

use std::path::PathBuf;

use srt_schema::domain::{parse_pattern, DomainList, Host};

mod url;
use srt_schema::json::Json;
use srt_schema::{Diagnostic, Settings, Span};
pub use url::{NoProxy, ProxyUrl};

use crate::ir::{HostRule, ResolveOptions};
use crate::origin::Origin;

/// Code of the finding for a proxy setting `srt run` cannot follow (it stops the run).
pub const BAD_UPSTREAM_PROXY: srt_schema::Code = srt_schema::code::BAD_UPSTREAM_PROXY;

/// Where the parent proxy's settings came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentSource {
    /// `network.parentProxy`, completed from the environment where it leaves a field out.
    Settings(Origin),
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` of srt's environment.
    Environment,
}

/// The parent proxy in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentProxy {
    /// For plain `http://` requests.
    pub http: Option<ProxyUrl>,
    /// For tunnels (CONNECT, SOCKS, TLS-terminated upstream legs).
    pub https: Option<ProxyUrl>,
    pub no_proxy: NoProxy,
    pub source: ParentSource,
}

impl ParentProxy {
    /// The parent a tunnel to `host` goes through, if any.
    pub fn for_tunnel(&self, host: &Host) -> Option<&ProxyUrl> {
        if self.no_proxy.bypasses(host) {
            return None;
        }
        self.https.as_ref().or(self.http.as_ref())
    }

    /// The parent a plain HTTP request to `host` goes through, if any (only `http`: with
    /// `HTTPS_PROXY` alone, plain HTTP goes direct, as curl does).
    pub fn for_plain_http(&self, host: &Host) -> Option<&ProxyUrl> {
        if self.no_proxy.bypasses(host) {
            return None;
        }
        self.http.as_ref()
    }

    /// One line for `-d` and `srt compile`: the URLs redacted.
    pub fn describe(&self) -> String {
        let url = |u: &Option<ProxyUrl>| u.as_ref().map_or("direct".into(), ProxyUrl::redacted);
        let from = match &self.source {
            ParentSource::Settings(_) => "network.parentProxy",
            ParentSource::Environment => "HTTP_PROXY/HTTPS_PROXY/NO_PROXY in srt's environment",
        };
        let mut bypass: Vec<String> = self.no_proxy.suffixes.clone();
        bypass.extend(self.no_proxy.ranges.iter().map(ToString::to_string));
        if self.no_proxy.all {
            bypass = vec!["*".into()];
        }
        format!(
            "parent proxy (from {from}): http -> {}, https and tunnels -> {}; direct: loopback{}{}",
            url(&self.http),
            url(if self.https.is_some() {
                &self.https
            } else {
                &self.http
            }),
            if bypass.is_empty() { "" } else { ", " },
            bypass.join(", ")
        )
    }
}

/// `network.parentProxy` as written: each field, when present, with its span.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParentSettings {
    pub http: Option<(String, Span)>,
    pub https: Option<(String, Span)>,
    pub no_proxy: Option<String>,
    pub origin: Option<Origin>,
}

/// `network.mitmProxy`, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MitmProxy {
    /// The inspecting proxy's Unix socket on the host (absolute).
    pub socket_path: PathBuf,
    pub domains: Vec<HostRule>,
    pub origin: Origin,
}

impl MitmProxy {
    /// The entry that routes `host` through the socket, if any (ports are not looked at, as
    /// in the npm srt: a domain entry covers the host on every port).
    pub fn routes(&self, host: &Host, port: u16) -> Option<&HostRule> {
        self.domains.iter().find(|r| r.pattern.matches(host, port))
    }
}

/// The routes out of srt's proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainPolicy {
    /// `network.parentProxy` as written (`None`: the key is absent).
    pub parent_settings: Option<ParentSettings>,
    /// The parent in force: the settings completed from the environment by
    /// [`ChainPolicy::adopt_environment`] (the settings alone until then).
    pub parent: Option<ParentProxy>,
    pub mitm: Option<MitmProxy>,
    /// What [`ChainPolicy::adopt_environment`] left out of the environment, and why.
    pub environment_warnings: Vec<String>,
}

impl ChainPolicy {
    /// Completes the parent proxy from srt's environment (`HTTP_PROXY`, `http_proxy`,
    /// `HTTPS_PROXY`, `https_proxy`, `NO_PROXY`, `no_proxy`), field by field, as the npm srt
    /// does. Returns the problems found in the environment's values (a URL srt cannot use is
    /// left out, with a warning).
    pub fn adopt_environment(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let warnings = self.complete_parent(env);
        self.environment_warnings = warnings.clone();
        warnings
    }

    fn complete_parent(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let var = |a: &str, b: &str| env(a).or_else(|| env(b)).filter(|v| !v.trim().is_empty());
        let s = self.parent_settings.clone().unwrap_or_default();
        let mut warnings = Vec::new();
        let mut from_env = |name: &str, value: Option<String>| {
            value.and_then(|v| match ProxyUrl::parse(&v) {
                Ok(u) => Some(u),
                Err(why) => {
                    warnings.push(format!("{name} in srt's environment: {why}; ignored"));
                    None
                }
            })
        };
        let http = match &s.http {
            Some((v, _)) => ProxyUrl::parse(v).ok(),
            None => from_env("HTTP_PROXY", var("HTTP_PROXY", "http_proxy")),
        };
        let https = match &s.https {
            Some((v, _)) => ProxyUrl::parse(v).ok(),
            None => from_env("HTTPS_PROXY", var("HTTPS_PROXY", "https_proxy")),
        }
        .or_else(|| http.clone());
        let no_proxy = s
            .no_proxy
            .clone()
            .or_else(|| var("NO_PROXY", "no_proxy"))
            .unwrap_or_default();
        self.parent = (http.is_some() || https.is_some()).then(|| ParentProxy {
            http,
            https,
            no_proxy: NoProxy::parse(&no_proxy),
            source: match s.origin {
                Some(o) => ParentSource::Settings(o),
                None => ParentSource::Environment,
            },
        });
        warnings
    }
}

fn member<'a>(j: &'a Json, key: &str) -> Option<&'a Json> {
    j.get(key).map(|m| &m.value)
}

/// Resolves `network.parentProxy` (the settings alone) and `network.mitmProxy`. A URL srt
/// cannot use and `mitmProxy` together with `tlsTerminate` are errors (`srt run` stops).
pub fn resolve(
    settings: &Settings,
    opts: &ResolveOptions,
    notes: &mut Vec<Diagnostic>,
) -> ChainPolicy {
    let mut out = ChainPolicy::default();
    if let Some(p) = settings.other("network.parentProxy") {
        let j = &p.json;
        let mut s = ParentSettings {
            origin: Some(Origin::policy("network.parentProxy", 0, p.key.join(j.span))),
            no_proxy: member(j, "noProxy")
                .and_then(Json::as_str)
                .map(str::to_string),
            ..ParentSettings::default()
        };
        for (field, slot) in [("http", &mut s.http), ("https", &mut s.https)] {
            let Some(v) = j.get(field) else { continue };
            let Some(text) = v.value.as_str() else {
                continue;
            };
            if let Err(why) = ProxyUrl::parse(text) {
                notes.push(
                    Diagnostic::error(
                        BAD_UPSTREAM_PROXY,
                        format!("network.parentProxy.{field}: {why}"),
                    )
                    .with_label(v.value.span, "srt cannot connect through this")
                    .with_help("write an http:// or https:// URL (`http://user:password@proxy.example:3128`), or remove the key"),
                );
            }
            *slot = Some((text.to_string(), v.value.span));
        }
        out.parent_settings = Some(s);
    }
    let _ = out.adopt_environment(&|_| None);
    if let Some(m) = settings.other("network.mitmProxy") {
        let j = &m.json;
        let origin = Origin::policy("network.mitmProxy", 0, m.key.join(j.span));
        let socket = member(j, "socketPath").and_then(Json::as_str);
        let domains: Vec<HostRule> = member(j, "domains")
            .and_then(Json::as_array)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(index, e)| {
                let raw = e.as_str()?;
                Some(HostRule {
                    pattern: parse_pattern(raw, DomainList::Allow).ok()?,
                    origin: Origin::policy("network.mitmProxy.domains", index, e.span),
                    raw: raw.to_string(),
                })
            })
            .collect();
        if let Some(socket) = socket {
            out.mitm = Some(MitmProxy {
                socket_path: PathBuf::from(crate::path::absolutize(socket, &opts.cwd, &opts.home)),
                domains,
                origin,
            });
        }
        if let Some(t) = settings.other("network.tlsTerminate") {
            notes.push(
                Diagnostic::error(
                    BAD_UPSTREAM_PROXY,
                    "network.tlsTerminate and network.mitmProxy are mutually exclusive",
                )
                .with_label(m.key, "routes some hosts to another inspecting proxy")
                .with_label(t.key, "terminates TLS in srt's own proxy")
                .with_help("keep one of them: srt's own termination (credentials, requireHostMatch) or your inspecting proxy"),
            );
        }
    }
    out
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
    fn environment_completes_the_settings_field_by_field() {
        let env = |k: &str| match k {
            "HTTP_PROXY" => Some("http://env-http:1".to_string()),
            "https_proxy" => Some("http://env-https:2".to_string()),
            "NO_PROXY" => Some("direct.test".to_string()),
            _ => None,
        };
        let mut c = ChainPolicy::default();
        assert!(c.adopt_environment(&env).is_empty());
        let p = c.parent.clone().unwrap();
        assert_eq!(p.source, ParentSource::Environment);
        assert_eq!(p.for_plain_http(&host("a.test")).unwrap().host, "env-http");
        assert_eq!(p.for_tunnel(&host("a.test")).unwrap().host, "env-https");
        assert!(p.for_tunnel(&host("direct.test")).is_none());

        c.parent_settings = Some(ParentSettings {
            https: Some(("http://cfg:3".into(), Span::default())),
            origin: Some(Origin::BuiltIn(crate::origin::BuiltIn::Default)),
            ..ParentSettings::default()
        });
        c.adopt_environment(&env);
        let p = c.parent.clone().unwrap();
        assert_eq!(p.for_tunnel(&host("a.test")).unwrap().host, "cfg");
        assert_eq!(p.for_plain_http(&host("a.test")).unwrap().host, "env-http");

        // HTTPS_PROXY alone: tunnels go through it, plain HTTP goes direct.
        let mut c = ChainPolicy::default();
        c.adopt_environment(&|k| (k == "HTTPS_PROXY").then(|| "http://only:4".to_string()));
        let p = c.parent.unwrap();
        assert!(p.for_plain_http(&host("a.test")).is_none());
        assert_eq!(p.for_tunnel(&host("a.test")).unwrap().port, 4);
        // A bad value is left out with a warning.
        let mut c = ChainPolicy::default();
        let w = c.adopt_environment(&|k| (k == "HTTP_PROXY").then(|| "socks5://x:1".to_string()));
        assert!(c.parent.is_none() && w.len() == 1, "{w:?}");
    }
}
