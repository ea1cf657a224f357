//! All of this crate's integration tests, as modules of one test binary: every test binary
//! links the whole dependency graph, so one per crate links faster and needs less disk.

mod common;
mod decide_host;
mod decide_path;
mod diff;
mod linux_bwrap;
mod linux_links;
mod linux_notes;
mod linux_plan;
mod linux_property;
mod linux_runtime_paths;
