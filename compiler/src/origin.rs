//! Provenance: where every rule in the IR came from.

use std::fmt;

use srt_schema::{SourceFile, Span};

/// The source of a rule: an entry in the settings file, or a rule srt always adds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// `key` is the dotted settings key (`filesystem.denyRead`), `index` the element's position
    /// in that list, `span` the element's bytes in the settings file.
    Policy {
        key: &'static str,
        index: usize,
        span: Span,
    },
    /// A rule srt adds itself; the name says which (see [`builtin`]).
    BuiltIn(&'static str),
}

/// Names of the built-in rules.
pub mod builtin {
    /// A path every sandboxed command may write (`/dev/null`, `/tmp/claude`, …).
    pub const DEFAULT_WRITE_PATH: &str = "default-write-path";
    /// A file or directory whose contents run outside the sandbox later (shell rc files, git
    /// hooks, editor and agent configuration); never writable.
    pub const MANDATORY_DENY: &str = "mandatory-deny";
    /// The settings file in use; the sandbox must not rewrite its own policy.
    pub const SETTINGS_FILE: &str = "settings-file";
    /// srt's own state directory (run records, the stub lock), when a write root covers it:
    /// a command that could write there could make the next run delete the user's files.
    pub const STATE_DIR: &str = "srt-state";
    /// The files git reads config, hooks and commands from, found in the repositories at
    /// the working directory and the write roots (see `crate::git`).
    pub const GIT_FILES: &str = "git-files";
    /// Nothing in the policy matched; the default for that access applied.
    pub const DEFAULT: &str = "default";
    /// `filesystem.disabled: true` lifts every filesystem rule.
    pub const FILESYSTEM_DISABLED: &str = "filesystem-disabled";
    /// What the end-of-run audit looks for beyond the mandatory denies.
    pub const AUDIT: &str = "audit";

    /// What a built-in rule is, in a sentence, for `explain`.
    pub fn describe(name: &str) -> &'static str {
        match name {
            DEFAULT_WRITE_PATH => "a path every sandboxed command may write (devices, /tmp/claude, npm and Claude debug logs)",
            MANDATORY_DENY => {
                "a mandatory deny: shell rc files, git hooks and config, editor and agent configuration run or are trusted outside the sandbox later, so they are never writable"
            }
            SETTINGS_FILE => "the settings file in use: the sandbox must not rewrite its own policy",
            STATE_DIR => "srt's state directory (run records, the stub lock): the sandbox must not write what srt's cleanup trusts",
            GIT_FILES => {
                "a file git reads config, hooks or commands from (a submodule's or worktree's config, commondir, core.hooksPath, a hook manager's configuration): the host's next git command would run what it says, so it is never writable"
            }
            FILESYSTEM_DISABLED => "filesystem.disabled is true: no filesystem rule applies",
            AUDIT => "the end-of-run audit: what it reports when the run created or changed it",
            _ => "nothing in the policy matched, so the default applied",
        }
    }
}

impl Origin {
    pub fn policy(key: &'static str, index: usize, span: Span) -> Self {
        Origin::Policy { key, index, span }
    }

    pub fn span(&self) -> Option<Span> {
        match self {
            Origin::Policy { span, .. } => Some(*span),
            Origin::BuiltIn(_) => None,
        }
    }

    /// `filesystem.denyRead[2] (.srt.json:7:5)`, or `built-in mandatory-deny`.
    pub fn describe(&self, source: Option<&SourceFile>) -> String {
        match (self, source) {
            (Origin::Policy { key, index, span }, Some(src)) => {
                format!("{key}[{index}] ({})", src.location(*span))
            }
            (Origin::Policy { key, index, .. }, None) => format!("{key}[{index}]"),
            (Origin::BuiltIn(name), _) => format!("built-in {name}"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(None))
    }
}
