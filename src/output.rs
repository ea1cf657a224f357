//! Output rendering shared by the subcommands.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::ValueEnum;
use srt_schema::render::{render_human, render_json, Style};
use srt_schema::{Diagnostic, Severity, SourceFile};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Colour on stderr only when it is a terminal and `NO_COLOR` is unset or empty.
pub fn stderr_style() -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    Style {
        color: !no_color && std::io::stderr().is_terminal(),
        width,
        unicode: true,
    }
}

/// Prints diagnostics (human on stderr, JSON on stdout).
pub fn print_diagnostics(items: &[(Diagnostic, Arc<SourceFile>)], format: Format) {
    match format {
        Format::Human => {
            let style = stderr_style();
            for (d, src) in items {
                eprint!("{}", render_human(d, src, style));
                eprintln!();
            }
            if let Some(summary) = summary(items.iter().map(|(d, _)| d)) {
                eprintln!("{summary}");
            }
        }
        Format::Json => {
            let refs: Vec<_> = items.iter().map(|(d, s)| (d, s)).collect();
            stdout(&(render_json(&refs) + "\n"));
        }
    }
}

/// Writes to stdout. A reader that has gone away (`srt lint --format sarif F | head`) is not
/// an error: the rest is dropped quietly (`println!` would panic). Returns false then.
pub fn stdout(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

/// `srt: 2 errors, 1 warning` (nothing when there is nothing).
pub fn summary<'a>(diags: impl Iterator<Item = &'a Diagnostic>) -> Option<String> {
    let (mut e, mut w, mut n) = (0, 0, 0);
    for d in diags {
        match d.severity {
            Severity::Error => e += 1,
            Severity::Warning => w += 1,
            Severity::Note => n += 1,
        }
    }
    let mut parts = Vec::new();
    for (count, word) in [(e, "error"), (w, "warning"), (n, "note")] {
        if count > 0 {
            parts.push(format!(
                "{count} {word}{}",
                if count == 1 { "" } else { "s" }
            ));
        }
    }
    (!parts.is_empty()).then(|| format!("srt: {}", parts.join(", ")))
}
