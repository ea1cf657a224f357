//! Why the proxies could not start.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProxyError {
    #[error("cannot create the proxy socket directory {}: {source}", path.display())]
    #[diagnostic(
        code(srt::proxy::socket_dir),
        help("set XDG_RUNTIME_DIR or TMPDIR to a directory you can write")
    )]
    SocketDir { path: PathBuf, source: io::Error },
    #[error("the proxy socket path under {} is too long for a Unix socket", path.display())]
    #[diagnostic(
        code(srt::proxy::path_too_long),
        help("set TMPDIR (or XDG_RUNTIME_DIR) to a shorter directory")
    )]
    PathTooLong { path: PathBuf },
    #[error("cannot listen on {}: {source}", path.display())]
    #[diagnostic(code(srt::proxy::bind))]
    Bind { path: PathBuf, source: io::Error },
    #[error("cannot listen on {addr}: {source}")]
    #[diagnostic(
        code(srt::proxy::bind),
        help("the proxies need a free port on the loopback interface (lo0 / lo) to be up")
    )]
    BindLoopback {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    #[error("cannot make the proxy credentials: reading /dev/urandom failed: {0}")]
    #[diagnostic(code(srt::proxy::credentials))]
    Credentials(io::Error),
    #[error("cannot start the proxy runtime: {0}")]
    #[diagnostic(code(srt::proxy::runtime))]
    Runtime(io::Error),
    #[error(
        "network.{key} is {port}, but nothing accepts connections on localhost:{port} ({cause})"
    )]
    #[diagnostic(
        code(srt::proxy::external),
        help("start your proxy first (the sandbox's traffic would have no way out), or remove network.{key} to let srt's proxy decide")
    )]
    ExternalProxy {
        key: &'static str,
        port: u16,
        cause: io::Error,
    },
    #[error("network.mitmProxy.socketPath is {}, but nothing accepts connections there ({cause})", path.display())]
    #[diagnostic(
        code(srt::proxy::mitm),
        help("start your inspecting proxy first (its domains have no other way out), or remove network.mitmProxy")
    )]
    MitmProxy { path: PathBuf, cause: io::Error },
    #[error("cannot open the violation log {}: {source}", path.display())]
    #[diagnostic(code(srt::proxy::violation_log))]
    ViolationLog { path: PathBuf, source: io::Error },
}
