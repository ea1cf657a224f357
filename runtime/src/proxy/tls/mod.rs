//! `network.tlsTerminate`: what the HTTP proxy needs to terminate a tunnel's TLS on its own
//! socket and forward each request over a separate, verified TLS connection.
//!
//! - [`ca`]: the run CA and the leaves it mints per server name;
//! - the upstream trust: the system roots (`rustls-native-certs`) plus the certificates in
//!   `extraCaCertPaths`, checked by rustls's verifier;
//! - the trust bundle for the sandbox (run CA, system roots, `extraCaCertPaths`), a file the
//!   plan binds read-only and names in `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, ….

pub mod ca;
mod legs;
mod readahead;
pub(crate) mod terminate;
pub mod truststore;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use srt_compiler::secrets::TlsPolicy;
use tokio::sync::Semaphore;

pub use ca::{CaError, RunCa};

/// Everything a terminated tunnel needs, shared by all tunnels.
pub struct TlsContext {
    pub ca: RunCa,
    /// For the upstream legs: verified against `roots`.
    pub upstream: Arc<ClientConfig>,
    /// The bundle the sandbox trusts (PEM).
    pub bundle_pem: String,
    /// Terminated tunnels open at once (`maxTunnels`).
    pub tunnels: Arc<Semaphore>,
    pub max_tunnels: usize,
    pub handshake_timeout: Duration,
    /// Certificates of `extraCaCertPaths` that could not be read, for a warning.
    pub skipped_extra: Vec<String>,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext")
            .field("max_tunnels", &self.max_tunnels)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// The crypto provider srt uses (ring; no OpenSSL).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // ring, not aws-lc-rs: no C toolchain or cmake to build, a smaller binary. Its missing
    // post-quantum key exchange matters little for a per-run CA on a loopback hop.
    #[allow(deprecated)]
    let p = rustls::crypto::ring::default_provider();
    Arc::new(p)
}

/// The `CERTIFICATE` blocks of a PEM file, re-encoded (nothing else in the file, such as a
/// key, is ever copied).
fn certificates_in(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err("no PEM CERTIFICATE block".into());
    }
    Ok(certs)
}

/// A client configuration that trusts the system roots (for an `https://` parent proxy when
/// TLS termination is off); `None` if rustls refuses the provider (the parent is then never
/// reached: fail closed).
pub(crate) fn system_roots_client() -> Option<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .ok()
        .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
}

impl TlsContext {
    pub fn new(policy: &TlsPolicy) -> Result<TlsContext, CaError> {
        let provider = provider();
        let ca = match &policy.ca {
            Some((cert, key)) => RunCa::load(cert, key, provider.clone())?,
            None => RunCa::generate(provider.clone())?,
        };
        let mut roots = RootCertStore::empty();
        let mut bundle = ca.ca_pem.clone();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            bundle.push_str(&ca::pem_block("CERTIFICATE", &cert));
            let _ = roots.add(cert);
        }
        let mut skipped_extra = Vec::new();
        for path in &policy.extra_ca_cert_paths {
            match certificates_in(path) {
                Ok(certs) => {
                    for cert in certs {
                        bundle.push_str(&ca::pem_block("CERTIFICATE", &cert));
                        let _ = roots.add(cert);
                    }
                }
                Err(why) => skipped_extra.push(format!("{}: {why}", path.display())),
            }
        }
        let mut upstream = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| CaError::Invalid {
                what: "TLS versions".into(),
                why: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        upstream.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsContext {
            ca,
            upstream: Arc::new(upstream),
            bundle_pem: bundle,
            tunnels: Arc::new(Semaphore::new(policy.max_tunnels)),
            max_tunnels: policy.max_tunnels,
            handshake_timeout: policy.handshake_timeout,
            skipped_extra,
        })
    }

    /// Terminated tunnels open now.
    pub fn open_tunnels(&self) -> usize {
        self.max_tunnels - self.tunnels.available_permits()
    }
}
