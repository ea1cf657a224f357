//! `srt compile --target macos`: the Seatbelt profile, or with `--format command` the whole
//! `sandbox-exec` run as a shell script.

use std::process::ExitCode;

use srt_compiler::backend::macos::{self, command, KeySpans, Options, ProxyPorts};
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
        trust_files: Vec::new(),
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
    // The environment `srt run` sets (the same assembly), without the per-run credentials.
    let env = command::command_env(
        ir,
        opts.proxy,
        None,
        &srt_runtime::run::options::this_srt()?,
        srt_runtime::run::options::inherited_java_tool_options(),
    );
    // Credential variables are withheld: a masked one too, since no proxy puts it back.
    let withheld: Vec<String> = ir
        .secrets
        .credentials
        .iter()
        .filter_map(|c| match &c.source {
            srt_compiler::secrets::CredentialSource::Env(name) => Some(name.clone()),
            srt_compiler::secrets::CredentialSource::File(_) => None,
        })
        .collect();
    crate::output::stdout(&command::command_script(&profile, &env, &withheld));
    Ok(ExitCode::SUCCESS)
}
