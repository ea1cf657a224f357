//! `mask-without-tls`: masked credentials with nothing to substitute them over a verified
//! connection.

use srt_compiler::secrets::CredentialMode;

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags a `credentials` block that masks a variable or a file while
    /// `network.tlsTerminate` is not set and `credentials.allowPlaintextInject` is not true.
    /// The npm srt rejects such a file; `srt run` refuses it (deny level).
    ///
    /// ### Why is this bad
    /// The proxy puts a masked credential's real value back into requests it can read. Without
    /// TLS termination the only requests it reads are plain-HTTP ones, where the value would
    /// travel in clear to a server nobody verified; so masking without `tlsTerminate` either
    /// never substitutes (every HTTPS request carries the useless sentinel) or, with
    /// `allowPlaintextInject`, sends the secret in clear. Say which one you mean.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "GITHUB_TOKEN", "mode": "mask"}]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "GITHUB_TOKEN", "mode": "mask"}]}}
    /// ```
    pub MASK_WITHOUT_TLS {
        code: "mask-without-tls",
        level: Deny,
        summary: "credentials are masked but network.tlsTerminate is not set (nor allowPlaintextInject)",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let secrets = &ctx.ir.secrets;
    if secrets.tls.is_some() || secrets.allow_plaintext_inject {
        return;
    }
    let Some(first) = secrets
        .credentials
        .iter()
        .find(|c| c.mode == CredentialMode::Mask)
    else {
        return;
    };
    let span = ctx
        .key_span("/credentials")
        .or_else(|| first.origin.span())
        .unwrap_or(ctx.json.span);
    let d = out
        .diag("Credential masking requires network.tlsTerminate so substitution runs only over a verified TLS connection")
        .with_label(span, "masks credentials")
        .with_help("add `\"tlsTerminate\": {}` to `network`, or set credentials.allowPlaintextInject to true to send real values over plain HTTP (not recommended)");
    out.emit(d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "mask-without-tls";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["a.example.com"], "deniedDomains": [], "tlsTerminate": {}}, "credentials": {"envVars": [{"name": "T", "mode": "mask"}]}}"#,
            r#"{"network": {"allowedDomains": ["a.example.com"], "deniedDomains": []}, "credentials": {"allowPlaintextInject": true, "envVars": [{"name": "T", "mode": "mask"}]}}"#,
            r#"{"network": {"allowedDomains": ["a.example.com"], "deniedDomains": []}, "credentials": {"envVars": [{"name": "T", "mode": "deny"}]}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [(
            "a masked variable without tlsTerminate",
            "{\n  \"network\": {\"allowedDomains\": [\"api.github.com\"], \"deniedDomains\": []},\n  \"credentials\": {\"envVars\": [{\"name\": \"GITHUB_TOKEN\", \"mode\": \"mask\"}]}\n}",
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
