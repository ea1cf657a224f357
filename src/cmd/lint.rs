//! `srt lint [FILE…]`: validation errors, then the lint catalogue (`srt-lints`), the same on
//! every machine ([`srt_lints::portable`]): the file is resolved on a made-up machine, and the
//! local-disk group runs against this one unless `--portable`, `CI` or `PRE_COMMIT` says not to.
//!
//! Exit status: 0 when nothing reaches deny (error) level, 1 when something does, 2 on usage
//! errors or a file that cannot be read. With `--fix --dry-run`: 1 when a fix would change a
//! file, else 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use srt_compiler::RealFs;
use srt_lints::{Kind, Target};
use srt_schema::{Diagnostic, Severity, SourceFile};

use crate::output::{print_diagnostics, Format};

/// `srt lint --format`: the shared formats, plus SARIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// Diagnostics with a snippet, label and help (stderr).
    Human,
    /// `{"version":1,"diagnostics":[…]}`, with fixes (stdout).
    Json,
    /// SARIF 2.1.0, with every rule's help text (stdout).
    Sarif,
}
use crate::flags::{LevelArgs, SettingsFlags, TargetFlag};
use crate::settings::{self, Choice};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings files (default: -s FILE, else ~/.srt-settings.json).
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: LintFormat,
    #[command(flatten)]
    pub target: TargetFlag,
    #[command(flatten)]
    pub levels: LevelArgs,
    /// Apply machine-applicable fixes in place (formatting and key order kept; atomic write).
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the changes as a unified diff instead of writing them.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// List every code with its default level and summary, then exit.
    #[arg(long, conflicts_with_all = ["files", "fix"])]
    pub list: bool,
    /// Report only what the file says, the same on every machine: leave out the local-disk
    /// group (missing-path, symlink-not-followed). The default in CI (`CI` set) and under
    /// pre-commit (`PRE_COMMIT` set).
    #[arg(long, conflicts_with = "local")]
    pub portable: bool,
    /// Also run the local-disk group against this machine's disk, $HOME and working directory,
    /// even in CI or under pre-commit (the default elsewhere).
    #[arg(long)]
    pub local: bool,
    /// Each line of each FILE (`-` for stdin) is one settings document, as `srt run
    /// --control-fd` reads them: lint each line on its own (blank lines are skipped).
    #[arg(long, conflicts_with = "fix")]
    pub control_lines: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        return crate::cmd::write_stdout(list().as_bytes());
    }
    let levels = match args.levels.config() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(2));
        }
    };
    let flag_target = args.target.target;
    let place = match args.settings.place.place(args.target.get()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(2));
        }
    };
    let mut files = args.files.clone();
    files.extend(args.settings.settings.clone());
    if files.is_empty() {
        match Choice::for_flags(None, &place) {
            Choice::Default(p) => {
                eprintln!(
                    "srt: linting {} (the default; pass FILE for another)",
                    p.display()
                );
                files.push(p);
            }
            Choice::BuiltIn { looked_for } | Choice::Given(looked_for) => {
                eprintln!(
                    "srt: no settings file: {} does not exist (pass a FILE)",
                    looked_for.display()
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    let local = if args.portable {
        false
    } else {
        args.local || srt_lints::portable::local_by_default(|k| std::env::var(k).ok())
    };
    let mut all: Vec<(Diagnostic, Arc<SourceFile>)> = Vec::new();
    let mut unreadable = false;
    let mut would_change = false;
    if args.control_lines {
        let real = settings::resolve_options(&place, None);
        for file in &files {
            match control_lines(file) {
                Ok(lines) => {
                    for (name, line) in lines {
                        let loaded = srt_schema::load_str(&name, None, &line);
                        let target = flag_target
                            .or_else(|| srt_lints::portable::file_target(&loaded.settings))
                            .unwrap_or_else(Target::host);
                        let opts = portable_place(&args, target, &name, &real);
                        let here = srt_lints::portable::Local {
                            opts: &real,
                            fs: &RealFs,
                        };
                        let diags = srt_lints::portable::check(
                            &loaded,
                            &opts,
                            target,
                            &levels,
                            local.then_some(here),
                        );
                        all.extend(diags.into_iter().map(|d| (d, loaded.source.clone())));
                    }
                }
                Err(e) => {
                    eprintln!("srt: {}: {e}", file.display());
                    unreadable = true;
                }
            }
        }
        files.clear();
    }
    for file in &files {
        let name = file.display().to_string();
        let real = settings::resolve_options(&place, Some(file));
        let mut loaded = match srt_schema::load_file(&name, file) {
            Ok(l) => l,
            Err(e) => {
                all.push(settings::unreadable_diagnostic(&e));
                unreadable = true;
                continue;
            }
        };
        // The OS the file is written for, when --target does not say; else this machine's.
        let inferred = srt_lints::portable::file_target(&loaded.settings);
        let target = flag_target.or(inferred).unwrap_or_else(Target::host);
        if flag_target.is_none() && target != Target::host() && args.format == LintFormat::Human {
            eprintln!(
                "srt: {name}: linted for {} (the file names {}-only keys or paths; --target chooses)",
                target.name(),
                target.name()
            );
        }
        let opts = portable_place(&args, target, &name, &real);
        let lint = |l: &srt_schema::Loaded| {
            let here = srt_lints::portable::Local {
                opts: &real,
                fs: &RealFs,
            };
            srt_lints::portable::check(l, &opts, target, &levels, local.then_some(here))
        };
        if args.fix && !loaded.has_errors() {
            match fix_file(file, &name, args.dry_run, &lint) {
                Ok(Some(diff)) if args.dry_run => {
                    would_change = true;
                    crate::cmd::write_stdout(diff.as_bytes())?;
                    continue;
                }
                Ok(Some(_)) => {
                    loaded = srt_schema::load_file(&name, file)?;
                }
                Ok(None) => {
                    eprintln!("srt: {name}: nothing to fix");
                    if args.dry_run {
                        continue;
                    }
                }
                Err(e) => {
                    eprintln!("{e:?}");
                    unreadable = true;
                    continue;
                }
            }
        }
        let diags = lint(&loaded);
        all.extend(diags.into_iter().map(|d| (d, loaded.source.clone())));
    }
    if args.dry_run {
        if unreadable {
            print_diagnostics(&all, Format::Human);
        }
        return Ok(ExitCode::from(if unreadable {
            2
        } else {
            u8::from(would_change)
        }));
    }
    match args.format {
        LintFormat::Human => print_diagnostics(&all, Format::Human),
        LintFormat::Json => print_diagnostics(&all, Format::Json),
        LintFormat::Sarif => {
            let refs: Vec<_> = all.iter().map(|(d, s)| (d, s)).collect();
            let text = srt_lints::sarif::render(&refs) + "\n";
            crate::cmd::write_stdout(text.as_bytes())?;
        }
    }
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

/// The non-blank lines of `file` (stdin for `-`), each named `FILE:LINE`.
fn control_lines(file: &Path) -> std::io::Result<Vec<(String, String)>> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file)?
    };
    let name = if file == Path::new("-") {
        "control".to_string()
    } else {
        file.display().to_string()
    };
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (format!("{name}:{}", i + 1), l.to_string()))
        .collect())
}

/// Fixes one file. Returns the diff (dry run) or the applied fixes' summary when something
/// changed, `None` when nothing did.
fn fix_file(
    path: &Path,
    name: &str,
    dry_run: bool,
    lint: &dyn Fn(&srt_schema::Loaded) -> Vec<Diagnostic>,
) -> Result<Option<String>, miette::Report> {
    let original = std::fs::read_to_string(path)
        .map_err(|e| miette::miette!("{name} could not be read: {e}"))?;
    let fixed = srt_lints::fix::fix_content(name, &original, lint).map_err(miette::Report::new)?;
    if fixed.content == original {
        return Ok(None);
    }
    if dry_run {
        return Ok(Some(srt_lints::fix::unified_diff(
            name,
            &original,
            &fixed.content,
        )));
    }
    srt_lints::fix::write_atomic(path, &fixed.content).map_err(miette::Report::new)?;
    for what in &fixed.applied {
        eprintln!("srt: {name}: fixed: {what}");
    }
    Ok(Some(fixed.applied.join("\n")))
}

/// `srt lint --list`: every code, its default level and summary.
pub fn list() -> String {
    let mut out = String::new();
    for (title, kinds) in [
        (
            "Lints (set levels with -A/-W/-D CODE):",
            &[Kind::Lint, Kind::Compiler][..],
        ),
        (
            "Validation errors (the file is rejected; these cannot be allowed):",
            &[Kind::Validation][..],
        ),
        (
            "Backend notes and errors (reported by `srt compile`, not `srt lint`):",
            &[Kind::Backend][..],
        ),
    ] {
        out.push_str(title);
        out.push('\n');
        for l in srt_lints::registry()
            .iter()
            .filter(|l| kinds.contains(&l.kind))
        {
            out.push_str(&format!(
                "  {:<34} {:<5}  {}\n",
                l.code,
                l.level.as_str(),
                l.summary
            ));
        }
        out.push('\n');
    }
    out.push_str("`srt explain CODE` prints a code's documentation.\n");
    out
}

/// The made-up place a file is linted at, unless `--home`/`--cwd` name real ones.
fn portable_place(
    args: &Args,
    target: Target,
    name: &str,
    real: &srt_compiler::ResolveOptions,
) -> srt_compiler::ResolveOptions {
    let place = &args.settings.place;
    srt_lints::portable::place(
        target,
        name,
        place.home.as_deref().map(|_| real.home.as_path()),
        place.cwd.as_deref().map(|_| real.cwd.as_path()),
    )
}
