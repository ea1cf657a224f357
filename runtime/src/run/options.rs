//! The one constructor of the Linux plan's options, used by `srt compile`, `srt explain` and
//! `srt run` alike, so that what compile prints is what run executes: the init is this `srt`
//! binary, git's ssh goes through its `__proxy-connect` (the path quoted for ssh), `TMPDIR`
//! and `JAVA_TOOL_OPTIONS` follow srt's environment.

use std::path::{Path, PathBuf};

use srt_compiler::backend::linux::{LinuxOptions, SOCKET_DIR_PLACEHOLDER};
use srt_compiler::env::tmpdir_from_env;
use srt_compiler::Ir;

/// The Linux options for a plan made by the `srt` binary at `srt_binary` with its proxy
/// sockets in `proxy_socket_dir`. A run then adds what only it knows (the sockets'
/// identities, the terminal, the secrets).
pub fn linux_options(srt_binary: PathBuf, proxy_socket_dir: PathBuf) -> LinuxOptions {
    let mut opts = LinuxOptions::new(srt_binary, proxy_socket_dir);
    opts.tmpdir = tmpdir_from_env().into();
    opts.inherited_java_tool_options = inherited_java_tool_options();
    opts
}

/// `JAVA_TOOL_OPTIONS` from srt's own environment, when set to something: the command keeps
/// it, in front of the proxy properties.
pub fn inherited_java_tool_options() -> Option<String> {
    std::env::var("JAVA_TOOL_OPTIONS")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// The socket directory `srt compile` shows for a run of `ir`: under the parent `srt run`
/// chooses ([`crate::proxy::socket_parent_for`]), named [`SOCKET_DIR_PLACEHOLDER`].
pub fn placeholder_socket_dir(ir: &Ir) -> PathBuf {
    crate::proxy::socket_parent_for(ir).join(SOCKET_DIR_PLACEHOLDER)
}

/// The bubblewrap `srt run` would start on this machine (`bwrapPath`, else the system
/// locations, else `PATH`), for `srt compile` to show; `None` where there is none (or on
/// another OS).
pub fn bwrap_on_this_host(configured: Option<&Path>) -> Option<PathBuf> {
    if cfg!(target_os = "linux") {
        crate::host_program::find_bwrap(configured).map(|b| b.path)
    } else {
        None
    }
}

/// This `srt` binary, canonical (the path bound into the sandbox as its init).
pub fn this_srt() -> std::io::Result<PathBuf> {
    std::env::current_exe().and_then(std::fs::canonicalize)
}
