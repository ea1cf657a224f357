//! Notes the compiler reports while resolving a file.

crate::declare_code! {
    /// ### What it does
    /// Notes a path entry that is a symlink whose target lies outside the spelled tree (for
    /// example `./cache` pointing at `/var/cache/app`). srt applies the rule to the path as
    /// spelled, exactly as the npm srt does, and says so. It is in the local-disk group (see
    /// `missing-path`): `srt lint` reports it only locally.
    ///
    /// ### Why is this bad
    /// A rule about `./cache` does not cover `/var/cache/app`: a process can reach the same
    /// files through the target's own path, which the rule does not name. Writing the target
    /// states what is meant.
    ///
    /// ### Example
    /// Bad, when `./cache` is a symlink to `/var/cache/app`:
    /// ```text
    /// "denyRead": ["./cache"]
    /// ```
    /// Use instead:
    /// ```text
    /// "denyRead": ["/var/cache/app"]
    /// ```
    pub SYMLINK_NOT_FOLLOWED {
        code: "symlink-not-followed",
        kind: Compiler,
        level: Note,
        summary: "a path entry is a symlink leaving its tree; the rule applies to the spelled path",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a `network.parentProxy` URL srt cannot connect through (a scheme other than
    /// `http://` or `https://`, no host, a port outside 1–65535), and `network.mitmProxy`
    /// set together with `network.tlsTerminate` (the npm srt refuses that pair when it starts).
    ///
    /// ### Why is this bad
    /// The file says allowed traffic leaves through a proxy srt cannot use, or through two
    /// inspecting proxies at once. Connecting directly instead would ignore the author's
    /// egress path, so `srt run` refuses to start.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["example.com"], "deniedDomains": [],
    ///   "parentProxy": {"https": "socks5://proxy.corp:1080"}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["example.com"], "deniedDomains": [],
    ///   "parentProxy": {"https": "http://proxy.corp:3128"}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub BAD_UPSTREAM_PROXY {
        code: "bad-upstream-proxy",
        kind: Compiler,
        level: Deny,
        summary: "a parentProxy URL srt cannot use, or mitmProxy together with tlsTerminate",
    }
}
