//! A small git-config reader, close to git's own (`config.c`): `[section]`,
//! `[section "subsection"]` (quoted, with `\` escapes), the old `[section.subsection]`,
//! case-insensitive section and key names, `#`/`;` comments, quoted values with `\t \b \n \\
//! \"` escapes, and `\` line continuations. It never panics and allocates no more than its
//! input (which the caller bounds) plus a capped list of entries.
//!
//! Where git would stop with "bad config line", this reader notes the line and goes on with the
//! next one: it must find every setting git could read, and git reads none past an error.

/// One `key = value` as git sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Lower case.
    pub section: String,
    /// As written in `[section "sub"]` (lower case in the old `[section.sub]` form).
    pub subsection: Option<String>,
    /// Lower case.
    pub name: String,
    /// `None` for a bare key (a boolean true).
    pub value: Option<String>,
    /// 1-based line of the key.
    pub line: usize,
}

impl Entry {
    /// `section[.subsection].name`, as `git config` prints it.
    pub fn key(&self) -> String {
        match &self.subsection {
            Some(sub) => format!("{}.{sub}.{}", self.section, self.name),
            None => format!("{}.{}", self.section, self.name),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    /// Lines git would refuse (the first few).
    pub bad_lines: Vec<usize>,
    /// More than [`MAX_ENTRIES`] entries; the rest were not read.
    pub capped: bool,
}

pub(crate) const MAX_ENTRIES: usize = 100_000;
const MAX_BAD_LINES: usize = 16;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl Cursor<'_> {
    /// The next byte, with `\r\n` read as `\n`; `None` at the end.
    fn next(&mut self) -> Option<u8> {
        let mut c = *self.bytes.get(self.at)?;
        self.at += 1;
        if c == b'\r' && self.bytes.get(self.at) == Some(&b'\n') {
            self.at += 1;
            c = b'\n';
        }
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skips the rest of the current line (after an error).
    fn skip_line(&mut self) {
        while let Some(c) = self.next() {
            if c == b'\n' {
                return;
            }
        }
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// After `[`: the section (lower case, dots kept) and the quoted subsection, if any. On error
/// the cursor may be anywhere in the line; the caller skips the rest of it.
fn header(cur: &mut Cursor<'_>) -> Result<(String, Option<String>), bool> {
    let mut base = Vec::new();
    loop {
        // `Err(true)`: the error ended the line already.
        let c = cur.next().ok_or(true)?;
        match c {
            b']' => return Ok((text(base), None)),
            b'\n' => return Err(true),
            c if is_space(c) => break,
            c if is_key_char(c) || c == b'.' => base.push(c.to_ascii_lowercase()),
            _ => return Err(false),
        }
    }
    let mut c = b' ';
    while is_space(c) {
        if c == b'\n' {
            return Err(true);
        }
        c = cur.next().ok_or(true)?;
    }
    if c != b'"' {
        return Err(c == b'\n');
    }
    let mut sub = Vec::new();
    loop {
        let mut c = cur.next().ok_or(true)?;
        match c {
            b'\n' => return Err(true),
            b'"' => break,
            b'\\' => {
                c = cur.next().ok_or(true)?;
                if c == b'\n' {
                    return Err(true);
                }
            }
            _ => {}
        }
        sub.push(c);
    }
    match cur.next() {
        Some(b']') => Ok((text(base), Some(text(sub)))),
        Some(b'\n') | None => Err(true),
        Some(_) => Err(false),
    }
}

/// After `=`: the value, up to the end of the line (continuations followed). `Err(ended)` as
/// for [`header`].
fn value(cur: &mut Cursor<'_>) -> Result<String, bool> {
    let (mut quote, mut comment) = (false, false);
    let mut out = Vec::new();
    // Length of `out` without the unquoted whitespace at its end.
    let mut kept = 0;
    loop {
        let Some(mut c) = cur.next() else {
            return if quote {
                Err(true)
            } else {
                out.truncate(kept);
                Ok(text(out))
            };
        };
        if c == b'\n' {
            if quote {
                return Err(true);
            }
            out.truncate(kept);
            return Ok(text(out));
        }
        if comment {
            continue;
        }
        if is_space(c) && !quote {
            if !out.is_empty() {
                out.push(c);
            }
            continue;
        }
        if !quote && (c == b';' || c == b'#') {
            comment = true;
            continue;
        }
        match c {
            b'\\' => {
                c = match cur.next() {
                    Some(b'\n') => continue,
                    Some(b't') => b'\t',
                    Some(b'b') => 8,
                    Some(b'n') => b'\n',
                    Some(c @ (b'\\' | b'"')) => c,
                    None => return Err(true),
                    Some(_) => return Err(false),
                };
                out.push(c);
            }
            b'"' => quote = !quote,
            _ => out.push(c),
        }
        kept = out.len();
    }
}

/// Reads every entry of a git config file's text.
pub(crate) fn parse(bytes: &[u8]) -> Parsed {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut cur = Cursor {
        bytes,
        at: 0,
        line: 1,
    };
    let mut out = Parsed::default();
    let mut section: Option<(String, Option<String>)> = None;
    let mut comment = false;
    let bad = |out: &mut Parsed, line: usize| {
        if out.bad_lines.len() < MAX_BAD_LINES {
            out.bad_lines.push(line);
        }
    };
    while let Some(c) = cur.next() {
        if c == b'\n' {
            comment = false;
            continue;
        }
        if comment || is_space(c) {
            continue;
        }
        let line = cur.line;
        let ended = match c {
            b'#' | b';' => {
                comment = true;
                continue;
            }
            b'[' => match header(&mut cur) {
                Ok(s) => {
                    section = Some(s);
                    continue;
                }
                Err(ended) => {
                    section = None;
                    ended
                }
            },
            c if c.is_ascii_alphabetic() => match key_value(&mut cur, c, line, &section) {
                Ok(Some(entry)) => {
                    if out.entries.len() >= MAX_ENTRIES {
                        out.capped = true;
                        return out;
                    }
                    out.entries.push(entry);
                    continue;
                }
                // A key outside any section: git refuses the file.
                Ok(None) => true,
                Err(ended) => ended,
            },
            _ => false,
        };
        bad(&mut out, line);
        if !ended {
            cur.skip_line();
        }
    }
    out
}

fn key_value(
    cur: &mut Cursor<'_>,
    first: u8,
    line: usize,
    section: &Option<(String, Option<String>)>,
) -> Result<Option<Entry>, bool> {
    let mut name = vec![first.to_ascii_lowercase()];
    let mut c = cur.next();
    while let Some(k) = c.filter(|k| is_key_char(*k)) {
        name.push(k.to_ascii_lowercase());
        c = cur.next();
    }
    while matches!(c, Some(b' ' | b'\t')) {
        c = cur.next();
    }
    let value = match c {
        None | Some(b'\n') => None,
        Some(b'=') => Some(value(cur)?),
        Some(_) => return Err(false),
    };
    let Some((base, ext)) = section else {
        // The whole line has been read when there is a value or a line end.
        return Ok(None);
    };
    // git joins `[base "ext"]` into `base.ext` and splits the key at its first and last dot.
    let full = match ext {
        Some(e) => format!("{base}.{e}"),
        None => base.clone(),
    };
    let (section, subsection) = match full.split_once('.') {
        Some((s, sub)) => (s.to_string(), Some(sub.to_string())),
        None => (full, None),
    };
    Ok(Some(Entry {
        section,
        subsection,
        name: text(name),
        value,
        line,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn keys(s: &str) -> Vec<(String, Option<String>)> {
        parse(s.as_bytes())
            .entries
            .into_iter()
            .map(|e| (e.key(), e.value))
            .collect()
    }

    fn kv(k: &str, v: Option<&str>) -> (String, Option<String>) {
        (k.to_string(), v.map(str::to_string))
    }

    #[test]
    fn sections_subsections_and_case() {
        assert_eq!(
            keys("[Core]\n\tFSMonitor = a\n[remote \"Origin\"]\nurl=x\n[Alias.ST]\nst = !sh\n"),
            [
                kv("core.fsmonitor", Some("a")),
                kv("remote.Origin.url", Some("x")),
                kv("alias.st.st", Some("!sh")),
            ]
        );
        // A key on the header's line; a bare key; CRLF; a BOM.
        assert_eq!(
            keys("\u{feff}[core] editor=vim\r\n  bare\r\n"),
            [kv("core.editor", Some("vim")), kv("core.bare", None)]
        );
        assert_eq!(
            keys("[includeIf \"gitdir:~/a.b/\"]\npath = x\n"),
            [kv("includeif.gitdir:~/a.b/.path", Some("x"))]
        );
        let e = &parse(b"[includeIf \"gitdir:~/a.b/\"]\npath = x\n").entries[0];
        assert_eq!(
            (e.section.as_str(), e.subsection.as_deref()),
            ("includeif", Some("gitdir:~/a.b/"))
        );
        // Escapes in a subsection.
        assert_eq!(
            keys("[x \"a\\\"b\\\\c\"]\nk=v\n"),
            [kv("x.a\"b\\c.k", Some("v"))]
        );
    }

    #[test]
    fn values_quotes_comments_and_continuations() {
        assert_eq!(
            keys("[core]\nfsmonitor = \"touch /tmp/x; true\" # c\n"),
            [kv("core.fsmonitor", Some("touch /tmp/x; true"))]
        );
        assert_eq!(
            keys("[core]\nfsmonitor = tou\\\nch  x  ; c\n"),
            [kv("core.fsmonitor", Some("touch  x"))]
        );
        assert_eq!(
            keys("[a]\nk = \"x\\ty\\n\\\"\\\\\"\n"),
            [kv("a.k", Some("x\ty\n\"\\"))]
        );
        assert_eq!(keys("# [core]\n; fsmonitor = x\n"), []);
        assert_eq!(keys("[a]\nk = v"), [kv("a.k", Some("v"))]);
    }

    #[test]
    fn bad_lines_are_noted_and_skipped() {
        let p = parse(b"[core\nfsmonitor = a\n[ok]\nk = \"open\n[core]\nx = \\q\npager = less\n");
        assert_eq!(
            p.entries.iter().map(Entry::key).collect::<Vec<_>>(),
            ["core.pager"]
        );
        assert_eq!(p.bad_lines, [1, 2, 4, 6]);
        let p = parse(b"k = v\n[a]\n1k = v\nk v\n");
        assert!(p.entries.is_empty());
        assert_eq!(p.bad_lines, [1, 3, 4]);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        // A fixed pseudo-random stream over the characters the grammar cares about.
        let alphabet = b"[]\"\\\n\r\t =#;.abcK-!\xff\x00";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..2000 {
            let input: Vec<u8> = (0..len % 97)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let p = parse(&input);
            assert!(p.entries.len() <= input.len());
        }
        let many = "[a]\nk\n".repeat(MAX_ENTRIES + 5);
        let p = parse(many.as_bytes());
        assert!(p.capped && p.entries.len() == MAX_ENTRIES);
    }
}
