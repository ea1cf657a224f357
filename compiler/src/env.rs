//! The environment a sandboxed command gets: where its proxy is, where its temp files go, and
//! that it runs in a sandbox. Pure (ports and names in, an ordered list out) and shared by both
//! backends and the runtime, so `srt compile --format …` shows exactly what `srt run` sets.
//!
//! Modelled on the npm srt's `generateProxyEnvVars` (same names, same order), with two
//! differences: git's ssh goes through `srt __proxy-connect` (srt is its own ProxyCommand, no
//! socat or nc), and Java gets proxy system properties instead of the npm srt's agent jar.

/// The hidden subcommand ssh runs as its ProxyCommand: `srt __proxy-connect HOST PORT` opens an
/// HTTP CONNECT tunnel to HOST:PORT through the proxy named in `$HTTPS_PROXY` (else
/// `$https_proxy`, `$ALL_PROXY`, `$all_proxy`), credentials included, and relays stdin/stdout.
pub const PROXY_CONNECT_SUBCOMMAND: &str = "__proxy-connect";

/// Hosts clients reach directly (the npm srt's list): loopback, link-local, private ranges.
pub const NO_PROXY: &str =
    "localhost,127.0.0.1,::1,169.254.0.0/16,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16";

/// Where temp files go unless the caller says otherwise: a default write path.
pub const DEFAULT_TMPDIR: &str = "/tmp/claude";

/// Basic credentials the proxy expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyAuth<'a> {
    pub user: &'a str,
    pub token: &'a str,
}

/// Where the sandboxed process finds srt's proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyEnv<'a> {
    /// The host it dials (`localhost`).
    pub host: &'a str,
    pub http_port: u16,
    pub socks_port: u16,
    pub auth: Option<ProxyAuth<'a>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnvSpec<'a> {
    /// `None`: no proxy variables (only `SANDBOX_RUNTIME` and `TMPDIR`).
    pub proxy: Option<ProxyEnv<'a>>,
    /// `TMPDIR`; `None` leaves the inherited one (the npm srt does so when the filesystem
    /// policy is disabled).
    pub tmpdir: Option<&'a str>,
    /// srt's own executable, for git's ssh ProxyCommand; `None` leaves `GIT_SSH_COMMAND` out.
    pub srt_exe: Option<&'a str>,
    /// The `JAVA_TOOL_OPTIONS` the command would inherit; srt's flags are added after it.
    pub inherited_java_tool_options: Option<&'a str>,
}

/// Quotes a word for POSIX sh: bare when it is made of safe characters only, else in single
/// quotes (an embedded `'` written as `'\''`).
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@+,%-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Percent-encodes a URL userinfo part (everything but RFC 3986 unreserved characters).
fn userinfo(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The variables, in the order they are set.
pub fn sandbox_env(spec: &EnvSpec<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    set("SANDBOX_RUNTIME", "1".into());
    if let Some(t) = spec.tmpdir {
        set("TMPDIR", t.into());
    }
    let Some(p) = spec.proxy else {
        return env;
    };
    let auth = p
        .auth
        .map(|a| format!("{}:{}@", userinfo(a.user), userinfo(a.token)))
        .unwrap_or_default();
    let http = format!("http://{auth}{}:{}", p.host, p.http_port);
    let socks = format!("socks5h://{auth}{}:{}", p.host, p.socks_port);
    set("NO_PROXY", NO_PROXY.into());
    set("no_proxy", NO_PROXY.into());
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
        set(k, http.clone());
    }
    if p.auth.is_some() {
        // Send the credentials up front, so git never meets a 407 (and never asks a
        // credential helper about the proxy).
        set(
            "GIT_CONFIG_PARAMETERS",
            "'http.proxyAuthMethod=basic'".into(),
        );
    }
    for k in ["ALL_PROXY", "all_proxy", "GRPC_PROXY", "grpc_proxy"] {
        set(k, http.clone());
    }
    if let Some(exe) = spec.srt_exe {
        // ssh expands `%` in a ProxyCommand, so a `%` in srt's path is doubled.
        let proxy_command = format!(
            "{} {PROXY_CONNECT_SUBCOMMAND} %h %p",
            shell_quote(exe).replace('%', "%%")
        );
        set(
            "GIT_SSH_COMMAND",
            format!(
                "ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand={}",
                shell_quote(&proxy_command)
            ),
        );
    }
    set("FTP_PROXY", socks.clone());
    set("ftp_proxy", socks);
    set("RSYNC_PROXY", format!("{}:{}", p.host, p.socks_port));
    set("DOCKER_HTTP_PROXY", http.clone());
    set("DOCKER_HTTPS_PROXY", http);
    set("CLOUDSDK_PROXY_TYPE", "http".into());
    set("CLOUDSDK_PROXY_ADDRESS", p.host.into());
    set("CLOUDSDK_PROXY_PORT", p.http_port.to_string());
    if let Some(a) = p.auth {
        set("CLOUDSDK_PROXY_USERNAME", a.user.into());
        set("CLOUDSDK_PROXY_PASSWORD", a.token.into());
    }
    // JVMs ignore the variables above. These properties point them at the proxy; the IPv4
    // stack makes Java's loopback connections plain 127.0.0.1, which Seatbelt's `localhost`
    // matches (an IPv4-mapped ::ffff:127.0.0.1 it does not).
    let port = p.http_port;
    let host = p.host;
    let flags = [
        format!("-Dhttp.proxyHost={host}"),
        format!("-Dhttp.proxyPort={port}"),
        format!("-Dhttps.proxyHost={host}"),
        format!("-Dhttps.proxyPort={port}"),
        "-Djava.net.preferIPv4Stack=true".to_string(),
    ];
    let mut java: Vec<String> = spec
        .inherited_java_tool_options
        .filter(|s| !s.trim().is_empty())
        .map(|s| vec![s.to_string()])
        .unwrap_or_default();
    for f in flags {
        if !java.iter().any(|j| j.contains(&f)) {
            java.push(f);
        }
    }
    set("JAVA_TOOL_OPTIONS", java.join(" "));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc/d.e"), "abc/d.e");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn full_environment_in_order() {
        let env = sandbox_env(&EnvSpec {
            proxy: Some(ProxyEnv {
                host: "localhost",
                http_port: 3128,
                socks_port: 1080,
                auth: Some(ProxyAuth {
                    user: "srt",
                    token: "t0k",
                }),
            }),
            tmpdir: Some(DEFAULT_TMPDIR),
            srt_exe: Some("/opt/my srt/bin/srt%1"),
            inherited_java_tool_options: Some("-Xmx1g"),
        });
        let text: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            [
                "SANDBOX_RUNTIME=1",
                "TMPDIR=/tmp/claude",
                &format!("NO_PROXY={NO_PROXY}"),
                &format!("no_proxy={NO_PROXY}"),
                "HTTP_PROXY=http://srt:t0k@localhost:3128",
                "HTTPS_PROXY=http://srt:t0k@localhost:3128",
                "http_proxy=http://srt:t0k@localhost:3128",
                "https_proxy=http://srt:t0k@localhost:3128",
                "GIT_CONFIG_PARAMETERS='http.proxyAuthMethod=basic'",
                "ALL_PROXY=http://srt:t0k@localhost:3128",
                "all_proxy=http://srt:t0k@localhost:3128",
                "GRPC_PROXY=http://srt:t0k@localhost:3128",
                "grpc_proxy=http://srt:t0k@localhost:3128",
                r"GIT_SSH_COMMAND=ssh -o ControlMaster=no -o ControlPath=none -o ProxyCommand=''\''/opt/my srt/bin/srt%%1'\'' __proxy-connect %h %p'",
                "FTP_PROXY=socks5h://srt:t0k@localhost:1080",
                "ftp_proxy=socks5h://srt:t0k@localhost:1080",
                "RSYNC_PROXY=localhost:1080",
                "DOCKER_HTTP_PROXY=http://srt:t0k@localhost:3128",
                "DOCKER_HTTPS_PROXY=http://srt:t0k@localhost:3128",
                "CLOUDSDK_PROXY_TYPE=http",
                "CLOUDSDK_PROXY_ADDRESS=localhost",
                "CLOUDSDK_PROXY_PORT=3128",
                "CLOUDSDK_PROXY_USERNAME=srt",
                "CLOUDSDK_PROXY_PASSWORD=t0k",
                "JAVA_TOOL_OPTIONS=-Xmx1g -Dhttp.proxyHost=localhost -Dhttp.proxyPort=3128 -Dhttps.proxyHost=localhost -Dhttps.proxyPort=3128 -Djava.net.preferIPv4Stack=true",
            ]
        );
    }

    #[test]
    fn without_proxy_or_tmpdir() {
        let env = sandbox_env(&EnvSpec::default());
        assert_eq!(env, [("SANDBOX_RUNTIME".to_string(), "1".to_string())]);
    }

    #[test]
    fn userinfo_is_percent_encoded() {
        let env = sandbox_env(&EnvSpec {
            proxy: Some(ProxyEnv {
                host: "localhost",
                http_port: 1,
                socks_port: 1,
                auth: Some(ProxyAuth {
                    user: "srt.ZWNo/by+=",
                    token: "x",
                }),
            }),
            ..EnvSpec::default()
        });
        assert_eq!(env[3].1, "http://srt.ZWNo%2Fby%2B%3D:x@localhost:1");
    }
}
