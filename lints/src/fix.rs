//! `srt lint --fix`: apply machine-applicable fixes, keep the file's formatting and key order,
//! write atomically.
//!
//! Fixes are applied in rounds: lint, take every fix whose edits do not touch another chosen
//! fix's edits, apply, lint again, until no fix is left (at most [`MAX_ROUNDS`]). A round whose
//! result does not validate is refused, so a fix can never turn a valid file invalid.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use similar::TextDiff;
use srt_schema::{load_str, Diagnostic, Edit, Loaded};

use crate::edit;

/// The description of the one fix that has no edits: the byte order mark sits before the text
/// that spans point into.
pub const REMOVE_BOM: &str = "remove the UTF-8 byte order mark";

/// Fix rounds before giving up (each round applies at least one fix).
pub const MAX_ROUNDS: usize = 16;

/// The result of fixing a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The file's content after the fixes, byte order mark included if it stays.
    pub content: String,
    /// What was done, in order.
    pub applied: Vec<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum FixError {
    #[error(
        "applying \"{description}\" would make {name} invalid ({problem}); nothing was written"
    )]
    #[diagnostic(
        code("internal-error"),
        help("this is a bug in srt; please report it with the file")
    )]
    WouldBreak {
        name: String,
        description: String,
        problem: String,
    },
    #[error("{path}: {source}")]
    #[diagnostic(code("unreadable-file"))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn conflicts(a: &Edit, b: &Edit) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

/// Fixes `content` (a whole file, possibly with a byte order mark). `lint` returns the
/// findings for a loaded text; only the fixes of what it returns are applied, so allowed
/// lints are never fixed.
pub fn fix_content(
    name: &str,
    content: &str,
    lint: impl Fn(&Loaded) -> Vec<Diagnostic>,
) -> Result<Fixed, FixError> {
    let mut text = content
        .strip_prefix('\u{feff}')
        .unwrap_or(content)
        .to_string();
    let mut bom = content.starts_with('\u{feff}');
    let mut applied = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let current = if bom {
            format!("\u{feff}{text}")
        } else {
            text.clone()
        };
        let loaded = load_str(name, None, &current);
        if loaded.has_errors() {
            break;
        }
        let mut chosen: Vec<Edit> = Vec::new();
        let mut round: Vec<String> = Vec::new();
        for d in lint(&loaded) {
            let Some(fix) = d.fix else { continue };
            if fix.edits.is_empty() {
                if fix.description == REMOVE_BOM && bom {
                    bom = false;
                    round.push(fix.description);
                }
                continue;
            }
            if fix
                .edits
                .iter()
                .any(|e| chosen.iter().any(|c| conflicts(c, e)) || e.end > text.len())
            {
                continue;
            }
            chosen.extend(fix.edits);
            round.push(fix.description);
        }
        if round.is_empty() {
            break;
        }
        let next = edit::apply(&text, &chosen);
        let check = load_str(name, None, &next);
        if let Some(problem) = check
            .diagnostics
            .iter()
            .find(|d| d.severity == srt_schema::Severity::Error)
        {
            return Err(FixError::WouldBreak {
                name: name.into(),
                description: round.join("; "),
                problem: problem.message.clone(),
            });
        }
        text = next;
        applied.extend(round);
    }
    Ok(Fixed {
        content: if bom { format!("\u{feff}{text}") } else { text },
        applied,
    })
}

/// Replaces `path` with `content` atomically: a temporary file in the same directory, synced,
/// given the original's permissions, then renamed over it. An interrupted fix leaves either
/// the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, content: &str) -> Result<(), FixError> {
    let err = |source| FixError::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = std::fs::canonicalize(path).map_err(err)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".srt-fix-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(content.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    if let Ok(meta) = std::fs::metadata(&target) {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(err)?;
    }
    tmp.persist(&target).map_err(|e| err(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A unified diff of a fix (`--fix --dry-run`).
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{}", name.trim_start_matches('/')),
            &format!("b/{}", name.trim_start_matches('/')),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fake_fs, options};
    use crate::{check, LevelConfig, Target};

    fn lint_all(loaded: &Loaded) -> Vec<Diagnostic> {
        check(
            loaded,
            &options(),
            &fake_fs(),
            Target::Linux,
            &LevelConfig::default(),
        )
    }

    #[test]
    fn fixes_compose_over_rounds_and_keep_formatting() {
        let seed = "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"crates.io\",\n      \"crates.io\"\n    ]\n  },\n  \"filesystem\": {\n    \"allowWrite\": [\n      \".\",\n      \"/tmp\"\n    ]\n  }\n}\n";
        let fixed = fix_content(".srt.json", seed, lint_all).unwrap();
        insta::assert_snapshot!(format!(
            "{}\n--- applied ---\n{}",
            fixed.content,
            fixed.applied.join("\n")
        ));
        // Fixing again changes nothing.
        let again = fix_content(".srt.json", &fixed.content, lint_all).unwrap();
        assert_eq!(again.content, fixed.content);
    }

    #[test]
    fn bom_is_removed_and_allowed_lints_are_not_fixed() {
        let text = "\u{feff}{\"network\": {\"allowedDomains\": [], \"deniedDomains\": []}, \"filesystem\": {\"denyRead\": [], \"allowWrite\": [\"/tmp\", \"/tmp\"], \"denyWrite\": []}}";
        let fixed = fix_content(".srt.json", text, lint_all).unwrap();
        assert!(!fixed.content.starts_with('\u{feff}'));
        assert!(fixed.content.contains("[\"/tmp\"]"), "{}", fixed.content);
        let mut levels = LevelConfig::default();
        levels.set("redundant-entry", crate::Level::Allow).unwrap();
        levels
            .set("peer-incompatible", crate::Level::Allow)
            .unwrap();
        let untouched = fix_content(".srt.json", text, |l| {
            check(l, &options(), &fake_fs(), Target::Linux, &levels)
        })
        .unwrap();
        assert_eq!(untouched.content, text);
        assert!(untouched.applied.is_empty());
    }

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".srt.json");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn diff_is_unified() {
        let d = unified_diff("x.json", "a\nb\n", "a\nc\n");
        assert!(
            d.contains("--- a/x.json") && d.contains("-b") && d.contains("+c"),
            "{d}"
        );
    }
}
