//! `external-proxy`: proxy ports that hand network decisions to another proxy.

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags `network.httpProxyPort` and `network.socksProxyPort`. Setting them tells srt that
    /// a proxy of your own already listens on that port of this host; the sandbox's traffic of
    /// that kind goes there, as the npm srt sends it. `srt run` relays each such connection
    /// byte for byte to `localhost:PORT` (the sandbox still has no other way out) and refuses
    /// to start when nothing listens there; srt's own proxy serves the other kind.
    ///
    /// ### Why is this bad
    /// `allowedDomains` and `deniedDomains` are enforced by srt's proxy. Traffic sent to your
    /// proxy is allowed or refused by whatever that proxy decides, so the lists in this file
    /// mean nothing for it; neither do `tlsTerminate`, `requireHostMatch` and masked
    /// `credentials` (the sandbox's sentinels reach your proxy unreplaced). That is right when
    /// the external proxy enforces the same policy, and a silent hole when it does not.
    ///
    /// ### Example
    /// Bad (unless the proxy on 3128 enforces the allowlist itself):
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"], "deniedDomains": [], "httpProxyPort": 3128},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub EXTERNAL_PROXY {
        code: "external-proxy",
        level: Warn,
        summary: "httpProxyPort/socksProxyPort hand network decisions to another proxy; the domain lists may not apply",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some(net) = ctx.settings.network() else {
        return;
    };
    for (key, port, kind) in [
        ("httpProxyPort", &net.http_proxy_port, "HTTP and HTTPS"),
        ("socksProxyPort", &net.socks_proxy_port, "SOCKS"),
    ] {
        let Some(port) = port else { continue };
        let d = out
            .diag(format!(
                "`network.{key}` sends the sandbox's {kind} traffic to your proxy on port {}: allowedDomains and deniedDomains are not enforced by srt for it",
                port.value
            ))
            .with_label(port.full_span(), "an external proxy decides")
            .with_help("remove it to let srt's proxy enforce this file's domain lists, or make sure the proxy on that port enforces the same allowlist (to keep srt's decisions and still leave through your proxy, use network.parentProxy)");
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "external-proxy";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": ["crates.io"], "deniedDomains": []}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "both ports",
            r#"{"network": {"allowedDomains": ["crates.io"], "deniedDomains": [], "httpProxyPort": 3128, "socksProxyPort": 1080}}"#,
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
