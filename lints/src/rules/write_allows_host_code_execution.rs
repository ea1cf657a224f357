//! `write-allows-host-code-execution`: writable places whose contents run outside the sandbox.

use std::path::Path;

use srt_compiler::{Access, Origin, PathPattern};
use srt_schema::Span;

use crate::context::short_list;
use crate::knowledge::places::{CodeExecPlace, CODE_EXEC_PLACES};
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags `allowWrite` entries that make writable a place whose contents run outside the
    /// sandbox later: the home directory itself or `/`, `~/.ssh`, shell startup files
    /// (`~/.zshenv`, `~/.zlogin` and fish's config, which srt's mandatory denies do not name,
    /// and `~/.bashrc` and the like when an entry names them directly), git's `~/.gitconfig` and
    /// `~/.config/git/config`, directories on `$PATH` (`~/.local/bin`, `~/bin`,
    /// `~/.cargo/bin`, `/usr/local/bin`), desktop autostart entries, systemd user units,
    /// LaunchAgents, crontabs, `~/.claude/settings.json` and `~/.claude.json`, editor startup
    /// files; and `filesystem.allowGitConfig: true` when the repository's `.git/config` is then
    /// writable. Each place is probed with the decision procedure, so the mandatory denies
    /// (`.bashrc`, `.git/hooks`, …) are taken into account.
    ///
    /// ### Why is this bad
    /// The sandbox ends when the command does; these files run the next time the user opens a
    /// shell, logs in, runs `git` or starts Claude Code — outside the sandbox, with all of the
    /// user's rights. Writing one is an escape. A `.git/config` with `core.fsmonitor` or
    /// `core.hooksPath` runs a command at the next `git status`.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["~"], "denyWrite": []}}
    /// ```
    /// Use instead (the project and the caches the job writes):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "~/.cargo/registry", "~/.cargo/git"], "denyWrite": []}}
    /// ```
    pub WRITE_ALLOWS_HOST_CODE_EXECUTION {
        code: "write-allows-host-code-execution",
        level: Deny,
        summary: "allowWrite covers files that run outside the sandbox (~, $PATH dirs, ~/.ssh, autostart, .git/config)",
        check: check,
    }
}

struct Hit<'a> {
    span: Span,
    rule: String,
    pattern: PathPattern,
    places: Vec<&'a CodeExecPlace>,
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut hits: Vec<Hit<'_>> = Vec::new();
    for place in CODE_EXEC_PLACES.iter().filter(|p| p.on.applies(ctx.target)) {
        let d = ctx.path(place.path, Access::Write);
        let Some(rule) = d.rule.filter(|_| d.allowed) else {
            continue;
        };
        let Origin::Policy { span, .. } = rule.origin else {
            continue;
        };
        match hits.iter_mut().find(|h| h.span == span) {
            Some(h) => h.places.push(place),
            None => hits.push(Hit {
                span,
                rule: rule.spelled.clone(),
                pattern: rule.pattern.clone(),
                places: vec![place],
            }),
        }
    }
    for h in hits {
        let whole = match &h.pattern {
            PathPattern::Literal(p) if p == Path::new("/") => Some("the whole filesystem"),
            PathPattern::Literal(p) if p == &ctx.ir.home => Some("the whole home directory"),
            PathPattern::Literal(p) if ctx.ir.home.starts_with(p) => Some("every home directory"),
            _ => None,
        };
        let shown: Vec<&str> = h.places.iter().map(|p| p.shown).collect();
        let message = match whole {
            Some(w) => format!(
                "`{}` makes {w} writable, including files that run outside the sandbox",
                h.rule
            ),
            None => format!(
                "`{}` lets the sandbox write files that run outside it",
                h.rule
            ),
        };
        let mut help = String::from("these run later with the user's full rights:\n");
        for p in &h.places {
            help.push_str(&format!("  - {}: {}\n", p.shown, p.why));
        }
        help.push_str("allow only the directories the job writes (the project, caches such as ~/.cargo/registry), or add these to denyWrite");
        let d = out
            .diag(message)
            .with_label(h.span, format!("makes {} writable", short_list(&shown)))
            .with_help(help);
        out.emit(d);
    }
    git_config(ctx, out);
}

fn git_config(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some(flag) = ctx
        .settings
        .filesystem()
        .and_then(|f| f.allow_git_config.as_ref())
        .filter(|b| b.value)
    else {
        return;
    };
    let config = ctx.ir.cwd.join(".git/config");
    if !ctx.ir.decide_path(&config, Access::Write).allowed {
        return;
    }
    let d = out
        .diag("`allowGitConfig` lets the sandbox rewrite .git/config, which runs commands on the host")
        .with_label(flag.full_span(), "makes ./.git/config writable")
        .with_help("core.fsmonitor, core.hooksPath, core.sshCommand and aliases in .git/config run at the user's next git command, outside the sandbox; leave allowGitConfig off and set git options from outside");
    out.emit(d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "write-allows-host-code-execution";

    #[test]
    fn passes() {
        for json in [
            r#"{"filesystem": {"denyRead": [], "allowWrite": [".", "/tmp", "~/.cargo/registry", "~/.cargo/git", "~/.claude/session-env"], "denyWrite": []}}"#,
            // allowGitConfig without a writable repository does nothing.
            r#"{"filesystem": {"denyRead": [], "allowWrite": ["/tmp"], "denyWrite": [], "allowGitConfig": true}}"#,
            // A denyWrite inside the root covers the place.
            r#"{"filesystem": {"denyRead": [], "allowWrite": ["~/.config/git"], "denyWrite": ["~/.config/git/config"]}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "the home directory",
                "{\n  \"filesystem\": {\n    \"allowWrite\": [\".\", \"~\"]\n  }\n}",
            ),
            (
                "PATH directories, git config, autostart, an rc file named directly",
                r#"{"filesystem": {"denyRead": [], "allowWrite": ["~/.local", "~/.config", "/usr/local/bin", "~/.bashrc"], "denyWrite": []}}"#,
            ),
            (
                "allowGitConfig with the project writable",
                r#"{"filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [], "allowGitConfig": true}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
