//! The filesystem rules of an [`Ir`] as plain data, so that another process can decide paths
//! with [`Ir::decide_path`] exactly as the host does, without the settings file or the host's
//! view of the filesystem (which resolving again inside a sandbox would not see). srt's init
//! uses it to skip, off the command's path, the observed writes the policy allows.
//!
//! Origins are not carried: whoever needs the deciding rule's provenance asks the host's
//! [`Ir`] again with the same path, and gets the same answer from the same rules.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::glob::GlobRegex;
use crate::ir::{Ir, PathRule};
use crate::origin::Origin;
use crate::path::PathPattern;

/// What the copy's rules say they came from.
pub const COPIED: crate::origin::BuiltIn = crate::origin::BuiltIn::CopiedRule;

/// A path as bytes (paths need not be UTF-8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn of(p: &Path) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            Bytes(p.as_os_str().as_bytes().to_vec())
        }
        #[cfg(not(unix))]
        {
            Bytes(p.to_string_lossy().into_owned().into_bytes())
        }
    }

    fn path(&self) -> PathBuf {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&self.0))
        }
        #[cfg(not(unix))]
        {
            PathBuf::from(String::from_utf8_lossy(&self.0).into_owned())
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Pattern {
    Literal(Bytes),
    Glob {
        glob: String,
        body: String,
        below: Option<(String, String)>,
    },
}

/// The rules [`Ir::decide_path`] reads, in their order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsRules {
    disabled: bool,
    cwd: Bytes,
    home: Bytes,
    deny_read: Vec<Pattern>,
    allow_read: Vec<Pattern>,
    allow_write: Vec<Pattern>,
    deny_write: Vec<Pattern>,
    mandatory_deny: Vec<Pattern>,
}

fn patterns(rules: &[PathRule]) -> Vec<Pattern> {
    rules
        .iter()
        .map(|r| match &r.pattern {
            PathPattern::Literal(p) => Pattern::Literal(Bytes::of(p)),
            PathPattern::Glob { glob, regex } => {
                let (body, below) = regex.parts();
                Pattern::Glob {
                    glob: glob.clone(),
                    body: body.to_string(),
                    below: below.map(|(p, s)| (p.to_string(), s.to_string())),
                }
            }
        })
        .collect()
}

fn rules(patterns: &[Pattern]) -> Vec<PathRule> {
    patterns
        .iter()
        .map(|p| {
            let pattern = match p {
                Pattern::Literal(b) => PathPattern::Literal(b.path()),
                Pattern::Glob { glob, body, below } => PathPattern::Glob {
                    glob: glob.clone(),
                    regex: GlobRegex::from_parts(body.clone(), below.clone()),
                },
            };
            PathRule {
                spelled: pattern.display(),
                pattern,
                origin: Origin::BuiltIn(COPIED),
                symlink_not_followed: None,
            }
        })
        .collect()
}

impl FsRules {
    pub fn of(ir: &Ir) -> Self {
        FsRules {
            disabled: ir.fs.disabled,
            cwd: Bytes::of(&ir.cwd),
            home: Bytes::of(&ir.home),
            deny_read: patterns(&ir.fs.deny_read),
            allow_read: patterns(&ir.fs.allow_read),
            allow_write: patterns(&ir.fs.allow_write),
            deny_write: patterns(&ir.fs.deny_write),
            mandatory_deny: patterns(&ir.fs.mandatory_deny),
        }
    }

    /// An [`Ir`] with these rules and nothing else (no network, no settings text), whose
    /// [`Ir::decide_path`] answers as the original's did.
    pub fn to_ir(&self) -> Ir {
        let mut ir = Ir {
            cwd: self.cwd.path(),
            home: self.home.path(),
            ..Ir::default()
        };
        ir.fs.disabled = self.disabled;
        ir.fs.deny_read = rules(&self.deny_read);
        ir.fs.allow_read = rules(&self.allow_read);
        ir.fs.allow_write = rules(&self.allow_write);
        ir.fs.deny_write = rules(&self.deny_write);
        ir.fs.mandatory_deny = rules(&self.mandatory_deny);
        ir
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::decide::Access;
    use crate::fsview::FakeFs;
    use crate::ir::ResolveOptions;

    #[test]
    fn the_copy_decides_every_path_as_the_original() {
        let loaded = srt_schema::load_str(
            "t.json",
            None,
            r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
                "filesystem":{"denyRead":["~/.ssh","/p/**/*.pem"],"allowRead":["~/.ssh/known_hosts"],
                "allowWrite":[".","/w[x]"],"denyWrite":["locked","/p/*.lock"]}}"#,
        );
        let opts = ResolveOptions {
            cwd: PathBuf::from("/p"),
            home: PathBuf::from("/h"),
            settings_path: Some(PathBuf::from("/p/.srt.json")),
        };
        let fs = FakeFs::new().dir("/p/locked").dir("/h/.ssh").dir("/w[x]");
        let (ir, _) = crate::resolve(&loaded.settings, None, &opts, &fs);
        let copy = FsRules::from_json(&FsRules::of(&ir).to_json())
            .unwrap()
            .to_ir();
        for path in [
            "/p/a.txt",
            "/p/locked",
            "/p/locked/x",
            "/p/x.lock",
            "/p/sub/key.pem",
            "/p/.bashrc",
            "/p/deep/er/.git/hooks/pre-commit",
            "/p/.srt.json",
            "/h/.ssh/id_rsa",
            "/h/.ssh/known_hosts",
            "/h/x",
            "/etc/passwd",
            "/tmp/claude/t",
            "/w[x]/f",
            "/wx/f",
            "/dev/null",
        ] {
            for access in [Access::Read, Access::Write] {
                assert_eq!(
                    copy.decide_path(Path::new(path), access).allowed,
                    ir.decide_path(Path::new(path), access).allowed,
                    "{path} {access:?}"
                );
            }
        }
    }
}
