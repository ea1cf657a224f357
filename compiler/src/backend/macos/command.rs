//! How a profile is applied: the `sandbox-exec` argv (used by the runtime) and the same run
//! written as a shell script (`srt compile --target macos --format command`).

/// Apple's Seatbelt front end; srt runs it by absolute path, never through `$PATH`.
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// The shell that runs the command string inside the sandbox (`srt -c CMD` is `sh -c CMD`).
pub const SHELL: &str = "/bin/sh";

/// The address the command reaches the proxies at. A literal, not `localhost`: the proxies
/// listen on IPv4 only, and a client that tried `::1` first could fail.
pub const PROXY_HOST: &str = "127.0.0.1";

/// The command's environment additions on macOS, in order (the one assembly,
/// [`crate::env::sandbox_env`], with the proxies on loopback): `srt run` gives it the
/// proxies' ports and per-run credentials, `srt compile --format command` one port and none.
/// `GIT_SSH_COMMAND` runs `srt_exe __proxy-connect … --proxy 127.0.0.1:PORT`; it is left out
/// when srt's path cannot be quoted for ssh.
pub fn command_env(
    ir: &crate::Ir,
    ports: super::ProxyPorts,
    auth: Option<(String, String)>,
    srt_exe: &std::path::Path,
    inherited_java_tool_options: Option<String>,
) -> Vec<(String, String)> {
    use crate::env::{sandbox_env, srt_ssh_proxy_command, tmpdir_from_env, ProxyEnv, SandboxEnv};
    let proxy = format!("{PROXY_HOST}:{}", ports.http);
    sandbox_env(&SandboxEnv {
        proxy: ProxyEnv {
            host: PROXY_HOST.to_string(),
            http_port: ports.http,
            socks_port: ports.socks,
            auth,
            ssh_proxy_command: srt_exe
                .to_str()
                .and_then(|exe| srt_ssh_proxy_command(exe, Some(&proxy))),
            tmpdir: (!ir.fs.disabled).then(tmpdir_from_env),
        },
        inherited_java_tool_options,
        // srt's proxies always serve a macOS run: the profile names their ports.
        proxied: true,
    })
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

/// `sandbox-exec -p PROFILE /bin/sh -c COMMAND`, program first.
pub fn sandbox_exec_argv(profile: &str, command: &str) -> Vec<String> {
    vec![
        SANDBOX_EXEC.to_string(),
        "-p".to_string(),
        profile.to_string(),
        SHELL.to_string(),
        "-c".to_string(),
        command.to_string(),
    ]
}

/// A POSIX sh script that runs its first argument the way `srt run` would: `env` without the
/// `withheld` variables and with the sandbox's, then `sandbox-exec -p PROFILE /bin/sh -c "$1"`.
pub fn command_script(profile: &str, env: &[(String, String)], withheld: &[String]) -> String {
    let mut out = String::from(
        "#!/bin/sh\n\
         # srt compile --target macos --format command: the sandboxed run srt would start.\n\
         # Usage: sh THIS-FILE 'COMMAND'. srt run also puts its proxy's per-run credentials in\n\
         # the proxy URLs; they are not shown here.\n\
         exec env \\\n",
    );
    for name in withheld {
        out.push_str(&format!("  -u {} \\\n", shell_quote(name)));
    }
    for (k, v) in env {
        out.push_str(&format!("  {} \\\n", shell_quote(&format!("{k}={v}"))));
    }
    let argv = sandbox_exec_argv(profile, "$1");
    let (cmd, rest) = argv.split_at(argv.len() - 1);
    let words: Vec<String> = cmd.iter().map(|w| shell_quote(w)).collect();
    out.push_str(&format!("  {} \"{}\"\n", words.join(" "), rest[0]));
    out
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
    fn argv_and_script() {
        assert_eq!(
            sandbox_exec_argv("(version 1)", "echo hi"),
            [
                "/usr/bin/sandbox-exec",
                "-p",
                "(version 1)",
                "/bin/sh",
                "-c",
                "echo hi"
            ]
        );
        let s = command_script(
            "(version 1)\n(deny default)\n; it's\n",
            &[
                ("SANDBOX_RUNTIME".into(), "1".into()),
                ("A".into(), "x y".into()),
            ],
            &[],
        );
        assert!(s.ends_with(
            "exec env \\\n  SANDBOX_RUNTIME=1 \\\n  'A=x y' \\\n  /usr/bin/sandbox-exec -p '(version 1)\n(deny default)\n; it'\\''s\n' /bin/sh -c \"$1\"\n"
        ), "{s}");
    }
}
