//! What the audit reports: one [`Finding`] per path, with what it is, why it matters and what
//! to do, as one stderr line and one JSON object.

use std::path::{Path, PathBuf};

use serde_json::json;

/// What was found at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// A protected name (a mandatory deny, `.claude/settings*.json`) created or changed.
    ProtectedName { name: &'static str },
    /// A `.git` directory made during the run.
    NewRepository,
    /// A bare repository (a directory git uses as a repository when run inside it) made
    /// during the run.
    BareRepository,
    /// A `.git` file or symlink, or a `commondir`, created or changed: it points git at
    /// another repository's settings and hooks.
    GitPointer { target: String },
    /// A git config file created or changed during the run sets something that runs a
    /// program.
    GitSetting {
        key: String,
        value: Option<String>,
        why: &'static str,
    },
    /// A hook in a directory `core.hooksPath` names, created or changed.
    Hook { hooks_path: PathBuf },
    /// A directory or file the audit could not read.
    Unreadable { error: String },
    /// The audit stopped short (a bound was reached).
    Incomplete { reason: String },
}

impl What {
    /// The `finding` field of the JSON object.
    pub fn code(&self) -> &'static str {
        match self {
            What::ProtectedName { .. } => "protected-name",
            What::NewRepository => "new-repository",
            What::BareRepository => "bare-repository",
            What::GitPointer { .. } => "git-pointer",
            What::GitSetting { .. } => "git-setting",
            What::Hook { .. } => "hook",
            What::Unreadable { .. } => "unreadable",
            What::Incomplete { .. } => "incomplete",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub what: What,
}

/// Why a protected name matters, by its last component.
fn why_name(name: &str) -> &'static str {
    let leaf = name.rsplit('/').next().unwrap_or(name);
    match leaf {
        ".bashrc" | ".bash_profile" | ".zshrc" | ".zprofile" | ".profile" => {
            "shells run it when they start"
        }
        ".gitconfig" => "git reads settings from it, including programs to run",
        ".gitmodules" => "git reads submodule sources from it",
        ".ripgreprc" => "ripgrep reads its options from it",
        ".mcp.json" => "agents start the MCP servers it lists",
        ".vscode" => "the editor runs its tasks and applies its settings",
        ".idea" => "the IDE runs its run configurations and tools",
        "commands" | "agents" => "Claude Code runs the commands and agents in it",
        "settings.json" | "settings.local.json" => "Claude Code runs the hooks it lists",
        "hooks" => "git runs the hooks in it",
        "config" => "git reads the repository's settings from it",
        _ => "a program outside the sandbox runs or trusts it",
    }
}

/// A path or value as printable text: control characters and invalid UTF-8 escaped, so that a
/// hostile file name cannot forge lines or terminal sequences.
pub fn printable(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\u{7f}' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

pub fn shown(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    printable(path.as_os_str().as_bytes())
}

/// At most `max` characters of `s`, marked when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

impl Finding {
    /// What it is, why it matters, what to do: the text after the path.
    pub fn explain(&self) -> (String, String, String) {
        let p = shown(&self.path);
        match &self.what {
            What::ProtectedName { name } => (
                format!("protected name {name}, created or changed during the run"),
                why_name(name).to_string(),
                "read it, and remove it unless you made it".to_string(),
            ),
            What::NewRepository => (
                "a new git repository".to_string(),
                "git, run there later, reads its settings and hooks".to_string(),
                format!("remove {p} unless you expected a repository there"),
            ),
            What::BareRepository => (
                "a new bare git repository".to_string(),
                "git, run inside it, reads its settings and hooks".to_string(),
                format!("remove {p} unless you expected a repository there"),
            ),
            What::GitPointer { target } => (
                format!("points git at {}", clip(&printable(target.as_bytes()), 120)),
                "git reads settings and runs hooks from there".to_string(),
                "remove it unless you made it".to_string(),
            ),
            What::GitSetting { key, value, why } => {
                let shown_value = value.as_deref().map_or_else(
                    || " (set)".to_string(),
                    |v| format!(" = \"{}\"", clip(&printable(v.as_bytes()), 120)),
                );
                (
                    format!("sets {}{shown_value}", printable(key.as_bytes())),
                    why.to_string(),
                    format!(
                        "remove it unless you set it: git config --file {p} --unset-all {}",
                        printable(key.as_bytes())
                    ),
                )
            }
            What::Hook { hooks_path } => (
                format!(
                    "a hook in core.hooksPath ({}), created or changed during the run",
                    shown(hooks_path)
                ),
                "git runs it".to_string(),
                "read it, and remove it unless you made it".to_string(),
            ),
            What::Unreadable { error } => (
                format!("could not be read ({error})"),
                "the audit cannot see what is inside".to_string(),
                "look at it yourself".to_string(),
            ),
            What::Incomplete { reason } => (
                format!("not audited: {reason}"),
                "what lies beyond was not looked at".to_string(),
                "look at it yourself".to_string(),
            ),
        }
    }

    /// `srt: audit: PATH — WHAT: WHY; WHAT TO DO`
    pub fn line(&self) -> String {
        let (what, why, todo) = self.explain();
        format!("srt: audit: {} — {what}: {why}; {todo}", shown(&self.path))
    }

    /// The `--violations` object.
    pub fn json(&self, time: &str) -> serde_json::Value {
        let (what, why, todo) = self.explain();
        let (key, value) = match &self.what {
            What::GitSetting { key, value, .. } => (Some(key.clone()), value.clone()),
            _ => (None, None),
        };
        json!({
            "time": time,
            "kind": "audit",
            "finding": self.what.code(),
            "path": self.path.to_string_lossy(),
            "name": match &self.what { What::ProtectedName { name } => Some(*name), _ => None },
            "key": key,
            "value": value,
            "what": what,
            "why": why,
            "remedy": todo,
            "line": self.line(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped() {
        assert_eq!(
            printable(b"a\nsrt: ok\x1b[2J\xff"),
            "a\\nsrt: ok\\u{1b}[2J\\xff"
        );
        let f = Finding {
            path: PathBuf::from("/p/x\n.bashrc"),
            what: What::ProtectedName { name: ".bashrc" },
        };
        assert!(!f.line().contains('\n'));
        assert!(f
            .line()
            .starts_with("srt: audit: /p/x\\n.bashrc — protected name .bashrc"));
    }
}
