//! What a run with `credentials` or `network.tlsTerminate` prepares before the sandbox starts:
//! a private directory (0700) for the trust bundle and the masked copies, the run CA, the
//! masks and their registry. The directory holds no secret (sentinels and certificates only)
//! and is removed when the run ends.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use srt_compiler::backend::linux::SecretsOptions;
use srt_compiler::Ir;

use super::{mask_all, MaskError, Registry};
use crate::proxy::tls::{CaError, TlsContext};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PrepareError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Mask(#[from] MaskError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Ca(#[from] CaError),
    #[error("cannot make srt's private directory for the run under {}: {source}", parent.display())]
    #[diagnostic(
        code(srt::credentials::dir),
        help("set XDG_RUNTIME_DIR or TMPDIR to a directory only you can write")
    )]
    Dir {
        parent: PathBuf,
        source: std::io::Error,
    },
}

/// The prepared secrets of a run; dropping it removes the directory.
#[derive(Debug)]
pub struct Prepared {
    dir: Option<PathBuf>,
    pub tls: Option<Arc<TlsContext>>,
    pub registry: Option<Arc<Registry>>,
    /// For the plan.
    pub options: SecretsOptions,
    /// One line each, for stderr.
    pub warnings: Vec<String>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn private_dir(parent: &Path) -> Result<PathBuf, PrepareError> {
    use std::os::unix::fs::DirBuilderExt;
    let tag: String = super::sentinel::random_bytes(8)
        .map_err(|source| PrepareError::Dir {
            parent: parent.to_path_buf(),
            source,
        })?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = parent.join(format!("srt-secrets-{}-{tag}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|source| PrepareError::Dir {
            parent: parent.to_path_buf(),
            source,
        })?;
    Ok(dir)
}

/// Whether a run of `ir` needs [`prepare`] at all (nothing new runs otherwise).
pub fn needed(ir: &Ir) -> bool {
    ir.secrets.tls.is_some() || ir.secrets.masks()
}

/// Makes the run CA and trust bundle (when TLS termination is on) and the masks (when a
/// credential is masked). `proxied`: whether the run has proxies (no bundle without them).
pub fn prepare(
    ir: &Ir,
    parent: &Path,
    proxied: bool,
    env: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Prepared, PrepareError> {
    let mut out = Prepared {
        dir: None,
        tls: None,
        registry: None,
        options: SecretsOptions::default(),
        warnings: Vec::new(),
    };
    if !needed(ir) {
        return Ok(out);
    }
    let dir = private_dir(parent)?;
    out.dir = Some(dir.clone());
    if let (Some(policy), true) = (&ir.secrets.tls, proxied) {
        let tls = TlsContext::new(policy)?;
        for skipped in &tls.skipped_extra {
            out.warnings.push(format!(
                "network.tlsTerminate.extraCaCertPaths: {skipped}; skipped"
            ));
        }
        let bundle = dir.join("ca-bundle.pem");
        std::fs::write(&bundle, &tls.bundle_pem).map_err(|source| PrepareError::Dir {
            parent: parent.to_path_buf(),
            source,
        })?;
        out.options.ca_bundle = Some(bundle);
        // The JVM's copy: the same certificates, as a PKCS#12 trust store.
        let certs: Vec<_> =
            rustls::pki_types::pem::PemObject::pem_slice_iter(tls.bundle_pem.as_bytes())
                .filter_map(Result::ok)
                .collect();
        let store = dir.join("java-truststore.p12");
        std::fs::write(&store, crate::proxy::tls::truststore::pkcs12(&certs)).map_err(
            |source| PrepareError::Dir {
                parent: parent.to_path_buf(),
                source,
            },
        )?;
        out.options.java_trust_store = Some(store);
        out.tls = Some(Arc::new(tls));
    }
    let masked = mask_all(ir, env, &dir)?;
    out.warnings.extend(masked.warnings);
    out.options.masked = Some(masked.plan);
    if !masked.registry.is_empty() {
        out.registry = Some(Arc::new(masked.registry));
    }
    Ok(out)
}
