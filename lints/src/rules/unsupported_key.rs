//! `unsupported-key`: keys srt parses but does not enforce. `srt run` refuses them, using
//! [`unenforceable_keys`].

use srt_schema::{Diagnostic, OtherKey, Settings};

use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags keys that srt parses and validates but does not enforce, as warnings:
    /// the request-rewriting options
    /// `network.allowPlaintextHeaderSet`, `network.stripResponseHeaders`,
    /// `network.ambiguousRequestTarget`. `srt run` refuses to start with any of them set
    /// (a key set to `false` or an empty value asks for nothing and is not flagged).
    /// `credentials`, `network.tlsTerminate`, `network.refuseOpaqueTunnels` and
    /// `network.requireHostMatch` are enforced on Linux and macOS alike.
    ///
    /// It also notes keys that configure the npm srt's own machinery, which srt does not use:
    /// `ripgrep`, `seccomp`, `socatPath`, `javaAgentJarPath`, `git`, `windows`.
    ///
    /// ### Why is this bad
    /// Each of the enforced-elsewhere keys restricts or protects something (credentials kept
    /// out of the sandbox, tunnels refused, traffic routed through an inspecting proxy).
    /// Running without it would be weaker than the author expects, so srt says so here and
    /// refuses at run time rather than silently dropping it.
    ///
    /// ### Example
    /// Bad (for srt):
    /// ```json
    /// {"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "stripResponseHeaders": ["set-cookie"]},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (run this file with the npm srt, or drop the key for srt):
    /// ```json
    /// {"network": {"allowedDomains": ["api.example.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub UNSUPPORTED_KEY {
        code: "unsupported-key",
        level: Warn,
        summary: "a key srt parses but does not enforce (stripResponseHeaders, …); `srt run` refuses it",
        check: check,
    }
}

/// Keys whose absence of enforcement weakens the sandbox, with what they do.
const UNENFORCED: [(&str, &str); 3] = [
    (
        "network.allowPlaintextHeaderSet",
        "controls header rewriting on plain HTTP",
    ),
    (
        "network.stripResponseHeaders",
        "removes response headers before the sandbox sees them",
    ),
    (
        "network.ambiguousRequestTarget",
        "decides what happens to ambiguous request targets",
    ),
];

/// npm srt machinery srt does not use (harmless to ignore).
const MACHINERY: [(&str, &str); 6] = [
    ("ripgrep", "srt finds mandatory-deny files without ripgrep"),
    (
        "seccomp",
        "srt builds and installs its seccomp filter itself",
    ),
    ("socatPath", "srt bridges the proxies itself, without socat"),
    (
        "javaAgentJarPath",
        "srt does not inject a Java agent; JVM programs must honour the proxy variables themselves",
    ),
    ("git", "srt does not set git's safe.directory list"),
    ("windows", "srt has no Windows backend"),
];

/// `false`, `null` and empty lists ask for nothing. An empty object does only for
/// `credentials` (no files, no variables): `tlsTerminate: {}` turns TLS termination on with its
/// defaults, and `parentProxy: {}` sends traffic to the proxy named in the environment.
fn asks_for_nothing(path: &str, v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => true,
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty() && path == "credentials",
        _ => false,
    }
}

fn unenforced(o: &OtherKey) -> Option<&'static str> {
    UNENFORCED
        .iter()
        .find(|(k, _)| *k == o.path)
        .filter(|_| !asks_for_nothing(&o.path, &o.value.value))
        .map(|(_, what)| *what)
}

/// One error per key in `settings` that srt parses but cannot enforce (`code:
/// unsupported-key`, severity error, labelled at the key). `srt run` refuses to start when
/// this is not empty; `srt lint` reports the same findings at the lint's level.
pub fn unenforceable_keys(settings: &Settings) -> Vec<Diagnostic> {
    settings
        .other
        .iter()
        .filter_map(|o| {
            let what = unenforced(o)?;
            Some(
                Diagnostic::error(
                    srt_schema::Code::declared(UNSUPPORTED_KEY.code),
                    format!("`{}` is not enforced by srt", o.path),
                )
                .with_label(o.key, format!("it {what}"))
                .with_help(format!(
                    "`srt run` refuses to start rather than run without it; remove `{}` to run with srt, or run this file with the npm srt",
                    o.path
                )),
            )
        })
        .collect()
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for d in unenforceable_keys(ctx.settings) {
        out.emit(d);
    }
    for o in &ctx.settings.other {
        let Some((_, why)) = MACHINERY.iter().find(|(k, _)| *k == o.path) else {
            continue;
        };
        let d = out
            .diag(format!(
                "`{}` configures the npm srt; srt ignores it",
                o.path
            ))
            .with_label(o.key, "ignored by srt")
            .with_help(format!("{why}; the key stays valid for the npm srt"));
        out.emit_at(Level::Note, d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "unsupported-key";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": [], "deniedDomains": [], "refuseOpaqueTunnels": false, "stripResponseHeaders": []}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn unenforceable_keys_is_what_run_refuses() {
        let loaded = srt_schema::load_str(
            "x.json",
            None,
            r#"{"network": {"allowedDomains": [], "deniedDomains": [], "tlsTerminate": {}, "parentProxy": {}, "stripResponseHeaders": ["x"], "refuseOpaqueTunnels": false}, "credentials": {}, "ripgrep": {"command": "rg"}}"#,
        );
        let found = super::unenforceable_keys(&loaded.settings);
        // `parentProxy` and `tlsTerminate` are enforced (on macOS too); `credentials: {}` asks
        // nothing.
        let expected: &[&str] = &["network.stripResponseHeaders"];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        assert_eq!(found[0].severity, srt_schema::Severity::Error);
        for (d, key) in found.iter().zip(expected) {
            assert!(d.message.contains(key), "{}", d.message);
        }
    }

    #[test]
    fn fails() {
        let cases = [(
            "TLS termination, credentials, and npm machinery",
            "{\n  \"network\": {\n    \"allowedDomains\": [\"api.example.com\"],\n    \"deniedDomains\": [],\n    \"tlsTerminate\": {\"maxTunnels\": 16},\n    \"parentProxy\": {\"https\": \"http://proxy.corp:3128\"}\n  },\n  \"credentials\": {\"envVars\": [{\"name\": \"GITHUB_TOKEN\", \"mode\": \"deny\"}]},\n  \"ripgrep\": {\"command\": \"rg\"}\n}",
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
