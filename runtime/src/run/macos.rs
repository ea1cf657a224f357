//! The macOS part of a run: a Seatbelt profile applied with `sandbox-exec`.
//!
//! - the proxies listen on two loopback ports with fresh per-run credentials
//!   ([`Listen::Loopback`]), and always run (the profile names their ports);
//! - the profile allows exactly those ports ([`srt_compiler::backend::macos::emit`]);
//! - the environment is [`command_env`] (the one assembly, `srt_compiler::env::sandbox_env`,
//!   with the credentials; `GIT_SSH_COMMAND` through `srt __proxy-connect … --proxy
//!   127.0.0.1:PORT`);
//! - the command runs as `sandbox-exec -p PROFILE /bin/sh -c COMMAND`, in srt's process group
//!   (so a terminal's signals reach it directly), with the words of an argv quoted for `sh`;
//! - `credentials` and `tlsTerminate` as on Linux, through the same proxies: the trust
//!   variables name the run's CA bundle (which the profile lets the command read), masked
//!   variables hold their sentinels, denied ones are withheld; a masked *file* is denied by
//!   the profile, as the npm srt does (only Linux can bind a masked copy over it).
//!
//! Compiled and tested on every OS: the tests run it on Linux against a stand-in for
//! `sandbox-exec`, which checks what srt passes and then runs the command *without* a sandbox.
//! Only the real `sandbox-exec` isolates; it has not been run in srt's CI.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;

use nix::unistd::Pid;
use srt_compiler::audit::AuditPlan;
use srt_compiler::backend::linux::{apply_secrets_env, secrets_env};
use srt_compiler::backend::macos::command::{
    command_env, sandbox_exec_argv, shell_quote, SANDBOX_EXEC,
};
use srt_compiler::backend::macos::{self, KeySpans, Options, ProxyPorts};
use srt_compiler::Ir;

use super::signals::Forwarder;
use super::{
    options::inherited_java_tool_options, spawn, Launch, OsSandbox, RunError, RunRequest, Started,
};
use crate::fsviolations::macos_log::LogSource;
use crate::fsviolations::Reporter;
use crate::proxy::{Listen, ProxyServer};

/// Where `sandbox-exec` is on every Mac.
pub fn default_sandbox_exec() -> &'static Path {
    Path::new(SANDBOX_EXEC)
}

/// An argv as `sh -c` text: `exec` and every word quoted for POSIX sh. The shell replaces
/// itself with the command, as the Linux init executes the argv itself: the command is the
/// process srt signals, and its status (127 when it does not exist) is the run's.
pub fn shell_command(argv: &[OsString]) -> Result<String, RunError> {
    let words = argv
        .iter()
        .enumerate()
        .map(|(index, a)| {
            a.to_str()
                .map(shell_quote)
                .ok_or(RunError::NotUtf8 { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("exec {}", words.join(" ")))
}

/// `sandbox-exec -p PROFILE /bin/sh -c COMMAND` with `env` on top of srt's environment, in
/// srt's process group. `sandbox_exec` is [`default_sandbox_exec`] except in tests.
pub fn sandbox_exec_launch(
    sandbox_exec: &Path,
    profile: &str,
    env: Vec<(String, String)>,
    command: &str,
) -> Launch {
    let argv = sandbox_exec_argv(profile, command);
    Launch {
        program: sandbox_exec.to_path_buf(),
        args: argv.into_iter().skip(1).map(OsString::from).collect(),
        env,
        env_unset: Vec::new(),
        new_process_group: false,
        blocked: Vec::new(),
    }
}

/// `sandbox-exec` and the profile.
pub struct MacosSandbox {
    sandbox_exec: PathBuf,
    /// `log` (the unified log's tool), for Seatbelt's file denials.
    log: PathBuf,
    denials: Option<LogSource>,
}

impl MacosSandbox {
    /// `sandbox_exec`: [`default_sandbox_exec`], or a stand-in in tests.
    pub fn new(sandbox_exec: PathBuf) -> Self {
        MacosSandbox {
            sandbox_exec,
            log: PathBuf::from(crate::fsviolations::macos_log::LOG),
            denials: None,
        }
    }

    /// Reads Seatbelt's denials with `log` (a stand-in in tests) instead of `/usr/bin/log`.
    pub fn with_log(mut self, log: PathBuf) -> Self {
        self.log = log;
        self
    }
}

impl OsSandbox for MacosSandbox {
    fn check(&mut self, _req: &RunRequest) -> Result<(), RunError> {
        // Without sandbox-exec there is nothing to run the command in.
        if !self.sandbox_exec.is_file() {
            return Err(RunError::NoSandboxExec(self.sandbox_exec.clone()));
        }
        Ok(())
    }

    fn command_shares_our_group(&self) -> bool {
        true
    }

    fn proxies(&self, _ir: &Ir, _live_network: bool) -> Option<Listen> {
        Some(Listen::Loopback)
    }

    fn enforces_secrets(&self) -> bool {
        true
    }

    fn prepare(&mut self, req: &RunRequest, started: Started<'_>) -> Result<Launch, RunError> {
        let command = shell_command(&req.command)?;
        let port = |a: Option<std::net::SocketAddr>| a.map_or(0, |a| a.port());
        let proxies = started.proxies;
        let ports = ProxyPorts {
            http: port(proxies.and_then(ProxyServer::http_addr)),
            socks: port(proxies.and_then(ProxyServer::socks_addr)),
        };
        // A tag of this run's own, so that its denials are told from other runs'.
        let log_tag = match &req.fs_violations {
            Some(_) => format!("srt-run-{}", std::process::id()),
            None => macos::DEFAULT_LOG_TAG.to_string(),
        };
        let opts = Options {
            // The sandbox always reaches srt's ports; with httpProxyPort/socksProxyPort they
            // relay to the user's proxy as they are.
            proxy: ports,
            log_tag: log_tag.clone(),
            annotate: false,
            key_spans: KeySpans::default(),
            trust_files: [
                &started.secrets.ca_bundle,
                &started.secrets.java_trust_store,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        };
        let profile = macos::emit(&req.ir, &opts)?;
        if let Some(report) = &req.fs_violations {
            // Decided with the profile's rules (a masked file's denial names its entry).
            let rules = Arc::new(macos::profile_ir(&req.ir).into_owned());
            let started = Reporter::new(rules, report.clone())
                .and_then(|r| LogSource::start(&self.log, &log_tag, r));
            match started {
                Ok(source) => self.denials = Some(source),
                Err(e) => eprintln!(
                    "srt: filesystem violations are not reported: cannot read the unified log ({}): {e}",
                    self.log.display()
                ),
            }
        }
        let auth = proxies.and_then(|p| p.credentials()).map(|c| c.pair());
        let mut env = command_env(
            &req.ir,
            ports,
            auth,
            &req.srt_binary,
            inherited_java_tool_options(),
        );
        // The proxies always run on macOS, so the bundle is always in use with tlsTerminate.
        let secrets = secrets_env(&req.ir, started.secrets, true);
        apply_secrets_env(&mut env, secrets.set);
        let withheld: Vec<String> = secrets.unset.into_iter().map(|(n, _)| n).collect();
        env.retain(|(n, _)| !withheld.contains(n));
        if req.debug {
            let secret = proxies
                .and_then(|p| p.credentials())
                .map(|c| c.password().to_string());
            print_debug(&profile, &env, secret.as_deref());
        }
        let mut launch = sandbox_exec_launch(&self.sandbox_exec, &profile, env, &command);
        launch.env_unset = withheld;
        Ok(launch)
    }

    fn supervise(&mut self, pid: Pid, fwd: &Forwarder) -> Result<ExitStatus, RunError> {
        fwd.forward_to(pid.as_raw());
        let status = spawn::wait(pid).map_err(RunError::Wait);
        fwd.target_gone();
        // The log delivers a denial a moment after it happened.
        if let Some(source) = self.denials.take() {
            source.finish(std::time::Duration::from_millis(300));
        }
        status
    }

    fn audit_plan(&mut self, ir: &Ir) -> AuditPlan {
        AuditPlan::from_write_rules(ir)
    }

    fn finish(&mut self) {
        if let Some(source) = self.denials.take() {
            source.finish(std::time::Duration::ZERO);
        }
    }
}

/// `-d`: the profile, then the environment with the proxy password replaced.
fn print_debug(profile: &str, env: &[(String, String)], secret: Option<&str>) {
    eprintln!("srt: sandbox-exec profile:\n{profile}");
    for (k, v) in env {
        let shown = match secret {
            Some(s) => v.replace(s, "<token>"),
            None => v.clone(),
        };
        eprintln!("srt: env {k}={shown}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for sandbox-exec: checks `-p`, saves the profile, runs the rest.
    fn stand_in(dir: &Path) -> PathBuf {
        let path = dir.join("sandbox-exec");
        std::fs::write(
            &path,
            "#!/bin/sh\n[ \"$1\" = -p ] || exit 90\nprintf '%s' \"$2\" > \"$SRT_TEST_PROFILE_OUT\"\nshift 2\nexec \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn runs_the_command_with_profile_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let exe = stand_in(dir.path());
        let saved = dir.path().join("profile.sb");
        let profile = "(version 1)\n(deny default)\n; it's \"quoted\"\n";
        let env = vec![
            ("SANDBOX_RUNTIME".to_string(), "1".to_string()),
            (
                "SRT_TEST_PROFILE_OUT".to_string(),
                saved.display().to_string(),
            ),
        ];
        let said = dir.path().join("said");
        let command = format!(
            "echo \"$SANDBOX_RUNTIME\" $0 > '{}'; exit 7",
            said.display()
        );
        let launch = sandbox_exec_launch(&exe, profile, env, &command);
        let pid = spawn::spawn(&launch, None).unwrap();
        let status = spawn::wait(pid).unwrap();
        assert_eq!(status.code(), Some(7));
        assert_eq!(std::fs::read_to_string(&said).unwrap(), "1 /bin/sh\n");
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), profile);
    }
}
