//! SARIF 2.1.0 output (`srt lint --format sarif`): one run, the tool's rules with their help
//! text, one result per finding.

use std::sync::Arc;

use serde::Serialize;
use srt_schema::{Diagnostic, Severity, SourceFile};

use crate::registry::{registry, Kind};

/// The published schema this output conforms to.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Message,
    full_description: Message,
    help: MultiformatMessage,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
    enabled: bool,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    location: ArtifactLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    char_offset: usize,
    char_length: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Message,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Content,
}

#[derive(Serialize)]
struct Content {
    text: String,
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A file's URI as SARIF wants it: a relative reference, `/` separated, percent-encoded.
fn uri(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Region of a byte span: 1-based lines and columns (Unicode scalar values), plus character
/// offsets (`columnKind` is `unicodeCodePoints`). A byte order mark is not counted.
fn region(source: &SourceFile, start: usize, end: usize) -> Region {
    let (start_line, start_column) = source.line_col(start);
    let (end_line, end_column) = source.line_col(end.max(start));
    let chars = |to: usize| {
        source
            .text
            .get(..to.min(source.text.len()))
            .map_or(to, |s| s.chars().count())
    };
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
        char_offset: chars(start),
        char_length: chars(end.max(start)) - chars(start),
    }
}

fn rule_of(code: &str) -> Rule {
    let lint = crate::find(code);
    let (summary, doc, level, kind) = match lint {
        Some(l) => (l.summary.to_string(), l.doc(), l.level, l.kind),
        None => (
            code.to_string(),
            String::new(),
            crate::Level::Warn,
            Kind::Lint,
        ),
    };
    let text = crate::book::plain_text(&doc);
    Rule {
        id: lint.map_or("unknown", |l| l.code),
        name: code
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
            })
            .collect(),
        short_description: Message {
            text: summary.clone(),
        },
        full_description: Message { text: summary },
        help: MultiformatMessage {
            text: format!("{text}\nMore: srt explain {code}"),
            markdown: doc,
        },
        default_configuration: Configuration {
            level: match level {
                crate::Level::Deny => "error",
                crate::Level::Warn => "warning",
                crate::Level::Note | crate::Level::Allow => "note",
            },
            enabled: level != crate::Level::Allow,
        },
        properties: RuleProperties {
            tags: match kind {
                Kind::Lint => vec!["lint"],
                Kind::Validation => vec!["validation"],
                Kind::Compiler => vec!["compiler"],
                Kind::Backend => vec!["backend"],
            },
        },
    }
}

/// The SARIF log for diagnostics about one or more files. `rules` lists every code srt has,
/// so results can point into it by index.
pub fn render(items: &[(&Diagnostic, &Arc<SourceFile>)]) -> String {
    let codes: Vec<&'static str> = registry().iter().map(|l| l.code).collect();
    let mut rules: Vec<Rule> = codes.iter().map(|c| rule_of(c)).collect();
    let mut artifacts: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for (d, source) in items {
        let file = uri(&source.name);
        if !artifacts.contains(&file) {
            artifacts.push(file.clone());
        }
        let index = match codes.iter().position(|c| *c == d.code) {
            Some(i) => i,
            None => {
                rules.push(rule_of(&d.code));
                rules.len() - 1
            }
        };
        let location = |span: srt_schema::Span, message: Option<&String>, id| Location {
            id,
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: file.clone() },
                region: region(source, span.start, span.end),
            },
            message: message.map(|m| Message { text: m.clone() }),
        };
        let primary = d.labels.first();
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message = format!("{message}\nhelp: {h}");
        }
        results.push(SarifResult {
            rule_id: &d.code,
            rule_index: index,
            level: sarif_level(d.severity),
            message: Message { text: message },
            locations: vec![location(
                primary.map_or_else(Default::default, |l| l.span),
                primary.and_then(|l| l.message.as_ref()),
                None,
            )],
            related_locations: d
                .labels
                .iter()
                .skip(1)
                .enumerate()
                .map(|(i, l)| location(l.span, l.message.as_ref(), Some(i + 1)))
                .collect(),
            fixes: d
                .fix
                .iter()
                .filter(|f| !f.edits.is_empty())
                .map(|f| SarifFix {
                    description: Message {
                        text: f.description.clone(),
                    },
                    artifact_changes: vec![ArtifactChange {
                        artifact_location: ArtifactLocation { uri: file.clone() },
                        replacements: f
                            .edits
                            .iter()
                            .map(|e| Replacement {
                                deleted_region: region(source, e.start, e.end),
                                inserted_content: Content {
                                    text: e.replacement.clone(),
                                },
                            })
                            .collect(),
                    }],
                })
                .collect(),
        });
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "srt",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            artifacts: artifacts
                .into_iter()
                .map(|uri| Artifact {
                    location: ArtifactLocation { uri },
                })
                .collect(),
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
