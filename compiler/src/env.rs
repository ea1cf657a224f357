//! The environment a sandboxed command gets: the npm srt's `generateProxyEnvVars`, minus what
//! srt does not ship (a Java agent, socat). Pure; shared by the Linux and macOS backends.
//!
//! Order is stable (the peer's), so plans and profiles are deterministic.

/// Where the command reaches the proxies, and what else it is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyEnv {
    /// The host the command dials: `localhost` (the in-sandbox bridge on Linux, the host's
    /// loopback on macOS).
    pub host: String,
    pub http_port: u16,
    pub socks_port: u16,
    /// `(user, password)` embedded in the proxy URLs, when the proxy wants credentials. The
    /// user is percent-encoded in URLs and sent raw where a tool takes it separately.
    pub auth: Option<(String, String)>,
    /// An ssh `ProxyCommand` that tunnels through the proxy (`%h %p` left for ssh), made by
    /// [`srt_ssh_proxy_command`]; `GIT_SSH_COMMAND` is set only when there is one.
    pub ssh_proxy_command: Option<String>,
    /// `TMPDIR`; `None` leaves it as it is (the peer does that when the filesystem policy is
    /// disabled).
    pub tmpdir: Option<String>,
}

/// `user:password` for `srt __proxy-connect` (the ssh ProxyCommand), set when the proxy wants
/// credentials and there is a ProxyCommand. The command can read the same credentials in
/// `HTTP_PROXY`, so this discloses nothing new.
pub const PROXY_AUTH_VAR: &str = "SRT_PROXY_AUTH";

/// `NO_PROXY`: loopback, link-local and the private ranges go direct.
pub const NO_PROXY: &str =
    "localhost,127.0.0.1,::1,169.254.0.0/16,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16";

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The variables, in order.
pub fn proxy_env(p: &ProxyEnv) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    set("SANDBOX_RUNTIME", "1".into());
    if let Some(t) = &p.tmpdir {
        set("TMPDIR", t.clone());
    }
    let userinfo = p
        .auth
        .as_ref()
        .map(|(u, pw)| format!("{}:{}@", percent_encode(u), percent_encode(pw)))
        .unwrap_or_default();
    let host = &p.host;
    let http = format!("http://{userinfo}{host}:{}", p.http_port);
    let socks = format!("socks5h://{userinfo}{host}:{}", p.socks_port);
    set("NO_PROXY", NO_PROXY.into());
    set("no_proxy", NO_PROXY.into());
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
        set(k, http.clone());
    }
    if p.auth.is_some() {
        // Pre-send Basic so git never meets a 407 and never asks a credential helper.
        set(
            "GIT_CONFIG_PARAMETERS",
            "'http.proxyAuthMethod=basic'".into(),
        );
    }
    for k in ["ALL_PROXY", "all_proxy", "GRPC_PROXY", "grpc_proxy"] {
        set(k, http.clone());
    }
    if let Some(cmd) = &p.ssh_proxy_command {
        if let Some((u, pw)) = &p.auth {
            // For `srt __proxy-connect`: in its environment, not on a command line others
            // can read in `ps`.
            set(PROXY_AUTH_VAR, format!("{u}:{pw}"));
        }
        set(
            "GIT_SSH_COMMAND",
            format!("ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand='{cmd}'"),
        );
    }
    set("FTP_PROXY", socks.clone());
    set("ftp_proxy", socks);
    set("RSYNC_PROXY", format!("{host}:{}", p.socks_port));
    set("DOCKER_HTTP_PROXY", http.clone());
    set("DOCKER_HTTPS_PROXY", http);
    set("CLOUDSDK_PROXY_TYPE", "http".into());
    set("CLOUDSDK_PROXY_ADDRESS", host.clone());
    set("CLOUDSDK_PROXY_PORT", p.http_port.to_string());
    if let Some((u, pw)) = &p.auth {
        set("CLOUDSDK_PROXY_USERNAME", u.clone());
        set("CLOUDSDK_PROXY_PASSWORD", pw.clone());
    }
    env
}

/// Everything the command's environment is made from, on either OS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxEnv {
    /// Where the proxies are and what else the command is told ([`proxy_env`]).
    pub proxy: ProxyEnv,
    /// `JAVA_TOOL_OPTIONS` as srt inherited it: kept in front of the proxy properties.
    pub inherited_java_tool_options: Option<String>,
    /// Whether the command has proxies at all. Without them nothing listens where the proxy
    /// variables would point, so only `SANDBOX_RUNTIME` and `TMPDIR` are set.
    pub proxied: bool,
}

/// The one assembly of a sandboxed command's environment additions, in order, used by the
/// Linux plan and the macOS run alike: [`proxy_env`], then `JAVA_TOOL_OPTIONS`
/// ([`java_tool_options`]) after the inherited value.
pub fn sandbox_env(e: &SandboxEnv) -> Vec<(String, String)> {
    let mut env = proxy_env(&e.proxy);
    if !e.proxied {
        env.retain(|(k, _)| matches!(k.as_str(), "SANDBOX_RUNTIME" | "TMPDIR"));
        return env;
    }
    // JVMs ignore the *_PROXY variables; their system properties point them at the proxy.
    env.push((
        "JAVA_TOOL_OPTIONS".to_string(),
        java_tool_options(
            &e.proxy.host,
            e.proxy.http_port,
            e.inherited_java_tool_options.as_deref(),
        ),
    ));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ProxyEnv {
        ProxyEnv {
            host: "localhost".into(),
            http_port: 3128,
            socks_port: 1080,
            auth: None,
            ssh_proxy_command: None,
            tmpdir: Some("/tmp/claude".into()),
        }
    }

    #[test]
    fn peer_variables_in_order() {
        let env = proxy_env(&base());
        let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "SANDBOX_RUNTIME",
                "TMPDIR",
                "NO_PROXY",
                "no_proxy",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "http_proxy",
                "https_proxy",
                "ALL_PROXY",
                "all_proxy",
                "GRPC_PROXY",
                "grpc_proxy",
                "FTP_PROXY",
                "ftp_proxy",
                "RSYNC_PROXY",
                "DOCKER_HTTP_PROXY",
                "DOCKER_HTTPS_PROXY",
                "CLOUDSDK_PROXY_TYPE",
                "CLOUDSDK_PROXY_ADDRESS",
                "CLOUDSDK_PROXY_PORT"
            ]
        );
        assert_eq!(env[4].1, "http://localhost:3128");
        assert_eq!(env[12].1, "socks5h://localhost:1080");
    }

    #[test]
    fn auth_and_ssh() {
        let mut p = base();
        p.auth = Some(("srt.a+b/c=".into(), "tok".into()));
        p.ssh_proxy_command = Some("/usr/bin/srt __proxy-connect %h %p".into());
        let env = proxy_env(&p);
        let get = |k: &str| env.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("HTTP_PROXY").unwrap(),
            "http://srt.a%2Bb%2Fc%3D:tok@localhost:3128"
        );
        assert_eq!(
            get("GIT_CONFIG_PARAMETERS").unwrap(),
            "'http.proxyAuthMethod=basic'"
        );
        assert_eq!(get("CLOUDSDK_PROXY_USERNAME").unwrap(), "srt.a+b/c=");
        assert_eq!(get(PROXY_AUTH_VAR).unwrap(), "srt.a+b/c=:tok");
        assert_eq!(
            get("GIT_SSH_COMMAND").unwrap(),
            "ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand='/usr/bin/srt __proxy-connect %h %p'"
        );
    }
}

/// Where temp files go unless the caller says otherwise: a default write path.
pub const DEFAULT_TMPDIR: &str = "/tmp/claude";

/// The command's `TMPDIR` as the npm srt chooses it: `$CLAUDE_CODE_TMPDIR`, else
/// `$CLAUDE_TMPDIR`, else [`DEFAULT_TMPDIR`] (empty values are skipped).
pub fn tmpdir_from_env() -> String {
    ["CLAUDE_CODE_TMPDIR", "CLAUDE_TMPDIR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_TMPDIR.to_string())
}

/// The hidden subcommand ssh runs as its ProxyCommand (`runtime/src/init/proxy_connect.rs`):
/// `srt __proxy-connect HOST PORT [--proxy ADDR:PORT]` opens an HTTP CONNECT tunnel to
/// HOST:PORT through the proxy (default `127.0.0.1:3128`, the bridge inside a Linux sandbox)
/// and relays stdin/stdout. srt is its own ProxyCommand: no socat, no nc.
pub const PROXY_CONNECT_SUBCOMMAND: &str = "__proxy-connect";

/// [`ProxyEnv::ssh_proxy_command`] for srt itself: `SRT __proxy-connect %h %p`, plus
/// `--proxy ADDR` when the proxy is not at the default address (macOS: a loopback port). ssh
/// runs it with `$SHELL -c` after expanding `%`, and it sits inside `GIT_SSH_COMMAND`'s single
/// quotes, so every other character of srt's path is backslash-escaped and `%` is doubled.
/// `None` when the path holds a `'` or a newline, which cannot be carried that way.
pub fn srt_ssh_proxy_command(srt_exe: &str, proxy: Option<&str>) -> Option<String> {
    let escape = |text: &str| -> Option<String> {
        if text.contains(['\'', '\n']) {
            return None;
        }
        let mut quoted = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '%' => quoted.push_str("%%"),
                c if c.is_ascii_alphanumeric() || "/._-+,:@".contains(c) => quoted.push(c),
                c => {
                    quoted.push('\\');
                    quoted.push(c);
                }
            }
        }
        Some(quoted)
    };
    let mut cmd = format!("{} {PROXY_CONNECT_SUBCOMMAND} %h %p", escape(srt_exe)?);
    if let Some(p) = proxy {
        cmd.push_str(&format!(" --proxy {}", escape(p)?));
    }
    Some(cmd)
}

/// `JAVA_TOOL_OPTIONS` for the sandboxed command: JVMs ignore the proxy variables, so the
/// proxy goes in as system properties, after whatever the command would inherit. The IPv4
/// stack keeps Java's loopback connections plain 127.0.0.1, which Seatbelt's `localhost`
/// matches (the IPv4-mapped ::ffff:127.0.0.1 of a dual-stack socket it does not). Java does not
/// send proxy credentials from these properties.
pub fn java_tool_options(host: &str, http_port: u16, inherited: Option<&str>) -> String {
    let mut parts: Vec<String> = inherited
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| vec![s.to_string()])
        .unwrap_or_default();
    for flag in [
        format!("-Dhttp.proxyHost={host}"),
        format!("-Dhttp.proxyPort={http_port}"),
        format!("-Dhttps.proxyHost={host}"),
        format!("-Dhttps.proxyPort={http_port}"),
        "-Djava.net.preferIPv4Stack=true".to_string(),
    ] {
        if !parts.iter().any(|p| p.contains(&flag)) {
            parts.push(flag);
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod srt_tests {
    use super::*;

    #[test]
    fn srt_as_its_own_proxy_command() {
        assert_eq!(
            srt_ssh_proxy_command("/usr/local/bin/srt", None).unwrap(),
            "/usr/local/bin/srt __proxy-connect %h %p"
        );
        assert_eq!(
            srt_ssh_proxy_command("/opt/my srt/100%/srt$x", Some("127.0.0.1:4000")).unwrap(),
            r"/opt/my\ srt/100%%/srt\$x __proxy-connect %h %p --proxy 127.0.0.1:4000"
        );
        assert_eq!(srt_ssh_proxy_command("/it's/srt", None), None);
        assert_eq!(srt_ssh_proxy_command("/a\nb/srt", None), None);
        // Through the layers: GIT_SSH_COMMAND's single quotes, then the shell ssh uses.
        let env = proxy_env(&ProxyEnv {
            host: "localhost".into(),
            http_port: 1,
            socks_port: 1,
            auth: None,
            ssh_proxy_command: srt_ssh_proxy_command("/opt/my srt/srt", None),
            tmpdir: None,
        });
        let git_ssh = &env.iter().find(|(k, _)| k == "GIT_SSH_COMMAND").unwrap().1;
        assert_eq!(
            git_ssh,
            r"ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand='/opt/my\ srt/srt __proxy-connect %h %p'"
        );
    }

    #[test]
    fn java_options_follow_the_inherited_ones() {
        assert_eq!(
            java_tool_options("localhost", 3128, Some(" -Xmx1g ")),
            "-Xmx1g -Dhttp.proxyHost=localhost -Dhttp.proxyPort=3128 -Dhttps.proxyHost=localhost -Dhttps.proxyPort=3128 -Djava.net.preferIPv4Stack=true"
        );
        assert_eq!(
            java_tool_options("localhost", 1, Some("-Djava.net.preferIPv4Stack=true"))
                .matches("preferIPv4Stack")
                .count(),
            1
        );
    }
}
