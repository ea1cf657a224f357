//! `srt compile --target linux`: the bubblewrap plan and the seccomp program, as readable text
//! or JSON. Gathers the host facts the plan depends on (which paths exist, glob matches, the
//! mandatory-deny scan) on this machine.

use std::path::PathBuf;
use std::process::ExitCode;

use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions};
use srt_compiler::RealFs;

use super::Arch;
use crate::settings::{load_and_resolve, report, SettingsArgs};

/// Where the runtime puts the proxy sockets: a fresh private directory per run.
const SOCKET_DIR_PLACEHOLDER: &str = "/tmp/srt-XXXXXXXX";

pub fn run(args: &super::Args) -> anyhow::Result<ExitCode> {
    let format = args.format.as_deref().unwrap_or("text");
    if !matches!(format, "text" | "json") {
        eprintln!("srt: --format for linux is `text` or `json`, not `{format}`");
        return Ok(ExitCode::from(2));
    }
    let resolved = match load_and_resolve(&SettingsArgs {
        settings: args.settings.clone(),
        cwd: args.cwd.clone(),
        home: args.home.clone(),
        project_first: true,
    }) {
        Ok(r) => r,
        Err(e) => return Ok(report(e)),
    };
    let ir = &resolved.ir;
    let facts = HostFacts::gather(ir, &RealFs);
    let srt = std::env::current_exe()?;
    let srt = std::fs::canonicalize(&srt).unwrap_or(srt);
    let mut opts = LinuxOptions::new(srt, PathBuf::from(SOCKET_DIR_PLACEHOLDER));
    opts.tmpdir = srt_compiler::env::tmpdir_from_env().into();
    if let Some(a) = args.arch {
        opts.arch = match a {
            Arch::X86_64 => srt_compiler::backend::linux::seccomp::Arch::X86_64,
            Arch::Aarch64 => srt_compiler::backend::linux::seccomp::Arch::Aarch64,
        };
    }
    let mut plan = plan(ir, &facts, &opts);
    // A plan `srt run` would refuse is printed, with the reason, and fails.
    let refused = plan.refusals().next().is_some();
    let mut notes = resolved.notes.clone();
    notes.append(&mut plan.notes);
    plan.notes = notes;
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&plan.render_json(ir))?),
        _ => print!("{}", plan.render_text(ir)),
    }
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
