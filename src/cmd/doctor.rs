//! `srt doctor`: can this machine enforce a sandbox? A checklist of the probes `srt run` makes
//! before it starts anything; exit 1 if any required probe fails.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file whose `bwrapPath` to use, and whose write roots bwrap must lie outside
    /// (default: none; bwrap from /usr/bin, /usr/local/bin, /bin, else PATH).
    #[arg(short = 's', long = "settings", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[cfg(target_os = "linux")]
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    use srt_runtime::preflight::{checks, Status};
    // With settings, bwrap is also checked against the policy's write roots, as `srt run` does.
    let resolved = match &args.settings {
        Some(p) => match crate::settings::load_and_resolve(
            &crate::flags::SettingsFlags {
                settings: Some(p.clone()),
                ..crate::flags::SettingsFlags::default()
            },
            srt_compiler::Target::host(),
        ) {
            Ok(r) => Some(r),
            Err(e) => return Ok(crate::settings::report(e)),
        },
        None => None,
    };
    let bwrap_path = resolved.as_ref().and_then(|r| {
        r.loaded
            .settings
            .bwrap_path
            .as_ref()
            .map(|b| PathBuf::from(&b.value))
    });
    let checks = checks(bwrap_path.as_deref(), resolved.as_ref().map(|r| &r.ir));
    let failed = checks.iter().any(|c| c.status == Status::Fail);
    match args.format {
        Format::Json => {
            let items: Vec<_> = checks
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "check": c.name,
                        "status": match c.status { Status::Ok => "ok", Status::Warn => "warn", Status::Fail => "fail" },
                        "detail": c.detail,
                        "fix": c.fix,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"version": 1, "ok": !failed, "checks": items})
                )?
            );
        }
        Format::Human => {
            for c in &checks {
                let mark = match c.status {
                    Status::Ok => "ok  ",
                    Status::Warn => "warn",
                    Status::Fail => "FAIL",
                };
                println!("[{mark}] {}: {}", c.name, c.detail);
                if let Some(fix) = &c.fix {
                    println!("       fix: {fix}");
                }
            }
            println!(
                "{}",
                if failed {
                    "srt run will refuse to start on this machine until the failures above are fixed"
                } else {
                    "srt run can enforce a sandbox here"
                }
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(not(target_os = "linux"))]
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    println!("[ok  ] sandbox-exec: srt run uses the system sandbox-exec on macOS");
    Ok(ExitCode::SUCCESS)
}
