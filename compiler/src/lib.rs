//! The srt policy compiler: settings → [`Ir`] (resolved rules with provenance) → the decision
//! procedure ([`Ir::decide_path`], [`Ir::decide_host`]) and the backends.
//!
//! Pure: no process spawning; the filesystem is reached only through [`FsView`].

#![forbid(unsafe_code)]

pub mod audit;
pub mod backend;
pub mod chain;
pub mod decide;
pub mod diff;
pub mod env;
pub mod fs_rules;
pub mod fsview;
pub mod git;
pub mod glob;
pub mod ir;
mod ir_dump;
pub mod mounts;
pub mod origin;
pub mod path;
pub mod secrets;
pub mod target;

pub use decide::{Access, HostDecision, HostReason, PathDecision};
pub use fsview::{DirEntry, EntryKind, FakeFs, FileKind, FsView, RealFs};
pub use ir::{resolve, FsPolicy, HostRule, Ir, NetPolicy, PathRule, ProcessPolicy, ResolveOptions};
pub use origin::{builtin, Origin};
pub use path::PathPattern;
pub use srt_schema::domain;
pub use target::Target;
