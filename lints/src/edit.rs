//! Formatting-preserving edits of a settings file: append to a list, add a key, remove a list
//! element. Each edit copies the layout around it (one element per line or all on one line,
//! indentation, the spacing after `:` and `,`), and keys keep their order: new keys go last.

use srt_schema::json::Json;
use srt_schema::Edit;

fn line_indent(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    let width = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..width]
}

/// `", "` or `","`: whether the document puts a space or a newline after its commas.
pub(crate) fn comma(text: &str) -> &'static str {
    let spaced = text
        .match_indices(',')
        .any(|(i, _)| text[i + 1..].starts_with([' ', '\n', '\r', '\t']));
    match (spaced, text.contains(',')) {
        (true, _) => ", ",
        (false, true) => ",",
        (false, false) if colon(text) == ":" => ",",
        (false, false) => ", ",
    }
}

/// `": "` or `":"`, as the document writes it.
fn colon(text: &str) -> &'static str {
    if text.contains("\": ") || !text.contains("\":") {
        ": "
    } else {
        ":"
    }
}

/// Are the container's children on their own lines?
fn multiline(text: &str, container: &Json, first_child_start: usize) -> bool {
    text[container.span.start + 1..first_child_start].contains('\n')
}

/// The layout of the children of a container: their indentation, and one indentation step.
fn child_indent(text: &str, container: &Json, last_child_start: usize) -> (String, String) {
    let child = line_indent(text, last_child_start).to_string();
    let parent = line_indent(text, container.span.start);
    let unit = child
        .strip_prefix(parent)
        .filter(|u| !u.is_empty())
        .unwrap_or("  ")
        .to_string();
    (child, unit)
}

/// Appends `value` (JSON text) as the last element of `array`.
pub fn append_element(text: &str, array: &Json, value: &str) -> Option<Edit> {
    append_elements(text, array, &[value.to_string()])
}

/// The widest line an inline list may grow to before a fix lays it out one entry per line.
const MAX_INLINE: usize = 100;

/// The document's line ending: `\r\n` when it uses CRLF, else `\n`.
pub(crate) fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// One indentation step as the document writes it (its smallest indentation), else two spaces.
fn indent_unit(text: &str) -> String {
    text.lines()
        .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
        .filter(|i| !i.is_empty())
        .min_by_key(|i| i.len())
        .unwrap_or("  ")
        .to_string()
}

/// Appends `values` (JSON texts) after the last element of `array`, laid out like it. An
/// inline list that would grow past [`MAX_INLINE`] columns is laid out one entry per line
/// instead, indented one step deeper than the line it starts on (unless the whole file is one
/// line).
pub fn append_elements(text: &str, array: &Json, values: &[String]) -> Option<Edit> {
    let items = array.as_array()?;
    let nl = newline(text);
    let inline = items
        .first()
        .is_none_or(|first| !multiline(text, array, first.span.start));
    if inline {
        let line_start = text[..array.span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[array.span.end..]
            .find(['\r', '\n'])
            .map_or(text.len(), |i| array.span.end + i);
        let mut all: Vec<&str> = items
            .iter()
            .map(|i| &text[i.span.start..i.span.end])
            .collect();
        all.extend(values.iter().map(String::as_str));
        let added: usize = values.iter().map(|v| v.len() + 2).sum();
        // A file written on one line stays on one line: that layout is the author's choice.
        let one_line_file = !text.trim_end().contains('\n');
        if !one_line_file && line_end - line_start + added > MAX_INLINE {
            let indent = line_indent(text, array.span.start);
            let inner = format!("{indent}{}", indent_unit(text));
            return Some(Edit {
                start: array.span.start,
                end: array.span.end,
                replacement: format!(
                    "[{nl}{inner}{}{nl}{indent}]",
                    all.join(&format!(",{nl}{inner}"))
                ),
            });
        }
    }
    let Some(last) = items.last() else {
        return Some(Edit {
            start: array.span.start + 1,
            end: array.span.end - 1,
            replacement: values.join(comma(text)),
        });
    };
    let first = &items[0];
    let sep = if multiline(text, array, first.span.start) {
        let (indent, _) = child_indent(text, array, last.span.start);
        format!(",{nl}{indent}")
    } else if items.len() >= 2 {
        text[items[0].span.end..items[1].span.start].to_string()
    } else {
        comma(text).to_string()
    };
    let mut replacement = String::new();
    for v in values {
        replacement.push_str(&sep);
        replacement.push_str(v);
    }
    Some(Edit {
        start: last.span.end,
        end: last.span.end,
        replacement,
    })
}

/// A new member's value text: `[]`, `["x"]`, or an object of lists laid out like its parent.
pub enum NewValue<'a> {
    /// JSON text, used as is.
    Raw(String),
    /// An object with these members (JSON text values), in this order.
    Object(&'a [(&'a str, String)]),
}

/// Adds `"key": value` as the last member of `object`.
pub fn add_member(text: &str, object: &Json, key: &str, value: NewValue<'_>) -> Option<Edit> {
    add_members(text, object, vec![(key, value)])
}

/// Adds members after the last member of `object`, in order, laid out like the others.
pub fn add_members(text: &str, object: &Json, new: Vec<(&str, NewValue<'_>)>) -> Option<Edit> {
    let members = object.members()?;
    let colon_text = members
        .last()
        .map(|m| text[m.key.span.end..m.value.span.start].to_string())
        .unwrap_or_else(|| colon(text).to_string());
    let mut rendered = Vec::new();
    let (sep, layout, start, end) = match (members.first(), members.last()) {
        (Some(first), Some(last)) => {
            if multiline(text, object, first.key.span.start) {
                let (indent, unit) = child_indent(text, object, last.key.span.start);
                (
                    format!(",{}{indent}", newline(text)),
                    Some((indent, unit)),
                    last.value.span.end,
                    last.value.span.end,
                )
            } else {
                let sep = if members.len() >= 2 {
                    text[members[0].value.span.end..members[1].key.span.start].to_string()
                } else {
                    comma(text).to_string()
                };
                (sep, None, last.value.span.end, last.value.span.end)
            }
        }
        _ => (
            comma(text).to_string(),
            None,
            object.span.start + 1,
            object.span.end - 1,
        ),
    };
    for (key, value) in new {
        let key_text = serde_json::to_string(key).ok()?;
        let layout = layout.as_ref().map(|(i, u)| (i.as_str(), u.as_str()));
        let value = render_value(value, layout, &colon_text, comma(text), newline(text));
        rendered.push(format!("{key_text}{colon_text}{value}"));
    }
    let replacement = if members.is_empty() {
        rendered.join(&sep)
    } else {
        rendered.iter().map(|r| format!("{sep}{r}")).collect()
    };
    Some(Edit {
        start,
        end,
        replacement,
    })
}

fn render_value(
    value: NewValue<'_>,
    layout: Option<(&str, &str)>,
    colon_text: &str,
    comma_text: &str,
    nl: &str,
) -> String {
    match value {
        NewValue::Raw(s) => s,
        NewValue::Object(members) => {
            let items: Vec<String> = members
                .iter()
                .map(|(k, v)| {
                    let k = serde_json::to_string(k).unwrap_or_default();
                    format!("{k}{colon_text}{v}")
                })
                .collect();
            match layout {
                Some((indent, unit)) => format!(
                    "{{{nl}{indent}{unit}{}{nl}{indent}}}",
                    items.join(&format!(",{nl}{indent}{unit}"))
                ),
                None => format!("{{{}}}", items.join(comma_text)),
            }
        }
    }
}

/// Removes element `index` of `array` together with one separator.
pub fn remove_element(text: &str, array: &Json, index: usize) -> Option<Edit> {
    let items = array.as_array()?;
    let item = items.get(index)?;
    let (start, end) = if index > 0 {
        (items[index - 1].span.end, item.span.end)
    } else if let Some(next) = items.get(1) {
        (item.span.start, next.span.start)
    } else {
        (array.span.start + 1, array.span.end - 1)
    };
    let _ = text;
    Some(Edit {
        start,
        end,
        replacement: String::new(),
    })
}

/// Applies non-overlapping edits to `text` (in any order).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in sorted {
        if e.start < at || e.end > text.len() {
            continue;
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.replacement);
        at = e.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use srt_schema::json::parse;

    fn root(text: &str) -> Json {
        parse(text).unwrap().unwrap()
    }

    fn edit_at(text: &str, pointer: &str, f: impl Fn(&Json) -> Option<Edit>) -> String {
        let json = root(text);
        let (node, _) = json.pointer(pointer).unwrap();
        apply(text, &[f(node).unwrap()])
    }

    #[test]
    fn long_lists_go_one_entry_per_line_with_the_files_line_endings() {
        let many: Vec<String> = (0..13).map(|i| format!("\"~/.secret-{i}\"")).collect();
        let t = "{\r\n  \"filesystem\": {\r\n    \"denyRead\": [],\r\n    \"allowWrite\": [\".\"]\r\n  }\r\n}\r\n";
        let out = edit_at(t, "/filesystem/denyRead", |a| append_elements(t, a, &many));
        assert!(out.lines().all(|l| l.len() < 40), "{out}");
        assert!(
            !out.replace("\r\n", "").contains('\n'),
            "a bare LF in {out:?}"
        );
        assert!(
            out.contains("    \"denyRead\": [\r\n      \"~/.secret-0\",\r\n"),
            "{out:?}"
        );
        assert!(
            out.contains("      \"~/.secret-12\"\r\n    ],\r\n"),
            "{out:?}"
        );
        // A short addition keeps an inline list inline.
        let out = edit_at(t, "/filesystem/allowWrite", |a| {
            append_element(t, a, "\"/tmp\"")
        });
        assert!(
            out.contains("\"allowWrite\": [\".\", \"/tmp\"]\r\n"),
            "{out:?}"
        );
        // A tab-indented file keeps its tabs.
        let t = "{\n\t\"network\": {\n\t\t\"allowedDomains\": [\"a.example\"]\n\t}\n}\n";
        let out = edit_at(t, "/network/allowedDomains", |a| {
            append_elements(t, a, &many)
        });
        assert!(
            out.contains("\t\t\"allowedDomains\": [\n\t\t\t\"a.example\",\n\t\t\t\"~/.secret-0\""),
            "{out:?}"
        );
    }

    #[test]
    fn append_keeps_the_layout() {
        let t = "{\"a\": [\".\", \"/tmp\"]}";
        assert_eq!(
            edit_at(t, "/a", |n| append_element(t, n, "\"x\"")),
            "{\"a\": [\".\", \"/tmp\", \"x\"]}"
        );
        let t = "{\n  \"a\": [\n    \"one\", \"two\",\n    \"three\"\n  ]\n}";
        assert_eq!(
            edit_at(t, "/a", |n| append_element(t, n, "\"x\"")),
            "{\n  \"a\": [\n    \"one\", \"two\",\n    \"three\",\n    \"x\"\n  ]\n}"
        );
        let t = "{\"a\":[]}";
        assert_eq!(
            edit_at(t, "/a", |n| append_element(t, n, "\"x\"")),
            "{\"a\":[\"x\"]}"
        );
        let t = "{\"a\":[\"b\"]}";
        assert_eq!(
            edit_at(t, "/a", |n| append_element(t, n, "\"x\"")),
            "{\"a\":[\"b\",\"x\"]}"
        );
    }

    #[test]
    fn add_member_goes_last_with_the_same_style() {
        let t = "{\n  \"network\": {\n    \"allowedDomains\": []\n  }\n}";
        assert_eq!(
            edit_at(t, "/network", |n| add_member(
                t,
                n,
                "deniedDomains",
                NewValue::Raw("[]".into())
            )),
            "{\n  \"network\": {\n    \"allowedDomains\": [],\n    \"deniedDomains\": []\n  }\n}"
        );
        let lists = [
            ("denyRead", "[]".to_string()),
            ("denyWrite", "[]".to_string()),
        ];
        assert_eq!(
            edit_at(t, "", |n| add_member(t, n, "filesystem", NewValue::Object(&lists))),
            "{\n  \"network\": {\n    \"allowedDomains\": []\n  },\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"denyWrite\": []\n  }\n}"
        );
        let t = "{\"allowPty\": true}";
        assert_eq!(
            edit_at(t, "", |n| add_member(
                t,
                n,
                "filesystem",
                NewValue::Object(&lists)
            )),
            "{\"allowPty\": true, \"filesystem\": {\"denyRead\": [], \"denyWrite\": []}}"
        );
        let t = "{}";
        assert_eq!(
            edit_at(t, "", |n| add_member(
                t,
                n,
                "network",
                NewValue::Raw("{}".into())
            )),
            "{\"network\": {}}"
        );
    }

    #[test]
    fn remove_takes_one_separator() {
        let t = "{\"a\": [\"x\", \"y\", \"x\"]}";
        assert_eq!(
            edit_at(t, "/a", |n| remove_element(t, n, 2)),
            "{\"a\": [\"x\", \"y\"]}"
        );
        assert_eq!(
            edit_at(t, "/a", |n| remove_element(t, n, 0)),
            "{\"a\": [\"y\", \"x\"]}"
        );
        let t = "{\n  \"a\": [\n    \"x\",\n    \"x\"\n  ]\n}";
        assert_eq!(
            edit_at(t, "/a", |n| remove_element(t, n, 1)),
            "{\n  \"a\": [\n    \"x\"\n  ]\n}"
        );
    }
}
