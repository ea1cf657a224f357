//! Path globs, with the npm srt's gitignore-like grammar (`glob-pattern.js`): no escapes,
//! `*` within a component, `?` one character, `**` any depth, `**/` zero or more directories,
//! `[set]` without negation. A set whose ranges run backwards, an empty set, or an unmatched
//! bracket is literal text.
//!
//! The translation target is a regular expression that means the same in Rust's `regex` (used
//! by the decision procedure and the Linux expansion) and in Seatbelt's regex dialect (the
//! macOS backend). Both consume [`GlobRegex::body`].

/// One token of a parsed glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobToken {
    Text(String),
    Separator,
    AnyChar,
    Star,
    Globstar,
    GlobstarSlash,
    Set(String),
}

/// True when a spelling contains glob characters (`* ? [ ]`).
pub fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '[', ']'])
}

/// Parses a glob into tokens, merging runs of wildcards the way the peer does.
pub fn parse(pattern: &str) -> Vec<GlobToken> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens: Vec<GlobToken> = Vec::new();
    let mut text = String::new();
    let mut brackets_are_text_until = 0usize;
    let flush = |text: &mut String, tokens: &mut Vec<GlobToken>| {
        if !text.is_empty() {
            tokens.push(GlobToken::Text(std::mem::take(text)));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' => {
                flush(&mut text, &mut tokens);
                tokens.push(GlobToken::Separator);
                i += 1;
            }
            '?' => {
                flush(&mut text, &mut tokens);
                tokens.push(GlobToken::AnyChar);
                i += 1;
            }
            '*' => {
                flush(&mut text, &mut tokens);
                let start = i;
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                let run = i - start;
                let with_separator = run >= 2 && chars.get(i) == Some(&'/');
                let rest = run - if with_separator { 2 } else { 0 };
                if rest >= 2 {
                    add_wildcard(&mut tokens, GlobToken::Globstar);
                }
                if rest == 1 {
                    add_wildcard(&mut tokens, GlobToken::Star);
                }
                if with_separator {
                    add_wildcard(&mut tokens, GlobToken::GlobstarSlash);
                    i += 1;
                }
            }
            '[' if i >= brackets_are_text_until => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i + 1);
                match close {
                    None => {
                        brackets_are_text_until = chars.len();
                        text.push('[');
                        i += 1;
                    }
                    Some(close) => {
                        let members: String = chars[i + 1..close].iter().collect();
                        if set_is_valid(&members) {
                            flush(&mut text, &mut tokens);
                            tokens.push(GlobToken::Set(members));
                            i = close + 1;
                        } else {
                            brackets_are_text_until = close + 1;
                            text.push('[');
                            i += 1;
                        }
                    }
                }
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut text, &mut tokens);
    tokens
}

fn add_wildcard(tokens: &mut Vec<GlobToken>, kind: GlobToken) {
    let kind_at = |tokens: &Vec<GlobToken>, from_end: usize| -> Option<GlobToken> {
        tokens
            .len()
            .checked_sub(from_end)
            .map(|i| tokens[i].clone())
    };
    let last = kind_at(tokens, 1);
    if last == Some(GlobToken::Globstar) || last.as_ref() == Some(&kind) {
        return;
    }
    let is_globstar = kind == GlobToken::Globstar
        || (kind_at(tokens, 2).as_ref() == Some(&kind)
            && matches!(last, Some(GlobToken::Star | GlobToken::GlobstarSlash)));
    if !is_globstar {
        tokens.push(kind);
        return;
    }
    while matches!(
        tokens.last(),
        Some(GlobToken::Star | GlobToken::GlobstarSlash)
    ) {
        tokens.pop();
    }
    tokens.push(GlobToken::Globstar);
}

/// A set is valid when it is non-empty and no range runs backwards.
fn set_is_valid(members: &str) -> bool {
    let m: Vec<char> = members.chars().collect();
    if m.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < m.len() {
        let from = m[i];
        if m.get(i + 1) == Some(&'-') && i + 2 < m.len() {
            i += 2;
        }
        if m[i] < from {
            return false;
        }
        i += 1;
    }
    true
}

/// Escapes regex metacharacters in literal text.
pub fn escape_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if ".*+?^${}()|[]\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn token_regex(t: &GlobToken) -> String {
    match t {
        GlobToken::Text(s) => escape_literal(s),
        GlobToken::Separator => "/".into(),
        GlobToken::AnyChar => "[^/]".into(),
        GlobToken::Star => "[^/]*".into(),
        GlobToken::Globstar => ".*".into(),
        GlobToken::GlobstarSlash => "(.*/)?".into(),
        GlobToken::Set(m) => {
            let mut out = String::from("[");
            for c in m.chars() {
                if ".^$+{}()|\\".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push(']');
            out
        }
    }
}

/// `anchor` as literal text and separators, then `tail` parsed as a glob.
fn anchored_tokens(anchor: &str, tail: &str) -> Vec<GlobToken> {
    let mut tokens = Vec::new();
    for (i, part) in anchor.trim_end_matches('/').split('/').enumerate() {
        if i > 0 {
            tokens.push(GlobToken::Separator);
        }
        if !part.is_empty() {
            tokens.push(GlobToken::Text(part.to_string()));
        }
    }
    tokens.extend(parse(tail));
    tokens
}

/// The regex body of `tail` (a glob starting with `/`) beneath the literal directory `anchor`
/// (see [`GlobRegex::anchored`]), without compiling it.
pub fn anchored_body(anchor: &str, tail: &str) -> String {
    anchored_tokens(anchor, tail)
        .iter()
        .map(token_regex)
        .collect()
}

/// A glob translated to a regex, in the two anchored forms the peer uses.
///
/// The regexes are compiled on first use: a policy resolves dozens of globs (the mandatory
/// denies alone are one per name and root) and most are never matched in a `lint` run, while
/// the backends only need [`GlobRegex::body`]. Globs of the shape `PREFIX/**/SUFFIX` with
/// literal parts, which is every mandatory deny, are matched without a regex at all.
#[derive(Clone)]
pub struct GlobRegex {
    /// The unanchored body, e.g. `/p/(.*/)?[^/]*\.pem`.
    pub body: String,
    anywhere_below: Option<(String, String)>,
    allow: std::sync::OnceLock<Option<regex::Regex>>,
    deny: std::sync::OnceLock<Option<regex::Regex>>,
}

impl std::fmt::Debug for GlobRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GlobRegex({:?})", self.body)
    }
}

impl PartialEq for GlobRegex {
    fn eq(&self, other: &Self) -> bool {
        self.body == other.body
    }
}
impl Eq for GlobRegex {}

fn compile(body: &str, tail: &str) -> Option<regex::Regex> {
    // Bytes mode first (paths need not be UTF-8 to be matched); Unicode if the body needs it.
    regex::Regex::new(&format!("(?s-u)^{body}{tail}$"))
        .or_else(|_| regex::Regex::new(&format!("(?s)^{body}{tail}$")))
        .ok()
}

impl GlobRegex {
    /// Translates an absolute glob. Fails only if the regex engine rejects the result, which
    /// the grammar above never produces; the error is kept rather than assumed away.
    pub fn new(glob: &str) -> Result<Self, regex::Error> {
        Self::from_tokens(parse(glob))
    }

    /// Translates `tail` (a glob starting with `/`) beneath `anchor`, a directory that exists
    /// by name: the anchor is matched literally even if it contains `*`, `?`, `[` or `]` (the
    /// peer's `anchoredGlobEntry`, used for the mandatory denies under a write root).
    pub fn anchored(anchor: &str, tail: &str) -> Result<Self, regex::Error> {
        // Every policy resolved in a process gets the same mandatory-deny globs at the same
        // roots (`srt lint` of many files resolves them all at one made-up working directory),
        // so translations are kept per thread; a clone shares the compiled regexes.
        thread_local! {
            static MEMO: std::cell::RefCell<std::collections::HashMap<(String, String), GlobRegex>> =
                std::cell::RefCell::new(std::collections::HashMap::new());
        }
        let key = (anchor.to_string(), tail.to_string());
        if let Some(hit) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
            return Ok(hit);
        }
        let made = Self::from_tokens(anchored_tokens(anchor, tail))?;
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= 1024 {
                m.clear();
            }
            m.insert(key, made.clone());
        });
        Ok(made)
    }

    fn from_tokens(tokens: Vec<GlobToken>) -> Result<Self, regex::Error> {
        let body: String = tokens.iter().map(token_regex).collect();
        // Only a `[set]` can make the translation invalid for the regex engine (e.g. a nested
        // `[`); validate those now, so a bad translation is an error at resolve time rather
        // than a silent miss later.
        if tokens.iter().any(|t| matches!(t, GlobToken::Set(_))) {
            regex::Regex::new(&format!("(?s)^{body}(/.*)?$"))?;
        }
        Ok(GlobRegex {
            anywhere_below: anywhere_below(&tokens),
            body,
            allow: std::sync::OnceLock::new(),
            deny: std::sync::OnceLock::new(),
        })
    }

    /// What the glob compiled to: the regex body and, for `PREFIX/**/SUFFIX` with literal
    /// parts, those parts. [`GlobRegex::from_parts`] makes the same matcher again (in another
    /// process: srt's init decides paths with the rules the host resolved).
    pub fn parts(&self) -> (&str, Option<(&str, &str)>) {
        (
            &self.body,
            self.anywhere_below
                .as_ref()
                .map(|(p, s)| (p.as_str(), s.as_str())),
        )
    }

    /// The matcher [`GlobRegex::parts`] describes.
    pub fn from_parts(body: String, anywhere_below: Option<(String, String)>) -> Self {
        GlobRegex {
            body,
            anywhere_below,
            allow: std::sync::OnceLock::new(),
            deny: std::sync::OnceLock::new(),
        }
    }

    /// `^body$`: what an allow glob matches (the path itself only).
    pub fn allow_regex(&self) -> String {
        format!("^{}$", self.body)
    }

    /// `^body(/.*)?$`: what a deny glob matches (the path and everything beneath it).
    pub fn deny_regex(&self) -> String {
        format!("^{}(/.*)?$", self.body)
    }

    pub fn matches_exact(&self, path: &str) -> bool {
        if let Some((prefix, suffix)) = &self.anywhere_below {
            return below_match(path, prefix, suffix, false);
        }
        self.allow
            .get_or_init(|| compile(&self.body, ""))
            .as_ref()
            .is_some_and(|r| r.is_match(path))
    }

    pub fn matches_or_beneath(&self, path: &str) -> bool {
        if let Some((prefix, suffix)) = &self.anywhere_below {
            return below_match(path, prefix, suffix, true);
        }
        self.deny
            .get_or_init(|| compile(&self.body, "(/.*)?"))
            .as_ref()
            .is_some_and(|r| r.is_match(path))
    }
}

/// `PREFIX/**/SUFFIX` with literal PREFIX (absolute) and SUFFIX (no wildcards).
fn anywhere_below(tokens: &[GlobToken]) -> Option<(String, String)> {
    let pos = tokens.iter().position(|t| *t == GlobToken::GlobstarSlash)?;
    let literal = |ts: &[GlobToken]| -> Option<String> {
        ts.iter()
            .map(|t| match t {
                GlobToken::Text(s) => Some(s.clone()),
                GlobToken::Separator => Some("/".to_string()),
                _ => None,
            })
            .collect()
    };
    let prefix = literal(&tokens[..pos])?;
    let suffix = literal(&tokens[pos + 1..])?;
    (prefix.ends_with('/') && !suffix.is_empty() && !suffix.starts_with('/'))
        .then_some((prefix, suffix))
}

/// Does `PREFIX(.*/)?SUFFIX` match `path` exactly (`beneath = false`), or match it or one of
/// its ancestors (`beneath = true`, the deny reading `(/.*)?`)?
fn below_match(path: &str, prefix: &str, suffix: &str, beneath: bool) -> bool {
    let Some(rest) = path.strip_prefix(prefix) else {
        return false;
    };
    let mut from = 0;
    while let Some(i) = find_short(&rest.as_bytes()[from..], suffix.as_bytes()).map(|i| i + from) {
        let starts_component = i == 0 || rest.as_bytes()[i - 1] == b'/';
        let after = &rest[i + suffix.len()..];
        if starts_component && (after.is_empty() || (beneath && after.starts_with('/'))) {
            return true;
        }
        // Step past this match's first character (not byte: names need not be ASCII).
        from = i + rest[i..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// The first occurrence of `needle` (a short name) in `hay`: candidates by its first byte, then
/// compared (no searcher to set up, which costs more than the search for names this short).
fn find_short(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, _)) = needle.split_first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, &hay[from..]).map(|i| i + from) {
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// The static prefix of a glob: everything before its first glob character.
pub fn static_prefix(glob: &str) -> &str {
    match glob.find(['*', '?', '[', ']']) {
        Some(i) => &glob[..i],
        None => glob,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(g: &str) -> String {
        GlobRegex::new(g).unwrap().allow_regex()
    }

    #[test]
    fn translation_matches_the_peer_table() {
        assert_eq!(re("/p/**/*.pem"), r"^/p/(.*/)?[^/]*\.pem$");
        assert_eq!(re("/p/src/**/*.ts"), r"^/p/src/(.*/)?[^/]*\.ts$");
        assert_eq!(re("/p/config/*.json"), r"^/p/config/[^/]*\.json$");
        assert_eq!(re("/p/a?.txt"), r"^/p/a[^/]\.txt$");
        assert_eq!(re("/p/**"), r"^/p/.*$");
        assert_eq!(re("/p/[abc].txt"), r"^/p/[abc]\.txt$");
        assert_eq!(re("/p/[a.b]"), r"^/p/[a\.b]$");
        // backwards range and unmatched bracket are text
        assert_eq!(re("/p/[user-id]"), r"^/p/\[user-id\]$");
        assert_eq!(re("/p/[x"), r"^/p/\[x$");
        assert_eq!(re("/p/[]"), r"^/p/\[\]$");
        // runs of stars merge
        assert_eq!(re("/p/***"), r"^/p/.*$");
        assert_eq!(re("/p/**/**/x"), r"^/p/(.*/)?x$");
        assert_eq!(re("/p/(x)+$"), r"^/p/\(x\)\+\$$");
    }

    #[test]
    fn anchored_globs_match_the_anchor_literally() {
        let g = GlobRegex::anchored("/w/a[b]*", "/**/.bashrc").unwrap();
        assert_eq!(g.body, r"/w/a\[b\]\*/(.*/)?\.bashrc");
        assert!(g.matches_or_beneath("/w/a[b]*/x/.bashrc"));
        assert!(!g.matches_or_beneath("/w/ab/.bashrc"));
        let root = GlobRegex::anchored("/", "/**/.bashrc").unwrap();
        assert_eq!(root.deny_regex(), r"^/(.*/)?\.bashrc(/.*)?$");
    }

    #[test]
    fn allow_and_deny_forms() {
        let g = GlobRegex::new("/p/**/*.pem").unwrap();
        assert!(g.matches_exact("/p/a.pem"));
        assert!(g.matches_exact("/p/x/y/a.pem"));
        assert!(!g.matches_exact("/p/a.pem/inner"));
        assert!(g.matches_or_beneath("/p/a.pem/inner"));
        assert!(!g.matches_exact("/q/a.pem"));
        assert!(!g.matches_exact("/p/a.pemx"));
        let star = GlobRegex::new("/p/*.lock").unwrap();
        assert!(!star.matches_exact("/p/sub/x.lock"));
        assert!(star.matches_exact("/p/Cargo.lock"));
    }

    #[test]
    fn literal_below_globs_match_like_their_regex() {
        let g = GlobRegex::new("/p/**/.git/hooks").unwrap();
        assert!(g.anywhere_below.is_some());
        let allow = regex::Regex::new(&g.allow_regex()).unwrap();
        let deny = regex::Regex::new(&g.deny_regex()).unwrap();
        for path in [
            "/p/.git/hooks",
            "/p/.git/hooks/pre-commit",
            "/p/a/.git/hooks",
            "/p/a/b/.git/hooks/x/y",
            "/p/x.git/hooks",
            "/p/.git/hooksx",
            "/p/.git/hooks/.git/hooks",
            "/q/.git/hooks",
            "/p/.git",
            "/p/a.git/hooks/b/.git/hooks",
            "/p/",
            "/p",
            "/p/é日😀/.git/hooks",
            "/p/é.git/hooks/x",
        ] {
            assert_eq!(g.matches_exact(path), allow.is_match(path), "exact {path}");
            assert_eq!(
                g.matches_or_beneath(path),
                deny.is_match(path),
                "beneath {path}"
            );
        }
    }

    #[test]
    fn static_prefix_stops_at_first_glob_char() {
        assert_eq!(static_prefix("/a/b/*.x"), "/a/b/");
        assert_eq!(static_prefix("/a/b[c]/d"), "/a/b");
        assert_eq!(static_prefix("/a/b"), "/a/b");
    }
}
