//! Name resolution for the proxies, behind a trait so tests can map names to addresses.
//!
//! A resolver is asked once per connection; the guard checks what it returned and the proxy
//! dials exactly those checked addresses (never a name, so the OS never resolves again).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;

/// The future a [`Resolver`] returns.
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a canonical host name (lowercase, no trailing dot, never an IP literal) into
/// addresses, in preference order.
pub trait Resolver: Send + Sync + 'static {
    fn resolve<'a>(&'a self, name: &'a str, port: u16) -> ResolveFuture<'a>;
}

/// The system resolver (`getaddrinfo`, on tokio's blocking pool).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve<'a>(&'a self, name: &'a str, port: u16) -> ResolveFuture<'a> {
        Box::pin(async move {
            let mut out: Vec<IpAddr> = Vec::new();
            for sa in tokio::net::lookup_host((name, port)).await? {
                if !out.contains(&sa.ip()) {
                    out.push(sa.ip());
                }
            }
            Ok(out)
        })
    }
}

/// A fixed table of names (for tests, and for pinning names in benchmarks). Unknown names
/// fail to resolve.
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `name` (as canonicalised: lowercase, no trailing dot) to `addrs`.
    pub fn with(mut self, name: &str, addrs: &[IpAddr]) -> Self {
        self.names.insert(name.to_ascii_lowercase(), addrs.to_vec());
        self
    }
}

impl Resolver for StaticResolver {
    fn resolve<'a>(&'a self, name: &'a str, _port: u16) -> ResolveFuture<'a> {
        let found = self.names.get(name).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such name"))
            })
        })
    }
}

/// Names pinned to addresses (`srt run --resolve NAME=IP`, like curl's `--resolve`), every
/// other name through the system resolver. Pinned addresses still pass the resolved-address
/// guard.
#[derive(Clone, Debug, Default)]
pub struct PinnedResolver {
    pinned: HashMap<String, Vec<IpAddr>>,
}

impl PinnedResolver {
    pub fn new(pins: &[(String, IpAddr)]) -> Self {
        let mut pinned: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in pins {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            pinned.entry(name).or_default().push(*ip);
        }
        PinnedResolver { pinned }
    }
}

impl Resolver for PinnedResolver {
    fn resolve<'a>(&'a self, name: &'a str, port: u16) -> ResolveFuture<'a> {
        match self.pinned.get(name) {
            Some(addrs) => {
                let addrs = addrs.clone();
                Box::pin(async move { Ok(addrs) })
            }
            None => SystemResolver.resolve(name, port),
        }
    }
}
