//! `srt compile --target macos`: the Seatbelt profile, or with `--format command` the whole
//! `sandbox-exec` run as a shell script.

use std::process::ExitCode;

use srt_compiler::backend::macos::{self, command, KeySpans, Options, ProxyPorts};
use srt_compiler::env::{
    java_tool_options, proxy_env, srt_ssh_proxy_command, tmpdir_from_env, ProxyEnv,
};
use srt_schema::Severity;

use crate::output::{print_diagnostics, Format};
use crate::settings;

pub fn run(args: &super::Args) -> anyhow::Result<ExitCode> {
    let script = match args.format.as_deref() {
        None | Some("text") => false,
        Some("command") => true,
        Some(other) => {
            eprintln!("srt: --format {other} is not a macOS format (use text or command)");
            return Ok(ExitCode::from(2));
        }
    };
    let resolved = match settings::load_and_resolve(&args.settings, srt_lints::Target::Macos) {
        Ok(r) => r,
        Err(e) => return Ok(settings::report(e)),
    };
    if let Some(n) = resolved.choice.notice() {
        eprintln!("{n}");
    }
    let source = resolved.loaded.source.clone();
    let notes: Vec<_> = resolved
        .notes
        .iter()
        .map(|d| (d.clone(), source.clone()))
        .collect();
    if !notes.is_empty() {
        print_diagnostics(&notes, Format::Human);
    }
    // A rule that did not resolve is missing from the IR: a profile without it would be
    // weaker than the file says.
    if notes.iter().any(|(d, _)| d.severity == Severity::Error) {
        return Ok(ExitCode::from(1));
    }
    let ir = &resolved.ir;
    let own_port = args.proxy_port.unwrap_or(macos::DEFAULT_PROXY_PORT);
    let opts = Options {
        proxy: ProxyPorts::for_ir(ir, own_port),
        log_tag: args
            .log_tag
            .clone()
            .unwrap_or_else(|| macos::DEFAULT_LOG_TAG.to_string()),
        annotate: args.annotate,
        key_spans: KeySpans::from_settings(&resolved.loaded.settings),
    };
    let profile = match macos::emit(ir, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(1));
        }
    };
    if !script {
        crate::output::stdout(&profile);
        return Ok(ExitCode::SUCCESS);
    }
    let mut env = proxy_env(&ProxyEnv {
        host: "localhost".into(),
        http_port: opts.proxy.http,
        socks_port: opts.proxy.socks,
        auth: None,
        ssh_proxy_command: srt_ssh_proxy_command(
            "srt",
            Some(&format!("127.0.0.1:{}", opts.proxy.http)),
        ),
        tmpdir: (!ir.fs.disabled).then(tmpdir_from_env),
    });
    env.push((
        "JAVA_TOOL_OPTIONS".into(),
        java_tool_options("localhost", opts.proxy.http, None),
    ));
    crate::output::stdout(&command::command_script(&profile, &env));
    Ok(ExitCode::SUCCESS)
}
