//! `overridden-by-mandatory-deny`: allowWrite entries srt always write-denies.

use srt_compiler::{builtin, Access, Origin, PathPattern};

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags an `allowWrite` entry that names a path srt always write-denies: shell startup
    /// files (`.bashrc`, `.zshrc`, `.profile`, …), `.gitconfig`, `.gitmodules`, `.ripgreprc`,
    /// `.mcp.json`, `.vscode/`, `.idea/`, `.claude/commands/`, `.claude/agents/`,
    /// `.git/hooks/`, `.git/config` (unless `allowGitConfig`), and the settings file in use.
    ///
    /// ### Why is this bad
    /// The entry looks like it grants something, and grants nothing: these files run or are
    /// trusted outside the sandbox later, so srt (like the npm srt) never lets the sandbox
    /// write them. A job that needs to write one will fail with a read-only error whatever
    /// the file says.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", ".git/hooks"], "denyWrite": []}}
    /// ```
    /// Use instead (change shell configuration outside the sandbox):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    pub OVERRIDDEN_BY_MANDATORY_DENY {
        code: "overridden-by-mandatory-deny",
        level: Warn,
        summary: "allowWrite names a path srt always write-denies (.bashrc, .git/hooks, the settings file)",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for rule in &ctx.ir.fs.allow_write {
        let (Origin::Policy { span, .. }, PathPattern::Literal(path)) =
            (&rule.origin, &rule.pattern)
        else {
            continue;
        };
        let d = ctx.ir.decide_path(path, Access::Write);
        let Some(Origin::BuiltIn(name)) = d.rule.filter(|_| !d.allowed).map(|r| &r.origin) else {
            continue;
        };
        let why = match *name {
            builtin::MANDATORY_DENY => "srt always write-denies it, because its contents run or are trusted outside the sandbox",
            builtin::SETTINGS_FILE => "it is the settings file in use, and the sandbox must never rewrite its own policy",
            _ => continue,
        };
        let diag = out
            .diag(format!(
                "allowWrite `{}` is never writable: {why}",
                rule.spelled
            ))
            .with_label(*span, format!("overridden by built-in {name}"))
            .with_help("remove it; make such changes outside the sandbox");
        out.emit(diag);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "overridden-by-mandatory-deny";

    #[test]
    fn passes() {
        for json in [
            r#"{"filesystem": {"denyRead": [], "allowWrite": [".", "~/.cargo/registry"], "denyWrite": []}}"#,
            r#"{"filesystem": {"denyRead": [], "allowWrite": [".", ".git/config"], "denyWrite": [], "allowGitConfig": true}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [(
            "rc files, git hooks, the settings file",
            "{\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"allowWrite\": [\"~\", \".\", \"~/.bashrc\", \".git/hooks\", \".vscode\", \".srt.json\"],\n    \"denyWrite\": []\n  }\n}",
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
