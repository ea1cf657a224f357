//! Which settings file a command reads, loaded, validated and resolved: the one road from
//! the shared flags ([`crate::flags`]) to an `Ir`, used by `lint`, `compile`, `explain`,
//! `diff` and `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use srt_lints::Target;
use srt_schema::{load_file, Diagnostic, LoadError, Loaded, SourceFile};

use crate::flags::{FlagError, Place, SettingsFlags};

/// Which file a command reads, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// `-s FILE` (or a file named on `srt lint`'s command line).
    Given(PathBuf),
    /// No file given: the npm srt's default, `~/.srt-settings.json`, which exists.
    Default(PathBuf),
    /// No file given and `~/.srt-settings.json` does not exist: the npm srt's built-in
    /// default (no network, no writes).
    BuiltIn { looked_for: PathBuf },
}

impl Choice {
    /// The one rule for the file read when none is given (the npm srt's): `-s FILE`, else
    /// `~/.srt-settings.json` under `--home` (default `$HOME`), else the built-in default.
    pub fn for_flags(settings: Option<&Path>, place: &Place) -> Choice {
        match settings {
            Some(p) => Choice::Given(p.to_path_buf()),
            None => {
                let p = place.home.join(".srt-settings.json");
                if p.exists() {
                    Choice::Default(p)
                } else {
                    Choice::BuiltIn { looked_for: p }
                }
            }
        }
    }

    /// The file to read, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Choice::Given(p) | Choice::Default(p) => Some(p),
            Choice::BuiltIn { .. } => None,
        }
    }

    /// One line naming what was read, for commands whose file was chosen by default.
    pub fn notice(&self) -> Option<String> {
        match self {
            Choice::Given(_) => None,
            Choice::Default(p) => Some(format!(
                "srt: settings: {} (the default; -s FILE reads another)",
                p.display()
            )),
            Choice::BuiltIn { looked_for } => Some(format!(
                "srt: settings: none ({} does not exist): the built-in default, no network and no writes",
                looked_for.display()
            )),
        }
    }
}

/// A settings file loaded, validated and resolved, ready for a command that needs the IR.
pub struct Resolved {
    pub choice: Choice,
    pub loaded: Loaded,
    pub ir: srt_compiler::Ir,
    /// Compiler notes from resolution.
    pub notes: Vec<Diagnostic>,
}

impl Resolved {
    /// The options the IR was resolved with (for `--control-fd`'s lines, resolved alike).
    pub fn resolve_options(&self) -> srt_compiler::ResolveOptions {
        srt_compiler::ResolveOptions {
            cwd: self.ir.cwd.clone(),
            home: self.ir.home.clone(),
            settings_path: self.ir.settings_path.clone(),
        }
    }
}

/// Why settings could not be used at all.
#[derive(Debug)]
pub enum SettingsError {
    /// A flag names something unusable (exit 2).
    Flag(FlagError),
    /// The file could not be read (exit 2).
    Unreadable(LoadError),
    /// The file has validation errors; they are in `Loaded::diagnostics` (exit 1).
    Invalid(Box<Loaded>),
}

/// The resolve options for one file in one place (the settings file itself is write-denied).
pub fn resolve_options(place: &Place, file: Option<&Path>) -> srt_compiler::ResolveOptions {
    srt_compiler::ResolveOptions {
        cwd: place.cwd.clone(),
        home: place.home.clone(),
        settings_path: file.map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
    }
}

/// Reads and validates the chosen file (the built-in default when there is none).
pub fn load_choice(choice: &Choice) -> Result<Loaded, LoadError> {
    match choice.path() {
        Some(p) => load_file(&p.display().to_string(), p),
        None => Ok(srt_schema::builtin_default()),
    }
}

/// Loads, validates and resolves the settings the flags name, for `target`.
pub fn load_and_resolve(flags: &SettingsFlags, target: Target) -> Result<Resolved, SettingsError> {
    let place = flags.place.place(target).map_err(SettingsError::Flag)?;
    let choice = Choice::for_flags(flags.settings.as_deref(), &place);
    resolve_choice(choice, place)
}

/// Loads, validates and resolves one chosen file in one place.
pub fn resolve_choice(choice: Choice, place: Place) -> Result<Resolved, SettingsError> {
    let loaded = load_choice(&choice).map_err(SettingsError::Unreadable)?;
    if loaded.has_errors() {
        return Err(SettingsError::Invalid(Box::new(loaded)));
    }
    let opts = resolve_options(&place, choice.path());
    let (mut ir, notes) = srt_compiler::resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &srt_compiler::RealFs,
    );
    // The parent proxy falls back to HTTP_PROXY/HTTPS_PROXY/NO_PROXY of srt's own
    // environment (the npm srt's rule); `compile` shows it, `run` connects through it.
    ir.chain.adopt_environment(&|k| std::env::var(k).ok());
    Ok(Resolved {
        choice,
        loaded,
        ir,
        notes,
    })
}

/// A file that could not be read, as an error diagnostic (code `unreadable-file`), so that
/// every output format reports it: a JSON or SARIF consumer must see a failure, not an empty
/// list.
pub fn unreadable_diagnostic(e: &LoadError) -> (Diagnostic, Arc<SourceFile>) {
    let (name, path) = match e {
        LoadError::NotFound { name, path }
        | LoadError::IsDirectory { name, path }
        | LoadError::Io { name, path, .. } => (name.clone(), path.clone()),
    };
    let help = match e {
        LoadError::NotFound { .. } => "check the path; `srt init` writes a new policy",
        LoadError::IsDirectory { .. } => "pass the settings file inside it, e.g. DIR/.srt.json",
        LoadError::Io { .. } => "check the file's permissions",
    };
    let d = Diagnostic::error(srt_schema::code::UNREADABLE_FILE, e.to_string()).with_help(help);
    (d, SourceFile::new(name, Some(&path), ""))
}

/// Prints why settings could not be used, and the exit status that goes with it.
pub fn report(err: SettingsError) -> ExitCode {
    match err {
        SettingsError::Flag(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(2)
        }
        SettingsError::Unreadable(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(2)
        }
        SettingsError::Invalid(loaded) => {
            let items: Vec<_> = loaded
                .diagnostics
                .iter()
                .map(|d| (d.clone(), loaded.source.clone()))
                .collect();
            crate::output::print_diagnostics(&items, crate::output::Format::Human);
            ExitCode::from(1)
        }
    }
}
