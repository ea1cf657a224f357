//! The lint catalogue: dangerous, broken and dead rules in sandbox settings files.
//!
//! Lints read the spanned [`Settings`](srt_schema::Settings), the JSON tree and the compiler's
//! [`Ir`](srt_compiler::Ir), and ask the compiler's decision procedure whether a path or host
//! is allowed; none matches paths or hosts itself. Each lint is one file under `src/rules/`,
//! declared with [`declare_lint!`] (code, default level, summary, documentation), with its
//! pass and fail cases and one snapshot at the bottom of the file.
//!
//! ```text
//! Loaded ──validation errors?──► stop (they are the findings)
//!   └─ resolve ─► Ir ─► every lint ─► findings ─► levels (-A/-W/-D) ─► diagnostics
//! ```

#![forbid(unsafe_code)]

pub mod book;
pub mod book_knowledge;
pub mod codes;
pub mod context;
pub mod edit;
pub mod fix;
pub mod knowledge;
pub mod learn;
pub mod level;
pub mod portable;
pub mod psl;
pub mod registry;
pub mod rules;
pub mod run_gate;
pub mod sarif;
#[cfg(test)]
mod testing;

pub use context::{Emitter, Finding, LintContext, Target};
pub use level::{Level, LevelConfig, LevelError};
pub use registry::{find, lints, registry, Kind, Lint};
pub use rules::unsupported_key::unenforceable_keys;
pub use run_gate::{run_gate, run_gate_resolved, RunGate};

use srt_compiler::{resolve, FsView, ResolveOptions};
use srt_schema::{Diagnostic, Loaded};

/// Runs every lint on a resolved file and applies the levels.
pub fn run(ctx: &LintContext<'_>, levels: &LevelConfig) -> Vec<Diagnostic> {
    apply_levels(run_lints(ctx, levels, |_| true), levels)
}

/// The findings of the lints `pick` selects, at their default levels.
pub fn run_lints(
    ctx: &LintContext<'_>,
    levels: &LevelConfig,
    pick: impl Fn(&Lint) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for lint in lints().filter(|l| pick(l)) {
        if let Some(check) = lint.check {
            // Skip a lint entirely when it is allowed and nothing could raise it.
            if levels.explicit(lint.code) == Some(Level::Allow) {
                continue;
            }
            let mut emitter = Emitter::new(lint);
            check(ctx, &mut emitter);
            findings.extend(emitter.findings);
        }
    }
    findings
}

/// Turns findings into diagnostics at their effective level (allowed ones are dropped),
/// sorted by position.
pub fn apply_levels(findings: Vec<Finding>, levels: &LevelConfig) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = findings
        .into_iter()
        .filter_map(|f| {
            let level = levels.effective(&f.diagnostic.code, f.level);
            let mut d = f.diagnostic;
            d.severity = level.severity()?;
            Some(d)
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.primary_span().map(|s| (s.start, s.end));
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
    });
    out
}

/// Everything the lints report for one loaded file on this machine (as `srt run` sees it, with
/// `opts` and `fs`): its validation errors if it has any (nothing else runs then), otherwise the
/// compiler's notes and every lint's findings. `srt lint` uses [`portable::check`] instead, which
/// gives the same findings on every machine.
pub fn check(
    loaded: &Loaded,
    opts: &ResolveOptions,
    fs: &dyn FsView,
    target: Target,
    levels: &LevelConfig,
) -> Vec<Diagnostic> {
    if loaded.json.is_none() || loaded.has_errors() {
        return loaded.diagnostics.clone();
    }
    let (ir, notes) = resolve(&loaded.settings, Some(loaded.source.clone()), opts, fs);
    check_resolved(loaded, &ir, notes, fs, target, levels)
}

/// [`check`] of a file already resolved (`ir` and its `notes`, as `resolve` gave them with the
/// same options), so that `srt run` resolves it once.
pub fn check_resolved(
    loaded: &Loaded,
    ir: &srt_compiler::Ir,
    notes: Vec<Diagnostic>,
    fs: &dyn FsView,
    target: Target,
    levels: &LevelConfig,
) -> Vec<Diagnostic> {
    let Some(json) = loaded.json.as_ref().filter(|_| !loaded.has_errors()) else {
        return loaded.diagnostics.clone();
    };
    if notes
        .iter()
        .any(|n| n.severity == srt_schema::Severity::Error)
    {
        return loaded.diagnostics.iter().cloned().chain(notes).collect();
    }
    let ctx = LintContext {
        settings: &loaded.settings,
        json,
        source: &loaded.source,
        ir,
        target,
        fs,
    };
    let mut findings: Vec<Finding> = notes
        .into_iter()
        .map(|d| Finding {
            level: Level::from_severity(d.severity),
            diagnostic: d,
        })
        .collect();
    findings.extend(loaded.diagnostics.iter().cloned().map(|d| Finding {
        level: Level::from_severity(d.severity),
        diagnostic: d,
    }));
    let mut out = apply_levels(findings, levels);
    out.extend(run(&ctx, levels));
    out.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.primary_span().map(|s| (s.start, s.end));
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
    });
    out
}
