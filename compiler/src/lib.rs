//! The srt policy compiler: settings → [`Ir`] (resolved rules with provenance) → the decision
//! procedure ([`Ir::decide_path`], [`Ir::decide_host`]) and the backends.
//!
//! Pure: no process spawning; the filesystem is reached only through [`FsView`].

pub mod backend;
pub mod decide;
pub mod diff;
pub mod env;
pub mod fsview;
pub mod glob;
pub mod ir;
pub mod origin;
pub mod path;
pub mod secrets;

pub use decide::{Access, HostDecision, HostReason, PathDecision};
pub use fsview::{DirEntry, EntryKind, FakeFs, FileKind, FsView, RealFs};
pub use ir::{resolve, FsPolicy, HostRule, Ir, NetPolicy, PathRule, ProcessPolicy, ResolveOptions};
pub use origin::{builtin, Origin};
pub use path::PathPattern;
pub use srt_schema::domain;
