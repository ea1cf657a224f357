//! Codes reported before the lints run: validation errors from `srt-schema` (the file is
//! rejected; their level cannot be changed) and notes from the compiler. They are declared
//! here so that `srt explain`, `srt lint --list`, SARIF rules and the book describe them too.

mod compiler;
mod validation;

pub use compiler::*;
pub use validation::*;

/// Every validation and compiler code.
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
];
