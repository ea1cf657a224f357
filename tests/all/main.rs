//! All of this crate's integration tests, as modules of one test binary: every test binary
//! links the whole dependency graph, so one per crate links faster and needs less disk.

mod common;
mod compile_linux;
mod compile_macos;
mod doctor;
mod explain;
mod explain_agrees;
mod init;
mod learn;
mod lint_cli;
mod lint_portable;
mod macos_run;
mod pre_commit;
mod proxy_connect;
mod run_audit;
mod run_bridge;
mod run_chain;
mod run_cli;
mod run_control;
mod run_exit;
mod run_fs;
mod run_fs_claude;
mod run_fs_git;
mod run_fs_links;
mod run_fs_replaced;
mod run_fs_violations;
mod run_host;
mod run_isolation;
mod run_launch;
mod run_net;
mod run_policies;
mod run_sigv4;
mod run_stubs;
mod run_terminal;
mod run_tls;
mod tools;
