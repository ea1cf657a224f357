//! From a requested destination to a connected socket: the decision procedure, resolution,
//! the resolved-address guard, and the dial, in that order. Every proxy entry point goes
//! through [`Dialer::dial`] (tunnels) or [`Dialer::dial_http`] (plain HTTP requests), which
//! also pick the way out ([`super::upstream`]): direct, a parent proxy, or the inspecting
//! proxy of `network.mitmProxy`.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use srt_compiler::{HostReason, Ir};
use srt_schema::domain::Host;
use tokio::net::TcpStream;

use super::guard::{self, GuardRefusal};
use super::resolver::Resolver;
use super::target::printable;
use super::upstream::{
    authority, connect_through, proxy_authorization, reach_mitm, Routes, UpstreamStream, Via,
};
use super::violation::ViolationKind;

/// A destination the policy refuses; becomes a 403 / SOCKS reply 2 and a violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub kind: ViolationKind,
    /// The host as canonicalised, or the client's spelling made printable.
    pub host: String,
    pub port: Option<u16>,
    pub reason: String,
    pub rule: Option<String>,
    pub explanation: String,
}

impl Refusal {
    /// A request that does not name a destination in a form srt accepts.
    pub fn bad_request(raw_host: &str, port: Option<u16>, why: impl std::fmt::Display) -> Self {
        let why = why.to_string();
        Refusal {
            kind: ViolationKind::BadRequest,
            host: printable(raw_host),
            port,
            reason: "bad request".into(),
            rule: None,
            explanation: format!("bad request: {why}"),
        }
    }
}

/// An allowed destination that could not be reached: 502/504, SOCKS replies 3–6.
#[derive(Debug)]
pub(crate) enum Upstream {
    Resolve(String, io::Error),
    NoAddress(String),
    Connect(io::Error),
    Timeout,
    /// A parent proxy or the inspecting proxy could not be reached or refused the tunnel.
    Hop(String),
}

impl Upstream {
    pub fn describe(&self) -> String {
        match self {
            Upstream::Resolve(name, e) => format!("cannot resolve {name}: {e}"),
            Upstream::NoAddress(name) => format!("{name} has no address"),
            Upstream::Connect(e) => format!("cannot connect: {e}"),
            Upstream::Timeout => "timed out connecting".into(),
            Upstream::Hop(why) => why.clone(),
        }
    }
}

pub(crate) enum DialError {
    Refused(Refusal),
    Upstream(Upstream),
}

/// An allowed destination, connected (a tunnel to it when it goes through a hop).
pub(crate) struct Dialled {
    pub stream: UpstreamStream,
}

/// A plain HTTP request's way out: a connection, and the hop's `Proxy-Authorization` when the
/// request goes to a proxy (in absolute form) rather than to the destination.
pub(crate) struct HttpHop {
    pub stream: UpstreamStream,
    pub host: Host,
    /// `Some` when the connection is to a proxy: the request then goes in absolute form, with
    /// this `Proxy-Authorization` (if the proxy has credentials).
    pub via_proxy: Option<Option<String>>,
}

pub(crate) struct Dialer {
    /// The policy as the run started (its TLS and credential settings stay as started).
    pub ir: Arc<Ir>,
    /// The network lists every destination is decided with (replaced by `--control-fd`).
    pub policy: Arc<super::live::LivePolicy>,
    pub resolver: Arc<dyn Resolver>,
    pub connect_timeout: Duration,
    pub routes: Routes,
}

impl Dialer {
    /// The decision for `host:port`, as a refusal when it is not allowed.
    pub fn decide(&self, raw_host: &str, port: u16) -> Result<Host, Refusal> {
        let ir = self.policy.current();
        let d = ir.decide_host(raw_host, port);
        let rule = d.rule.map(|r| ir.describe(&r.origin));
        let host_text = d
            .host
            .as_ref()
            .map_or_else(|| printable(raw_host), |h| unbracket(&h.to_string()));
        let refusal = |kind, explanation: String| Refusal {
            kind,
            host: host_text.clone(),
            port: Some(port),
            reason: d.reason.phrase(),
            rule: rule.clone(),
            explanation,
        };
        match (&d.reason, &d.host) {
            (HostReason::Allowed, Some(h)) => Ok(h.clone()),
            (HostReason::Malformed(m), _) => Err(refusal(
                ViolationKind::MalformedHost,
                format!("malformed host ({m})"),
            )),
            (HostReason::Denied(reason), _) => {
                let on = rule
                    .clone()
                    .unwrap_or_else(|| "network.deniedDomains".into());
                let text = if reason == "host is on the deny list" {
                    format!("on {on}")
                } else {
                    format!("on {on}: {}", printable(reason))
                };
                Err(refusal(ViolationKind::Denied, text))
            }
            _ => Err(refusal(
                ViolationKind::NotAllowed,
                "not in network.allowedDomains".into(),
            )),
        }
    }

    /// Decides, then opens a tunnel's connection: resolved, guarded and dialled, or through
    /// the parent proxy or the inspecting proxy.
    pub async fn dial(&self, raw_host: &str, port: u16) -> Result<Dialled, DialError> {
        let host = self.decide(raw_host, port).map_err(DialError::Refused)?;
        let stream = match self.routes.via(&host, port, false) {
            Via::Direct => self.direct(&host, port).await?,
            hop => {
                let stream = self.reach(&host, port, &hop).await?;
                let auth = match &hop {
                    Via::Parent(u) => proxy_authorization(u),
                    _ => None,
                };
                let to = authority(&host, port);
                let tunnel = connect_through(stream, &to, auth.as_deref());
                tokio::time::timeout(self.connect_timeout, tunnel)
                    .await
                    .map_err(|_| DialError::Upstream(Upstream::Timeout))?
                    .map_err(DialError::Upstream)?
            }
        };
        Ok(Dialled { stream })
    }

    /// Decides, then connects for a plain HTTP request: to the destination, or to the proxy
    /// the request is handed to.
    pub async fn dial_http(&self, raw_host: &str, port: u16) -> Result<HttpHop, DialError> {
        let host = self.decide(raw_host, port).map_err(DialError::Refused)?;
        let hop = self.routes.via(&host, port, true);
        let (stream, via_proxy) = match &hop {
            Via::Direct => (self.direct(&host, port).await?, None),
            Via::Parent(u) => (
                self.reach(&host, port, &hop).await?,
                Some(proxy_authorization(u)),
            ),
            Via::Mitm(_) => (self.reach(&host, port, &hop).await?, Some(None)),
        };
        Ok(HttpHop {
            stream,
            host,
            via_proxy,
        })
    }

    /// Resolves, guards and dials `host` itself.
    async fn direct(&self, host: &Host, port: u16) -> Result<UpstreamStream, DialError> {
        let candidates: Vec<IpAddr> = match host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => self.guarded_addresses(name, port).await?,
        };
        let stream = tokio::time::timeout(self.connect_timeout, connect_any(&candidates, port))
            .await
            .map_err(|_| DialError::Upstream(Upstream::Timeout))?
            .map_err(|e| DialError::Upstream(Upstream::Connect(e)))?;
        Ok(UpstreamStream::Tcp(stream))
    }

    /// Connects to the hop `via` after checking what this host resolves `host` to (the hop
    /// resolves it again; a name srt cannot resolve is left to it).
    async fn reach(&self, host: &Host, port: u16, via: &Via) -> Result<UpstreamStream, DialError> {
        if let Host::Name(name) = host {
            let resolved =
                tokio::time::timeout(self.connect_timeout, self.resolver.resolve(name, port)).await;
            if let Ok(Ok(addrs)) = resolved {
                if !addrs.is_empty() {
                    self.guard(name, port, addrs)?;
                }
            }
        }
        let reached = async {
            match via {
                Via::Parent(u) => self.routes.reach_parent(u).await,
                Via::Mitm(path) => reach_mitm(path).await,
                Via::Direct => Err(Upstream::Hop("no hop".into())),
            }
        };
        tokio::time::timeout(self.connect_timeout, reached)
            .await
            .map_err(|_| DialError::Upstream(Upstream::Timeout))?
            .map_err(DialError::Upstream)
    }

    /// Resolves an allowed name and keeps the addresses the guard lets through.
    async fn guarded_addresses(&self, name: &str, port: u16) -> Result<Vec<IpAddr>, DialError> {
        let resolved =
            tokio::time::timeout(self.connect_timeout, self.resolver.resolve(name, port))
                .await
                .map_err(|_| DialError::Upstream(Upstream::Timeout))?
                .map_err(|e| DialError::Upstream(Upstream::Resolve(name.to_string(), e)))?;
        if resolved.is_empty() {
            return Err(DialError::Upstream(Upstream::NoAddress(name.to_string())));
        }
        self.guard(name, port, resolved)
    }

    /// The addresses of `resolved` the guard lets through, or the refusal when it lets none.
    fn guard(
        &self,
        name: &str,
        port: u16,
        resolved: Vec<IpAddr>,
    ) -> Result<Vec<IpAddr>, DialError> {
        let policy = self.policy.current();
        let local = guard::local_addresses();
        let mut kept = Vec::new();
        let mut refusals: BTreeSet<GuardRefusal> = BTreeSet::new();
        for addr in resolved {
            match guard::check(&policy, name, addr, port, &local) {
                Ok(()) => kept.push(srt_schema::domain::unmap(addr)),
                Err(r) => {
                    refusals.insert(r);
                }
            }
        }
        if !kept.is_empty() {
            return Ok(kept);
        }
        let reason = guard::refusal_phrase(&refusals);
        let rule = refusals.iter().find_map(|r| r.rule().map(str::to_string));
        let explanation = match &rule {
            Some(r) => format!("{reason} ({r})"),
            None => reason.clone(),
        };
        Err(DialError::Refused(Refusal {
            kind: ViolationKind::ResolvedAddress,
            host: name.to_string(),
            port: Some(port),
            reason,
            rule,
            explanation,
        }))
    }
}

fn unbracket(s: &str) -> String {
    s.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s)
        .to_string()
}

/// Connects to the first address that answers, in order. Only checked addresses are passed in.
async fn connect_any(addrs: &[IpAddr], port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to connect to");
    for ip in addrs {
        match TcpStream::connect(SocketAddr::new(*ip, port)).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
