//! Which settings file a command reads, loaded and validated.

use std::path::{Path, PathBuf};

use srt_schema::{load_file, LoadError, Loaded};

/// `~/.srt-settings.json`.
pub fn user_settings_path() -> Option<PathBuf> {
    std::env::home_dir().map(|h| h.join(".srt-settings.json"))
}

/// The file a command reads when none is given: `./.srt.json` if present (lint, compile,
/// explain), else `~/.srt-settings.json`.
pub fn default_settings_path(cwd: &Path, project_first: bool) -> Option<PathBuf> {
    let project = cwd.join(".srt.json");
    if project_first && project.is_file() {
        return Some(project);
    }
    user_settings_path()
}

/// Loads a settings file given on the command line.
pub fn load(name: &str, path: &Path) -> Result<Loaded, LoadError> {
    load_file(name, path)
}
