//! The registry: every code srt reports, with its default level and documentation.
//!
//! Lints are declared with [`declare_lint!`](crate::declare_lint) in one file each under
//! `src/rules/`; the validation and compiler codes (reported before lints run) and the
//! backends' codes (reported by `srt compile`) are declared under `src/codes/` so that
//! `srt explain`, `srt lint --list`, SARIF and the book cover them too.

use crate::context::{Emitter, LintContext};
use crate::level::Level;

/// What reports a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A lint: runs on a valid file; its level is configurable.
    Lint,
    /// A validation error from `srt-schema`: the file is rejected and nothing else runs. Its
    /// level cannot be changed.
    Validation,
    /// A note from the compiler while resolving the file; its level is configurable.
    Compiler,
    /// A note or error from a backend (`srt compile --target linux|macos`) about what the
    /// target's sandbox cannot express exactly. `srt lint` never reports it, so its level
    /// cannot be changed.
    Backend,
}

/// A lint's check: reads the context, reports findings.
pub type CheckFn = fn(&LintContext<'_>, &mut Emitter);

/// One code's declaration.
#[derive(Debug)]
pub struct Lint {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// The level findings get unless the command line says otherwise. A lint may report
    /// particular findings at another level; its documentation says which.
    pub level: Level,
    /// One line: what it flags.
    pub summary: &'static str,
    /// The documentation comment, verbatim (each line keeps the space after `///`).
    pub raw_doc: &'static str,
    pub kind: Kind,
    pub check: Option<CheckFn>,
}

impl Lint {
    /// The documentation as Markdown (the leading space of each doc line removed).
    pub fn doc(&self) -> String {
        let mut out = String::with_capacity(self.raw_doc.len());
        for line in self.raw_doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string() + "\n"
    }

    /// The JSON blocks of the doc's `Example`: (bad, good) settings files.
    pub fn examples(&self) -> (Vec<String>, Vec<String>) {
        let doc = self.doc();
        let mut bad = Vec::new();
        let mut good = Vec::new();
        let mut in_block: Option<bool> = None;
        let mut current = String::new();
        let mut next_is_good = false;
        for line in doc.lines() {
            match in_block {
                None if line.trim_start().starts_with("```json") => {
                    in_block = Some(next_is_good);
                    current.clear();
                }
                None => {
                    let l = line.to_ascii_lowercase();
                    if l.contains("use instead") || l.starts_with("good") {
                        next_is_good = true;
                    } else if l.starts_with("bad") {
                        next_is_good = false;
                    }
                }
                Some(is_good) if line.trim_start().starts_with("```") => {
                    if is_good {
                        good.push(current.clone());
                    } else {
                        bad.push(current.clone());
                    }
                    in_block = None;
                }
                Some(_) => {
                    current.push_str(line);
                    current.push('\n');
                }
            }
        }
        (bad, good)
    }

    /// True when the code looks at this machine's disk (the local-disk group): `srt lint` runs it
    /// against this machine only when asked (see [`crate::portable`]).
    pub fn local_disk(&self) -> bool {
        is_local_disk(self.code)
    }

    /// True when the level can be changed with `-A/-W/-D`.
    pub fn configurable(&self) -> bool {
        matches!(self.kind, Kind::Lint | Kind::Compiler)
    }
}

/// Declares a lint: a `pub static` [`Lint`] whose documentation is the doc comment.
///
/// ```ignore
/// declare_lint! {
///     /// ### What it does
///     /// …
///     pub EXAMPLE_LINT {
///         code: "example-lint",
///         level: Warn,
///         summary: "what it flags, in one line",
///         check: check,
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_lint {
    (
        $(#[doc = $doc:literal])*
        $vis:vis $name:ident {
            code: $code:literal,
            level: $level:ident,
            summary: $summary:literal,
            check: $check:path $(,)?
        }
    ) => {
        $vis static $name: $crate::Lint = $crate::Lint {
            code: $code,
            level: $crate::Level::$level,
            summary: $summary,
            raw_doc: concat!($($doc, "\n"),*),
            kind: $crate::Kind::Lint,
            check: Some($check),
        };
    };
}

/// Declares a validation, compiler or backend code (no check: another stage reports it).
#[macro_export]
macro_rules! declare_code {
    (
        $(#[doc = $doc:literal])*
        $vis:vis $name:ident {
            code: $code:literal,
            kind: $kind:ident,
            level: $level:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $vis static $name: $crate::Lint = $crate::Lint {
            code: $code,
            level: $crate::Level::$level,
            summary: $summary,
            raw_doc: concat!($($doc, "\n"),*),
            kind: $crate::Kind::$kind,
            check: None,
        };
    };
}

/// The local-disk group: codes whose findings depend on what exists on the machine that lints.
pub const LOCAL_DISK: [&str; 3] = [
    "missing-path",
    "symlink-not-followed",
    "credential-readable-elsewhere",
];

/// Is `code` in the local-disk group?
pub fn is_local_disk(code: &str) -> bool {
    LOCAL_DISK.contains(&code)
}

/// Every code: the lints first, then the validation, compiler and backend codes.
pub fn registry() -> &'static [&'static Lint] {
    static ALL: std::sync::OnceLock<Vec<&'static Lint>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static Lint> = crate::rules::ALL.to_vec();
        v.extend(crate::codes::ALL);
        v
    })
}

/// The declaration of `code`.
pub fn find(code: &str) -> Option<&'static Lint> {
    registry().iter().copied().find(|l| l.code == code)
}

/// The lints only (codes with a check).
pub fn lints() -> impl Iterator<Item = &'static Lint> {
    registry().iter().copied().filter(|l| l.kind == Kind::Lint)
}
