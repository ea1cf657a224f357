//! `srt compile --target linux`: the bubblewrap plan and the seccomp program, as readable text
//! or JSON. Gathers the host facts the plan depends on (which paths exist, glob matches, the
//! mandatory-deny scan) on this machine.

use std::process::ExitCode;

use srt_compiler::backend::linux::{plan, HostFacts};
use srt_compiler::RealFs;
use srt_lints::Target;

use super::Arch;
use srt_runtime::run::linux_options;
use srt_runtime::run::options::{bwrap_on_this_host, placeholder_socket_dir, this_srt};

use crate::settings::{load_and_resolve, report};

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
    // The options `srt run` builds, with placeholders where a run has its own values.
    let mut opts = linux_options(this_srt()?, placeholder_socket_dir(ir));
    opts.terminal = args.terminal;
    use crate::cmd::run::FsViolations;
    opts.fs_violations = !args.no_fs_violations && args.fs_violations != FsViolations::Off;
    opts.fs_violation_reads = args.fs_violations == FsViolations::All;
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
        "json" => {
            let mut doc = plan.render_json(ir);
            // The bwrap `srt run` would start here, when there is one.
            let configured = resolved.loaded.settings.bwrap_path.as_ref();
            if let Some(b) = bwrap_on_this_host(configured.map(|b| std::path::Path::new(&b.value)))
            {
                doc["launch"]["program"] = b.display().to_string().into();
            }
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        _ => plan.render_text(ir),
    };
    crate::output::stdout(&text);
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
