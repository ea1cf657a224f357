//! Lint levels, and the levels chosen on the command line (`-A/-W/-D CODE`, `-D warnings`).

use std::collections::BTreeMap;
use std::fmt;

use srt_schema::Severity;

use crate::registry::{find, Kind};

/// How a finding is reported. `Allow` hides it; the others map to the diagnostic severities
/// (`note`, `warning`, `error`). Only `deny` makes `srt lint` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Note,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// The severity a finding at this level is shown with; `None` for `allow`.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Note => Some(Severity::Note),
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }

    /// The level of a diagnostic that arrives with a severity (compiler notes).
    pub fn from_severity(s: Severity) -> Self {
        match s {
            Severity::Note => Level::Note,
            Severity::Warning => Level::Warn,
            Severity::Error => Level::Deny,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The group name `warnings`: every finding whose level would be `warn`.
pub const WARNINGS: &str = "warnings";

/// Why a level flag was refused (exit 2).
#[derive(Debug, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum LevelError {
    #[error("unknown lint code `{code}`")]
    #[diagnostic(code("usage"), help("{}", suggestion_help(suggestion)))]
    UnknownCode {
        code: String,
        suggestion: Option<String>,
    },
    #[error("`{code}` is a validation error and cannot be set to `{level}`")]
    #[diagnostic(
        code("usage"),
        help("validation errors describe a file the npm srt would also reject or misread; fix the file instead (`srt explain {code}`)")
    )]
    NotConfigurable { code: String, level: Level },
    #[error(
        "`{code}` is reported by `srt compile`, not by `srt lint`, and cannot be set to `{level}`"
    )]
    #[diagnostic(
        code("usage"),
        help("backend codes say what the target's sandbox cannot enforce exactly (`srt explain {code}`)")
    )]
    NotALint { code: String, level: Level },
    #[error("`{code}` is given two levels: `{first}` and `{second}`")]
    #[diagnostic(code("usage"), help("give each code one level"))]
    Conflict {
        code: String,
        first: Level,
        second: Level,
    },
}

fn suggestion_help(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("did you mean `{s}`? `srt lint --list` lists every code"),
        None => "`srt lint --list` lists every code".into(),
    }
}

/// Levels set on the command line. A code named explicitly wins over the `warnings` group,
/// whatever the order of the flags (so `-D warnings -W exfiltration-surface` keeps that one a
/// warning).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelConfig {
    by_code: BTreeMap<&'static str, Level>,
    warnings: Option<Level>,
}

impl LevelConfig {
    /// Builds the configuration from `-A`, `-W` and `-D` values.
    pub fn from_flags(
        allow: &[String],
        warn: &[String],
        deny: &[String],
    ) -> Result<Self, LevelError> {
        let mut cfg = LevelConfig::default();
        for (codes, level) in [
            (allow, Level::Allow),
            (warn, Level::Warn),
            (deny, Level::Deny),
        ] {
            for code in codes {
                cfg.set(code, level)?;
            }
        }
        Ok(cfg)
    }

    /// Sets one code (or `warnings`) to a level.
    pub fn set(&mut self, code: &str, level: Level) -> Result<(), LevelError> {
        if code == WARNINGS {
            return match self.warnings {
                Some(first) if first != level => Err(LevelError::Conflict {
                    code: code.into(),
                    first,
                    second: level,
                }),
                _ => {
                    self.warnings = Some(level);
                    Ok(())
                }
            };
        }
        let Some(lint) = find(code) else {
            let known: Vec<&str> = crate::registry()
                .iter()
                .map(|l| l.code)
                .chain([WARNINGS])
                .collect();
            return Err(LevelError::UnknownCode {
                code: code.into(),
                suggestion: srt_schema::validate::did_you_mean(code, &known),
            });
        };
        match lint.kind {
            Kind::Validation => {
                return Err(LevelError::NotConfigurable {
                    code: code.into(),
                    level,
                })
            }
            Kind::Backend => {
                return Err(LevelError::NotALint {
                    code: code.into(),
                    level,
                })
            }
            Kind::Lint | Kind::Compiler => {}
        }
        match self.by_code.insert(lint.code, level) {
            Some(first) if first != level => Err(LevelError::Conflict {
                code: code.into(),
                first,
                second: level,
            }),
            _ => Ok(()),
        }
    }

    /// The level a finding is reported at: the code's level if one was given, else the
    /// `warnings` group's for a warning, else the finding's default.
    pub fn effective(&self, code: &str, default: Level) -> Level {
        if let Some(l) = self.by_code.get(code) {
            return *l;
        }
        match (default, self.warnings) {
            (Level::Warn, Some(w)) => w,
            _ => default,
        }
    }

    /// The level set for `code` on the command line, if any.
    pub fn explicit(&self, code: &str) -> Option<Level> {
        self.by_code.get(code).copied()
    }

    /// Did the command line ask for `code` to be an error: `-D CODE`, or `-D warnings` when
    /// the code was not named with another level?
    pub fn asks_deny(&self, code: &str) -> bool {
        match self.explicit(code) {
            Some(l) => l == Level::Deny,
            None => self.warnings == Some(Level::Deny),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn explicit_codes_beat_the_warnings_group() {
        let cfg =
            LevelConfig::from_flags(&[], &s(&["exfiltration-surface"]), &s(&["warnings"])).unwrap();
        assert_eq!(
            cfg.effective("exfiltration-surface", Level::Warn),
            Level::Warn
        );
        assert_eq!(
            cfg.effective("domain-fronting-surface", Level::Warn),
            Level::Deny
        );
        assert_eq!(cfg.effective("redundant-entry", Level::Note), Level::Note);
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        let e = LevelConfig::from_flags(&s(&["exfiltraton-surface"]), &[], &[]).unwrap_err();
        assert_eq!(
            e,
            LevelError::UnknownCode {
                code: "exfiltraton-surface".into(),
                suggestion: Some("exfiltration-surface".into())
            }
        );
        let e = LevelConfig::from_flags(&s(&["unknown-key"]), &[], &[]).unwrap_err();
        assert!(matches!(e, LevelError::NotConfigurable { .. }));
        let e = LevelConfig::from_flags(&[], &s(&["glob-matches-nothing"]), &[]).unwrap_err();
        assert!(matches!(e, LevelError::NotALint { .. }));
        let e =
            LevelConfig::from_flags(&s(&["costly-glob"]), &[], &s(&["costly-glob"])).unwrap_err();
        assert!(matches!(e, LevelError::Conflict { .. }));
    }
}
