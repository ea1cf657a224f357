//! The srt runtime: executes a Linux plan (proxies, the in-sandbox init, seccomp), and
//! `sandbox-exec` on macOS.

#[cfg(target_os = "linux")]
pub mod init;
#[cfg(target_os = "linux")]
pub mod preflight;
pub mod proxy;
#[cfg(target_os = "linux")]
pub mod sandbox;
#[cfg(target_os = "linux")]
pub mod stubs;

/// macOS: `sandbox-exec` (built for macOS, and for the tests).
#[cfg(any(target_os = "macos", test))]
pub mod macos;
