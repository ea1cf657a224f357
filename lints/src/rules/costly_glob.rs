//! `costly-glob`: deny globs rooted at a huge tree.

use std::path::Path;

use srt_compiler::{Origin, PathPattern};

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Notes a `denyRead` or `denyWrite` glob with `**` whose literal base is `/`, the home
    /// directory, or a system-wide tree (`/usr`, `/home`, `/Users`, `/var`, `/opt`, `/nix`),
    /// such as `~/**/*.pem` or `/**/.env`.
    ///
    /// ### Why is this bad
    /// On Linux a deny glob is expanded against the files on disk when the sandbox starts, so
    /// such a glob walks the whole tree on every run: seconds of start-up on a big home
    /// directory, and files created after the walk are not covered. The npm srt skips a glob
    /// with no literal directory below `/` entirely (it hides nothing). A glob anchored at the
    /// directories that hold the files is both faster and exact.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/**/*.pem"], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/.ssh", "~/certs", "**/*.pem"], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub COSTLY_GLOB {
        code: "costly-glob",
        level: Note,
        summary: "a `**` deny glob rooted at /, ~ or a system tree walks that whole tree on every run",
        check: check,
    }
}

const BIG_TREES: [&str; 7] = ["/", "/usr", "/home", "/Users", "/var", "/opt", "/nix"];

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for rule in ctx.ir.fs.deny_read.iter().chain(&ctx.ir.fs.deny_write) {
        let (Origin::Policy { key, span, .. }, PathPattern::Glob { glob, .. }) =
            (&rule.origin, &rule.pattern)
        else {
            continue;
        };
        if !glob.contains("**") {
            continue;
        }
        let base = rule.pattern.base();
        let tree = if base == ctx.ir.home {
            "the home directory"
        } else if BIG_TREES.iter().any(|t| base == Path::new(t)) {
            "a system-wide tree"
        } else {
            continue;
        };
        let extra = if base == Path::new("/") {
            "; the npm srt skips it on Linux (no literal directory below /), so there it hides nothing"
        } else {
            ""
        };
        let d = out
            .diag(format!(
                "{key} glob `{}` walks {tree} ({}) on every run",
                rule.spelled,
                base.display()
            ))
            .with_label(*span, "rooted too high")
            .with_help(format!(
                "anchor it at the directories that hold the files (`~/.ssh`, a project's `**/*.pem`){extra}"
            ));
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "costly-glob";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"filesystem": {"denyRead": ["**/*.pem", "~/.ssh/*.key", "~/.config/**/token"], "allowWrite": [], "denyWrite": ["secrets/**"]}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "home and root globs",
            r#"{"filesystem": {"denyRead": ["~/**/*.pem", "/**/.env"], "allowWrite": [], "denyWrite": ["/home/**/id_*"]}}"#,
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
