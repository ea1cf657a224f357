//! `project-file-runs-on-host`: a writable project holds files that tools run on the host.

use std::path::Path;

use srt_compiler::{Access, Origin};
use srt_schema::{Fix, Span};

use crate::context::short_list;
use crate::knowledge::{ProjectFile, PROJECT_FILES};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags a writable project that holds files a tool runs on the host by itself, outside
    /// the sandbox, and that srt's mandatory denies do not cover: `.github/workflows/` (CI runs
    /// them with the repository's secrets), `.pre-commit-config.yaml`, `.husky/`,
    /// `lefthook.yml`, `.cargo/config.toml`, `.npmrc`, `.yarnrc.yml`, `mise.toml`, and, as
    /// notes, `.envrc`, `.tool-versions` and `.devcontainer/`. The list is the knowledge base's
    /// `project-files.toml` (see [Project files tools run](../knowledge/project-files.md)). Each
    /// file is probed for writing at the working directory with the decision procedure, so a
    /// `denyWrite` (or a built-in protection) takes it out. One finding per `allowWrite` entry,
    /// naming the files and the tool that runs each.
    ///
    /// Levels: a note when the files are writable through a broader entry such as `.` (the
    /// project is meant to be written; the note names the files and the tool that runs each, and
    /// its fix, machine-applicable, adds the `denyWrite` lines), and a warning when an entry
    /// names one of them itself (`allowWrite: [".github/workflows"]`), which gets no fix:
    /// remove it instead.
    ///
    /// `.claude/settings.json` and `.claude/settings.local.json` are srt's own protected names,
    /// so srt never reports them; the npm srt does not protect them, so a file shared with it
    /// should deny them too, and `redundant-entry` does not call such a `denyWrite` redundant.
    /// `srt run` also protects a hook manager's configuration when its hook is installed and the
    /// file exists (`srt explain --path`), and audits new repositories after the run; a
    /// `denyWrite` covers the file whether or not it exists yet.
    ///
    /// ### Why is this bad
    /// These are not code the user reads and runs on purpose: the next `git commit` runs the
    /// hooks `.pre-commit-config.yaml` lists, the next `cargo build` runs the `rustc-wrapper`
    /// of `.cargo/config.toml`, the next push makes CI run `.github/workflows` with the
    /// repository's secrets. A sandboxed job that writes one escapes through the host's next
    /// routine command.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [".github/workflows", ".gitlab-ci.yml",
    ///    ".pre-commit-config.yaml", ".husky", "lefthook.yml", ".cargo/config.toml", ".npmrc", ".yarnrc.yml",
    ///    "mise.toml", ".mise.toml", ".envrc", ".tool-versions", ".devcontainer"]}}
    /// ```
    pub PROJECT_FILE_RUNS_ON_HOST {
        code: "project-file-runs-on-host",
        level: Note,
        summary: "the project is writable and so are files tools run on the host (.github/workflows, .pre-commit-config.yaml, .cargo/config.toml, …)",
        check: check,
    }
}

struct Hit {
    span: Span,
    rule: String,
    /// The entry names one of the files (or lies inside one) rather than the project.
    explicit: bool,
    files: Vec<&'static ProjectFile>,
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    if ctx.ir.fs.disabled {
        return;
    }
    let mut hits: Vec<Hit> = Vec::new();
    for file in PROJECT_FILES.iter().filter(|f| !f.builtin) {
        let at = ctx.ir.cwd.join(file.path);
        let probe = if file.dir {
            at.join("srt-lint-probe")
        } else {
            at.clone()
        };
        if !ctx.policy_may_write(&probe) {
            continue;
        }
        let d = ctx.ir.decide_path(&probe, Access::Write);
        let Some(rule) = d.rule.filter(|_| d.allowed) else {
            continue;
        };
        let Origin::Policy { span, .. } = rule.origin else {
            continue;
        };
        let explicit = rule.pattern.base().starts_with(&at);
        match hits.iter_mut().find(|h| h.span == span) {
            Some(h) => h.files.push(file),
            None => hits.push(Hit {
                span,
                rule: rule.spelled.clone(),
                explicit,
                files: vec![file],
            }),
        }
    }
    for h in hits {
        // Under a broader entry (`.`) the project is meant to be written: a note that names the
        // files and offers the denies. An entry that names one of them is worse: a warning.
        let level = if h.explicit { Level::Warn } else { Level::Note };
        let names: Vec<String> = h.files.iter().map(|f| shown(f)).collect();
        let message = if h.explicit {
            format!(
                "`{}` lets the sandbox write {}, which {} runs outside the sandbox",
                h.rule,
                names.join(", "),
                h.files.first().map_or("a tool", |f| f.tool)
            )
        } else {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            format!(
                "`{}` lets the sandbox write project files that tools run outside it: {}",
                h.rule,
                short_list(&refs)
            )
        };
        let mut help = String::new();
        for f in &h.files {
            help.push_str(&format!("  - {} ({}): {}\n", shown(f), f.tool, f.why));
        }
        let mut d = out
            .diag(message)
            .with_label(h.span, "these are written here and run on the host");
        if h.explicit {
            d = d.with_help(format!(
                "{help}remove the entry, and make such changes outside the sandbox"
            ));
        } else {
            let paths: Vec<&str> = h.files.iter().map(|f| f.path).collect();
            d = d.with_help(format!(
                "{help}add them to filesystem.denyWrite (srt itself protects .claude/settings.json and .claude/settings.local.json; the npm srt does not, so a file shared with it should deny those too)"
            ));
            if let Some(edit) = ctx.append_all_to_list("filesystem", "denyWrite", &paths) {
                d = d.with_fix(Fix {
                    description: format!("add {} to filesystem.denyWrite", paths.join(", ")),
                    edits: vec![edit],
                });
            }
        }
        out.emit_at(level, d);
    }
}

fn shown(f: &ProjectFile) -> String {
    let p = Path::new(f.path).display().to_string();
    if f.dir {
        p + "/"
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "project-file-runs-on-host";

    #[test]
    fn passes() {
        for json in [
            // Nothing in the project is writable.
            r#"{"filesystem": {"denyRead": [], "allowWrite": ["/tmp", "~/.cargo/registry"], "denyWrite": []}}"#,
            // Every one denied.
            r#"{"filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [".github/workflows", ".gitlab-ci.yml", ".pre-commit-config.yaml", ".husky", "lefthook.yml", ".cargo/config.toml", ".npmrc", ".yarnrc.yml", "mise.toml", ".mise.toml", ".envrc", ".tool-versions", ".devcontainer"]}}"#,
            // Only the source directory.
            r#"{"filesystem": {"denyRead": [], "allowWrite": ["./src"], "denyWrite": []}}"#,
            // No filesystem rules at all: another lint says so.
            r#"{"filesystem": {"disabled": true}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "the project writable",
                "{\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"allowWrite\": [\".\"],\n    \"denyWrite\": [\".github/workflows\"]\n  }\n}",
            ),
            (
                "only the stretches left",
                r#"{"filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [".github", ".gitlab-ci.yml", ".pre-commit-config.yaml", ".husky", "lefthook.yml", ".cargo", ".npmrc", ".yarnrc.yml", "mise.toml", ".mise.toml"]}}"#,
            ),
            (
                "a workflow directory named outright (no fix: remove it)",
                r#"{"filesystem": {"denyRead": [], "allowWrite": ["./src", ".github/workflows"], "denyWrite": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
