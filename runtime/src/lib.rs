//! The srt runtime: executes a Linux plan (proxies, the in-sandbox init, seccomp), and
//! `sandbox-exec` on macOS ([`macos_run`]).

#[cfg(target_os = "linux")]
pub mod init;
#[cfg(target_os = "linux")]
pub mod preflight;
pub mod proxy;
/// `srt __proxy-connect`: the ssh ProxyCommand through the HTTP proxy (Linux and macOS).
pub mod proxy_connect;
#[cfg(target_os = "linux")]
pub mod sandbox;
/// Credential masking: sentinels, the secret registry, substitution.
pub mod secrets;
#[cfg(target_os = "linux")]
mod spawn;
/// srt's per-user state directory (run records, the stub lock).
pub mod state_dir;
#[cfg(target_os = "linux")]
pub mod stubs;

/// macOS: `sandbox-exec` (built on every OS, so it is type-checked and tested everywhere).
pub mod macos;
/// `srt run` on macOS: proxies on loopback, profile, environment, `sandbox-exec`, signals.
pub mod macos_run;
