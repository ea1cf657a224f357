//! A small reader for the SBPL subset profiles use: s-expressions, `;` comments, symbols,
//! `"…"` strings with the escapes `\\ \" \n \t \r`, and `#"…"` regex literals. Anything else
//! (another escape, a raw control character in a string, an unbalanced parenthesis) is an
//! error: the emitter must never produce it.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sexp {
    List(Vec<Sexp>, Pos),
    Sym(String, Pos),
    Str(String, Pos),
    /// `#"…"`: a regex literal, read without escapes.
    Raw(String, Pos),
}

/// 1-based line of a form's first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos(pub usize);

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.0)
    }
}

impl Sexp {
    pub fn pos(&self) -> Pos {
        match self {
            Sexp::List(_, p) | Sexp::Sym(_, p) | Sexp::Str(_, p) | Sexp::Raw(_, p) => *p,
        }
    }

    pub fn sym(&self) -> Option<&str> {
        match self {
            Sexp::Sym(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(items, _) => Some(items),
            _ => None,
        }
    }
}

struct Reader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    fn skip_space(&mut self) {
        while let Some(&c) = self.chars.peek() {
            if c == ';' {
                while self.next().is_some_and(|c| c != '\n') {}
            } else if c.is_whitespace() {
                self.next();
            } else {
                break;
            }
        }
    }

    fn string(&mut self, pos: Pos) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(format!("{pos}: unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => match self.next() {
                    Some('\\') => out.push('\\'),
                    Some('"') => out.push('"'),
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    other => return Err(format!("{pos}: unknown string escape \\{other:?}")),
                },
                Some(c) if c.is_control() => {
                    return Err(format!("{pos}: raw control character {c:?} in a string"))
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn form(&mut self) -> Result<Option<Sexp>, String> {
        self.skip_space();
        let pos = Pos(self.line);
        let Some(&c) = self.chars.peek() else {
            return Ok(None);
        };
        match c {
            '(' => {
                self.next();
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.chars.peek() {
                        None => return Err(format!("{pos}: unclosed (")),
                        Some(')') => {
                            self.next();
                            return Ok(Some(Sexp::List(items, pos)));
                        }
                        Some(_) => match self.form()? {
                            Some(f) => items.push(f),
                            None => return Err(format!("{pos}: unclosed (")),
                        },
                    }
                }
            }
            ')' => Err(format!("{pos}: unexpected )")),
            '"' => {
                self.next();
                Ok(Some(Sexp::Str(self.string(pos)?, pos)))
            }
            '#' => {
                self.next();
                if self.next() != Some('"') {
                    return Err(format!("{pos}: # not followed by \""));
                }
                let mut out = String::new();
                loop {
                    match self.next() {
                        None => return Err(format!("{pos}: unterminated #\"")),
                        Some('"') => return Ok(Some(Sexp::Raw(out, pos))),
                        Some(c) if c.is_control() => {
                            return Err(format!("{pos}: control character in #\"…\""))
                        }
                        Some(c) => out.push(c),
                    }
                }
            }
            _ => {
                let mut sym = String::new();
                while let Some(&c) = self.chars.peek() {
                    if c.is_whitespace() || "();\"".contains(c) {
                        break;
                    }
                    sym.push(c);
                    self.next();
                }
                Ok(Some(Sexp::Sym(sym, pos)))
            }
        }
    }
}

/// Reads every top-level form.
pub fn read(text: &str) -> Result<Vec<Sexp>, String> {
    let mut r = Reader {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut out = Vec::new();
    while let Some(f) = r.form()? {
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_strings_and_comments() {
        let f = read("(version 1) ; c\n(allow x (regex #\"^/a\") (subpath \"/q\\\"\\\\\\n\"))")
            .unwrap();
        assert_eq!(f.len(), 2);
        let items = f[1].list().unwrap();
        assert_eq!(items[0].sym(), Some("allow"));
        assert_eq!(items[2].list().unwrap()[1], Sexp::Raw("^/a".into(), Pos(2)));
        assert_eq!(
            items[3].list().unwrap()[1],
            Sexp::Str("/q\"\\\n".into(), Pos(2))
        );
    }

    #[test]
    fn rejects_what_the_emitter_must_not_write() {
        for bad in [
            "(a",
            "a)",
            "(a \"x)",
            "(a \"\\u0001\")",
            "(a \"x\u{1}\")",
            "(a #x)",
        ] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
    }
}
