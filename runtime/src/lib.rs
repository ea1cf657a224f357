//! The runtime (see the `srt run` issue): proxies, the in-sandbox init, seccomp installation.

#[cfg(target_os = "linux")]
pub mod seccomp;
