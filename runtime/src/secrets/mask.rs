//! Masking at the start of a run: each `mode: "mask"` variable and file is read on the host,
//! its secret spans replaced by sentinels (whole value, `extract` captures, JWTs or JWT claims),
//! the pairs registered, and the masked copies of files written for the plan to bind.
//!
//! Where masking cannot apply (`extract` or `decode` finds nothing) `onExtractNoMatch` decides,
//! as in the npm srt: `warn` (its default) leaves the value as it is, with a warning; `deny`
//! withholds it; `error` refuses the run. Where the npm srt silently leaves a masked file
//! readable because it is a directory or not UTF-8 text, srt hides it instead (fail closed).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use regex::Regex;
use srt_compiler::backend::linux::MaskedCredentials;
use srt_compiler::secrets::{CredentialMode, CredentialRule, CredentialSource, OnNoMatch};
use srt_compiler::{Ir, PathPattern};
use srt_schema::domain::DomainPattern;
use zeroize::Zeroizing;

use super::registry::Registry;
use super::{jwt, sentinel};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MaskError {
    #[error("{what}: {why}")]
    #[diagnostic(
        code(srt::credentials::mask),
        help("fix the entry in `credentials`, or set onExtractNoMatch to \"warn\" or \"deny\"")
    )]
    Entry { what: String, why: String },
    #[error("cannot write the masked copy of {path}: {source}")]
    #[diagnostic(code(srt::credentials::io))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The masks of one run.
#[derive(Debug, Default)]
pub struct Masked {
    pub registry: Registry,
    /// For the plan: masked variables' values, masked copies of files.
    pub plan: MaskedCredentials,
    /// One line each, naming the entry (never a value).
    pub warnings: Vec<String>,
}

/// What became of one value.
enum Outcome {
    /// The value to show in the sandbox (sentinels in it).
    Masked(Zeroizing<Vec<u8>>),
    Withheld,
    LeftAsIs,
}

struct Masker<'a> {
    ir: &'a Ir,
    out: Masked,
}

/// Masks every `mode: "mask"` credential of `ir`. `env` reads a host variable; masked copies
/// go in `dir` (srt's private directory for the run).
pub fn mask_all(
    ir: &Ir,
    env: &dyn Fn(&str) -> Option<Vec<u8>>,
    dir: &Path,
) -> Result<Masked, MaskError> {
    let mut m = Masker {
        ir,
        out: Masked::default(),
    };
    for (index, c) in ir.secrets.credentials.iter().enumerate() {
        if c.mode != CredentialMode::Mask {
            continue;
        }
        match &c.source {
            CredentialSource::Env(name) => {
                let Some(real) = env(name) else { continue };
                let real = Zeroizing::new(real);
                match m.mask_value(c, &format!("${name}"), &real, false)? {
                    Outcome::Masked(fake) => {
                        let fake = String::from_utf8_lossy(&fake).into_owned();
                        m.out.plan.env.push((name.clone(), Some(fake)));
                    }
                    Outcome::Withheld => m.out.plan.env.push((name.clone(), None)),
                    Outcome::LeftAsIs => {}
                }
            }
            CredentialSource::File(PathPattern::Literal(path)) => {
                m.mask_file(c, path, dir, index)?;
            }
            CredentialSource::File(PathPattern::Glob { .. }) => {}
        }
    }
    super::aws::register(ir, env, &mut m.out);
    Ok(m.out)
}

impl Masker<'_> {
    fn inject(&self, c: &CredentialRule) -> Vec<DomainPattern> {
        c.inject_patterns(&self.ir.net.allowed)
    }

    fn register(
        &mut self,
        c: &CredentialRule,
        name: String,
        real: &[u8],
        fake: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, MaskError> {
        let entry = |why: String| MaskError::Entry {
            what: c.what(),
            why,
        };
        if self.out.registry.len() >= 64 {
            return Err(entry("more than 64 masked values in one run".into()));
        }
        let sentinel = match fake {
            Some(f) => f,
            None => sentinel::mint(real).map_err(|e| entry(format!("no randomness: {e}")))?,
        };
        let inject = self.inject(c);
        self.out
            .registry
            .add(
                name,
                sentinel.clone(),
                Zeroizing::new(real.to_vec()),
                inject,
            )
            .map_err(entry)?;
        Ok(sentinel)
    }

    /// Masks one value (a variable's, or a file's content).
    fn mask_value(
        &mut self,
        c: &CredentialRule,
        name: &str,
        real: &[u8],
        is_file: bool,
    ) -> Result<Outcome, MaskError> {
        let entry = |why: String| MaskError::Entry {
            what: c.what(),
            why,
        };
        if c.extract.is_none() && !c.decode_jwt {
            // Whole value; a file's trailing line break is not part of the secret.
            let cut = if is_file {
                real.len()
                    - real
                        .iter()
                        .rev()
                        .take_while(|b| matches!(b, b'\n' | b'\r'))
                        .count()
            } else {
                real.len()
            };
            let mut fake =
                Zeroizing::new(self.register(c, name.to_string(), &real[..cut], None)?);
            fake.extend_from_slice(&real[cut..]);
            return Ok(Outcome::Masked(fake));
        }
        let Ok(text) = std::str::from_utf8(real) else {
            return self.no_match(c, "the value is not UTF-8 text");
        };
        if c.decode_jwt && c.extract.is_none() && !is_file {
            // A variable with decode: the whole value is the token.
            let trimmed = text.trim();
            if !jwt::verify(trimmed) {
                return self.no_match(c, "decode \"jwt\": the value is not a JWT");
            }
            let fake = self.jwt_fake(c, name, trimmed)?;
            return match fake {
                Some(f) => Ok(Outcome::Masked(Zeroizing::new(f.into_bytes()))),
                None => self.no_match(c, "maskClaims: no named claim is a string in the token"),
            };
        }
        let pattern = c.extract.as_deref().unwrap_or(jwt::DEFAULT_PATTERN);
        let re = Regex::new(pattern).map_err(|e| entry(format!("extract: {e}")))?;
        if re.captures_len() < 2 {
            return Err(entry(
                "extract needs a capture group (group 1 is the secret)".into(),
            ));
        }
        // Spans against the original text; distinct captures in first-seen order.
        let mut spans: Vec<(usize, usize, String)> = Vec::new();
        let mut fakes: Vec<(String, String)> = Vec::new();
        for caps in re.captures_iter(text) {
            let Some(g) = caps.get(1) else {
                return Err(entry(
                    "extract matched where capture group 1 took no part".into(),
                ));
            };
            if g.as_str().is_empty() {
                continue;
            }
            let cap = g.as_str();
            let fake = match fakes.iter().find(|(r, _)| r == cap) {
                Some((_, f)) => f.clone(),
                None => {
                    let key = format!("{name}#{}", fakes.len());
                    let f = if c.decode_jwt {
                        if !jwt::verify(cap) {
                            continue;
                        }
                        match self.jwt_fake(c, &key, cap)? {
                            Some(f) => f,
                            None => continue,
                        }
                    } else {
                        let s = self.register(c, key, cap.as_bytes(), None)?;
                        String::from_utf8_lossy(&s).into_owned()
                    };
                    fakes.push((cap.to_string(), f.clone()));
                    f
                }
            };
            spans.push((g.start(), g.end(), fake));
        }
        if spans.is_empty() {
            let why = if c.decode_jwt {
                "decode \"jwt\": no verified JWT (with a named claim) was found"
            } else {
                "extract matched nothing"
            };
            return self.no_match(c, why);
        }
        if c.mask_duplicates {
            let mut by_len = fakes.clone();
            by_len.sort_by_key(|(r, _)| std::cmp::Reverse(r.len()));
            for (realv, fake) in by_len {
                for (start, _) in text.match_indices(realv.as_str()) {
                    let end = start + realv.len();
                    if !spans.iter().any(|(s, e, _)| start < *e && *s < end) {
                        spans.push((start, end, fake.clone()));
                    }
                }
            }
            spans.sort_by_key(|(s, _, _)| *s);
        }
        let mut out = Zeroizing::new(Vec::with_capacity(real.len()));
        let mut pos = 0;
        for (s, e, fake) in &spans {
            out.extend_from_slice(&real[pos..*s]);
            out.extend_from_slice(fake.as_bytes());
            pos = *e;
        }
        out.extend_from_slice(&real[pos..]);
        Ok(Outcome::Masked(out))
    }

    /// A fake for one verified token: a fresh fake JWT, or with `maskClaims` the token with
    /// those claims masked (both the whole token and each claim are registered).
    fn jwt_fake(
        &mut self,
        c: &CredentialRule,
        key: &str,
        token: &str,
    ) -> Result<Option<String>, MaskError> {
        let io = |e: std::io::Error| MaskError::Entry {
            what: c.what(),
            why: format!("no randomness: {e}"),
        };
        let fake = if c.mask_claims.is_empty() {
            jwt::fake().map_err(io)?
        } else {
            let mut err = None;
            let masked = jwt::mask_claims(token, &c.mask_claims, |claim, value| {
                match self.register(c, format!("{key}.{claim}"), value.as_bytes(), None) {
                    Ok(s) => Ok(String::from_utf8_lossy(&s).into_owned()),
                    Err(e) => {
                        err = Some(e);
                        Err(std::io::Error::other("registration failed"))
                    }
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            match masked.map_err(io)? {
                Some(f) => f,
                None => return Ok(None),
            }
        };
        self.register(
            c,
            key.to_string(),
            token.as_bytes(),
            Some(fake.clone().into_bytes()),
        )?;
        Ok(Some(fake))
    }

    fn no_match(&mut self, c: &CredentialRule, why: &str) -> Result<Outcome, MaskError> {
        match c.on_no_match {
            OnNoMatch::Error => Err(MaskError::Entry {
                what: c.what(),
                why: format!("{why} (onExtractNoMatch: \"error\")"),
            }),
            OnNoMatch::Deny => {
                self.out.warnings.push(format!(
                    "{}: {why}; withheld from the sandbox (onExtractNoMatch: \"deny\")",
                    self.ir.describe(&c.origin)
                ));
                Ok(Outcome::Withheld)
            }
            OnNoMatch::Warn => {
                self.out.warnings.push(format!(
                    "{}: {why}; {} is left UNPROTECTED, readable as it is in the sandbox (set onExtractNoMatch to \"deny\" or \"error\" to prevent that)",
                    self.ir.describe(&c.origin),
                    c.what()
                ));
                Ok(Outcome::LeftAsIs)
            }
        }
    }

    fn mask_file(
        &mut self,
        c: &CredentialRule,
        path: &Path,
        dir: &Path,
        index: usize,
    ) -> Result<(), MaskError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            // Missing or unreadable to this user (so to the sandbox too): nothing to protect.
            Err(_) => return Ok(()),
        };
        let hide = |m: &mut Self, why: &str| {
            m.out.warnings.push(format!(
                "{}: {why}; it is hidden in the sandbox instead",
                m.ir.describe(&c.origin)
            ));
            m.out.plan.files.push((path.to_path_buf(), None));
        };
        if !meta.is_file() {
            hide(
                self,
                "masking applies to one regular file, and this is not one",
            );
            return Ok(());
        }
        let Ok(real) = std::fs::read(path).map(Zeroizing::new) else {
            return Ok(());
        };
        if !c.decode_jwt && c.extract.is_none() || std::str::from_utf8(&real).is_ok() {
            match self.mask_value(c, &path.display().to_string(), &real, true)? {
                Outcome::Masked(fake) => {
                    let copy = dir.join(format!("{index}.masked"));
                    write_private(&copy, &fake).map_err(|source| MaskError::Io {
                        path: path.to_path_buf(),
                        source,
                    })?;
                    self.out.plan.files.push((path.to_path_buf(), Some(copy)));
                }
                Outcome::Withheld => self.out.plan.files.push((path.to_path_buf(), None)),
                Outcome::LeftAsIs => {}
            }
        } else {
            hide(self, "the file is not UTF-8 text");
        }
        Ok(())
    }
}

/// A new file only this user can read (the bind into the sandbox is read-only).
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(path)?;
    f.write_all(data)
}
