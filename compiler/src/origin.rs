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
    /// A rule srt adds itself; the variant says which.
    BuiltIn(BuiltIn),
}

/// Declares [`BuiltIn`]: each variant with the name srt shows (`built-in NAME`) and, for the
/// IR's rules, the sentence `explain` gives.
macro_rules! built_ins {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// The rules and plan arguments srt adds itself, by name. A typed name: a misspelt
        /// origin does not compile, and [`BuiltIn::ALL`] lists every one for tests and docs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum BuiltIn {
            $($(#[doc = $doc])* $variant,)*
        }

        impl BuiltIn {
            /// Every built-in origin.
            pub const ALL: &'static [BuiltIn] = &[$(BuiltIn::$variant,)*];

            /// The name srt shows: `built-in NAME`.
            pub fn name(self) -> &'static str {
                match self {
                    $(BuiltIn::$variant => $name,)*
                }
            }

            /// The built-in origin called `name`.
            pub fn from_name(name: &str) -> Option<BuiltIn> {
                BuiltIn::ALL.iter().copied().find(|b| b.name() == name)
            }
        }
    };
}

built_ins! {
    /// A path every sandboxed command may write (`/dev/null`, `/tmp/claude`, …).
    DefaultWritePath => "default-write-path",
    /// A file or directory whose contents run outside the sandbox later (shell rc files, git
    /// hooks, editor and agent configuration); never writable.
    MandatoryDeny => "mandatory-deny",
    /// The settings file in use; the sandbox must not rewrite its own policy.
    SettingsFile => "settings-file",
    /// srt's own state directory (run records, the stub lock), when a write root covers it:
    /// a command that could write there could make the next run delete the user's files.
    StateDir => "srt-state",
    /// The files git reads config, hooks and commands from, found in the repositories at
    /// the working directory and the write roots (see `crate::git`).
    GitFiles => "git-files",
    /// Nothing in the policy matched; the default for that access applied.
    Default => "default",
    /// `filesystem.disabled: true` lifts every filesystem rule.
    FilesystemDisabled => "filesystem-disabled",
    /// What the end-of-run audit looks for beyond the mandatory denies.
    Audit => "audit",
    /// A rule copied into another process (the init's filesystem rules).
    CopiedRule => "copied-rule",
    /// Linux plan: `--ro-bind / /`: everything is readable and nothing writable unless a rule
    /// says so.
    ReadOnlyRoot => "read-only-root",
    /// Linux plan: `--dev /dev`, a minimal private /dev.
    PrivateDev => "private-dev",
    /// Linux plan: `--proc /proc`, the sandbox's own process list.
    PrivateProc => "private-proc",
    /// Linux plan: namespaces, capabilities, lifetime.
    Isolation => "isolation",
    /// Linux plan: `--unshare-net`, no network but the proxies.
    NetworkRestricted => "network-restricted",
    /// Linux plan: `--chdir`, the command starts where srt was asked to run it.
    Cwd => "cwd",
    /// Linux plan: the directory holding the proxies' Unix sockets.
    ProxySockets => "proxy-sockets",
    /// Linux plan: the `srt` binary, run as the in-sandbox init.
    Init => "init",
    /// Linux plan: the init's link pins, the capabilities it makes them with, dropped before
    /// the command.
    LinkPins => "link-pins",
    /// Linux plan: the init's filesystem observer, which reports the accesses the sandbox
    /// refused.
    FsViolations => "fs-violations",
    /// Linux plan: `--control-fd`, the network lists may change while the command runs.
    ControlFd => "control-fd",
}

// Ordered by name, as the string names were: plans and reports sort rules by origin.
impl PartialOrd for BuiltIn {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BuiltIn {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl serde::Serialize for BuiltIn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for BuiltIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl BuiltIn {
    /// What a built-in rule is, in a sentence, for `explain`.
    pub fn describe(self) -> &'static str {
        match self {
            BuiltIn::DefaultWritePath => "a path every sandboxed command may write (devices, /tmp/claude, npm and Claude debug logs)",
            BuiltIn::MandatoryDeny => {
                "a mandatory deny: shell rc files, git hooks and config, editor and agent configuration run or are trusted outside the sandbox later, so they are never writable"
            }
            BuiltIn::SettingsFile => "the settings file in use: the sandbox must not rewrite its own policy",
            BuiltIn::StateDir => "srt's state directory (run records, the stub lock): the sandbox must not write what srt's cleanup trusts",
            BuiltIn::GitFiles => {
                "a file git reads config, hooks or commands from (a submodule's or worktree's config, commondir, core.hooksPath, a hook manager's configuration): the host's next git command would run what it says, so it is never writable"
            }
            BuiltIn::FilesystemDisabled => "filesystem.disabled is true: no filesystem rule applies",
            BuiltIn::Audit => "the end-of-run audit: what it reports when the run created or changed it",
            _ => "nothing in the policy matched, so the default applied",
        }
    }
}

/// The IR's built-in origins by their former constant names.
pub mod builtin {
    use super::BuiltIn;

    pub const DEFAULT_WRITE_PATH: BuiltIn = BuiltIn::DefaultWritePath;
    pub const MANDATORY_DENY: BuiltIn = BuiltIn::MandatoryDeny;
    pub const SETTINGS_FILE: BuiltIn = BuiltIn::SettingsFile;
    pub const STATE_DIR: BuiltIn = BuiltIn::StateDir;
    pub const GIT_FILES: BuiltIn = BuiltIn::GitFiles;
    pub const DEFAULT: BuiltIn = BuiltIn::Default;
    pub const FILESYSTEM_DISABLED: BuiltIn = BuiltIn::FilesystemDisabled;
    pub const AUDIT: BuiltIn = BuiltIn::Audit;

    /// What a built-in rule is, in a sentence, for `explain`.
    pub fn describe(b: BuiltIn) -> &'static str {
        b.describe()
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

#[cfg(test)]
mod tests {
    use super::BuiltIn;

    #[test]
    fn built_in_names_are_distinct_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for b in BuiltIn::ALL {
            let n = b.name();
            assert!(seen.insert(n), "{n} twice");
            assert!(
                n.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'),
                "{n}"
            );
            assert_eq!(BuiltIn::from_name(n), Some(*b));
        }
    }
}
