//! All of this crate's integration tests, as modules of one test binary: every test binary
//! links the whole dependency graph, so one per crate links faster and needs less disk.

mod comments;
