//! Loading rules: which bytes become a settings file, and what is wrong when they cannot.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::json::{self, Json};
use crate::model::Settings;
use crate::validate::validate;
use crate::{Diagnostic, SourceFile, Span};

/// A settings file, parsed and validated. `diagnostics` holds every problem found; `settings`
/// holds everything that was valid.
#[derive(Debug)]
pub struct Loaded {
    pub source: Arc<SourceFile>,
    pub json: Option<Json>,
    pub settings: Settings,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == crate::Severity::Error)
    }
}

/// The file could not be read at all (exit status 2: there is nothing to point at).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("{name} does not exist")]
    #[diagnostic(code("unreadable-file"))]
    NotFound { name: String, path: PathBuf },
    #[error("{name} could not be read: it is a directory")]
    #[diagnostic(
        code("unreadable-file"),
        help("pass the settings file inside it, e.g. {name}/.srt.json")
    )]
    IsDirectory { name: String, path: PathBuf },
    #[error("{name} could not be read: {source}")]
    #[diagnostic(code("unreadable-file"))]
    Io {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
}

/// The npm srt's built-in default when `~/.srt-settings.json` is missing: no network, no writes.
pub const BUILTIN_DEFAULT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowRead":[],"allowWrite":[],"denyWrite":[]}}"#;

/// Reads and validates a settings file. `name` is how the file is shown (as given by the user).
pub fn load_file(name: &str, path: &Path) -> Result<Loaded, LoadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let (name, path) = (name.to_string(), path.to_path_buf());
            return Err(match e.kind() {
                io::ErrorKind::NotFound => LoadError::NotFound { name, path },
                io::ErrorKind::IsADirectory => LoadError::IsDirectory { name, path },
                _ if path.is_dir() => LoadError::IsDirectory { name, path },
                _ => LoadError::Io {
                    name,
                    path,
                    source: e,
                },
            });
        }
    };
    Ok(load_bytes(name, Some(path), &bytes))
}

/// Validates settings held in memory.
pub fn load_bytes(name: &str, path: Option<&Path>, bytes: &[u8]) -> Loaded {
    match std::str::from_utf8(bytes) {
        Ok(text) => load_str(name, path, text),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let source = SourceFile::new(name, path, text);
            // The lossy text is identical up to the first bad byte, so the offset holds
            // (minus a removed byte order mark).
            let at = e.valid_up_to() - if source.bom { 3 } else { 0 };
            let width = source.text[at..].chars().next().map_or(0, char::len_utf8);
            let d = Diagnostic::error(crate::code::NOT_UTF8, format!("{name} is not valid UTF-8"))
                .with_label(Span::new(at, at + width), "invalid byte sequence here")
                .with_help("settings files are UTF-8 JSON; re-save the file as UTF-8");
            Loaded {
                source,
                json: None,
                settings: Settings::default(),
                diagnostics: vec![d],
            }
        }
    }
}

pub fn load_str(name: &str, path: Option<&Path>, text: &str) -> Loaded {
    let source = SourceFile::new(name, path, text);
    let mut loaded = Loaded {
        source: source.clone(),
        json: None,
        settings: Settings::default(),
        diagnostics: Vec::new(),
    };
    if source.text.trim().is_empty() {
        loaded.diagnostics.push(
            Diagnostic::error(crate::code::EMPTY_FILE, format!("{name} is empty"))
                .with_label(Span::new(0, 0), "no JSON here")
                .with_help("delete it, or put a config in it (`srt init` writes a minimal one); the npm srt refuses to run with an empty file"),
        );
        return loaded;
    }
    match json::parse(&source.text) {
        Ok(Some(root)) => {
            let v = validate(&root);
            loaded.settings = v.settings;
            loaded.diagnostics = v.diagnostics;
            loaded.json = Some(root);
        }
        Ok(None) => loaded.diagnostics.push(
            Diagnostic::error(
                crate::code::EMPTY_FILE,
                format!("{name} holds no JSON value"),
            )
            .with_label(Span::new(0, 0), ""),
        ),
        Err(e) => {
            let mut d = Diagnostic::error(
                crate::code::INVALID_JSON,
                format!(
                    "{name} is not valid JSON: {}",
                    e.message.trim_start_matches("invalid JSON: ")
                ),
            )
            .with_label(
                e.span,
                e.message.trim_start_matches("invalid JSON: ").to_string(),
            );
            if let Some(h) = e.help {
                d = d.with_help(h);
            }
            loaded.diagnostics.push(d);
        }
    }
    loaded
}

/// The npm srt's default when no settings file exists.
pub fn builtin_default() -> Loaded {
    load_str("<built-in default>", None, BUILTIN_DEFAULT)
}
