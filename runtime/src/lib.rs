//! The runtime (see the `srt run` issue): proxies, the in-sandbox init, seccomp installation.

/// macOS: `sandbox-exec` (built for macOS, and for the tests).
#[cfg(any(target_os = "macos", test))]
pub mod macos;
