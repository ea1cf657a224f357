//! `missing-path`: filesystem entries naming paths that do not exist.

use srt_compiler::{Origin, PathPattern};

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Notes a literal `allowWrite` or `allowRead` entry whose path does not exist on this
    /// machine now (globs are not checked). Denies of missing paths are not flagged: listing
    /// secrets a machine may not have (`~/.aws`) is good practice for a shared policy.
    ///
    /// It is in the local-disk group: its findings depend on the machine that lints, so
    /// `srt lint` reports it only locally (not with `--portable`, nor in CI or under
    /// pre-commit), and the message says "on this machine". A path that exists only on the
    /// author's machine is not a problem of the file.
    ///
    /// ### Why is this bad
    /// An `allowWrite` of a missing directory grants nothing: the sandboxed job cannot create
    /// it (its parent is not writable), and on Linux missing write paths are skipped when the
    /// sandbox is built. An `allowRead` of a missing path re-opens nothing. Often the entry is
    /// simply misspelled, or a cache directory has not been created yet.
    ///
    /// ### Example
    /// Bad (no `buidl` directory exists):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["./buidl"], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["./src"], "denyWrite": []}}
    /// ```
    pub MISSING_PATH {
        code: "missing-path",
        level: Note,
        summary: "a filesystem entry names a path that does not exist on this machine now (local-disk group)",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let fs = &ctx.ir.fs;
    let lists = [
        (&fs.allow_read, "it re-opens nothing until it exists"),
        (&fs.allow_write, "it grants nothing: the job cannot create it, and on Linux missing write paths are skipped"),
    ];
    for (rules, effect) in lists {
        for rule in rules {
            let (Origin::Policy { key, span, .. }, PathPattern::Literal(path)) =
                (&rule.origin, &rule.pattern)
            else {
                continue;
            };
            if ctx.fs.kind(path).is_some() {
                continue;
            }
            let d = out
                .diag(format!(
                    "{key} `{}` does not exist on this machine ({})",
                    rule.spelled,
                    path.display()
                ))
                .with_label(*span, "no such file or directory")
                .with_help(format!(
                    "{effect}; check the spelling, or create it before the run"
                ));
            out.emit(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "missing-path";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"filesystem": {"denyRead": ["~/.aws", "**/*.pem"], "allowRead": ["~/.ssh/known_hosts"], "allowWrite": [".", "/tmp", "~/.cargo/registry"], "denyWrite": [".env"]}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "a typo, and a cache not created yet",
            r#"{"filesystem": {"denyRead": ["~/.aws"], "allowRead": [], "allowWrite": [".", "./buidl", "~/.npm"], "denyWrite": []}}"#,
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
