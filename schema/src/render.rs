//! Rendering diagnostics for people (miette, fixed theme) and for machines (JSON). The CLI and
//! the snapshot tests use these same functions.

use std::sync::Arc;

use serde::Serialize;

use crate::{Diagnostic, Fix, SourceFile};

/// How human output looks. Snapshots use `Style::plain(100)`.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
    pub unicode: bool,
}

impl Style {
    pub fn plain(width: usize) -> Self {
        Style {
            color: false,
            width,
            unicode: true,
        }
    }
}

/// One diagnostic as miette renders it, with a snippet and the label under the exact span.
pub fn render_human(diagnostic: &Diagnostic, source: &Arc<SourceFile>, style: Style) -> String {
    let theme = match (style.unicode, style.color) {
        (true, true) => miette::GraphicalTheme::unicode(),
        (true, false) => miette::GraphicalTheme::unicode_nocolor(),
        (false, true) => miette::GraphicalTheme::ascii(),
        (false, false) => miette::GraphicalTheme::none(),
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let sourced = diagnostic.clone().with_source(source.clone());
    let mut out = String::new();
    if handler.render_report(&mut out, &sourced).is_err() {
        out = format!("{}: {}\n", diagnostic.severity, diagnostic.message);
    }
    out
}

/// The `--format json` document's diagnostic entry. Lines and columns are 1-based; columns
/// count Unicode scalar values; `end_*` is the position just past the span.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'a str,
    pub severity: &'static str,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'a Fix>,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(d: &'a Diagnostic, source: &'a SourceFile) -> Self {
        let span = d.primary_span().unwrap_or_default();
        let (line, column) = source.line_col(span.start);
        let (end_line, end_column) = source.line_col(span.end);
        JsonDiagnostic {
            code: &d.code,
            severity: d.severity.as_str(),
            message: &d.message,
            file: &source.name,
            line,
            column,
            end_line,
            end_column,
            help: d.help.as_deref(),
            fix: d.fix.as_ref(),
        }
    }
}

/// The whole `--format json` document: `{"version":1,"diagnostics":[…]}`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub version: u32,
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
}

pub fn render_json(items: &[(&Diagnostic, &Arc<SourceFile>)]) -> String {
    let report = JsonReport {
        version: 1,
        diagnostics: items
            .iter()
            .map(|(d, s)| JsonDiagnostic::new(d, s))
            .collect(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
