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
pub const SCHEMA_TEXT: &str = include_str!("../srt-settings.schema.json");

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

// ---------------------------------------------------------------------------------------------
// Checks on the syntax tree

fn duplicate_keys(node: &Json, diags: &mut Vec<Diagnostic>) {
    match &node.kind {
        JsonKind::Object(members) => {
            for (i, m) in members.iter().enumerate() {
                // Repeated comment keys (`"//": "a", "//": "b"`) are how people write
                // several comments; only the text is lost, never a rule.
                let repeated = members[..i].iter().find(|p| p.key.value == m.key.value);
                if let Some(first) = repeated.filter(|_| !is_comment_key(&m.key.value)) {
                    diags.push(
                        Diagnostic::error(
                            crate::code::DUPLICATE_KEY,
                            format!("key `{}` appears twice", m.key.value),
                        )
                        .with_label(m.key.span, "this one wins")
                        .with_label(first.key.span, "this earlier one is silently ignored")
                        .with_help(
                            "JSON.parse keeps only the last of repeated keys; merge the two",
                        ),
                    );
                }
                duplicate_keys(&m.value, diags);
            }
        }
        JsonKind::Array(items) => items.iter().for_each(|i| duplicate_keys(i, diags)),
        _ => {}
    }
}

/// A key people use for comments in JSON: `//…`, `_comment…`, `$comment`. The schema accepts
/// them (its `patternProperties`) in every object but those the npm srt checks strictly.
pub fn is_comment_key(key: &str) -> bool {
    key.starts_with("//") || key.starts_with("_comment") || key == "$comment"
}

/// Every array of domain patterns a file can hold, with its list kind.
const DOMAIN_LISTS: [(&str, DomainList); 4] = [
    ("/network/allowedDomains", DomainList::Allow),
    ("/network/deniedDomains", DomainList::Deny),
    ("/network/mitmProxy/domains", DomainList::Allow),
    ("/network/tlsTerminate/excludeDomains", DomainList::Allow),
];

fn domain_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
    for (pointer, list) in DOMAIN_LISTS {
        let Some((array, _)) = root.pointer(pointer) else {
            continue;
        };
        for item in array.as_array().unwrap_or_default() {
            let Some(raw) = item.as_str() else { continue };
            if let Err(e) = parse_pattern(raw, list) {
                let mut d = Diagnostic::error(
                    crate::code::INVALID_DOMAIN_PATTERN,
                    format!(
                        "{}: invalid domain pattern \"{}\": {}",
                        display_pointer(pointer),
                        raw.escape_debug(),
                        e.message()
                    ),
                )
                .with_label(item.span, e.message());
                if let Some(h) = e.help() {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
}

fn path_entry_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
    for list in PATH_LISTS {
        let pointer = format!("/filesystem/{list}");
        let Some((array, _)) = root.pointer(&pointer) else {
            continue;
        };
        let Some(items) = array.as_array() else {
            continue;
        }; // wrong-type already reported
        let is_deny = list.starts_with("deny");
        for (i, item) in items.iter().enumerate() {
            let name = format!("filesystem.{list}[{i}]");
            match &item.kind {
                JsonKind::String(s) if s.is_empty() => diags.push(
                    Diagnostic::error(crate::code::EMPTY_PATH, format!("{name}: path cannot be empty"))
                        .with_label(item.span, "empty path")
                        .with_help("write \".\" for the current directory"),
                ),
                JsonKind::String(s) if s.contains('\0') => diags.push(nul_in_path(&name, item.span)),
                JsonKind::String(s) => {
                    if is_deny && has_glob(s) && (s.starts_with('/') || s.starts_with('~')) && s.ends_with('/') {
                        let trimmed = s.trim_end_matches('/');
                        diags.push(
                            Diagnostic::error(
                                crate::code::INVALID_PATH_ENTRY,
                                format!("{name}: deny glob \"{s}\" ends in a separator, so as a pattern it can match no path"),
                            )
                            .with_label(item.span, "trailing `/` on a glob")
                            .with_help(format!(
                                "write \"{trimmed}\", which is also read as the path of that name where it exists, or add a \"**\" segment to match at any depth"
                            )),
                        );
                    }
                }
                JsonKind::Object(members) => literal_entry_checks(&name, item, members, diags),
                _ => diags.push(
                    Diagnostic::error(
                        crate::code::WRONG_TYPE,
                        format!("{name}: expected a path, or {{ \"path\": \"<path>\", \"literal\": true }}, found {}", article(item.type_name())),
                    )
                    .with_label(item.span, format!("this is {}", article(item.type_name()))),
                ),
            }
        }
    }
}

/// A path with a NUL names nothing the kernel can open: a deny would deny nothing.
fn nul_in_path(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        crate::code::INVALID_PATH_ENTRY,
        format!("{name}: a path cannot contain a NUL character (\\u0000); as written the entry names no file, so it would protect nothing"),
    )
    .with_label(span, "NUL in the path")
    .with_help("remove the \\u0000 from the entry")
}

fn literal_entry_checks(name: &str, item: &Json, members: &[Member], diags: &mut Vec<Diagnostic>) {
    for m in members {
        match m.key.value.as_str() {
            "path" => match &m.value.kind {
                JsonKind::String(s) if s.is_empty() => diags.push(
                    Diagnostic::error(
                        crate::code::EMPTY_PATH,
                        format!("{name}.path: path cannot be empty"),
                    )
                    .with_label(m.value.span, "empty path"),
                ),
                JsonKind::String(s) if s.contains('\0') => {
                    diags.push(nul_in_path(&format!("{name}.path"), m.value.span));
                }
                JsonKind::String(_) => {}
                _ => diags.push(
                    Diagnostic::error(
                        crate::code::WRONG_TYPE,
                        format!(
                            "{name}.path: expected a string, found {}",
                            article(m.value.type_name())
                        ),
                    )
                    .with_label(
                        m.value.span,
                        format!("this is {}", article(m.value.type_name())),
                    ),
                ),
            },
            "literal" => {
                if m.value.as_bool() != Some(true) {
                    diags.push(
                        Diagnostic::error(crate::code::INVALID_PATH_ENTRY, format!("{name}.literal: must be `true`"))
                            .with_label(m.value.span, "only `true` is accepted")
                            .with_help("to have glob characters interpreted, write the path as a plain string instead of an object"),
                    );
                }
            }
            other => {
                let mut d = Diagnostic::error(
                    crate::code::UNKNOWN_KEY,
                    format!("unknown key `{other}` in path entry `{name}`"),
                );
                d = match did_you_mean(other, &["path", "literal"]) {
                    Some(s) => d.with_label(m.key.span, format!("did you mean `{s}`?")),
                    None => d.with_label(m.key.span, "a path entry has only `path` and `literal`"),
                };
                diags.push(
                    d.with_help("the npm srt rejects this entry too: the object form is strict"),
                );
            }
        }
    }
    for required in ["path", "literal"] {
        if !members.iter().any(|m| m.key.value == required) {
            diags.push(
                Diagnostic::error(
                    crate::code::INVALID_PATH_ENTRY,
                    format!("{name}: missing `{required}`"),
                )
                .with_label(
                    item.span,
                    "expected { \"path\": \"<path>\", \"literal\": true }",
                )
                .with_help("write a plain string for an ordinary path"),
            );
        }
    }
}

/// True when a spelling has glob characters (`* ? [ ]`), as the peer's `containsGlobChars`.
pub fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', ']'])
}

fn value_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
    for key in ["bwrapPath", "socatPath", "javaAgentJarPath"] {
        if let Some(m) = root.get(key) {
            if let Some(s) = m.value.as_str() {
                if !s.starts_with('/') {
                    diags.push(
                        Diagnostic::error(
                            crate::code::INVALID_VALUE,
                            format!("{key}: binary path must be absolute"),
                        )
                        .with_label(m.value.span, "not an absolute path"),
                    );
                }
            }
        }
    }
    if let Some((list, _)) = root.pointer("/network/deniedResolvedAddresses") {
        for item in list.as_array().unwrap_or_default() {
            if let Some(s) = item.as_str() {
                if parse_ip_range(s).is_none() {
                    diags.push(
                        Diagnostic::error(crate::code::INVALID_VALUE, format!("network.deniedResolvedAddresses: \"{}\" is not an IP address or CIDR range", s.escape_debug()))
                            .with_label(item.span, "not an IP or CIDR")
                            .with_help("use an IPv4/IPv6 literal or CIDR, e.g. \"10.0.0.0/8\", \"192.168.1.10\", \"fc00::/7\" (IPv6 unbracketed)"),
                    );
                }
            }
        }
    }
    if let Some((list, _)) = root.pointer("/network/allowMachLookup") {
        for item in list.as_array().unwrap_or_default() {
            if let Some(s) = item.as_str() {
                let stars = s.matches('*').count();
                if stars > 1 || (stars == 1 && !s.ends_with('*')) || s.is_empty() {
                    diags.push(
                        Diagnostic::error(crate::code::INVALID_VALUE, "network.allowMachLookup: wildcards are only allowed as a single trailing \"*\"")
                            .with_label(item.span, "misplaced `*`")
                            .with_help("write e.g. \"com.example.*\", or \"*\" for all services"),
                    );
                }
            }
        }
    }
}

/// An IP address or CIDR range, as `deniedResolvedAddresses` takes them.
pub fn parse_ip_range(s: &str) -> Option<ipnet::IpNet> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Some(net);
    }
    s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from)
}

// ---------------------------------------------------------------------------------------------
// Building the model (lenient: anything invalid was reported above and is skipped here)

fn spanned_bool(root: &Json, key: &str) -> Option<Spanned<bool>> {
    let m = root.get(key)?;
    Some(Spanned::new(m.value.as_bool()?, m.value.span).with_key(m.key.span))
}

fn spanned_u16(root: &Json, key: &str) -> Option<Spanned<u16>> {
    let m = root.get(key)?;
    let n = u16::try_from(m.value.as_i64()?).ok().filter(|&n| n >= 1)?;
    Some(Spanned::new(n, m.value.span).with_key(m.key.span))
}

fn list<T>(obj: &Json, key: &str, item: impl Fn(&Json) -> Option<T>) -> List<T> {
    let m = obj.get(key)?;
    let items = m.value.as_array()?;
    Some(
        Spanned::new(
            items
                .iter()
                .filter_map(|j| Some(Spanned::new(item(j)?, j.span)))
                .collect::<Vec<_>>(),
            m.value.span,
        )
        .with_key(m.key.span),
    )
}

fn path_entry(j: &Json) -> Option<PathEntry> {
    match &j.kind {
        JsonKind::String(s) if !s.is_empty() => Some(PathEntry {
            path: s.clone(),
            literal: false,
        }),
        JsonKind::Object(_) => {
            let path = j.get("path")?.value.as_str().filter(|s| !s.is_empty())?;
            (j.get("literal")?.value.as_bool() == Some(true) && j.members()?.len() == 2).then(
                || PathEntry {
                    path: path.to_string(),
                    literal: true,
                },
            )
        }
        _ => None,
    }
}

fn domain_entry(list: DomainList) -> impl Fn(&Json) -> Option<DomainEntry> {
    move |j| {
        let raw = j.as_str()?;
        Some(DomainEntry {
            raw: raw.to_string(),
            pattern: parse_pattern(raw, list).ok(),
        })
    }
}

fn string_map(obj: &Json) -> Vec<(Spanned<String>, &Json)> {
    obj.members()
        .unwrap_or_default()
        .iter()
        .map(|m| (m.key.clone(), &m.value))
        .collect()
}

/// Keys the model holds as typed fields; every other known key is kept as an [`OtherKey`].
const MODELLED_TOP: [&str; 9] = [
    "network",
    "filesystem",
    "ignoreViolations",
    "enableWeakerNestedSandbox",
    "enableWeakerNetworkIsolation",
    "allowNestedUserNamespaces",
    "allowAppleEvents",
    "allowPty",
    "mandatoryDenySearchDepth",
];
const MODELLED_NETWORK: [&str; 11] = [
    "allowedDomains",
    "deniedDomains",
    "deniedDomainReasons",
    "allowUnixSockets",
    "allowAllUnixSockets",
    "allowLocalBinding",
    "httpProxyPort",
    "socksProxyPort",
    "strictAllowlist",
    "deniedResolvedAddresses",
    "allowMachLookup",
];

fn build(root: &Json) -> Settings {
    let mut s = Settings {
        span: root.span,
        ..Settings::default()
    };
    if root.members().is_none() {
        return s;
    }
    // The schema is parsed (for its key lists) only when a key outside the model turns up.
    for m in root.members().unwrap_or_default() {
        let k = m.key.value.as_str();
        if k == "bwrapPath" {
            s.bwrap_path = m
                .value
                .as_str()
                .filter(|p| p.starts_with('/'))
                .map(|p| Spanned::new(p.to_string(), m.value.span).with_key(m.key.span));
        } else if !MODELLED_TOP.contains(&k) && k != "$schema" && known_keys("").contains(&k) {
            push_other(&mut s.other, k.to_string(), m);
        }
    }
    if let Some(m) = root.get("network").filter(|m| m.value.members().is_some()) {
        let n = &m.value;
        let mut net = Network {
            allowed_domains: list(n, "allowedDomains", domain_entry(DomainList::Allow)),
            denied_domains: list(n, "deniedDomains", domain_entry(DomainList::Deny)),
            allow_unix_sockets: list(n, "allowUnixSockets", |j| j.as_str().map(str::to_string)),
            allow_all_unix_sockets: spanned_bool(n, "allowAllUnixSockets"),
            allow_local_binding: spanned_bool(n, "allowLocalBinding"),
            http_proxy_port: spanned_u16(n, "httpProxyPort"),
            socks_proxy_port: spanned_u16(n, "socksProxyPort"),
            strict_allowlist: spanned_bool(n, "strictAllowlist"),
            denied_resolved_addresses: list(n, "deniedResolvedAddresses", |j| {
                parse_ip_range(j.as_str()?)
            }),
            allow_mach_lookup: list(n, "allowMachLookup", |j| j.as_str().map(str::to_string)),
            denied_domain_reasons: Vec::new(),
        };
        if let Some(r) = n.get("deniedDomainReasons") {
            net.denied_domain_reasons = string_map(&r.value)
                .into_iter()
                .filter_map(|(k, v)| Some((k, Spanned::new(v.as_str()?.to_string(), v.span))))
                .collect();
        }
        for nm in n.members().unwrap_or_default() {
            let k = nm.key.value.as_str();
            if !MODELLED_NETWORK.contains(&k) && known_keys("/network").contains(&k) {
                push_other(&mut s.other, format!("network.{k}"), nm);
            }
        }
        s.network = Some(Spanned::new(net, n.span).with_key(m.key.span));
    }
    if let Some(m) = root
        .get("filesystem")
        .filter(|m| m.value.members().is_some())
    {
        let f = &m.value;
        let fs = Filesystem {
            deny_read: list(f, "denyRead", path_entry),
            allow_read: list(f, "allowRead", path_entry),
            allow_write: list(f, "allowWrite", path_entry),
            deny_write: list(f, "denyWrite", path_entry),
            allow_git_config: spanned_bool(f, "allowGitConfig"),
            disabled: spanned_bool(f, "disabled"),
        };
        s.filesystem = Some(Spanned::new(fs, f.span).with_key(m.key.span));
    }
    if let Some(m) = root.get("ignoreViolations") {
        s.ignore_violations = string_map(&m.value)
            .into_iter()
            .filter_map(|(k, v)| {
                let vals = v
                    .as_array()?
                    .iter()
                    .filter_map(|i| Some(Spanned::new(i.as_str()?.to_string(), i.span)))
                    .collect();
                Some((k, vals))
            })
            .collect();
    }
    s.enable_weaker_nested_sandbox = spanned_bool(root, "enableWeakerNestedSandbox");
    s.enable_weaker_network_isolation = spanned_bool(root, "enableWeakerNetworkIsolation");
    s.allow_nested_user_namespaces = spanned_bool(root, "allowNestedUserNamespaces");
    s.allow_apple_events = spanned_bool(root, "allowAppleEvents");
    s.allow_pty = spanned_bool(root, "allowPty");
    s.mandatory_deny_search_depth = root.get("mandatoryDenySearchDepth").and_then(|m| {
        let d = u8::try_from(m.value.as_i64()?)
            .ok()
            .filter(|d| (1..=10).contains(d))?;
        Some(Spanned::new(d, m.value.span).with_key(m.key.span))
    });
    s
}

fn push_other(other: &mut Vec<OtherKey>, path: String, m: &Member) {
    other.push(OtherKey {
        path,
        key: m.key.span,
        value: Spanned::new(m.value.to_value(), m.value.span),
        json: m.value.clone(),
    });
}
