//! `srt compile --target linux`: the bubblewrap plan and the seccomp program, as readable text
//! or JSON. Gathers the host facts the plan depends on (which paths exist, glob matches, the
//! mandatory-deny scan) on this machine.

use std::process::ExitCode;

use srt_compiler::backend::linux::{plan, HostFacts};
use srt_compiler::RealFs;
use srt_lints::Target;

use super::Arch;
use crate::settings::{linux_options, load_and_resolve, report, srt_binary};

/// The name of the proxy sockets' directory, a fresh private one per run, under the parent
/// `srt run` would choose for this policy (`srt_runtime::proxy::socket_parent_for`).
const SOCKET_DIR_PLACEHOLDER: &str = "srt-XXXXXXXX";

pub fn run(args: &super::Args) -> anyhow::Result<ExitCode> {
    let format = args.format.as_deref().unwrap_or("text");
    if !matches!(format, "text" | "json") {
        eprintln!("srt: --format for linux is `text` or `json`, not `{format}`");
        return Ok(ExitCode::from(2));
    }
    let resolved = match load_and_resolve(&args.settings, Target::Linux) {
        Ok(r) => r,
        Err(e) => return Ok(report(e)),
    };
    if let Some(n) = resolved.choice.notice() {
        eprintln!("{n}");
    }
    // `srt run` write-protects its state directory when a write root covers it: so does the plan.
    let mut ir = resolved.ir.clone();
    srt_runtime::state_dir::protect(&mut ir, &srt_runtime::state_dir::default_state_dir());
    let ir = &ir;
    let facts = HostFacts::gather(ir, &RealFs);
    let socket_dir = srt_runtime::proxy::socket_parent_for(ir).join(SOCKET_DIR_PLACEHOLDER);
    let mut opts = linux_options(srt_binary()?, socket_dir);
    opts.terminal = args.terminal;
    opts.report_network = args.report_network;
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
    let text = match format {
        "json" => serde_json::to_string_pretty(&plan.render_json(ir))? + "\n",
        _ => plan.render_text(ir),
    };
    crate::output::stdout(&text);
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
