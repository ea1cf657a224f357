//! The checks on the syntax tree a schema cannot express: duplicate keys, the domain grammar,
//! path entries, and values with rules of their own.

use super::*;

pub(super) fn duplicate_keys(node: &Json, diags: &mut Vec<Diagnostic>) {
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

pub(super) fn domain_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
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

pub(super) fn path_entry_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
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

pub(super) fn value_checks(root: &Json, diags: &mut Vec<Diagnostic>) {
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
