//! `write-allows-host-code-execution`: writable places whose contents run outside the sandbox.

use std::path::{Path, PathBuf};

use srt_compiler::{Access, Origin, PathPattern};
use srt_schema::Span;

use crate::context::short_list;
use crate::knowledge::{HostRunPlace, HOST_RUN};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags `allowWrite` entries that make writable a place outside the project whose contents
    /// run on the host later: the home directory itself or `/`, `~/.ssh`, shell startup files
    /// (`~/.zshenv`, `~/.zlogin`, fish's config, oh-my-zsh, which srt's mandatory denies do not
    /// name, and `~/.bashrc` and the like when an entry names them directly), configs that run
    /// commands (`~/.gitconfig`, `~/.ssh/config`, `~/.npmrc`, `~/.cargo/config.toml`,
    /// `~/.config/gh`, `~/.aws/config`, `~/.kube/config`, direnv's allow list), directories on
    /// `$PATH` (`~/.local/bin`, `~/.cargo/bin`, `/usr/local/bin`, Homebrew's prefix), tool
    /// managers' shims and toolchains (`~/.local/share/mise`, `~/.asdf`, `~/.nvm`, `~/.volta`,
    /// `~/.pyenv`, `~/.rustup`, pnpm, Bun, Deno), caches whose contents run (`~/.npm/_npx`,
    /// `~/.cache/pre-commit`, corepack, uv's interpreters), agents' and editors' configs
    /// (`~/.claude/settings.json`, `~/.claude.json`, `~/.codex`, `~/.copilot`, `~/.cursor`,
    /// `~/.gemini`, VS Code extensions, Vim, Neovim, Emacs), autostart entries, systemd user
    /// units, LaunchAgents and crontabs; and `filesystem.allowGitConfig: true` when the
    /// repository's `.git/config` is then writable. The list is the knowledge base's
    /// `host-run.toml` (see [Places the host runs](../knowledge/host-run.md)). Each place is
    /// probed with the decision procedure, so the mandatory denies (`.bashrc`, `.git/hooks`,
    /// …) and the file's own `denyWrite` are taken into account. A path under `/home/NAME` or
    /// `/Users/NAME` counts as a home, whatever the linting machine's `$HOME`.
    ///
    /// Levels, by how sure the escape is: an error where the host runs the place without the
    /// user doing anything unusual (the next shell, login, `git`, `cargo` or agent start); a
    /// warning where it needs a tool the user runs routinely (`npx`, pre-commit, `kubectl`); a
    /// note where it needs a step the user takes on purpose. One finding per entry, at the
    /// level of the surest place it opens.
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
        summary: "allowWrite covers files the host runs later (~, $PATH dirs, tool managers, ~/.ssh, configs that run commands, autostart, .git/config)",
        check: check,
    }
}

struct Hit<'a> {
    span: Span,
    rule: String,
    pattern: PathPattern,
    places: Vec<&'a HostRunPlace>,
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut hits: Vec<Hit<'_>> = Vec::new();
    let probes = probes(&ctx.ir.home);
    for (place, abs) in HOST_RUN.iter().zip(probes.iter()) {
        if !place.on.applies(ctx.target) || !ctx.policy_may_write(abs) {
            continue;
        }
        let d = ctx.ir.decide_path(abs, Access::Write);
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
        const SHOWN: usize = 10;
        for p in h.places.iter().take(SHOWN) {
            help.push_str(&format!(
                "  - {} ({}): {}\n",
                p.shown,
                p.sure.as_str(),
                p.why
            ));
        }
        if h.places.len() > SHOWN {
            help.push_str(&format!(
                "  - and {} more (the book's page \"Places the host runs\" lists every one)\n",
                h.places.len() - SHOWN
            ));
        }
        help.push_str("allow only the directories the job writes (the project, caches such as ~/.cargo/registry or ~/.npm/_cacache), or add these to denyWrite");
        let level = h
            .places
            .iter()
            .map(|p| p.level())
            .max()
            .unwrap_or(Level::Deny);
        let d = out
            .diag(message)
            .with_label(h.span, format!("makes {} writable", short_list(&shown)))
            .with_help(help);
        out.emit_at(level, d);
    }
    git_config(ctx, out);
}

/// Every place's path with `~` expanded for `home`, kept for the next file with the same home
/// (every file, when `srt lint` lints many: they share the made-up home).
fn probes(home: &Path) -> std::rc::Rc<Vec<PathBuf>> {
    thread_local! {
        static CACHE: std::cell::RefCell<Option<(PathBuf, std::rc::Rc<Vec<PathBuf>>)>> =
            const { std::cell::RefCell::new(None) };
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((_, probes)) = c.as_ref().filter(|(h, _)| h == home) {
            return probes.clone();
        }
        let probes: std::rc::Rc<Vec<PathBuf>> = std::rc::Rc::new(
            HOST_RUN
                .iter()
                .map(|p| match p.path.strip_prefix("~/") {
                    Some(rest) => home.join(rest),
                    None => PathBuf::from(p.path),
                })
                .collect(),
        );
        *c = Some((home.to_path_buf(), probes.clone()));
        probes
    })
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

    /// Each place of issue 12's list, allowed on its own, is an error or a warning naming it.
    #[test]
    fn every_listed_place_is_found() {
        for (entry, shown) in [
            ("~/.local/share/mise", "~/.local/share/mise"),
            ("~/.asdf", "~/.asdf"),
            ("~/.nvm", "~/.nvm"),
            ("~/.volta", "~/.volta"),
            ("~/.pyenv", "~/.pyenv"),
            ("~/.bun/bin", "~/.bun/bin"),
            ("~/.deno/bin", "~/.deno/bin"),
            ("~/.npmrc", "~/.npmrc"),
            ("~/.cargo/config.toml", "~/.cargo/config.toml"),
            ("~/.config/gh", "~/.config/gh"),
            ("~/.ssh/config", "~/.ssh/config"),
            ("~/.codex", "~/.codex"),
            ("~/.copilot", "~/.copilot"),
            ("~/.cursor", "~/.cursor"),
            ("~/.npm", "~/.npm/_npx"),
            ("~/.cache", "~/.cache/pre-commit"),
            ("~/.cache/node", "~/.cache/node/corepack"),
            ("~/.local/share/uv", "~/.local/share/uv"),
        ] {
            let json = format!(
                r#"{{"filesystem": {{"denyRead": [], "allowWrite": [{entry:?}], "denyWrite": []}}}}"#
            );
            let found = findings(CODE, &json, Target::Linux);
            assert_eq!(found.len(), 1, "{entry}: {found:#?}");
            let d = &found[0];
            assert!(
                d.labels
                    .iter()
                    .any(|l| l.message.as_deref().is_some_and(|m| m.contains(shown))),
                "{entry}: {d:#?}"
            );
            assert_ne!(d.severity, srt_schema::Severity::Note, "{entry}");
        }
        // macOS-only places.
        let json = r#"{"filesystem": {"denyRead": [], "allowWrite": ["~/Library/pnpm", "/opt/homebrew"], "denyWrite": []}}"#;
        assert_eq!(findings(CODE, json, Target::Macos).len(), 2);
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
