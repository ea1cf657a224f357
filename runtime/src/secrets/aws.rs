//! Masked AWS credentials linked as pairs for SigV4 re-signing (the npm srt's
//! `credential-aws-pairs`): a signature is an HMAC keyed by the secret, so a request the
//! sandbox signed with the masked secret cannot be fixed by substitution; the proxy signs it
//! again with the real one. The trigger is the masked access key id in the signature's
//! credential scope, matched exactly; a request signed with any other key is never touched.

use std::fmt;

use srt_compiler::secrets::AwsPairSpec;
use srt_compiler::Ir;
use srt_schema::domain::{DomainPattern, Host};
use zeroize::Zeroizing;

use super::Masked;

/// One registered pair: the sentinel the sandbox signs with, and the real credential.
pub struct AwsPair {
    /// `AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`, for messages.
    pub name: String,
    pub access_key_id_sentinel: String,
    pub(crate) real_access_key_id: Zeroizing<String>,
    pub(crate) real_secret: Zeroizing<String>,
    pub(crate) real_session_token: Option<Zeroizing<String>>,
    /// The access key id entry's inject hosts: where a request is re-signed.
    inject: Vec<DomainPattern>,
}

impl fmt::Debug for AwsPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AwsPair({})", self.name)
    }
}

impl AwsPair {
    pub fn signs_at(&self, host: &Host) -> bool {
        self.inject.iter().any(|p| p.matches(host, 0))
    }
}

/// Registers the pairs whose variables were masked whole-value and are set on the host. A
/// masked secret whose access key id is not masked gets a warning: nothing would trigger
/// re-signing, and its signatures can never verify.
pub(crate) fn register(ir: &Ir, env: &dyn Fn(&str) -> Option<Vec<u8>>, masked: &mut Masked) {
    let sandbox_value = |name: &str| {
        masked
            .plan
            .env
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    };
    let whole_value_mask = |name: &str| {
        ir.secrets.credentials.iter().find(|c| {
            c.mode == srt_compiler::secrets::CredentialMode::Mask
                && c.extract.is_none()
                && !c.decode_jwt
                && c.source == srt_compiler::secrets::CredentialSource::Env(name.to_string())
        })
    };
    let real = |name: &str| env(name).and_then(|v| String::from_utf8(v).ok().map(Zeroizing::new));
    let mut pairs = Vec::new();
    let mut warnings = Vec::new();
    for spec in &ir.secrets.aws_pairs {
        let AwsPairSpec {
            access_key_id_var: akid_var,
            secret_access_key_var: secret_var,
            session_token_var: token_var,
            ..
        } = spec;
        let akid_entry = whole_value_mask(akid_var);
        let akid_sentinel = akid_entry.and_then(|_| sandbox_value(akid_var));
        let secret_masked =
            whole_value_mask(secret_var).is_some() && sandbox_value(secret_var).is_some();
        let (Some(entry), Some(sentinel), true, Some(real_akid), Some(real_secret)) = (
            akid_entry,
            akid_sentinel,
            secret_masked,
            real(akid_var),
            real(secret_var),
        ) else {
            if secret_masked && sandbox_value(akid_var).is_none() {
                warnings.push(format!(
                    "credentials: ${secret_var} is masked but ${akid_var} is not, so no AWS credential pair was registered: SigV4 requests signed with the masked secret cannot be re-signed and fail upstream; mask both (whole value)"
                ));
            }
            continue;
        };
        let real_session_token = token_var
            .as_deref()
            .filter(|t| whole_value_mask(t).is_some() && sandbox_value(t).is_some())
            .and_then(real);
        pairs.push(AwsPair {
            name: format!("${akid_var}/${secret_var}"),
            access_key_id_sentinel: sentinel,
            real_access_key_id: real_akid,
            real_secret,
            real_session_token,
            inject: entry.inject_patterns(&ir.net.allowed),
        });
    }
    masked.warnings.extend(warnings);
    for p in pairs {
        masked.registry.add_aws_pair(p);
    }
}
