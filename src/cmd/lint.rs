//! `srt lint [FILE…]`: validation findings (and, with the lint catalogue, lint findings).
//!
//! Exit status: 0 when nothing reaches error level, 1 when something does, 2 on usage errors
//! or a file that cannot be read.

use std::path::PathBuf;
use std::process::ExitCode;

use srt_compiler::{resolve, RealFs, ResolveOptions};
use srt_schema::Severity;

use crate::output::{print_diagnostics, Format};
use crate::settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings files (default: ./.srt.json if present, else ~/.srt-settings.json).
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Resolve relative paths against DIR (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let process_cwd = std::env::current_dir()?;
    let cwd = match &args.cwd {
        Some(d) => {
            std::fs::canonicalize(d).map_err(|e| anyhow::anyhow!("--cwd {}: {e}", d.display()))?
        }
        None => process_cwd.clone(),
    };
    let files = if args.files.is_empty() {
        match settings::default_settings_path(&process_cwd, true) {
            Some(p) if p.exists() => vec![p],
            _ => {
                eprintln!("srt: no settings file: neither ./.srt.json nor ~/.srt-settings.json exists (pass a FILE)");
                return Ok(ExitCode::from(2));
            }
        }
    } else {
        args.files.clone()
    };
    let mut all = Vec::new();
    let mut unreadable = false;
    for file in &files {
        let name = file.display().to_string();
        let loaded = match settings::load(&name, file) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                unreadable = true;
                continue;
            }
        };
        let mut diags = loaded.diagnostics.clone();
        if !loaded.has_errors() {
            let opts = ResolveOptions {
                cwd: cwd.clone(),
                settings_path: Some(file.clone()),
                ..ResolveOptions::from_env()
            };
            let (_ir, notes) = resolve(
                &loaded.settings,
                Some(loaded.source.clone()),
                &opts,
                &RealFs,
            );
            diags.extend(notes);
        }
        all.extend(diags.into_iter().map(|d| (d, loaded.source.clone())));
    }
    print_diagnostics(&all, args.format);
    if unreadable {
        return Ok(ExitCode::from(2));
    }
    let failed = all.iter().any(|(d, _)| d.severity == Severity::Error);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
