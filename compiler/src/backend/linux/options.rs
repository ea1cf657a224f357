//! [`LinuxOptions`]: what the runtime chooses for a plan, and the planner cannot know.

use std::path::PathBuf;

use super::seccomp::Arch;
use super::{FileId, SecretsOptions};

/// What the runtime chooses, and the planner cannot know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxOptions {
    /// The `srt` binary on the host (canonical). Bound read-only at the same path and run as
    /// the in-sandbox init.
    pub srt_binary: PathBuf,
    /// The private (0700) host directory holding the proxy sockets, bound read-only at the same
    /// path. The sockets in it are [`super::ProxyPlan::http_socket`] and
    /// [`super::ProxyPlan::socks_socket`].
    pub proxy_socket_dir: PathBuf,
    /// The identities of the sockets srt bound there (HTTP, SOCKS5), which the init checks
    /// before the command starts; `None` where there are none yet (`srt compile`), shown as
    /// `DEV:INO`.
    pub proxy_socket_ids: Option<[FileId; 2]>,
    /// The loopback ports the init listens on inside the sandbox.
    pub http_port: u16,
    pub socks_port: u16,
    /// Proxy credentials to put in the environment, if the proxy wants them.
    pub proxy_auth: Option<(String, String)>,
    /// `TMPDIR` for the command (the peer: `$CLAUDE_CODE_TMPDIR`, `$CLAUDE_TMPDIR`, else
    /// `/tmp/claude`).
    pub tmpdir: PathBuf,
    /// An ssh `ProxyCommand` through the proxy (`%h %p` left for ssh) for `GIT_SSH_COMMAND`:
    /// [`LinuxOptions::new`] makes it `<srt_binary> __proxy-connect %h %p`, quoted for ssh
    /// ([`crate::env::srt_ssh_proxy_command`]); `None` leaves ssh alone.
    pub ssh_proxy_command: Option<String>,
    /// `JAVA_TOOL_OPTIONS` srt inherited, kept in front of the proxy properties.
    pub inherited_java_tool_options: Option<String>,
    /// The architecture of the seccomp program.
    pub arch: Arch,
    /// srt shares a terminal with the command (its stdin or stdout is its controlling
    /// terminal). The sandbox runs in its own process group either way; on a terminal that
    /// group is made the terminal's foreground, and srt's init runs as PID 1 even without
    /// proxies: bwrap is kept from the terminal's SIGINT/SIGQUIT/SIGHUP (which would end it
    /// and the sandbox) and the init gives them back to the command, and relays the command's
    /// stops to srt's job (Ctrl-Z).
    pub terminal: bool,
    /// The run CA's bundle and the masked credentials (see [`SecretsOptions`]).
    pub secrets: SecretsOptions,
    /// Report the filesystem accesses the sandbox refuses ([`super::FsObserver`]); off unless
    /// the run says `--fs-violations writes|all` (and the kernel can).
    pub fs_violations: bool,
    /// With [`LinuxOptions::fs_violations`]: also report reads of the paths the policy hides
    /// (every open is then observed).
    pub fs_violation_reads: bool,
    /// The network lists may change while the command runs (`--control-fd`): the proxies are
    /// bridged even while no host is allowed.
    pub live_network: bool,
    /// Bridge the proxies even when the policy allows no host, so every destination the
    /// command tries is refused by them and reported (`srt run --violations`, `srt learn`);
    /// without it such a policy has no network at all, and nothing to report.
    pub report_network: bool,
}

impl LinuxOptions {
    /// Defaults for `srt` on this host: ports 3128/1080, `TMPDIR=/tmp/claude`, and git's ssh
    /// through `srt_binary`'s `__proxy-connect`. (`srt_runtime::run::linux_options` adds what
    /// comes from srt's environment; `srt compile`, `explain` and `run` all use that.)
    pub fn new(srt_binary: PathBuf, proxy_socket_dir: PathBuf) -> Self {
        // A path that is not UTF-8, or that holds a `'` or a newline, cannot be carried into
        // GIT_SSH_COMMAND: then ssh is left alone rather than given a broken command.
        let ssh_proxy_command = srt_binary
            .to_str()
            .and_then(|exe| crate::env::srt_ssh_proxy_command(exe, None));
        LinuxOptions {
            srt_binary,
            proxy_socket_dir,
            proxy_socket_ids: None,
            http_port: 3128,
            socks_port: 1080,
            proxy_auth: None,
            tmpdir: PathBuf::from("/tmp/claude"),
            ssh_proxy_command,
            inherited_java_tool_options: None,
            arch: Arch::host().unwrap_or(Arch::X86_64),
            terminal: false,
            secrets: SecretsOptions::default(),
            fs_violations: false,
            fs_violation_reads: false,
            live_network: false,
            report_network: false,
        }
    }
}
