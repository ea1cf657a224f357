//! The run's certificate authority, and the leaf certificates it mints per server name.
//!
//! Without `caCertPath`/`caKeyPath` the CA is made at start (ECDSA P-256, valid 30 days, its
//! key only in srt's memory and zeroed on drop). Leaves share one key per CA and are cached
//! per name (the 256 most recently used), each as a ready rustls server configuration.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use time::{Duration, OffsetDateTime};

use crate::secrets::sentinel::random_bytes;

/// Leaf configurations kept.
const CACHE: usize = 256;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CaError {
    #[error("network.tlsTerminate: cannot read {path}: {source}")]
    #[diagnostic(code(srt::tls::ca_read))]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("network.tlsTerminate: {what}: {why}")]
    #[diagnostic(
        code(srt::tls::ca),
        help("caCertPath must be a PEM CA certificate and caKeyPath its PEM private key, PKCS#8 (`openssl pkcs8 -topk8 -nocrypt` converts one)")
    )]
    Invalid { what: String, why: String },
}

fn invalid(what: &str, why: impl std::fmt::Display) -> CaError {
    CaError::Invalid {
        what: what.to_string(),
        why: why.to_string(),
    }
}

fn serial() -> Result<SerialNumber, CaError> {
    let mut bytes = random_bytes(16).map_err(|e| invalid("serial", e))?;
    // Positive, and no leading zero byte.
    bytes[0] = (bytes[0] & 0x3f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The CA and its leaf cache.
pub struct RunCa {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    /// The CA certificate as PEM (what the sandbox trusts).
    pub ca_pem: String,
    not_after: OffsetDateTime,
    leaf_key: KeyPair,
    cache: Mutex<VecDeque<(String, Arc<ServerConfig>)>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl std::fmt::Debug for RunCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCa").finish_non_exhaustive()
    }
}

impl RunCa {
    /// A CA made for this run.
    pub fn generate(provider: Arc<rustls::crypto::CryptoProvider>) -> Result<RunCa, CaError> {
        let key = KeyPair::generate().map_err(|e| invalid("generating the CA key", e))?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        let tag: String = random_bytes(4)
            .map_err(|e| invalid("randomness", e))?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("srt run CA {tag}"));
        params
            .distinguished_name
            .push(DnType::OrganizationName, "srt sandbox (per run)");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(30);
        params.serial_number = Some(serial()?);
        let cert = params
            .self_signed(&key)
            .map_err(|e| invalid("signing the CA", e))?;
        let not_after = params.not_after;
        let ca_pem = cert.pem();
        let ca_der = cert.der().clone();
        Self::finish(
            Issuer::new(params, key),
            ca_der,
            ca_pem,
            not_after,
            provider,
        )
    }

    /// The user's CA (`caCertPath`, `caKeyPath`).
    pub fn load(
        cert_path: &Path,
        key_path: &Path,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<RunCa, CaError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| CaError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let cert_pem = read(cert_path)?;
        let key_pem = zeroize::Zeroizing::new(read(key_path)?);
        let key = KeyPair::from_pem(&key_pem).map_err(|e| invalid("caKeyPath", e))?;
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e: rustls::pki_types::pem::Error| invalid("caCertPath", e))?;
        let ca_der: CertificateDer<'static> = ca_der;
        let issuer =
            Issuer::from_ca_cert_der(&ca_der, key).map_err(|e| invalid("caCertPath", e))?;
        let ca_pem = pem_block("CERTIFICATE", &ca_der);
        // Leaves end with the CA's validity at the latest; 100 days if it is unknown.
        let not_after = OffsetDateTime::now_utc() + Duration::days(100);
        let ca = Self::finish(issuer, ca_der, ca_pem, not_after, provider)?;
        ca.check_chain()?;
        Ok(ca)
    }

    /// Mints a leaf and verifies it against the CA certificate as a client would: a key that is
    /// not the certificate's, or a certificate that is no CA, is found at start, not by every
    /// client in the sandbox.
    fn check_chain(&self) -> Result<(), CaError> {
        const NAME: &str = "srt-ca-check.invalid";
        let leaf = self.leaf(NAME)?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca_der.clone())
            .map_err(|e| invalid("caCertPath", e))?;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|e| invalid("caCertPath", e))?;
        let name =
            rustls::pki_types::ServerName::try_from(NAME).map_err(|e| invalid("check", e))?;
        verifier
            .verify_server_cert(
                leaf.der(),
                &[],
                &name,
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .map(|_| ())
            .map_err(|e| {
                invalid(
                    "caCertPath/caKeyPath",
                    format!(
                        "a certificate signed with this key does not verify against this CA: {e}"
                    ),
                )
            })
    }

    fn finish(
        issuer: Issuer<'static, KeyPair>,
        ca_der: CertificateDer<'static>,
        ca_pem: String,
        not_after: OffsetDateTime,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<RunCa, CaError> {
        let leaf_key = KeyPair::generate().map_err(|e| invalid("generating the leaf key", e))?;
        Ok(RunCa {
            issuer,
            ca_der,
            ca_pem,
            not_after,
            leaf_key,
            cache: Mutex::new(VecDeque::new()),
            provider,
        })
    }

    /// The server configuration presenting a leaf for `name` (a DNS name or an IP literal),
    /// minted on first use.
    pub fn server_config(&self, name: &str) -> Result<Arc<ServerConfig>, CaError> {
        if let Ok(mut cache) = self.cache.lock() {
            if let Some(i) = cache.iter().position(|(n, _)| n == name) {
                if let Some(hit) = cache.remove(i) {
                    let config = hit.1.clone();
                    cache.push_front(hit);
                    return Ok(config);
                }
            }
        }
        let config = Arc::new(self.mint(name)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.push_front((name.to_string(), config.clone()));
            cache.truncate(CACHE);
        }
        Ok(config)
    }

    fn leaf(&self, name: &str) -> Result<rcgen::Certificate, CaError> {
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                name.to_string()
                    .try_into()
                    .map_err(|e| invalid("server name", e))?,
            ),
        }];
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = (now + Duration::days(7)).min(self.not_after);
        params.serial_number = Some(serial()?);
        params
            .signed_by(&self.leaf_key, &self.issuer)
            .map_err(|e| invalid("signing a leaf", e))
    }

    fn mint(&self, name: &str) -> Result<ServerConfig, CaError> {
        let leaf = self.leaf(name)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| invalid("TLS versions", e))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), self.ca_der.clone()], key)
            .map_err(|e| invalid("leaf certificate", e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// `-----BEGIN LABEL-----` … for DER bytes.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
