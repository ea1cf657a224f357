//! Diagnostic codes as values of a type: a diagnostic is made from a [`Code`], and a `Code`
//! comes from a declaration (the front end's below, the Linux plan's notes, the lints'
//! `declare_lint!`), never from a string at the call site. The lints crate registers and
//! documents every code; its catalogue test checks [`FRONT_END_CODES`] against the registry.

use std::fmt;

/// A stable kebab-case diagnostic code, e.g. `unknown-key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(&'static str);

impl Code {
    /// A code declared elsewhere (a lint's declaration, a backend's list). Call sites that
    /// report use the declared constants instead.
    pub const fn declared(code: &'static str) -> Code {
        Code(code)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! front_end_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $code:literal;)*) => {
        $($(#[doc = $doc])* pub const $name: Code = Code($code);)*
        /// Every code the front end (loading, validation, resolution) reports.
        pub const FRONT_END_CODES: &[Code] = &[$($name),*];
    };
}

front_end_codes! {
    /// The file is not valid JSON.
    INVALID_JSON = "invalid-json";
    /// The file is not UTF-8.
    NOT_UTF8 = "not-utf8";
    /// The file is empty or holds no JSON value.
    EMPTY_FILE = "empty-file";
    /// The file could not be read.
    UNREADABLE_FILE = "unreadable-file";
    /// A key appears twice in one object.
    DUPLICATE_KEY = "duplicate-key";
    /// A key the format does not have.
    UNKNOWN_KEY = "unknown-key";
    /// A required key is missing.
    MISSING_KEY = "missing-key";
    /// A value of the wrong JSON type.
    WRONG_TYPE = "wrong-type";
    /// A number outside its range.
    OUT_OF_RANGE = "out-of-range";
    /// A value the key does not accept.
    INVALID_VALUE = "invalid-value";
    /// A domain pattern the npm srt's grammar rejects.
    INVALID_DOMAIN_PATTERN = "invalid-domain-pattern";
    /// A path entry that cannot be a path rule.
    INVALID_PATH_ENTRY = "invalid-path-entry";
    /// An empty path entry.
    EMPTY_PATH = "empty-path";
    /// A path whose symlink leaves the spelled tree: the spelling is kept.
    SYMLINK_NOT_FOLLOWED = "symlink-not-followed";
    /// `network.parentProxy`, `network.mitmProxy` or `network.tlsTerminate` cannot be used.
    BAD_UPSTREAM_PROXY = "bad-upstream-proxy";
}

/// For a diagnostic made only to be rendered (a snippet under `srt explain`): no code.
pub const NO_CODE: Code = Code("");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_end_codes_are_distinct_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in FRONT_END_CODES {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(
                c.as_str().split('-').all(|w| !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{c}"
            );
        }
    }

    /// `LoadError`'s codes are miette attributes (a literal there): they must be the declared one.
    #[test]
    fn load_errors_carry_the_declared_code() {
        use miette::Diagnostic as _;
        let errors = [
            crate::LoadError::NotFound {
                name: "x".into(),
                path: "x".into(),
            },
            crate::LoadError::IsDirectory {
                name: "x".into(),
                path: "x".into(),
            },
            crate::LoadError::Io {
                name: "x".into(),
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
        ];
        for e in errors {
            let code = e.code().map(|c| c.to_string());
            assert_eq!(code.as_deref(), Some(UNREADABLE_FILE.as_str()), "{e}");
        }
    }
}
