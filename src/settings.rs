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

/// A settings file loaded, validated and resolved, ready for a command that needs the IR.
pub struct Resolved {
    pub loaded: srt_schema::Loaded,
    pub ir: srt_compiler::Ir,
    /// Compiler notes from resolution.
    pub notes: Vec<srt_schema::Diagnostic>,
}

/// Where to read settings and how to resolve them.
#[derive(Clone, Debug, Default)]
pub struct SettingsArgs {
    /// `-s FILE`.
    pub settings: Option<PathBuf>,
    /// `--cwd DIR`.
    pub cwd: Option<PathBuf>,
    /// `--home DIR`.
    pub home: Option<PathBuf>,
    /// Look for `./.srt.json` before `~/.srt-settings.json` (lint, compile, explain); `run`
    /// uses only `~/.srt-settings.json`, like the npm srt.
    pub project_first: bool,
}

/// Why settings could not be used at all.
#[derive(Debug)]
pub enum SettingsError {
    /// The file could not be read (exit 2).
    Unreadable(miette::Report),
    /// The file has validation errors; they are in `Loaded::diagnostics` (exit 1).
    Invalid(Box<srt_schema::Loaded>),
}

/// Loads, validates and resolves settings. A missing default `~/.srt-settings.json` means the
/// npm srt's built-in default (no network, no writes); a missing `-s FILE` is an error.
pub fn load_and_resolve(args: &SettingsArgs) -> Result<Resolved, SettingsError> {
    let process_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let cwd = match &args.cwd {
        Some(d) => match std::fs::canonicalize(d) {
            Ok(c) => c,
            // A directory that does not exist here (policy written for another machine, as
            // `compile --cwd /Users/dev/project` on Linux) is used as spelled, made absolute.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                srt_compiler::path::lexical_normalize(&process_cwd.join(d))
            }
            Err(e) => {
                return Err(SettingsError::Unreadable(miette::miette!(
                    "--cwd {}: {e}",
                    d.display()
                )))
            }
        },
        None => process_cwd.clone(),
    };
    let (loaded, settings_path) = match &args.settings {
        Some(p) => (
            load(&p.display().to_string(), p)
                .map_err(|e| SettingsError::Unreadable(miette::Report::new(e)))?,
            Some(p.clone()),
        ),
        None => match default_settings_path(&process_cwd, args.project_first) {
            Some(p) if p.exists() => (
                load(&p.display().to_string(), &p)
                    .map_err(|e| SettingsError::Unreadable(miette::Report::new(e)))?,
                Some(p),
            ),
            _ => (srt_schema::builtin_default(), None),
        },
    };
    if loaded.has_errors() {
        return Err(SettingsError::Invalid(Box::new(loaded)));
    }
    let mut opts = srt_compiler::ResolveOptions::from_env();
    opts.cwd = cwd;
    if let Some(h) = &args.home {
        opts.home = h.clone();
    }
    opts.settings_path = settings_path.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let (ir, notes) = srt_compiler::resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &srt_compiler::RealFs,
    );
    Ok(Resolved { loaded, ir, notes })
}

/// Prints why settings could not be used, and the exit status that goes with it.
pub fn report(err: SettingsError) -> std::process::ExitCode {
    match err {
        SettingsError::Unreadable(r) => {
            eprintln!("{r:?}");
            std::process::ExitCode::from(2)
        }
        SettingsError::Invalid(loaded) => {
            let items: Vec<_> = loaded
                .diagnostics
                .iter()
                .map(|d| (d.clone(), loaded.source.clone()))
                .collect();
            crate::output::print_diagnostics(&items, crate::output::Format::Human);
            std::process::ExitCode::from(1)
        }
    }
}
