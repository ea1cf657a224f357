//! Comment keys people write in JSON (`//…`, `_comment…`, `$comment`, `$schema`) are accepted
//! and ignored, repeated ones too, and never hide other findings; inside the objects the npm
//! srt checks strictly they stay errors, as there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use srt_schema::load_str;

#[test]
fn comment_keys_are_accepted_everywhere_the_npm_srt_drops_them() {
    let text = r#"{
  "$schema": "./srt-settings.schema.json",
  "_comment": "top",
  "//": "one",
  "//": "two",
  "$comment": "three",
  "network": {"// why": "n", "_comment_2": "m", "allowedDomains": ["crates.io"], "deniedDomains": []},
  "filesystem": {"_comment": "f", "denyRead": [], "allowWrite": ["."], "denyWrite": []},
  "ripgrep": {"//": "r", "command": "rg"}
}"#;
    let loaded = load_str("c.json", None, text);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    assert_eq!(
        loaded
            .settings
            .network()
            .unwrap()
            .allowed_domains
            .as_ref()
            .unwrap()
            .value
            .len(),
        1,
        "the rules next to the comments are read"
    );
}

#[test]
fn a_comment_key_does_not_hide_other_findings() {
    // A typo next to a comment is still reported, and only the typo.
    let text = r#"{"_comment": "x", "network": {"allowedDomains": [], "deniedDomains": []},
 "filesystem": {"denyRead": [], "allowwrite": [], "denyWrite": []}}"#;
    let loaded = load_str("c.json", None, text);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_ref()).collect();
    assert_eq!(codes, ["unknown-key"], "{:#?}", loaded.diagnostics);
    assert!(loaded.diagnostics[0].message.contains("allowwrite"));
}

#[test]
fn strict_objects_refuse_comment_keys_as_the_npm_srt_does() {
    for text in [
        r#"{"network": {"allowedDomains": [], "deniedDomains": []}, "credentials": {"_comment": "x"}}"#,
        r#"{"network": {"allowedDomains": [], "deniedDomains": []}, "filesystem": {"denyRead": [{"path": "a", "literal": true, "//": "x"}], "allowWrite": [], "denyWrite": []}}"#,
    ] {
        let loaded = load_str("c.json", None, text);
        assert!(
            loaded
                .diagnostics
                .iter()
                .any(|d| d.code == "unknown-key" || d.code == "invalid-path-entry"),
            "{text}: {:#?}",
            loaded.diagnostics
        );
    }
}
