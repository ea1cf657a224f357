//! The flags every command that reads a policy shares, declared once: where the policy
//! applies (`--cwd`, `--home`), which file (`-s`), which OS (`--target`) and lint levels
//! (`-A/-W/-D`). `lint`, `compile`, `explain`, `diff` and `run` flatten these, so a flag means
//! the same in each and is validated in one place ([`PlaceArgs::place`]).

use std::path::PathBuf;

use srt_lints::{LevelConfig, LevelError, Target};

/// Where the policy applies: relative paths and `~`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PlaceArgs {
    /// Resolve relative paths against DIR (default: the current directory). It must exist,
    /// unless --target names another OS than this one.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Expand `~` to DIR (default: $HOME); the default settings file is then
    /// DIR/.srt-settings.json.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

/// Which settings file, and where it applies.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SettingsFlags {
    /// Settings file (default: ~/.srt-settings.json, as the npm srt; without it, no network
    /// and no writes).
    #[arg(short = 's', long = "settings", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    #[command(flatten)]
    pub place: PlaceArgs,
}

/// `--target macos|linux`.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct TargetFlag {
    /// The OS to check or compile for (default: this one).
    #[arg(long, value_parser = target_parser())]
    pub target: Option<Target>,
}

impl TargetFlag {
    pub fn get(self) -> Target {
        self.target.unwrap_or_else(Target::host)
    }
}

/// `--target macos|linux`, parsed into the one `Target` type the lints and backends share.
pub fn target_parser() -> impl clap::builder::TypedValueParser<Value = Target> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["macos", "linux"]).map(|s| {
        if s == "macos" {
            Target::Macos
        } else {
            Target::Linux
        }
    })
}

/// `-A/-W/-D CODE`, shared by `lint` and `run`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct LevelArgs {
    /// Allow (hide) a lint. `warnings` means every warning. Repeatable, or comma-separated.
    #[arg(
        short = 'A',
        long = "allow",
        value_name = "CODE",
        value_delimiter = ','
    )]
    pub allow: Vec<String>,
    /// Report a lint as a warning.
    #[arg(short = 'W', long = "warn", value_name = "CODE", value_delimiter = ',')]
    pub warn: Vec<String>,
    /// Report a lint as an error (lint: exit 1; run: it stops the run). `-D warnings` makes
    /// every warning an error.
    #[arg(short = 'D', long = "deny", value_name = "CODE", value_delimiter = ',')]
    pub deny: Vec<String>,
}

impl LevelArgs {
    pub fn config(&self) -> Result<LevelConfig, LevelError> {
        LevelConfig::from_flags(&self.allow, &self.warn, &self.deny)
    }
}

/// `--cwd` and `--home`, validated and made absolute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub cwd: PathBuf,
    pub home: PathBuf,
}

/// A flag that names something unusable (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum FlagError {
    #[error("--cwd {dir}: {reason}")]
    #[diagnostic(
        code("usage"),
        help("give an existing directory, or --target for another OS to compile for a machine where it exists")
    )]
    Cwd { dir: String, reason: String },
    #[error("the current directory cannot be read: {0}")]
    #[diagnostic(code("usage"))]
    ProcessCwd(std::io::Error),
}

impl PlaceArgs {
    /// The one validation of `--cwd`: it must be an existing directory when the policy is
    /// for this machine's OS. For another OS (`compile --target macos --cwd /Users/dev/p` on
    /// Linux) the directory is that machine's, so it is taken as spelled, made absolute.
    pub fn place(&self, target: Target) -> Result<Place, FlagError> {
        let process_cwd = std::env::current_dir().map_err(FlagError::ProcessCwd)?;
        let cwd = match &self.cwd {
            None => process_cwd.clone(),
            Some(d) => {
                let err = |reason: String| FlagError::Cwd {
                    dir: d.display().to_string(),
                    reason,
                };
                match std::fs::canonicalize(d) {
                    Ok(c) if c.is_dir() => c,
                    Ok(_) => return Err(err("not a directory".into())),
                    Err(_) if target != Target::host() => {
                        srt_compiler::path::lexical_normalize(&process_cwd.join(d))
                    }
                    Err(e) => return Err(err(e.to_string())),
                }
            }
        };
        let home = match &self.home {
            Some(h) => srt_compiler::path::lexical_normalize(&process_cwd.join(h)),
            None => std::env::home_dir().unwrap_or_else(|| PathBuf::from("/")),
        };
        Ok(Place { cwd, home })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn cwd_must_exist_for_this_os_and_may_not_for_another() {
        let missing = PlaceArgs {
            cwd: Some("/nonexistent/srt-test".into()),
            home: None,
        };
        assert!(matches!(
            missing.place(Target::host()),
            Err(FlagError::Cwd { .. })
        ));
        let other = match Target::host() {
            Target::Linux => Target::Macos,
            Target::Macos => Target::Linux,
        };
        assert_eq!(
            missing.place(other).unwrap().cwd,
            PathBuf::from("/nonexistent/srt-test")
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        let not_dir = PlaceArgs {
            cwd: Some(file.path().into()),
            home: Some("h".into()),
        };
        assert!(not_dir.place(Target::host()).is_err());
        let dir = tempfile::tempdir().unwrap();
        let place = PlaceArgs {
            cwd: Some(dir.path().into()),
            home: Some("/h/../home".into()),
        }
        .place(Target::host())
        .unwrap();
        assert_eq!(place.cwd, std::fs::canonicalize(dir.path()).unwrap());
        assert_eq!(place.home, PathBuf::from("/home"));
    }
}
