//! Strict JSON parsing that keeps a byte span on every key and value.
//!
//! The npm srt reads its settings with `JSON.parse`, so srt accepts exactly JSON: no comments,
//! no trailing commas, no single quotes. The parser is `jsonc-parser` with every extension
//! turned off; its errors name what was found ("Comments are not allowed"), which is the
//! explanation a user needs.

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};

use crate::{Span, Spanned};

/// A JSON value with its span. Objects keep every member in order, duplicates included, so
/// validation can report a repeated key; lookups use the last one, as `JSON.parse` does.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number as written.
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<Member>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: Spanned<String>,
    pub value: Json,
}

/// Why the text is not JSON, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl Json {
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "boolean",
            JsonKind::Number(_) => "number",
            JsonKind::String(_) => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            JsonKind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// An integer value, when the number is integral and fits.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            JsonKind::Number(n) => n.parse::<i64>().ok().or_else(|| {
                let f = n.parse::<f64>().ok()?;
                (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
            }),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JsonKind::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn members(&self) -> Option<&[Member]> {
        match &self.kind {
            JsonKind::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The member named `key` (the last one, if repeated).
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members()?.iter().rev().find(|m| m.key.value == key)
    }

    /// The value at a JSON pointer (`/network/allowedDomains/0`), with the member whose value
    /// it is, when the last step was an object key.
    pub fn pointer(&self, pointer: &str) -> Option<(&Json, Option<&Member>)> {
        let mut node = self;
        let mut member = None;
        if pointer.is_empty() {
            return Some((node, None));
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let step = raw.replace("~1", "/").replace("~0", "~");
            match &node.kind {
                JsonKind::Object(_) => {
                    let m = node.get(&step)?;
                    member = Some(m);
                    node = &m.value;
                }
                JsonKind::Array(items) => {
                    node = items.get(step.parse::<usize>().ok()?)?;
                    member = None;
                }
                _ => return None,
            }
        }
        Some((node, member))
    }

    /// The `serde_json` value `JSON.parse` would produce (last duplicate key wins).
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            JsonKind::Null => Value::Null,
            JsonKind::Bool(b) => Value::Bool(*b),
            JsonKind::Number(n) => serde_json::from_str::<serde_json::Number>(n)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            JsonKind::String(s) => Value::String(s.clone()),
            JsonKind::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            JsonKind::Object(members) => {
                let mut map = serde_json::Map::new();
                for m in members {
                    // Remove first so a repeated key moves to its last position, as in JS.
                    map.remove(&m.key.value);
                    map.insert(m.key.value.clone(), m.value.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

fn strict_options() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Parses `text` as strict JSON. `Ok(None)` means the text holds no value at all.
pub fn parse(text: &str) -> Result<Option<Json>, SyntaxError> {
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    match jsonc_parser::parse_to_ast(text, &collect, &strict_options()) {
        Ok(result) => Ok(result.value.as_ref().map(convert)),
        Err(e) => Err(syntax_error(text, &e)),
    }
}

fn syntax_error(text: &str, e: &jsonc_parser::errors::ParseError) -> SyntaxError {
    use jsonc_parser::errors::ParseErrorKind as K;
    let range = e.range();
    let mut span = Span::new(range.start, range.end.max(range.start));
    if span.is_empty() && span.start < text.len() {
        let width = text[span.start..].chars().next().map_or(1, char::len_utf8);
        span.end = span.start + width;
    }
    let help = match e.kind() {
        K::CommentsNotAllowed => Some(
            "settings files are strict JSON, as the npm srt reads them with JSON.parse; \
             move the comment into a \"$comment\"-style note elsewhere or delete it",
        ),
        K::TrailingCommasNotAllowed => Some("delete the comma after the last element"),
        K::SingleQuotedStringsNotAllowed => Some("JSON strings use double quotes"),
        K::ExpectedStringObjectProperty => Some("object keys must be double-quoted strings"),
        K::MultipleRootJsonValues => Some("a settings file holds exactly one JSON object"),
        K::ExpectedComma => Some("separate elements and members with a comma"),
        _ => None,
    };
    SyntaxError {
        span,
        message: format!("invalid JSON: {}", e.kind()),
        help: help.map(str::to_string),
    }
}

fn span_of(range: jsonc_parser::common::Range) -> Span {
    Span::new(range.start, range.end)
}

fn convert(value: &ast::Value<'_>) -> Json {
    match value {
        ast::Value::StringLit(s) => Json {
            kind: JsonKind::String(s.value.to_string()),
            span: span_of(s.range),
        },
        ast::Value::NumberLit(n) => Json {
            kind: JsonKind::Number(n.value.to_string()),
            span: span_of(n.range),
        },
        ast::Value::BooleanLit(b) => Json {
            kind: JsonKind::Bool(b.value),
            span: span_of(b.range),
        },
        ast::Value::NullKeyword(n) => Json {
            kind: JsonKind::Null,
            span: span_of(n.range),
        },
        ast::Value::Array(a) => Json {
            kind: JsonKind::Array(a.elements.iter().map(convert).collect()),
            span: span_of(a.range),
        },
        ast::Value::Object(o) => Json {
            kind: JsonKind::Object(
                o.properties
                    .iter()
                    .map(|p| {
                        let (name, range) = match &p.name {
                            ast::ObjectPropName::String(s) => (s.value.to_string(), s.range),
                            ast::ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                        };
                        Member {
                            key: Spanned::new(name, span_of(range)),
                            value: convert(&p.value),
                        }
                    })
                    .collect(),
            ),
            span: span_of(o.range),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = r#"{"a": [1, "x"], "b": {"c": true}}"#;
        let json = parse(text).unwrap().unwrap();
        let (x, _) = json.pointer("/a/1").unwrap();
        assert_eq!(&text[x.span.start..x.span.end], "\"x\"");
        let (c, m) = json.pointer("/b/c").unwrap();
        assert_eq!(&text[c.span.start..c.span.end], "true");
        let key = m.unwrap().key.span;
        assert_eq!(&text[key.start..key.end], "\"c\"");
    }

    #[test]
    fn comments_and_trailing_commas_are_errors_with_positions() {
        let e = parse("{\n  // hi\n  \"a\": 1\n}").unwrap_err();
        assert!(e.message.contains("Comments"), "{e:?}");
        assert_eq!(e.span.start, 4);
        let e = parse("{\"a\": [1,]}").unwrap_err();
        assert!(e.message.contains("Trailing comma"), "{e:?}");
    }

    #[test]
    fn duplicate_keys_are_kept_and_last_wins() {
        let json = parse(r#"{"a": 1, "a": 2}"#).unwrap().unwrap();
        assert_eq!(json.members().unwrap().len(), 2);
        assert_eq!(json.to_value(), serde_json::json!({"a": 2}));
    }
}
