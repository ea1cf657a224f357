//! The runtime (see the `srt run` issue): proxies, the in-sandbox init, seccomp installation.

pub mod proxy;
