//! `srt diff OLD NEW`: what the second policy allows or refuses that the first did not, in
//! effect (decided by the compiler's decision procedure), widenings first.

use std::path::PathBuf;
use std::process::ExitCode;

use srt_compiler::diff::{diff, Direction};

use crate::flags::{PlaceArgs, SettingsFlags};
use crate::output::Format;
use crate::settings::{load_and_resolve, report};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy before (e.g. `<(git show HEAD:.srt.json)`).
    pub old: PathBuf,
    /// The policy after.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 when anything widened (for pre-commit and CI review gates).
    #[arg(long)]
    pub exit_code: bool,
    /// Where both files apply.
    #[command(flatten)]
    pub place: PlaceArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let resolve = |file: &PathBuf| {
        let flags = SettingsFlags {
            settings: Some(file.clone()),
            place: args.place.clone(),
        };
        load_and_resolve(&flags, srt_lints::Target::host())
    };
    let old = match resolve(&args.old) {
        Ok(r) => r,
        Err(e) => return Ok(report(e)),
    };
    let new = match resolve(&args.new) {
        Ok(r) => r,
        Err(e) => return Ok(report(e)),
    };
    let changes = diff(&old.ir, &new.ir);
    let widened = changes
        .iter()
        .filter(|c| c.direction == Direction::Widened)
        .count();
    let narrowed = changes.len() - widened;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "version": 1,
                "widened": widened,
                "narrowed": narrowed,
                "changes": changes,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Human => {
            let width = changes
                .iter()
                .map(|c| c.what.chars().count())
                .max()
                .unwrap_or(0);
            for c in &changes {
                let dir = match c.direction {
                    Direction::Widened => "+ widened ",
                    Direction::Narrowed => "- narrowed",
                };
                let subject = serde_json::to_value(c.subject)?;
                let subject = subject.as_str().unwrap_or_default();
                println!("{dir}  {subject:<11} {:<width$}  {}", c.what, c.because);
            }
            if changes.is_empty() {
                println!("no change in effect");
            } else {
                println!("{widened} widened, {narrowed} narrowed");
            }
        }
    }
    Ok(if args.exit_code && widened > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
