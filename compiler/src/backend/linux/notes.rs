//! The codes of the notes a [`super::LinuxPlan`] carries: what bubblewrap cannot express
//! exactly. Every note the backend raises is made here from a [`NoteCode`] constant, and
//! [`NOTE_CODES`] lists them all; the lints crate documents each code (`srt explain CODE`,
//! the book) and its catalogue test checks that every one is registered.

use srt_schema::Diagnostic;

use crate::origin::Origin;

/// The code of a Linux plan note. Only the constants of this module exist, so a note can
/// carry no code that [`NOTE_CODES`] does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteCode(&'static str);

impl NoteCode {
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

macro_rules! note_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal;)*) => {
        $($(#[doc = $doc])* pub const $name: NoteCode = NoteCode($code);)*
        /// Every code a Linux plan note can carry.
        pub const NOTE_CODES: &[&str] = &[$($code),*];
    };
}

note_codes! {
    /// A policy entry under `/dev` or `/proc`, which bwrap replaces with its own.
    KERNEL_FS_PATH = "kernel-fs-path";
    /// An allow entry (or an allow glob's match) resolves elsewhere; it is not bound.
    SYMLINK_ALLOW_SKIPPED = "symlink-allow-skipped";
    /// A deny entry (or match) is a symlink; the deny is mounted on its target.
    SYMLINK_DENY_TARGET = "symlink-deny-target";
    /// An `allowWrite` path does not exist: nothing to bind.
    WRITE_PATH_MISSING = "write-path-missing";
    /// A glob with no literal directory to expand from.
    GLOB_NO_BASE = "glob-no-base";
    /// A glob that matches nothing on the host.
    GLOB_MATCHES_NOTHING = "glob-matches-nothing";
    /// A deny glob covers only what exists when the sandbox starts.
    DENY_GLOB_EXISTING_ONLY = "deny-glob-existing-only";
    /// An allow glob grants only what exists when the sandbox starts.
    ALLOW_GLOB_EXISTING_ONLY = "allow-glob-existing-only";
    /// An allow glob matches a directory, which is not bound.
    ALLOW_GLOB_DIRECTORY = "allow-glob-directory";
    /// Missing protected names at a write root that gets no stubs.
    MANDATORY_DENY_NOT_STUBBED = "mandatory-deny-not-stubbed";
    /// The mandatory denies reach only the scan depth.
    MANDATORY_DENY_DEPTH = "mandatory-deny-depth";
    /// `denyRead` covers `/`: its entries are hidden one by one.
    DENY_READ_ROOT = "deny-read-root";
    /// A directory the walk needed could not be listed.
    WALK_INCOMPLETE = "walk-incomplete";
    /// The working directory is read-denied.
    CWD_HIDDEN = "cwd-hidden";
    /// `network.allowUnixSockets` cannot allow one socket on Linux.
    UNIX_SOCKET_PATHS_LINUX = "unix-socket-paths-linux";
    /// `TMPDIR` does not exist.
    TMPDIR_MISSING = "tmpdir-missing";
    /// The policy does not let the command write `TMPDIR`.
    TMPDIR_NOT_WRITABLE = "tmpdir-not-writable";
    /// A denied regular file has other hard links, which the deny does not cover.
    DENY_HARD_LINKED = "deny-hard-linked";
    /// A denied file is hidden by a mount on the file: a replacement by rename shows.
    DENY_READ_FILE_REPLACEABLE = "deny-read-file-replaceable";
}

/// A symlink on the way to a protected path leads nowhere: the run is refused.
pub const DANGLING_SYMLINK: NoteCode = NoteCode("dangling-symlink");

/// The working directory lies under `/dev` or `/proc`, which the sandbox replaces with its
/// own: the command cannot start there.
pub const CWD_IN_KERNEL_FS: NoteCode = NoteCode("cwd-in-kernel-fs");

/// Every code of an error in a plan's notes: `srt run` refuses a plan that has one
/// ([`super::LinuxPlan::refusals`]).
pub const REFUSAL_CODES: &[&str] = &[DANGLING_SYMLINK.as_str(), CWD_IN_KERNEL_FS.as_str()];

/// A note about the plan as a whole.
pub(super) fn note(code: NoteCode, message: String) -> Diagnostic {
    Diagnostic::note(srt_schema::Code::declared(code.as_str()), message)
}

/// A note about one rule, labelled at its entry when it has one.
pub(super) fn note_at(origin: &Origin, code: NoteCode, message: String) -> Diagnostic {
    let d = note(code, message);
    match origin.span() {
        Some(span) => d.with_label(span, ""),
        None => d,
    }
}

/// What stops the run (an error in the plan's notes), with the remedy.
pub(super) fn refusal(
    origin: &Origin,
    code: NoteCode,
    message: String,
    help: String,
) -> Diagnostic {
    let d = Diagnostic::error(srt_schema::Code::declared(code.as_str()), message).with_help(help);
    match origin.span() {
        Some(span) => d.with_label(span, ""),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in NOTE_CODES {
            assert!(seen.insert(c), "{c} twice");
            assert!(c
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())));
        }
        assert_eq!(KERNEL_FS_PATH.as_str(), "kernel-fs-path");
    }
}
