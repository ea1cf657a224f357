//! `srt run` on macOS: everything between a resolved policy and the command's exit status.
//!
//! 1. refuse at once if `sandbox-exec` is missing (nothing starts, nothing runs);
//! 2. install the signal forwarder ([`signals`]);
//! 3. start the proxies on two loopback ports with fresh per-run credentials
//!    ([`Listen::Loopback`]);
//! 4. emit the Seatbelt profile allowing exactly those ports
//!    ([`srt_compiler::backend::macos::emit`]);
//! 5. build the environment: the proxy variables with the credentials, `JAVA_TOOL_OPTIONS`,
//!    and `GIT_SSH_COMMAND` through `srt __proxy-connect … --proxy 127.0.0.1:PORT`;
//! 6. `sandbox-exec -p PROFILE /bin/sh -c COMMAND` ([`crate::macos::spawn`]), wait, shut the
//!    proxies down, and return the command's status (128+N when signal N ended it);
//! 7. audit what the run left under the write rules' paths ([`crate::audit`]), as on Linux.
//!
//! Compiled and tested on every OS: the tests run it on Linux against a stand-in for
//! `sandbox-exec`, which checks what srt passes and then runs the command *without* a sandbox.
//! Only the real `sandbox-exec` isolates; it has not been run in srt's CI.

pub mod signals;

use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::Arc;

use srt_compiler::backend::macos::command::shell_quote;
use srt_compiler::backend::macos::{self, EmitError, KeySpans, Options, ProxyPorts};
use srt_compiler::env::{
    java_tool_options, proxy_env, srt_ssh_proxy_command, tmpdir_from_env, ProxyEnv,
};
use srt_compiler::Ir;

use crate::macos::{spawn, MacosError};
use crate::proxy::{
    Listen, PinnedResolver, ProxyError, ProxyOptions, ProxyServer, ViolationOptions,
};

/// The address the command reaches the proxies at. A literal, not `localhost`: the proxies
/// listen on IPv4 only, and a client that tried `::1` first could fail.
pub const PROXY_HOST: &str = "127.0.0.1";

/// What to run and how.
pub struct MacosRunRequest {
    pub ir: Arc<Ir>,
    /// Shell text, run as `/bin/sh -c COMMAND` inside the sandbox ([`shell_command`] makes it
    /// from an argv).
    pub command: String,
    /// [`crate::macos::default_sandbox_exec`] except in tests.
    pub sandbox_exec: PathBuf,
    /// srt's own path: ssh runs it as its ProxyCommand (`GIT_SSH_COMMAND`).
    pub srt_binary: PathBuf,
    /// Violation reporting (stderr lines, JSON lines file, `ignoreViolations`).
    pub violations: ViolationOptions,
    /// Names the proxies resolve to fixed addresses (`--resolve NAME=IP`).
    pub resolve: Vec<(String, IpAddr)>,
    /// Print the profile and the environment (credentials hidden) before running.
    pub debug: bool,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MacosRunError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sandbox(#[from] MacosError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Proxy(#[from] ProxyError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Profile(#[from] EmitError),
    #[error("cannot install the signal handlers: {0}")]
    #[diagnostic(code(srt::run::macos::signals))]
    Signals(std::io::Error),
    #[error("cannot keep the descriptors srt inherited out of the sandbox: {0}")]
    #[diagnostic(code(srt::run::macos::descriptors))]
    Descriptors(std::io::Error),
    #[error("waiting for the sandboxed command failed: {0}")]
    #[diagnostic(code(srt::run::macos::wait))]
    Wait(std::io::Error),
    #[error("argument {index} of the command is not valid UTF-8, which the sandbox's shell command needs")]
    #[diagnostic(
        code(srt::run::macos::not_utf8),
        help("rename the file or pass the argument another way")
    )]
    NotUtf8 { index: usize },
}

/// An argv as `sh -c` text: every word quoted for POSIX sh.
pub fn shell_command(argv: &[OsString]) -> Result<String, MacosRunError> {
    let words = argv
        .iter()
        .enumerate()
        .map(|(index, a)| {
            a.to_str()
                .map(shell_quote)
                .ok_or(MacosRunError::NotUtf8 { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(words.join(" "))
}

/// The command's environment additions, in order: [`proxy_env`] with the credentials and the
/// ssh ProxyCommand, then `JAVA_TOOL_OPTIONS` after the inherited value.
pub fn sandbox_env(
    ir: &Ir,
    proxies: &ProxyServer,
    srt_binary: &std::path::Path,
    inherited_java_options: Option<&str>,
) -> Vec<(String, String)> {
    let http_port = proxies.http_addr().map_or(0, |a| a.port());
    let socks_port = proxies.socks_addr().map_or(0, |a| a.port());
    let proxy = format!("{PROXY_HOST}:{http_port}");
    let mut env = proxy_env(&ProxyEnv {
        host: PROXY_HOST.to_string(),
        http_port,
        socks_port,
        auth: proxies.credentials().map(|c| c.pair()),
        // None when srt's path cannot be quoted for ssh: no GIT_SSH_COMMAND then.
        ssh_proxy_command: srt_binary
            .to_str()
            .and_then(|exe| srt_ssh_proxy_command(exe, Some(&proxy))),
        tmpdir: (!ir.fs.disabled).then(tmpdir_from_env),
    });
    env.push((
        "JAVA_TOOL_OPTIONS".to_string(),
        java_tool_options(PROXY_HOST, http_port, inherited_java_options),
    ));
    env
}

/// Runs the command under the profile; returns its exit status (128+N when a signal ended it).
pub fn run(req: MacosRunRequest) -> Result<i32, MacosRunError> {
    // Before anything starts: without sandbox-exec there is nothing to run the command in.
    if !req.sandbox_exec.is_file() {
        return Err(MacosError::Missing(req.sandbox_exec.clone()).into());
    }
    // Descriptors srt inherited would pass through sandbox-exec to the command.
    crate::fds::close_inherited_on_exec().map_err(MacosRunError::Descriptors)?;
    // Before anything the command could write: the audit reports what changed after this.
    let since = crate::audit::Since::now();
    let forwarder = signals::Forwarder::install().map_err(MacosRunError::Signals)?;
    let proxies = ProxyServer::start(
        req.ir.clone(),
        ProxyOptions {
            listen: Listen::Loopback,
            violations: req.violations.clone(),
            resolver: Arc::new(PinnedResolver::new(&req.resolve)),
            ..ProxyOptions::default()
        },
    )?;
    let result = run_with_proxies(&req, &proxies, &forwarder);
    proxies.shutdown();
    drop(forwarder);
    if result.is_ok() {
        let plan = srt_compiler::audit::AuditPlan::from_write_rules(&req.ir);
        crate::audit::audit(&plan, since, &req.ir.home)
            .emit(req.violations.jsonl.as_deref(), req.debug);
    }
    result
}

fn run_with_proxies(
    req: &MacosRunRequest,
    proxies: &ProxyServer,
    forwarder: &signals::Forwarder,
) -> Result<i32, MacosRunError> {
    let port = |a: Option<std::net::SocketAddr>| a.map_or(0, |a| a.port());
    let opts = Options {
        // The sandbox always reaches srt's ports; with httpProxyPort/socksProxyPort they relay
        // to the user's proxy as they are.
        proxy: ProxyPorts {
            http: port(proxies.http_addr()),
            socks: port(proxies.socks_addr()),
        },
        log_tag: macos::DEFAULT_LOG_TAG.to_string(),
        annotate: false,
        key_spans: KeySpans::default(),
    };
    let profile = macos::emit(&req.ir, &opts)?;
    let inherited = std::env::var("JAVA_TOOL_OPTIONS").ok();
    let env = sandbox_env(&req.ir, proxies, &req.srt_binary, inherited.as_deref());
    if req.debug {
        print_debug(&profile, &env, proxies);
    }
    // A signal that came while the proxies started: the command never starts.
    if let Some(sig) = forwarder.pending() {
        return Ok(128 + sig);
    }
    let mut child = spawn(&req.sandbox_exec, &profile, &env, &req.command)?;
    forwarder.forward_to(child.id());
    let status = child.wait().map_err(MacosRunError::Wait);
    forwarder.child_gone();
    let status = status?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    })
}

/// `-d`: the profile, then the environment with the proxy password replaced.
fn print_debug(profile: &str, env: &[(String, String)], proxies: &ProxyServer) {
    let secret = proxies.credentials().map(|c| c.password().to_string());
    eprintln!("srt: sandbox-exec profile:\n{profile}");
    for (k, v) in env {
        let shown = match &secret {
            Some(s) => v.replace(s.as_str(), "<token>"),
            None => v.clone(),
        };
        eprintln!("srt: env {k}={shown}");
    }
}
