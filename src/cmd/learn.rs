//! `srt learn`: run a command as `srt run` would, collect what the sandbox refused, and
//! propose the smallest additions to the settings file that would have allowed it, each one
//! linted and decided again before it is shown (`srt_lints::learn`). `--apply` writes them
//! with the format-preserving editor `srt lint --fix` uses; `-o FILE` writes a new file.
//!
//! Without a command, `--violations FILE` learns from the refusals an earlier
//! `srt run --violations FILE` recorded.

mod child;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use srt_lints::learn::{self, render, LearnInput, Learned, EMPTY_POLICY};
use srt_lints::Target;
use srt_schema::load_str;

use crate::flags::{LevelArgs, SettingsFlags};
use crate::settings::{resolve_options, Choice};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LearnFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Write the proposals into the settings file (its layout kept), and create the
    /// directories they need that do not exist yet.
    #[arg(long)]
    pub apply: bool,
    /// Write the settings file with the proposals to FILE (the settings file is unchanged).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "apply"
    )]
    pub output: Option<PathBuf>,
    /// Record what is not proposed: hosts in network.deniedDomains, the rest in
    /// ignoreViolations (under the command's first word), so the next run is quiet about it.
    #[arg(long)]
    pub deny_rest: bool,
    /// How to print the proposals.
    #[arg(long, value_enum, default_value = "human")]
    pub format: LearnFormat,
    /// Run COMMAND with bash -c, as `srt run -c` does.
    #[arg(short = 'c', value_name = "COMMAND", conflicts_with = "argv")]
    pub command_string: Option<String>,
    /// With a command: also append the run's refusals to FILE. Without one: learn from the
    /// refusals FILE holds (`srt run --violations FILE`).
    #[arg(long, value_name = "FILE")]
    pub violations: Option<PathBuf>,
    /// Passed to `srt run`: resolve NAME to IP in the proxies. Repeatable.
    #[arg(long, value_name = "NAME=IP", value_parser = check_resolve)]
    pub resolve: Vec<String>,
    /// Passed to `srt run`: print the plan and the proxies' decisions.
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    #[command(flatten)]
    pub levels: LevelArgs,
    /// The command and its arguments (after `--`).
    #[arg(trailing_var_arg = true)]
    pub argv: Vec<OsString>,
}

fn check_resolve(s: &str) -> Result<String, String> {
    super::run::parse_resolve(s).map(|_| s.to_string())
}

/// The settings file learning starts from and writes to.
struct Start {
    /// How it is shown.
    name: String,
    /// Where `--apply` writes (the file read, or the default file when there was none).
    path: PathBuf,
    text: String,
    /// The file exists (else learning starts from [`EMPTY_POLICY`]).
    exists: bool,
}

fn start(choice: &Choice) -> anyhow::Result<Result<Start, ExitCode>> {
    let (path, exists) = match choice {
        Choice::Given(p) => (p.clone(), p.exists()),
        Choice::Default(p) => (p.clone(), true),
        Choice::BuiltIn { looked_for } => (looked_for.clone(), false),
    };
    let name = path.display().to_string();
    if !exists {
        eprintln!(
            "srt learn: {name} does not exist: starting from the built-in default (no network, no writes)"
        );
        return Ok(Ok(Start {
            name,
            path,
            text: EMPTY_POLICY.to_string(),
            exists,
        }));
    }
    let bytes = std::fs::read(&path).with_context(|| format!("reading {name}"))?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!("srt learn: {name} is not UTF-8 (srt lint {name} says where)");
        return Ok(Err(ExitCode::from(1)));
    };
    Ok(Ok(Start {
        name,
        path,
        text,
        exists,
    }))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let levels = match args.levels.config() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(2));
        }
    };
    let has_command = args.command_string.is_some() || !args.argv.is_empty();
    if !has_command && args.violations.is_none() {
        eprintln!("srt learn: give a command (`-- CMD ARGS…` or `-c CMD`) to run, or --violations FILE to learn from");
        return Ok(ExitCode::from(2));
    }
    let target = Target::host();
    let place = match args.settings.place.place(target) {
        Ok(p) => p,
        Err(e) => {
            return Ok(crate::settings::report(
                crate::settings::SettingsError::Flag(e),
            ))
        }
    };
    let choice = Choice::for_flags(args.settings.settings.as_deref(), &place);
    let start = match start(&choice)? {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let file = start.exists.then_some(start.path.as_path());
    let loaded = load_str(&start.name, file, &start.text);
    if loaded.has_errors() {
        return Ok(crate::settings::report(
            crate::settings::SettingsError::Invalid(Box::new(loaded)),
        ));
    }
    let opts = resolve_options(&place, file);
    // What would stop `srt run` stops learning too, shown once here.
    let gate = srt_lints::run_gate(&loaded, &opts, &srt_compiler::RealFs, &levels);
    if !gate.stops.is_empty() {
        if let Some(code) = super::run_gate::apply(&gate, &loaded.source) {
            return Ok(code);
        }
    }
    let state_dir = srt_runtime::state_dir::default_state_dir();
    let mut failed = false;
    let (records, command) = if has_command {
        let command = match &args.command_string {
            Some(c) => c.clone(),
            None => args
                .argv
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
        };
        let dir = child::private_dir(&state_dir)?;
        let settings = match file {
            Some(p) => p.to_path_buf(),
            None => {
                let p = dir.path().join("settings.json");
                std::fs::write(&p, &start.text)?;
                p
            }
        };
        let violations = dir.path().join("violations.jsonl");
        let argv = child::run_argv(
            &child::RunFlags {
                settings: &settings,
                cwd: args.settings.place.cwd.as_deref(),
                home: args.settings.place.home.as_deref(),
                levels: &args.levels,
                resolve: &args.resolve,
                debug: args.debug,
                violations: &violations,
            },
            args.command_string.as_deref(),
            &args.argv,
        );
        let status = child::run(&argv)?;
        let text = std::fs::read_to_string(&violations).unwrap_or_default();
        if let Some(keep) = &args.violations {
            append(keep, &text)?;
        }
        eprintln!("srt learn: `{command}` {}", child::describe(status));
        failed = !status.success();
        (text, command)
    } else {
        let from = args.violations.as_deref().unwrap_or(Path::new(""));
        let text =
            std::fs::read_to_string(from).with_context(|| format!("reading {}", from.display()))?;
        warn_if_forgeable(&loaded, &opts, from);
        (text, String::new())
    };
    let parsed = learn::parse_jsonl(&records);
    let total: u64 = parsed.refusals.iter().map(|r| r.times).sum();
    eprintln!(
        "srt learn: {total} refusal{} recorded{}",
        if total == 1 { "" } else { "s" },
        if parsed.unreadable > 0 {
            format!(
                " ({} lines srt does not understand were skipped)",
                parsed.unreadable
            )
        } else {
            String::new()
        }
    );
    let tmpdir = srt_compiler::env::tmpdir_from_env();
    let learned = learn::learn(&LearnInput {
        name: &start.name,
        // A file not written yet still says where it will be (relative paths in it).
        path: Some(&start.path),
        text: &start.text,
        opts: &opts,
        fs: &srt_compiler::RealFs,
        target,
        levels: &levels,
        refusals: &parsed.refusals,
        command: &command,
        tmpdir: &tmpdir,
        state_dir: Some(&state_dir),
        deny_rest: args.deny_rest,
    });
    if failed && learned.converged() {
        eprintln!("srt learn: note: the command failed and there is nothing to add: srt cannot see every refusal (on Linux a new Unix socket is refused before it names a path; a connection that ignores the proxy variables fails without reaching the proxy)");
    }
    match args.format {
        LearnFormat::Human => {
            crate::output::stdout(&render::human(&learned, &start.name, &start.text))
        }
        LearnFormat::Json => crate::output::stdout(&format!(
            "{:#}\n",
            render::json(&learned, &start.name, &start.text)
        )),
    };
    write(&args, &start, &learned)
}

/// `--apply` and `-o`.
fn write(args: &Args, start: &Start, learned: &Learned) -> anyhow::Result<ExitCode> {
    if !args.apply && args.output.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(f) = learned.blocking() {
        eprintln!(
            "srt learn: not written: the file would fail `srt lint` ({}[{}]: {})",
            f.severity, f.code, f.message
        );
        return Ok(ExitCode::from(1));
    }
    if learned.converged() && args.apply && start.exists {
        eprintln!("srt learn: nothing to write");
        return Ok(ExitCode::SUCCESS);
    }
    let dest = match &args.output {
        Some(o) => o.clone(),
        None => start.path.clone(),
    };
    if dest.exists() {
        srt_lints::fix::write_atomic(&dest, &learned.content)?;
    } else {
        std::fs::write(&dest, &learned.content)
            .with_context(|| format!("writing {}", dest.display()))?;
    }
    match learned.proposals.len() {
        0 => eprintln!("srt learn: wrote {} (nothing added)", dest.display()),
        n => eprintln!(
            "srt learn: wrote {} ({n} entr{} added)",
            dest.display(),
            if n == 1 { "y" } else { "ies" }
        ),
    }
    if args.apply {
        for p in &learned.proposals {
            if let Some(d) = &p.missing_dir {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                eprintln!("srt learn: created {} (for {})", d.display(), p.entry);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends the run's refusals to the user's `--violations` file.
fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// A refusals file the policy lets the sandbox write could hold refusals a sandboxed
/// command made up to be proposed.
fn warn_if_forgeable(
    loaded: &srt_schema::Loaded,
    opts: &srt_compiler::ResolveOptions,
    file: &Path,
) {
    let (ir, _) = srt_compiler::resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        opts,
        &srt_compiler::RealFs,
    );
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| ir.absolute(file));
    if ir.decide_path(&abs, srt_compiler::Access::Write).allowed {
        eprintln!(
            "srt learn: warning: the policy lets the sandbox write {}: a sandboxed command could have written refusals into it; read the proposals before applying them",
            file.display()
        );
    }
}
