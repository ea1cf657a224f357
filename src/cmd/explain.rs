//! `srt explain`: the decision for a path or a host, and the exact rule that made it; or, with
//! a lint code, the lint's documentation.
//!
//! The decision comes from the compiler's decision procedure, the same function the proxies
//! and the backends use, so `explain` cannot disagree with what is enforced.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use srt_compiler::path::{resolve_spelling, PathPattern};
use srt_compiler::{builtin, Access, Ir, Origin, RealFs};
use srt_lints::Target;
use srt_schema::render::{render_human, Style};
use srt_schema::Diagnostic;

use crate::flags::SettingsFlags;
use crate::output::{stderr_style, Format};
use crate::settings::{load_and_resolve, report};
use srt_runtime::run::linux_options;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccessArg {
    Read,
    Write,
    Both,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("query").args(["code", "path", "host"]).required(true)))]
pub struct Args {
    /// A lint or diagnostic code, for its documentation.
    pub code: Option<String>,
    /// A path to decide (relative to --cwd, `~` allowed).
    #[arg(long, value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Which access to decide for --path.
    #[arg(long, value_enum, default_value = "both")]
    pub access: AccessArg,
    /// A destination to decide: HOST, HOST:PORT, or [IPv6]:PORT (port defaults to 443).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub host: Option<String>,
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Also say what this target enforces differently from the decision (linux: what the
    /// bubblewrap plan cannot express for the deciding rule, e.g. a glob that matches nothing yet).
    #[arg(long, value_parser = crate::flags::target_parser())]
    pub target: Option<Target>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(code) = &args.code {
        return explain_code(code);
    }
    let target = args.target;
    let resolved = match load_and_resolve(&args.settings, target.unwrap_or_else(Target::host)) {
        Ok(r) => r,
        Err(e) => return Ok(report(e)),
    };
    if let Some(n) = resolved.choice.notice() {
        eprintln!("{n}");
    }
    // `srt run` write-protects its state directory when a write root covers it: say so here.
    let mut ir = resolved.ir.clone();
    srt_runtime::state_dir::protect(&mut ir, &srt_runtime::state_dir::default_state_dir());
    let ir = &ir;
    let decisions = if let Some(path) = &args.path {
        let accesses: &[Access] = match args.access {
            AccessArg::Read => &[Access::Read],
            AccessArg::Write => &[Access::Write],
            AccessArg::Both => &[Access::Read, Access::Write],
        };
        let query = canonical_query(ir, path);
        accesses
            .iter()
            .map(|a| path_decision(ir, &query, *a))
            .collect::<Vec<_>>()
    } else {
        // clap's required group guarantees --path or --host when there is no CODE.
        let host = args.host.as_deref().unwrap_or_default();
        let (h, port) = split_host_port(host)?;
        vec![host_decision(ir, &h, port)]
    };
    let mut decisions = decisions;
    if let Some(target) = target {
        let notes = target_notes(ir, target);
        for d in &mut decisions {
            d.target_notes = relevant_notes(&notes, d.origin.as_ref());
        }
    }
    match args.format {
        Format::Json => {
            let settings = resolved.choice.path().map(|p| p.display().to_string());
            let doc = serde_json::json!({ "version": 1, "settings": settings, "decisions": decisions.iter().map(|d| d.json(ir)).collect::<Vec<_>>() });
            crate::output::stdout(&(serde_json::to_string_pretty(&doc)? + "\n"));
        }
        Format::Human => {
            let style = Style {
                color: stderr_style().color && std::io::IsTerminal::is_terminal(&std::io::stdout()),
                ..stderr_style()
            };
            let text: String = decisions.iter().map(|d| d.human(ir, style)).collect();
            crate::output::stdout(&text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the target's backend reports it cannot express exactly (its coded notes).
fn target_notes(ir: &Ir, target: Target) -> Vec<Diagnostic> {
    use srt_compiler::backend::linux::{plan, HostFacts};
    match target {
        Target::Linux => {
            let facts = HostFacts::gather(ir, &RealFs);
            // The runtime's own paths do not change what the plan can express for a rule.
            let opts = linux_options(PathBuf::from("/srt"), PathBuf::from("/srt-sockets"));
            plan(ir, &facts, &opts).notes
        }
        // The Seatbelt profile realises every decision exactly (its test table checks this).
        Target::Macos => Vec::new(),
    }
}

/// The notes about the deciding rule: those labelled at its entry, and for the mandatory
/// denies (which have no entry) the notes about them.
fn relevant_notes(notes: &[Diagnostic], origin: Option<&Origin>) -> Vec<(String, String)> {
    notes
        .iter()
        .filter(|n| match origin {
            Some(Origin::Policy { span, .. }) => n.primary_span() == Some(*span),
            Some(Origin::BuiltIn(name)) if *name == builtin::MANDATORY_DENY => {
                n.code.starts_with("mandatory-deny")
            }
            _ => false,
        })
        .map(|n| (n.code.to_string(), n.message.clone()))
        .collect()
}

/// The lint documentation for `srt explain CODE`.
/// `srt explain CODE`: the documentation of a lint, validation or compiler code (the same text
/// as its book page). Exit 0, or 2 for an unknown code.
fn explain_code(code: &str) -> anyhow::Result<ExitCode> {
    let Some(lint) = srt_lints::find(code) else {
        let known: Vec<&str> = srt_lints::registry().iter().map(|l| l.code).collect();
        match srt_schema::validate::did_you_mean(code, &known) {
            Some(s) => eprintln!("srt explain: unknown code `{code}`; did you mean `{s}`?"),
            None => eprintln!("srt explain: unknown code `{code}` (`srt lint --list` lists them)"),
        }
        return Ok(ExitCode::from(2));
    };
    crate::output::stdout(&srt_lints::book::explain(lint));
    Ok(ExitCode::SUCCESS)
}

/// The queried path as the sandbox sees it: absolute, `~` expanded, symlinks resolved with the
/// same boundary rules as the policy's own paths (so both sides are compared alike).
fn canonical_query(ir: &Ir, path: &std::path::Path) -> PathBuf {
    let spelled = path.to_string_lossy();
    match resolve_spelling(&spelled, true, &ir.cwd, &ir.home, &RealFs) {
        Ok(r) => match r.pattern {
            PathPattern::Literal(p) => p,
            PathPattern::Glob { .. } => ir.absolute(path),
        },
        Err(_) => ir.absolute(path),
    }
}

/// `example.com`, `example.com:80`, `[::1]:443`, `::1` (an unbracketed IPv6 literal has no port).
fn split_host_port(s: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, "")) => (format!("[{h}]"), None),
            Some((h, p)) => (format!("[{h}]"), Some(p.strip_prefix(':').unwrap_or(p))),
            None => (s.to_string(), None),
        }
    } else if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').unwrap_or((s, ""));
        (h.to_string(), Some(p))
    } else {
        (s.to_string(), None)
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| anyhow::anyhow!("`{p}` is not a port (1-65535)"))?,
        None => 443,
    };
    Ok((host, port))
}

/// One decision, ready to print.
struct Explained {
    what: String,
    access: &'static str,
    allowed: bool,
    origin: Option<Origin>,
    /// The rule as written (or the built-in's spelling).
    spelled: Option<String>,
    /// What the rule covers once resolved.
    pattern: Option<String>,
    /// Why, when no rule decided, or what the built-in is.
    reason: String,
    /// `(code, message)` of the target backend's notes about the deciding rule.
    target_notes: Vec<(String, String)>,
}

fn path_decision(ir: &Ir, path: &std::path::Path, access: Access) -> Explained {
    let d = ir.decide_path(path, access);
    let reason = match (d.rule, access, d.allowed) {
        (Some(r), _, _) => match &r.origin {
            Origin::BuiltIn(name) => builtin::describe(*name).to_string(),
            Origin::Policy { .. } if d.via_read_deny => "reading is denied, so writing is too".to_string(),
            Origin::Policy { .. } => String::new(),
        },
        (None, _, true) if d.default == builtin::FILESYSTEM_DISABLED => builtin::describe(d.default).to_string(),
        (None, Access::Read, _) => "reads are allowed by default; no filesystem.denyRead entry covers this path".to_string(),
        (None, Access::Write, _) => "writes are denied by default; no filesystem.allowWrite entry (or default write path) covers this path".to_string(),
    };
    Explained {
        what: path.display().to_string(),
        access: access.as_str(),
        allowed: d.allowed,
        origin: d.rule.map(|r| r.origin.clone()),
        spelled: d.rule.map(|r| r.spelled.clone()),
        pattern: d.rule.map(|r| r.pattern.display()),
        reason,
        target_notes: Vec::new(),
    }
}

fn host_decision(ir: &Ir, host: &str, port: u16) -> Explained {
    let d = ir.decide_host(host, port);
    let what = match &d.host {
        Some(h) => format!("{h}:{port}"),
        None => format!("{host:?}:{port}"),
    };
    let reason = match (&d.reason, d.rule) {
        (srt_compiler::HostReason::Malformed(m), _) => {
            format!("malformed host ({m}): refused before any rule is consulted")
        }
        (srt_compiler::HostReason::NotAllowed, None) => {
            "the network is denied by default; no network.allowedDomains entry matches".to_string()
        }
        (r, _) => r.phrase(),
    };
    Explained {
        what,
        access: "connect",
        allowed: d.allowed,
        origin: d.rule.map(|r| r.origin.clone()),
        spelled: d.rule.map(|r| r.raw.clone()),
        pattern: d.rule.map(|r| r.pattern.to_string()),
        reason,
        target_notes: Vec::new(),
    }
}

impl Explained {
    fn verdict(&self) -> &'static str {
        if self.allowed {
            "allowed"
        } else {
            "denied"
        }
    }

    fn human(&self, ir: &Ir, style: Style) -> String {
        let mut out = format!(
            "{} {}: {}\n",
            self.access,
            self.what,
            self.verdict().to_uppercase()
        );
        match &self.origin {
            Some(origin @ Origin::Policy { span, .. }) => {
                let mut line = format!("decided by {}", ir.describe(origin));
                if let Some(p) = self
                    .pattern
                    .as_ref()
                    .filter(|p| Some(*p) != self.spelled.as_ref())
                {
                    line.push_str(&format!(", which covers {p}"));
                }
                if !self.reason.is_empty() && self.reason != "allowed" {
                    line.push_str(&format!("\n{}", self.reason));
                }
                match ir.source.as_ref() {
                    Some(src) => {
                        let d = Diagnostic::note(srt_schema::code::NO_CODE, line)
                            .with_label(*span, "this rule decides");
                        out.push_str(&render_human(&d, src, style));
                    }
                    None => out.push_str(&format!("  {line}\n")),
                }
            }
            Some(Origin::BuiltIn(name)) => {
                out.push_str(&format!("  decided by built-in {name}"));
                if let Some(p) = &self.pattern {
                    out.push_str(&format!(" ({p})"));
                }
                out.push_str(&format!("\n  {}\n", self.reason));
            }
            None => out.push_str(&format!("  {}\n", self.reason)),
        }
        for (code, message) in &self.target_notes {
            out.push_str(&format!("  on this target: {message} [{code}]\n"));
        }
        out
    }

    fn json(&self, ir: &Ir) -> serde_json::Value {
        let (key, index, location) = match &self.origin {
            Some(Origin::Policy { key, index, span }) => (Some(*key), Some(*index), Some(*span)),
            _ => (None, None, None),
        };
        let position = location.zip(ir.source.as_ref()).map(|(span, src)| {
            let (line, column) = src.line_col(span.start);
            serde_json::json!({ "file": src.name, "line": line, "column": column })
        });
        serde_json::json!({
            "access": self.access,
            "subject": self.what,
            "allowed": self.allowed,
            "rule": self.origin.as_ref().map(|o| serde_json::json!({
                "key": key,
                "index": index,
                "built_in": match o { Origin::BuiltIn(n) => Some(*n), _ => None },
                "spelled": self.spelled,
                "covers": self.pattern,
                "location": position,
            })),
            "reason": self.reason,
            "target_notes": self.target_notes.iter().map(|(code, message)| serde_json::json!({"code": code, "message": message})).collect::<Vec<_>>(),
        })
    }
}
