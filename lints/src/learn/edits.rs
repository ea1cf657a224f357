//! Proposals as edits of the settings text, with the format-preserving editor `srt lint --fix`
//! uses ([`crate::edit`]): entries appended to their lists, missing lists and objects added
//! (a new `network` or `filesystem` object gets every list the npm srt requires, so the file
//! stays one it accepts), and where each added entry ended up.

use std::collections::BTreeMap;

use srt_schema::json::Json;
use srt_schema::{Edit, Span};

use super::List;
use crate::edit::{add_members, append_elements, apply, comma, NewValue};

/// The lists the npm srt requires in each object it requires.
fn required(parent: &str) -> &'static [&'static str] {
    match parent {
        "network" => &["allowedDomains", "deniedDomains"],
        "filesystem" => &["denyRead", "allowWrite", "denyWrite"],
        _ => &[],
    }
}

/// A JSON array of `values` (JSON texts), laid out inline like the document's lists.
fn array(text: &str, values: &[String]) -> String {
    format!("[{}]", values.join(comma(text)))
}

/// `text` with every value appended to its list; `None` when the document's shape does not
/// allow it (a list that is not an array, an object that is not one).
pub(super) fn add(
    text: &str,
    root: &Json,
    additions: &BTreeMap<List, Vec<String>>,
) -> Option<String> {
    // parent key → (list key → values), in a stable order.
    let mut by_parent: BTreeMap<&str, Vec<(&str, &[String])>> = BTreeMap::new();
    for (list, values) in additions.iter().filter(|(_, v)| !v.is_empty()) {
        let (parent, key) = list.location();
        by_parent.entry(parent).or_default().push((key, values));
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut new_parents: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    for (parent, lists) in by_parent {
        match root.get(parent) {
            Some(member) => {
                let object = &member.value;
                object.members()?;
                let mut new_lists: Vec<(&str, NewValue<'_>)> = Vec::new();
                for (key, values) in lists {
                    match object.get(key) {
                        Some(m) => edits.push(append_elements(text, &m.value, values)?),
                        None => new_lists.push((key, NewValue::Raw(array(text, values)))),
                    }
                }
                if !new_lists.is_empty() {
                    edits.push(add_members(text, object, new_lists)?);
                }
            }
            None => {
                let mut members: Vec<(String, String)> = lists
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), array(text, v)))
                    .collect();
                for req in required(parent) {
                    if !members.iter().any(|(k, _)| k == req) {
                        members.push(((*req).to_string(), "[]".into()));
                    }
                }
                // The required lists first, in the npm srt's order, then the others.
                let order = |k: &str| {
                    required(parent)
                        .iter()
                        .position(|r| *r == k)
                        .unwrap_or(usize::MAX)
                };
                members.sort_by_key(|(k, _)| order(k));
                new_parents.push((parent, members));
            }
        }
    }
    if !new_parents.is_empty() {
        let owned: Vec<Vec<(&str, String)>> = new_parents
            .iter()
            .map(|(_, m)| m.iter().map(|(k, v)| (k.as_str(), v.clone())).collect())
            .collect();
        let new: Vec<(&str, NewValue<'_>)> = new_parents
            .iter()
            .zip(&owned)
            .map(|((parent, _), members)| (*parent, NewValue::Object(members)))
            .collect();
        edits.push(add_members(text, root, new)?);
    }
    Some(apply(text, &edits))
}

/// Where the entry `json` of `list` is in the edited document (its last occurrence: an added
/// entry is appended).
pub(super) fn entry_span(text: &str, root: &Json, list: &List, json: &str) -> Option<Span> {
    let (parent, key) = list.location();
    let items = root.get(parent)?.value.get(key)?.value.as_array()?;
    items
        .iter()
        .rev()
        .find(|i| text.get(i.span.start..i.span.end) == Some(json))
        .map(|i| i.span)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn added(text: &str, adds: &[(List, &[&str])]) -> String {
        let root = srt_schema::json::parse(text).unwrap().unwrap();
        let map: BTreeMap<List, Vec<String>> = adds
            .iter()
            .map(|(l, v)| {
                (
                    l.clone(),
                    v.iter()
                        .map(|s| serde_json::to_string(s).unwrap())
                        .collect(),
                )
            })
            .collect();
        add(text, &root, &map).unwrap()
    }

    #[test]
    fn lists_objects_and_ignore_keys_are_added_in_the_files_layout() {
        let t = "{\n  \"network\": {\n    \"allowedDomains\": [\"a.example\"],\n    \"deniedDomains\": []\n  }\n}\n";
        let out = added(
            t,
            &[
                (List::AllowedDomains, &["b.example", "c.example:8443"]),
                (List::AllowWrite, &["~/.cache/tool"]),
                (List::IgnoreViolations("make".into()), &["/etc/x"]),
            ],
        );
        assert_eq!(
            out,
            "{\n  \"network\": {\n    \"allowedDomains\": [\"a.example\", \"b.example\", \"c.example:8443\"],\n    \"deniedDomains\": []\n  },\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"allowWrite\": [\"~/.cache/tool\"],\n    \"denyWrite\": []\n  },\n  \"ignoreViolations\": {\n    \"make\": [\"/etc/x\"]\n  }\n}\n"
        );
        let root = srt_schema::json::parse(&out).unwrap().unwrap();
        let span = entry_span(&out, &root, &List::AllowedDomains, "\"b.example\"").unwrap();
        assert_eq!(&out[span.start..span.end], "\"b.example\"");
        assert_eq!(
            entry_span(&out, &root, &List::DeniedDomains, "\"b.example\""),
            None
        );
        // A list missing from an existing object is added to it; an existing key grows.
        let out2 = added(
            &out,
            &[
                (List::DeniedDomains, &["x.example"]),
                (List::AllowRead, &["~/.ssh/known_hosts"]),
                (List::IgnoreViolations("make".into()), &["/etc/y"]),
            ],
        );
        assert!(
            out2.contains("\"deniedDomains\": [\"x.example\"]"),
            "{out2}"
        );
        assert!(
            out2.contains("\"denyWrite\": [],\n    \"allowRead\": [\"~/.ssh/known_hosts\"]"),
            "{out2}"
        );
        assert!(
            out2.contains("\"make\": [\"/etc/x\", \"/etc/y\"]"),
            "{out2}"
        );
    }

    #[test]
    fn a_list_that_is_not_an_array_is_not_edited() {
        let t = "{\"network\": {\"allowedDomains\": \"x\"}}";
        let root = srt_schema::json::parse(t).unwrap().unwrap();
        let mut map = BTreeMap::new();
        map.insert(List::AllowedDomains, vec!["\"a\"".to_string()]);
        assert_eq!(add(t, &root, &map), None);
    }
}
