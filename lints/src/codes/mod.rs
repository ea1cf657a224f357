//! Codes reported outside the lints: validation errors from `srt-schema` (the file is
//! rejected; their level cannot be changed), notes from the compiler, and the backends' notes
//! and errors (`srt compile`). They are declared here so that `srt explain`, `srt lint
//! --list`, SARIF rules and the book describe them too.

mod compiler;
mod linux_globs;
mod linux_plan;
mod linux_refusals;
mod macos_profile;
mod validation;

pub use compiler::*;
pub use linux_globs::*;
pub use linux_plan::*;
pub use linux_refusals::*;
pub use macos_profile::*;
pub use validation::*;

/// Every validation, compiler and backend code.
pub static ALL: &[&crate::Lint] = &[
    &UNKNOWN_KEY,
    &INVALID_DOMAIN_PATTERN,
    &WRONG_TYPE,
    &MISSING_KEY,
    &OUT_OF_RANGE,
    &INVALID_VALUE,
    &EMPTY_PATH,
    &INVALID_PATH_ENTRY,
    &DUPLICATE_KEY,
    &INVALID_JSON,
    &EMPTY_FILE,
    &NOT_UTF8,
    &UNREADABLE_FILE,
    &INTERNAL_ERROR,
    &SYMLINK_NOT_FOLLOWED,
    &BAD_UPSTREAM_PROXY,
    // The Linux plan's notes, in the order a plan raises them.
    &KERNEL_FS_PATH,
    &SYMLINK_ALLOW_SKIPPED,
    &SYMLINK_DENY_TARGET,
    &WRITE_PATH_MISSING,
    &GLOB_NO_BASE,
    &GLOB_MATCHES_NOTHING,
    &DENY_GLOB_EXISTING_ONLY,
    &ALLOW_GLOB_EXISTING_ONLY,
    &ALLOW_GLOB_DIRECTORY,
    &MANDATORY_DENY_NOT_STUBBED,
    &MANDATORY_DENY_DEPTH,
    &DENY_READ_ROOT,
    &WALK_INCOMPLETE,
    &CWD_HIDDEN,
    &UNIX_SOCKET_PATHS_LINUX,
    &TMPDIR_MISSING,
    &TMPDIR_NOT_WRITABLE,
    &DENY_HARD_LINKED,
    &DENY_READ_FILE_REPLACEABLE,
    &DANGLING_SYMLINK,
    &CWD_IN_KERNEL_FS,
    // The macOS profile's errors.
    &SEATBELT_UNREPRESENTABLE,
    &SEATBELT_PATH_NOT_UTF8,
];
