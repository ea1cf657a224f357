//! Validation of a parsed settings file: the published JSON Schema for structure (mapped from
//! JSON pointers back to spans), then the checks a schema cannot express (the domain grammar,
//! path entries, duplicate keys, did-you-mean). Every problem is reported, all at once.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::domain::{parse_pattern, DomainList};
use crate::json::{Json, JsonKind, Member};
use crate::model::*;
use crate::{Diagnostic, Span, Spanned};

/// The published schema (draft 2020-12), the single list of keys srt knows.
pub const SCHEMA_TEXT: &str = include_str!("../../srt-settings.schema.json");

/// The filesystem lists, whose entries srt checks itself for precise messages.
const PATH_LISTS: [&str; 4] = ["denyRead", "allowRead", "allowWrite", "denyWrite"];

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(SCHEMA_TEXT).unwrap_or(Value::Null))
}

/// The published schema compiled into a validator when srt is built: building it at run
/// time (meta-schema check included) cost more than everything else in a clean `srt lint`.
/// A schema that is not valid draft 2020-12 fails the build.
#[jsonschema::validator(
    path = "srt-settings.schema.json",
    draft = Draft202012,
    methods = { is_valid = false, validate = false, iter_errors = true }
)]
struct SettingsValidator;

/// The result of validating one file: the model of everything valid, and every problem.
#[derive(Debug, Default)]
pub struct Validated {
    pub settings: Settings,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn validate(root: &Json) -> Validated {
    let mut diags = Vec::new();
    schema_checks(root, &mut diags);
    duplicate_keys(root, &mut diags);
    domain_checks(root, &mut diags);
    path_entry_checks(root, &mut diags);
    value_checks(root, &mut diags);
    // One finding per (code, place): several schema branches can fail on the same value.
    let mut seen = HashSet::new();
    diags.retain(|d| seen.insert((d.code.clone(), d.primary_span(), d.message.clone())));
    diags.sort_by_key(|d| d.primary_span().map(|s| (s.start, s.end)));
    Validated {
        settings: build(root),
        diagnostics: diags,
    }
}

// ---------------------------------------------------------------------------------------------
// Schema-driven checks

fn schema_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
    let instance = root.to_value();
    for error in SettingsValidator::iter_errors(&instance) {
        let pointer = error.instance_path().to_string();
        if in_path_entry(&pointer) {
            continue; // path_entry_checks reports these with better messages
        }
        let Some((node, _)) = root.pointer(&pointer) else {
            continue;
        };
        let name = display_pointer(&pointer);
        use jsonschema::error::ValidationErrorKind as K;
        let d = match error.kind() {
            K::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    diags.push(unknown_key(&pointer, node, key));
                }
                continue;
            }
            K::Type { kind } => {
                let expected = match kind {
                    jsonschema::error::TypeKind::Single(t) => t.to_string(),
                    jsonschema::error::TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                Diagnostic::error(
                    crate::code::WRONG_TYPE,
                    format!(
                        "{name}: expected {}, found {}",
                        article(&expected),
                        article(node.type_name())
                    ),
                )
                .with_label(node.span, format!("this is {}", article(node.type_name())))
            }
            K::Minimum { limit } | K::ExclusiveMinimum { limit } => Diagnostic::error(
                crate::code::OUT_OF_RANGE,
                format!("{name}: {} is below the minimum {limit}", raw_number(node)),
            )
            .with_label(node.span, format!("must be at least {limit}")),
            K::Maximum { limit } | K::ExclusiveMaximum { limit } => Diagnostic::error(
                crate::code::OUT_OF_RANGE,
                format!("{name}: {} is above the maximum {limit}", raw_number(node)),
            )
            .with_label(node.span, format!("must be at most {limit}")),
            K::MinLength { .. } => Diagnostic::error(
                crate::code::INVALID_VALUE,
                format!("{name}: cannot be empty"),
            )
            .with_label(node.span, "empty string"),
            K::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                Diagnostic::error(
                    crate::code::MISSING_KEY,
                    format!("{name}: missing required key `{prop}`"),
                )
                .with_label(
                    Span::new(node.span.start, node.span.start + 1),
                    format!("this object needs `{prop}`"),
                )
            }
            K::Enum { options } => Diagnostic::error(
                crate::code::INVALID_VALUE,
                format!("{name}: must be one of {}", options_list(options)),
            )
            .with_label(node.span, "not an accepted value"),
            K::Constant { expected_value } => Diagnostic::error(
                crate::code::INVALID_VALUE,
                format!("{name}: must be {expected_value}"),
            )
            .with_label(node.span, "not the accepted value"),
            _ => Diagnostic::error(crate::code::INVALID_VALUE, format!("{name}: {error}"))
                .with_label(node.span, ""),
        };
        diags.push(d);
    }
}

fn article(t: &str) -> String {
    match t.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

fn raw_number(node: &Json) -> String {
    match &node.kind {
        JsonKind::Number(n) => n.clone(),
        _ => node.type_name().to_string(),
    }
}

fn options_list(options: &Value) -> String {
    match options.as_array() {
        Some(a) => a
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        None => options.to_string(),
    }
}

/// `/network/allowedDomains/0` → `network.allowedDomains[0]`; the root is `(root)`.
pub fn display_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        return "(root)".into();
    }
    let mut out = String::new();
    for step in pointer.trim_start_matches('/').split('/') {
        let step = step.replace("~1", "/").replace("~0", "~");
        if step.parse::<usize>().is_ok() {
            out.push_str(&format!("[{step}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&step);
        }
    }
    out
}

fn in_path_entry(pointer: &str) -> bool {
    let steps: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    steps.len() >= 3
        && steps[0] == "filesystem"
        && PATH_LISTS.contains(&steps[1])
        && steps[2].parse::<usize>().is_ok()
}

/// The schema node that describes the instance at `pointer`, following `$ref`, `properties`,
/// `additionalProperties` and `items`.
fn schema_at(pointer: &str) -> Option<&'static Value> {
    let mut node = resolve_ref(schema());
    if pointer.is_empty() {
        return Some(node);
    }
    for step in pointer.trim_start_matches('/').split('/') {
        let step = step.replace("~1", "/").replace("~0", "~");
        node = if let Some(p) = node.get("properties").and_then(|p| p.get(&step)) {
            p
        } else if let Some(a) = node.get("additionalProperties").filter(|a| a.is_object()) {
            a
        } else {
            node.get("items")
                .filter(|_| step.parse::<usize>().is_ok())?
        };
        node = resolve_ref(node);
    }
    Some(node)
}

fn resolve_ref(node: &'static Value) -> &'static Value {
    let mut node = node;
    for _ in 0..8 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| schema().pointer(p)) {
                Some(target) => node = target,
                None => break,
            },
            None => break,
        }
    }
    node
}

fn known_keys(pointer: &str) -> Vec<&'static str> {
    schema_at(pointer)
        .and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Every key path the schema knows, for "this key belongs in `network`" hints.
fn all_key_paths() -> &'static Vec<(String, String)> {
    static PATHS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut out = Vec::new();
        fn walk(node: &'static Value, prefix: &str, out: &mut Vec<(String, String)>, depth: usize) {
            let node = resolve_ref(node);
            let Some(props) = node.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (k, v) in props {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push((k.clone(), path.clone()));
                if depth < 3 {
                    walk(v, &path, out, depth + 1);
                }
            }
        }
        walk(schema(), "", &mut out, 0);
        out
    })
}

fn unknown_key(object_pointer: &str, object: &Json, key: &str) -> Diagnostic {
    let here = known_keys(object_pointer);
    let key_span = object
        .members()
        .and_then(|ms| ms.iter().rev().find(|m| m.key.value == key))
        .map_or(object.span, |m| m.key.span);
    // The peer's strict objects reject unknown keys too; elsewhere it drops them silently.
    let strict = object_pointer.starts_with("/credentials");
    let peer = if strict {
        "the npm srt rejects it too"
    } else {
        "the npm srt would silently drop it"
    };
    let place = if object_pointer.is_empty() {
        "at the top level".to_string()
    } else {
        format!("in `{}`", display_pointer(object_pointer))
    };
    let mut d = Diagnostic::error(
        crate::code::UNKNOWN_KEY,
        format!("unknown key `{key}` {place}"),
    );
    let suggestion = did_you_mean(key, &here);
    d = match &suggestion {
        Some(s) => d.with_label(key_span, format!("did you mean `{s}`?")),
        None => d.with_label(key_span, "not a settings key"),
    };
    if let Some(s) = suggestion {
        let effect = if strict {
            "the npm srt rejects it"
        } else {
            "the npm srt silently drops unknown keys, so this entry would have no effect there"
        };
        d.with_help(format!("{effect}; rename it to `{s}`"))
    } else if let Some((_, path)) = all_key_paths()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
    {
        d.with_help(format!(
            "`{key}` belongs at `{path}`; the npm srt would silently drop it here"
        ))
    } else if here.is_empty() {
        d.with_help(format!("this object takes no keys here; {peer}"))
    } else {
        d.with_help(format!(
            "known keys here: {}; {peer}",
            here.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The closest known key: same spelling ignoring case, else a small edit distance.
pub fn did_you_mean(key: &str, known: &[&str]) -> Option<String> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some((*k).to_string());
    }
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::levenshtein(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.to_string())
}

/// An IP address or CIDR range, as `deniedResolvedAddresses` takes them.
pub fn parse_ip_range(s: &str) -> Option<ipnet::IpNet> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Some(net);
    }
    s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from)
}

mod build;
mod tree;
use build::build;
use tree::{domain_checks, duplicate_keys, path_entry_checks, value_checks};
pub use tree::{has_glob, is_comment_key};
