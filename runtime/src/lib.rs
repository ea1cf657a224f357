//! The srt runtime: `srt run` on Linux (proxies, the in-sandbox init, seccomp) and on macOS
//! (`sandbox-exec`), one run with the OS-specific parts behind a small interface ([`run`]).

/// The end-of-run audit of what the run left where the command could write.
pub mod audit;
/// `srt run --control-fd`: network lists that change while the command runs.
pub mod control;
/// Descriptors srt inherited are marked close-on-exec before a run (none reach the sandbox).
pub mod fds;
/// Filesystem violations: the accesses the sandbox refused, observed and reported.
pub mod fsviolations;
/// Programs srt executes on the host (bubblewrap) must be out of the sandbox's reach.
pub mod host_program;
#[cfg(target_os = "linux")]
pub mod init;
#[cfg(target_os = "linux")]
pub mod preflight;
pub mod proxy;
/// `srt __proxy-connect`: the ssh ProxyCommand through the HTTP proxy (Linux and macOS).
pub mod proxy_connect;
/// `srt run`: one request, one sequence of steps, the OS-specific parts behind `OsSandbox`.
pub mod run;
/// Credential masking: sentinels, the secret registry, substitution.
pub mod secrets;
/// srt's per-user state directory (run records, the stub lock).
pub mod state_dir;
#[cfg(target_os = "linux")]
pub mod stubs;
/// The sandbox's own process group, and the terminal handed to it and back.
#[cfg(target_os = "linux")]
pub mod terminal;
