//! The srt settings format: the published JSON Schema, span-keeping strict JSON parsing, the
//! typed spanned model, loading rules, validation, and diagnostics.
//!
//! ```text
//! bytes ──load──► SourceFile ──json::parse──► Json (spans) ──validate──► Settings + Diagnostics
//! ```

#![forbid(unsafe_code)]

pub mod code;
pub mod diagnostic;
pub mod domain;
pub mod json;
pub mod load;
pub mod model;
pub mod render;
mod source;
mod span;
pub mod validate;

pub use code::Code;
pub use diagnostic::{Diagnostic, Edit, Fix, Label, Severity, SourcedDiagnostic};
pub use load::{builtin_default, load_bytes, load_file, load_str, LoadError, Loaded};
pub use model::{items, DomainEntry, Filesystem, List, Network, OtherKey, PathEntry, Settings};
pub use source::SourceFile;
pub use span::{Span, Spanned};
pub use validate::SCHEMA_TEXT;
