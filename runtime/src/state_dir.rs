//! Where srt keeps its per-user state: the run records that let the next run clean up after
//! one that was killed, and the lock that orders concurrent runs (the `stubs` module, Linux).

use std::path::PathBuf;

/// The per-user state directory: `$XDG_STATE_HOME/srt`, else `~/.local/state/srt`.
pub fn default_state_dir() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d).join("srt"),
        None => std::env::home_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join(".local/state/srt"),
    }
}

/// Write-denies `state_dir` in `ir`, by its real path when it exists, when a write root covers
/// it ([`srt_compiler::Ir::protect_state_dir`]). `srt run`, `srt compile` and `srt explain` all
/// call this, so they agree on it.
pub fn protect(ir: &mut srt_compiler::Ir, state_dir: &std::path::Path) {
    let dir = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    ir.protect_state_dir(&dir);
}
