//! The end-of-run audit's plan: what `srt run` looks at after the command ends, under the
//! paths the command could write.
//!
//! Some ways out cannot be closed with mounts without breaking legitimate work: a repository
//! made by `git init` during the run, a protected name created deeper than the start-of-run
//! scan, a protected file the host replaced by rename during the run (the mount stays on the
//! old file). The runtime walks the write roots once after the command ends and reports the
//! protected names, repositories and git settings that execute programs that were created or
//! changed during the run. This module only decides *what* is audited (pure, shown by
//! `srt compile`); the runtime's `audit` module does the walk.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::ir::Ir;
use crate::origin::{builtin, Origin};

/// Protected names the audit reports beyond the mandatory denies: Claude Code runs the hooks
/// of `.claude/settings*.json` on the host.
pub const EXTRA_NAMES: [&str; 2] = [".claude/settings.json", ".claude/settings.local.json"];

/// A git setting that makes git run a program (or read more settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GitExecKey {
    /// `section.key` (no subsection), `section.*.key` (any subsection), `*` for any key.
    pub pattern: &'static str,
    /// Only values starting with `!` run a program (aliases, `submodule.*.update`).
    pub bang_only: bool,
    pub why: &'static str,
}

const fn key(pattern: &'static str, why: &'static str) -> GitExecKey {
    GitExecKey {
        pattern,
        bang_only: false,
        why,
    }
}

/// The git settings that execute programs. Matched case-insensitively on section and key,
/// exactly on the subsection, as git does.
pub const GIT_EXEC_KEYS: &[GitExecKey] = &[
    key("core.fsmonitor", "git runs it on every `git status`"),
    key("core.hooksPath", "git runs the hooks in that directory"),
    key("core.sshCommand", "git runs it to reach SSH remotes"),
    key("core.pager", "git runs it to page its output"),
    key("core.editor", "git runs it to edit messages"),
    key("core.askPass", "git runs it to ask for credentials"),
    key("core.gitProxy", "git runs it for git:// remotes"),
    key("core.alternateRefsCommand", "git runs it on fetch and push"),
    key("sequence.editor", "git runs it in `git rebase -i`"),
    key("pager.*", "git runs it to page that command's output"),
    GitExecKey {
        pattern: "alias.*",
        bang_only: true,
        why: "git runs the shell command when the alias is used",
    },
    GitExecKey {
        pattern: "submodule.*.update",
        bang_only: true,
        why: "`git submodule update` runs the shell command",
    },
    key(
        "filter.*.*",
        "git runs the filter on checkout, add and status",
    ),
    key("diff.*.textconv", "git runs it to show diffs"),
    key("diff.*.command", "git runs it to show diffs"),
    key("diff.external", "git runs it to show diffs"),
    key("merge.*.driver", "git runs it to merge"),
    key("credential.helper", "git runs it for every credential"),
    key("credential.*.helper", "git runs it for every credential"),
    key("gpg.program", "git runs it to sign and verify"),
    key("gpg.*.program", "git runs it to sign and verify"),
    key("hook.*.command", "git runs it as a hook"),
    key(
        "remote.*.uploadpack",
        "git runs it to fetch from a local remote",
    ),
    key(
        "remote.*.receivepack",
        "git runs it to push to a local remote",
    ),
    key("include.path", "git reads more settings from that file"),
    key("includeIf.*.path", "git reads more settings from that file"),
];

impl GitExecKey {
    /// Whether `section[.subsection].name = value` is this setting. `section` and `name` as
    /// git stores them (lower case); `value` `None` for a bare boolean key.
    pub fn matches(
        &self,
        section: &str,
        subsection: Option<&str>,
        name: &str,
        value: Option<&str>,
    ) -> bool {
        let parts: Vec<&str> = self.pattern.split('.').collect();
        let (want_section, want_sub, want_name) = match parts.as_slice() {
            [s, n] => (*s, None, *n),
            [s, sub, n] => (*s, Some(*sub), *n),
            _ => return false,
        };
        let sub_ok = match (want_sub, subsection) {
            (None, None) => true,
            (Some("*"), Some(_)) => true,
            (Some(w), Some(s)) => w == s,
            _ => false,
        };
        let bang_ok = !self.bang_only || value.is_some_and(|v| v.trim_start().starts_with('!'));
        want_section.eq_ignore_ascii_case(section)
            && sub_ok
            && (want_name == "*" || want_name.eq_ignore_ascii_case(name))
            && bang_ok
    }

    /// The first entry of [`GIT_EXEC_KEYS`] that `section[.subsection].name = value` is.
    pub fn find(
        section: &str,
        subsection: Option<&str>,
        name: &str,
        value: Option<&str>,
    ) -> Option<&'static GitExecKey> {
        GIT_EXEC_KEYS
            .iter()
            .find(|k| k.matches(section, subsection, name, value))
    }
}

/// Bounds on what the audit reads: everything it reads is hostile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditLimits {
    /// Directory entries listed over all roots; past it the audit stops and says so.
    pub max_entries: u64,
    /// Directory levels below a root; deeper directories are reported as not audited.
    pub max_depth: u32,
    /// Bytes read of one git config (or gitdir pointer) file.
    pub max_file_bytes: u64,
    /// Findings reported (the rest are counted).
    pub max_findings: usize,
    /// Files reached through `include.path`/`includeIf.*.path`, over all configs.
    pub max_includes: usize,
}

impl Default for AuditLimits {
    fn default() -> Self {
        AuditLimits {
            max_entries: 5_000_000,
            max_depth: 256,
            max_file_bytes: 1 << 20,
            max_findings: 1000,
            max_includes: 256,
        }
    }
}

/// A directory tree the audit lists in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRoot {
    pub path: PathBuf,
    pub origin: Origin,
}

/// What the end-of-run audit looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPlan {
    /// Why nothing is audited (`filesystem.disabled`), if so.
    pub skipped: Option<&'static str>,
    /// The paths the command could write, outermost only, sorted.
    pub roots: Vec<AuditRoot>,
    /// The protected names (relative paths, one or more components), at any depth.
    pub names: Vec<&'static str>,
    /// The names among [`AuditPlan::names`] that come from the mandatory denies.
    pub mandatory_names: usize,
    pub git_keys: &'static [GitExecKey],
    pub limits: AuditLimits,
}

/// Kernel filesystems: not the host's files, and not walkable.
fn kernel_fs(p: &Path) -> bool {
    ["/dev", "/proc", "/sys"].iter().any(|k| p.starts_with(k))
}

impl AuditPlan {
    /// The audit of `writable`: every host path the sandbox makes writable, with the origin of
    /// the rule that did.
    pub fn new(ir: &Ir, writable: impl IntoIterator<Item = (PathBuf, Origin)>) -> Self {
        let mut names: Vec<&'static str> = ir.fs.mandatory_deny_names.clone();
        let mandatory_names = names.len();
        for extra in EXTRA_NAMES {
            if !names.contains(&extra) {
                names.push(extra);
            }
        }
        let mut plan = AuditPlan {
            skipped: None,
            roots: Vec::new(),
            names,
            mandatory_names,
            git_keys: GIT_EXEC_KEYS,
            limits: AuditLimits::default(),
        };
        if ir.fs.disabled {
            plan.skipped = Some("filesystem.disabled is true: the command may write anywhere, and nothing is audited");
            return plan;
        }
        let mut roots: Vec<AuditRoot> = writable
            .into_iter()
            .filter(|(p, _)| p.is_absolute() && !kernel_fs(p))
            .map(|(path, origin)| AuditRoot { path, origin })
            .collect();
        roots.sort_by(|a, b| a.path.cmp(&b.path));
        let mut outer: Vec<AuditRoot> = Vec::new();
        for r in roots {
            if !outer.iter().any(|o| r.path.starts_with(&o.path)) {
                outer.push(r);
            }
        }
        plan.roots = outer;
        plan
    }

    /// The audit of a plan's bwrap arguments: every `--bind SRC DEST` (the write roots).
    pub fn from_bwrap_binds<'a>(
        ir: &Ir,
        binds: impl IntoIterator<Item = (&'a Path, &'a Origin)>,
    ) -> Self {
        AuditPlan::new(
            ir,
            binds.into_iter().map(|(p, o)| (p.to_path_buf(), o.clone())),
        )
    }

    /// The audit of the IR's write rules (the macOS run: Seatbelt allows each literal path and
    /// everything a glob can match below its base).
    pub fn from_write_rules(ir: &Ir) -> Self {
        AuditPlan::new(
            ir,
            ir.fs
                .allow_write
                .iter()
                .map(|r| (r.pattern.base(), r.origin.clone())),
        )
    }

    /// The origin of a name: the mandatory denies, or the audit's own additions.
    fn name_origin(&self, index: usize) -> Origin {
        if index < self.mandatory_names {
            Origin::BuiltIn(builtin::MANDATORY_DENY)
        } else {
            Origin::BuiltIn(builtin::AUDIT)
        }
    }

    pub fn render_text(&self, ir: &Ir) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# end-of-run audit (after the command ends: reported on stderr and in --violations; nothing is changed)"
        );
        if let Some(why) = self.skipped {
            let _ = writeln!(out, "(none: {why})");
            return out;
        }
        let _ = writeln!(
            out,
            "roots (listed in full, symlinks not followed; what changed since the run started is examined):"
        );
        if self.roots.is_empty() {
            let _ = writeln!(out, "  (none: the command can write nowhere)");
        }
        for r in &self.roots {
            let _ = writeln!(out, "  {}  <- {}", r.path.display(), ir.describe(&r.origin));
        }
        let _ = writeln!(out, "protected names, at any depth:");
        for (i, chunk) in [
            &self.names[..self.mandatory_names],
            &self.names[self.mandatory_names..],
        ]
        .iter()
        .enumerate()
        {
            if !chunk.is_empty() {
                let origin = self.name_origin(if i == 0 { 0 } else { self.mandatory_names });
                let _ = writeln!(out, "  {}  <- {}", chunk.join(" "), ir.describe(&origin));
            }
        }
        let _ = writeln!(
            out,
            "repositories: a new .git (directory, gitdir file or symlink), a new bare repository, commondir, hooks (not *.sample), the hooks in core.hooksPath  <- built-in {}",
            builtin::AUDIT
        );
        let _ = writeln!(
            out,
            "git settings that run programs, in git config files created or changed during the run (config, config.worktree, modules/*/config, worktrees/*/config.worktree, included files):"
        );
        for k in self.git_keys {
            let bang = if k.bang_only {
                " (values starting with !)"
            } else {
                ""
            };
            let _ = writeln!(out, "  {}{bang}  # {}", k.pattern, k.why);
        }
        let l = &self.limits;
        let _ = writeln!(
            out,
            "limits: {} entries, {} levels, {} bytes per file, {} findings, {} included files (past one: reported as incomplete)",
            l.max_entries, l.max_depth, l.max_file_bytes, l.max_findings, l.max_includes
        );
        out
    }

    pub fn render_json(&self, ir: &Ir) -> Value {
        json!({
            "skipped": self.skipped,
            "roots": self.roots.iter().map(|r| json!({
                "path": r.path.to_string_lossy(),
                "origin": ir.describe(&r.origin),
            })).collect::<Vec<_>>(),
            "names": self.names.iter().enumerate().map(|(i, n)| json!({
                "name": n,
                "origin": ir.describe(&self.name_origin(i)),
            })).collect::<Vec<_>>(),
            "git_keys": self.git_keys.iter().map(|k| json!({
                "key": k.pattern,
                "bang_only": k.bang_only,
                "why": k.why,
            })).collect::<Vec<_>>(),
            "limits": self.limits,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn git_keys_match_as_git_reads_them() {
        let find = |s, sub, n, v| GitExecKey::find(s, sub, n, v).map(|k| k.pattern);
        assert_eq!(
            find("core", None, "fsmonitor", Some("x")),
            Some("core.fsmonitor")
        );
        assert_eq!(
            find("CORE", None, "FSMonitor", Some("x")),
            Some("core.fsmonitor")
        );
        assert_eq!(find("core", Some("x"), "fsmonitor", Some("x")), None);
        assert_eq!(find("alias", None, "st", Some("status")), None);
        assert_eq!(find("alias", None, "st", Some(" !sh")), Some("alias.*"));
        assert_eq!(
            find("filter", Some("lfs"), "smudge", Some("x")),
            Some("filter.*.*")
        );
        assert_eq!(find("filter", None, "smudge", Some("x")), None);
        assert_eq!(
            find("diff", Some("pdf"), "textconv", None),
            Some("diff.*.textconv")
        );
        assert_eq!(
            find("includeif", Some("gitdir:~/w/"), "path", Some("x")),
            Some("includeIf.*.path")
        );
        assert_eq!(find("user", None, "name", Some("x")), None);
        assert_eq!(
            find("credential", Some("https://x"), "helper", Some("y")),
            Some("credential.*.helper")
        );
    }
}
