//! The one place text from outside srt (paths, regexes built from them, Mach service names,
//! the log tag) becomes SBPL. Every string literal in a generated profile is made here, and
//! every comment that quotes user text goes through [`comment`].
//!
//! SBPL is read by a Scheme reader (TinyScheme's): inside `"…"` a backslash starts an escape
//! and `"` ends the string; `\\`, `\"`, `\n`, `\t` and `\r` are the escapes it knows. Any other
//! control character has no escape that is sure to be read back as the same byte, so it is
//! refused rather than guessed at: a rule that names a different path than the one meant would
//! silently stop applying. The npm srt uses `JSON.stringify`, which writes such characters as
//! `\u00XX`, an escape the reader does not have.
//!
//! A regex passes through here unchanged in meaning: its own backslashes (`\.`) are doubled so
//! the reader gives them back, and a `"` in a file name is escaped, so it can never end the
//! string early.

/// sandbox-exec rejects a string literal longer than 1025 bytes ("Error reading string"), and
/// one such string invalidates the whole profile. srt stops at 1024 bytes of escaped text.
pub const SBPL_STRING_MAX_BYTES: usize = 1024;

/// Why a string cannot be written as an SBPL string literal.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    #[error(
        "it contains the control character U+{code:04X}, which an SBPL string cannot hold reliably"
    )]
    ControlCharacter { code: u32 },
    #[error(
        "it is {len} bytes long once escaped; sandbox-exec reads at most {SBPL_STRING_MAX_BYTES}"
    )]
    TooLong { len: usize },
}

/// `text` as an SBPL string literal, quotes included.
pub fn string(text: &str) -> Result<String, EscapeError> {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                return Err(EscapeError::ControlCharacter { code: c as u32 });
            }
            c => out.push(c),
        }
    }
    let len = out.len() - 1;
    if len > SBPL_STRING_MAX_BYTES {
        return Err(EscapeError::TooLong { len });
    }
    out.push('"');
    Ok(out)
}

/// Text for a `;` comment: one line, whatever it quotes. Control characters (a newline would
/// end the comment and let the rest be read as rules) are written as Rust-style escapes.
pub fn comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads an SBPL string literal back the way the Scheme reader does (the escapes above,
    /// anything else literal). Returns the value and the rest of the input.
    fn read_back(lit: &str) -> (String, &str) {
        let mut chars = lit.char_indices();
        assert_eq!(chars.next().map(|(_, c)| c), Some('"'));
        let mut out = String::new();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (out, &lit[i + 1..]),
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(c) => out.push(c),
                    None => panic!("dangling backslash in {lit:?}"),
                },
                c => out.push(c),
            }
        }
        panic!("unterminated string {lit:?}");
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("/Users/dev/project", r#""/Users/dev/project""#),
            (r#"/p/say "hi""#, r#""/p/say \"hi\"""#),
            (r"/p/back\slash", r#""/p/back\\slash""#),
            ("/p/two\nlines", r#""/p/two\nlines""#),
            ("/p/tab\there", r#""/p/tab\there""#),
            ("/p/cr\rhere", r#""/p/cr\rhere""#),
            ("/p/naïve/日本/😀", "\"/p/naïve/日本/😀\""),
            (
                r"^/p/(.*/)?[^/]*\.pem(/.*)?$",
                r#""^/p/(.*/)?[^/]*\\.pem(/.*)?$""#,
            ),
            (r"/p/a.b+c(d)|e{1}$^[x]", r#""/p/a.b+c(d)|e{1}$^[x]""#),
            (
                r#"/p/") (allow default) ("#,
                r#""/p/\") (allow default) (""#,
            ),
            (r#"/p/\") (allow default"#, r#""/p/\\\") (allow default""#),
            ("", r#""""#),
        ];
        for (input, want) in cases {
            assert_eq!(&string(input).unwrap(), want, "{input:?}");
            assert_eq!(read_back(want), ((*input).to_string(), ""));
        }
    }

    #[test]
    fn control_characters_and_length_are_refused() {
        assert_eq!(
            string("/p/\u{1b}[31m"),
            Err(EscapeError::ControlCharacter { code: 0x1b })
        );
        assert_eq!(
            string("/p/\u{0}"),
            Err(EscapeError::ControlCharacter { code: 0 })
        );
        assert_eq!(
            string("/p/\u{85}"),
            Err(EscapeError::ControlCharacter { code: 0x85 })
        );
        assert!(string(&"a".repeat(SBPL_STRING_MAX_BYTES)).is_ok());
        assert_eq!(
            string(&"a".repeat(SBPL_STRING_MAX_BYTES + 1)),
            Err(EscapeError::TooLong {
                len: SBPL_STRING_MAX_BYTES + 1
            })
        );
        // the limit counts escaped bytes
        assert!(string(&"\"".repeat(SBPL_STRING_MAX_BYTES / 2 + 1)).is_err());
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\nb\u{1b}c"), r"a\nb\u{1b}c");
        assert_eq!(comment("plain \"q\" é"), "plain \"q\" é");
    }

    proptest! {
        /// Whatever the text, the literal reads back as exactly that text and nothing after
        /// it: no input can end the string early or smuggle in another form.
        #[test]
        fn literals_read_back_exactly(text in any::<String>()) {
            match string(&text) {
                Ok(lit) => {
                    let (value, rest) = read_back(&lit);
                    prop_assert_eq!(value, text.clone());
                    prop_assert_eq!(rest, "");
                    prop_assert!(!lit.chars().any(|c| c.is_control()));
                }
                Err(EscapeError::ControlCharacter { code }) => {
                    let c = char::from_u32(code).unwrap();
                    prop_assert!(text.contains(c) && c.is_control() && !"\n\t\r".contains(c));
                }
                Err(EscapeError::TooLong { len }) => prop_assert!(len > SBPL_STRING_MAX_BYTES),
            }
        }

        #[test]
        fn regex_metacharacters_and_quotes_read_back(
            text in "[a-z\"\\\\.*+?^$(){}|\\[\\]/ \n\té日]{0,40}"
        ) {
            let lit = string(&text).unwrap();
            prop_assert_eq!(read_back(&lit), (text.clone(), ""));
        }

        #[test]
        fn comments_never_break_lines(text in any::<String>()) {
            let c = comment(&text);
            prop_assert!(!c.contains('\n') && !c.contains('\r'));
        }
    }
}
