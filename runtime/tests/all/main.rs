//! All of this crate's integration tests, as modules of one test binary: every test binary
//! links the whole dependency graph, so one per crate links faster and needs less disk.

mod audit_index;
mod audit_walk;
mod common;
mod proxy_clients;
mod proxy_fds;
mod proxy_hostile;
mod proxy_http;
mod proxy_loopback;
mod proxy_socks;
mod proxy_tls;
mod scan_index;
mod seccomp;
