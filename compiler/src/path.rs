//! Path spellings → absolute, canonical path patterns, with the npm srt's rules
//! (`normalizePathForSandbox`): `~` and `~/…` expand to the home directory, relative spellings
//! resolve against the cwd, `//` and `/./` collapse, a trailing `/**` means the directory
//! itself, and symlinks are resolved only when the result stays inside the spelled tree.

use std::path::{Component, Path, PathBuf};

use crate::fsview::FsView;
use crate::glob::{has_glob_chars, static_prefix, GlobRegex};

/// What a path rule covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathPattern {
    /// This path and everything beneath it.
    Literal(PathBuf),
    /// An absolute glob. Allow rules match the paths it names; deny rules also cover
    /// everything beneath a match (the peer's `(/.*)?$` suffix).
    Glob { glob: String, regex: GlobRegex },
}

/// `Path::starts_with` (by components), comparing bytes when both paths are spelled plainly
/// (absolute, no `.` component, no repeated or trailing `/`), which is how the IR spells them:
/// then a byte prefix ending at a `/` is exactly a component prefix.
pub fn starts_with(path: &Path, prefix: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let (p, q) = (path.as_os_str().as_bytes(), prefix.as_os_str().as_bytes());
    if !plain(p) || !plain(q) {
        return path.starts_with(prefix);
    }
    if q == b"/" {
        return true;
    }
    p.starts_with(q) && (p.len() == q.len() || p.get(q.len()) == Some(&b'/'))
}

/// Absolute, and no `.` component, no `//`, no trailing `/` (but `/` itself). One pass,
/// looking only after each `/`.
fn plain(b: &[u8]) -> bool {
    if b == b"/" {
        return true;
    }
    if b.first() != Some(&b'/') || b.last() == Some(&b'/') {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(b'/'), _) | (Some(b'.'), None | Some(b'/')) => return false,
                _ => {}
            }
        }
        i += 1;
    }
    true
}

impl PathPattern {
    /// Does the pattern apply to `path` (absolute, normalised)? `beneath` selects the deny
    /// reading of a glob (a match or anything under one); literals always cover their subtree.
    pub fn covers(&self, path: &Path, beneath: bool) -> bool {
        match self {
            PathPattern::Literal(p) => starts_with(path, p),
            PathPattern::Glob { .. } => self.covers_text(path, &path.to_string_lossy(), beneath),
        }
    }

    /// [`PathPattern::covers`] for a plain absolute `path` (see [`is_plain_absolute`]; what
    /// `Ir::absolute` returns), with `text` the path as text: made once by a caller that asks
    /// many patterns.
    pub fn covers_text(&self, path: &Path, text: &str, beneath: bool) -> bool {
        match self {
            PathPattern::Literal(p) => starts_with(path, p),
            PathPattern::Glob { regex, .. } => {
                if beneath {
                    regex.matches_or_beneath(text)
                } else {
                    regex.matches_exact(text)
                }
            }
        }
    }

    /// How specific the rule is: the number of path components it spells. A more specific
    /// rule wins over a less specific one of the opposite kind (e.g. `allowRead` inside a
    /// `denyRead`, or a deny inside that allow again).
    pub fn specificity(&self) -> usize {
        match self {
            PathPattern::Literal(p) => p.components().count(),
            PathPattern::Glob { glob, .. } => glob.split('/').filter(|s| !s.is_empty()).count() + 1,
        }
    }

    /// The literal directory a glob starts from, or the literal path itself.
    pub fn base(&self) -> PathBuf {
        match self {
            PathPattern::Literal(p) => p.clone(),
            PathPattern::Glob { glob, .. } => {
                let prefix = static_prefix(glob);
                match prefix.strip_suffix('/') {
                    Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                    Some(_) => PathBuf::from("/"),
                    None => Path::new(prefix)
                        .parent()
                        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
                }
            }
        }
    }

    pub fn is_glob(&self) -> bool {
        matches!(self, PathPattern::Glob { .. })
    }

    /// The pattern as srt shows it (absolute).
    pub fn display(&self) -> String {
        match self {
            PathPattern::Literal(p) => p.display().to_string(),
            PathPattern::Glob { glob, .. } => glob.clone(),
        }
    }
}

/// A resolved spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPath {
    pub pattern: PathPattern,
    /// When the spelled path (or a glob's base) is a symlink whose target leaves the spelled
    /// tree, the target; srt keeps the spelling, as the npm srt does, and says so.
    pub symlink_not_followed: Option<PathBuf>,
}

/// Why a spelling could not become a pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("glob `{glob}` cannot be translated: {reason}")]
    BadGlob { glob: String, reason: String },
}

/// An absolute path with nothing to fold: no `.` or `..` component, no repeated or trailing
/// separator. Two such paths compare component-wise exactly as they compare as bytes.
pub fn is_plain_absolute(path: &Path) -> bool {
    let s = path.as_os_str().as_encoded_bytes();
    if s == b"/" {
        return true;
    }
    s.first() == Some(&b'/')
        && s.last() != Some(&b'/')
        && s[1..]
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// Lexically folds `.` and `..` and repeated separators of an absolute path.
pub fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// Collapses `//` runs and `/./` components without touching `..` (glob spellings keep their
/// text otherwise).
fn collapse_interior(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for part in s.split('/') {
        if part == "." || (part.is_empty() && !out.is_empty()) {
            continue;
        }
        if !out.is_empty() || part.is_empty() {
            out.push('/');
        }
        out.push_str(part);
    }
    if out.len() > 1 && s.ends_with('/') {
        out.push('/');
    }
    if out.starts_with("//") {
        out.remove(0);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Expands `~` and `~/…`; makes a relative spelling absolute against `cwd`.
pub fn absolutize(spelling: &str, cwd: &Path, home: &Path) -> String {
    if spelling == "~" {
        return home.display().to_string();
    }
    if let Some(rest) = spelling.strip_prefix("~/") {
        return format!(
            "{}/{}",
            home.display().to_string().trim_end_matches('/'),
            rest
        );
    }
    if spelling.starts_with('/') {
        return spelling.to_string();
    }
    // Relative: fold the cwd-relative `.`/`..` lexically, as path.resolve does, but only in the
    // static part so glob text is kept verbatim.
    let prefix = static_prefix(spelling);
    let split = prefix.rfind('/').map_or(0, |i| i + 1);
    let (dir, rest) = spelling.split_at(split);
    let base = lexical_normalize(&cwd.join(dir));
    let base = base.display().to_string();
    if rest.is_empty() {
        base
    } else if base.ends_with('/') {
        format!("{base}{rest}")
    } else {
        format!("{base}/{rest}")
    }
}

/// The peer's `isSymlinkOutsideBoundary`: a resolution is accepted only if it is the same
/// path, the macOS `/private` form of it, or lies deeper inside it. Anything else (the root, a
/// one-component path, an ancestor, another tree) would silently widen or move the rule.
pub fn symlink_outside_boundary(original: &Path, resolved: &Path) -> bool {
    if original == resolved {
        return false;
    }
    let private = |p: &Path| -> Option<PathBuf> {
        (p.starts_with("/tmp") || p.starts_with("/var"))
            .then(|| Path::new("/private").join(p.strip_prefix("/").unwrap_or(p)))
    };
    let canonical = private(original);
    if canonical.as_deref() == Some(resolved) {
        return false;
    }
    if resolved == Path::new("/") || resolved.components().count() <= 2 {
        return true;
    }
    if original.starts_with(resolved)
        || canonical
            .as_deref()
            .is_some_and(|c| c.starts_with(resolved))
    {
        return true;
    }
    !(resolved.starts_with(original)
        || canonical
            .as_deref()
            .is_some_and(|c| resolved.starts_with(c)))
}

/// Resolves one spelling to a pattern.
pub fn resolve_spelling(
    spelling: &str,
    literal: bool,
    cwd: &Path,
    home: &Path,
    fs: &dyn FsView,
) -> Result<ResolvedPath, PathError> {
    let is_glob = !literal && has_glob_chars(spelling);
    let mut s = spelling.to_string();
    if !is_glob && s.len() > 1 && s.ends_with('/') {
        s = s.trim_end_matches('/').to_string();
        if s.is_empty() {
            s.push('/');
        }
    }
    let abs = collapse_interior(&absolutize(&s, cwd, home));
    if is_glob {
        // A trailing `/**` with a literal directory before it means that directory.
        if let Some(dir) = abs.strip_suffix("/**") {
            if !has_glob_chars(dir) {
                return resolve_spelling(
                    if dir.is_empty() { "/" } else { dir },
                    true,
                    cwd,
                    home,
                    fs,
                );
            }
        }
        let prefix = static_prefix(&abs);
        let mut glob = abs.clone();
        let mut not_followed = None;
        if !prefix.is_empty() && prefix != "/" {
            let base = match prefix.strip_suffix('/') {
                Some(d) => d.to_string(),
                None => Path::new(prefix)
                    .parent()
                    .map_or_else(|| "/".to_string(), |p| p.display().to_string()),
            };
            let base_path = lexical_normalize(Path::new(&base));
            if let Some(real) = fs.realpath(&base_path) {
                if symlink_outside_boundary(&base_path, &real) {
                    not_followed = Some(real);
                } else {
                    let rest = &abs[base.len()..];
                    glob = format!(
                        "{}{}",
                        real.display().to_string().trim_end_matches('/'),
                        rest
                    );
                }
            }
        }
        let regex = GlobRegex::new(&glob).map_err(|e| PathError::BadGlob {
            glob: glob.clone(),
            reason: e.to_string(),
        })?;
        return Ok(ResolvedPath {
            pattern: PathPattern::Glob { glob, regex },
            symlink_not_followed: not_followed,
        });
    }
    let abs = abs.strip_suffix("/.").unwrap_or(&abs);
    let spelled = lexical_normalize(Path::new(abs));
    let (path, not_followed) = match fs.realpath(&spelled) {
        Some(real) if !symlink_outside_boundary(&spelled, &real) => (real, None),
        Some(real) => (spelled, Some(real)),
        None => (resolve_existing_prefix(&spelled, fs), None),
    };
    Ok(ResolvedPath {
        pattern: PathPattern::Literal(path),
        symlink_not_followed: not_followed,
    })
}

/// For a path that does not exist, resolve its longest existing ancestor (when that stays in
/// bounds) so a missing file under a symlinked directory still gets its real location.
fn resolve_existing_prefix(path: &Path, fs: &dyn FsView) -> PathBuf {
    for ancestor in path.ancestors().skip(1) {
        if let Some(real) = fs.realpath(ancestor) {
            if symlink_outside_boundary(ancestor, &real) {
                return path.to_path_buf();
            }
            let rest = path.strip_prefix(ancestor).unwrap_or(Path::new(""));
            return real.join(rest);
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsview::FakeFs;

    fn lit(s: &str, fs: &FakeFs) -> ResolvedPath {
        resolve_spelling(
            s,
            false,
            Path::new("/home/dev/project"),
            Path::new("/home/dev"),
            fs,
        )
        .unwrap()
    }

    fn shown(s: &str, fs: &FakeFs) -> String {
        lit(s, fs).pattern.display()
    }

    #[test]
    fn byte_prefixes_agree_with_components() {
        for (p, b) in [
            ("/a/b", "/a"),
            ("/a/b", "/a/b"),
            ("/ab", "/a"),
            ("/a", "/a/b"),
            ("/a/b", "/"),
            ("/", "/"),
            ("/a/./b", "/a/b"),
            ("/a//b", "/a"),
            ("/a/b/", "/a/b"),
            ("/a/b", "/a/b/"),
        ] {
            if is_plain_absolute(Path::new(p)) {
                assert_eq!(
                    starts_with(Path::new(p), Path::new(b)),
                    Path::new(p).starts_with(b),
                    "{p} {b}"
                );
            }
        }
    }

    #[test]
    fn tilde_relative_and_interior_spellings() {
        let fs = FakeFs::new();
        assert_eq!(shown("~", &fs), "/home/dev");
        assert_eq!(shown("~/.ssh", &fs), "/home/dev/.ssh");
        assert_eq!(shown("~/.ssh/", &fs), "/home/dev/.ssh");
        assert_eq!(shown(".", &fs), "/home/dev/project");
        assert_eq!(shown("./src/../out", &fs), "/home/dev/project/out");
        assert_eq!(shown("../other", &fs), "/home/dev/other");
        assert_eq!(shown("/a//b/./c", &fs), "/a/b/c");
        assert_eq!(shown("~user/x", &fs), "/home/dev/project/~user/x");
        assert_eq!(shown("/", &fs), "/");
        assert_eq!(shown("out/**", &fs), "/home/dev/project/out");
        assert_eq!(shown("**/*.pem", &fs), "/home/dev/project/**/*.pem");
        assert_eq!(shown("src/*.lock", &fs), "/home/dev/project/src/*.lock");
    }

    #[test]
    fn literal_entries_keep_glob_characters() {
        let fs = FakeFs::new();
        let r =
            resolve_spelling("weird[1].txt", true, Path::new("/p"), Path::new("/h"), &fs).unwrap();
        assert_eq!(
            r.pattern,
            PathPattern::Literal(PathBuf::from("/p/weird[1].txt"))
        );
    }

    #[test]
    fn symlinks_inside_the_tree_are_followed_others_are_not() {
        let fs = FakeFs::new()
            .dir("/home/dev/project/real")
            .link("/home/dev/project/deeper", "/home/dev/project/deeper/x")
            .dir("/home/dev/project/deeper/x")
            .link("/home/dev/project/up", "/home/dev")
            .link("/home/dev/project/root", "/")
            .link("/home/dev/project/away", "/srv/data/away")
            .dir("/srv/data/away");
        assert_eq!(shown("real", &fs), "/home/dev/project/real");
        let up = lit("up", &fs);
        assert_eq!(up.pattern.display(), "/home/dev/project/up");
        assert_eq!(up.symlink_not_followed, Some(PathBuf::from("/home/dev")));
        assert_eq!(shown("root", &fs), "/home/dev/project/root");
        assert_eq!(shown("away", &fs), "/home/dev/project/away");
        assert!(symlink_outside_boundary(
            Path::new("/tmp/x"),
            Path::new("/tmp")
        ));
        assert!(!symlink_outside_boundary(
            Path::new("/tmp/x"),
            Path::new("/private/tmp/x")
        ));
        assert!(!symlink_outside_boundary(
            Path::new("/a/b"),
            Path::new("/a/b/c")
        ));
    }

    #[test]
    fn glob_base_is_resolved() {
        let fs = FakeFs::new()
            .dir("/data/src")
            .link("/home/dev/project/src", "/home/dev/project/src2")
            .dir("/home/dev/project/src2");
        // src -> src2 is a sibling, outside the spelled tree: kept.
        assert_eq!(shown("src/*.ts", &fs), "/home/dev/project/src/*.ts");
        let pat = lit("src/**/*.ts", &fs).pattern;
        assert_eq!(pat.base(), PathBuf::from("/home/dev/project/src"));
    }

    #[test]
    fn covers_and_specificity() {
        let fs = FakeFs::new();
        let ssh = lit("~/.ssh", &fs).pattern;
        assert!(ssh.covers(Path::new("/home/dev/.ssh/id_rsa"), true));
        assert!(!ssh.covers(Path::new("/home/dev/.sshx"), true));
        let pem = lit("**/*.pem", &fs).pattern;
        assert!(pem.covers(Path::new("/home/dev/project/a/b.pem"), false));
        assert!(
            pem.specificity()
                > PathPattern::Literal(PathBuf::from("/home/dev/project")).specificity()
        );
    }
}

#[cfg(test)]
mod starts_with_tests {
    use std::path::Path;

    use proptest::prelude::*;

    /// Spellings made of the pieces that make byte and component comparison differ.
    fn spelling() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof!["a", "ab", "b", ".", "..", "", "a.b", ".a"],
            0..5,
        )
        .prop_map(|parts| format!("/{}", parts.join("/")))
    }

    proptest! {
        #[test]
        fn agrees_with_components(p in spelling(), q in spelling()) {
            prop_assert_eq!(
                super::starts_with(Path::new(&p), Path::new(&q)),
                Path::new(&p).starts_with(&q),
                "{} / {}", p, q
            );
        }
    }

    #[test]
    fn plain_spellings() {
        let yes = [("/a/b", "/a"), ("/a", "/a"), ("/a", "/"), ("/", "/")];
        let no = [("/ab", "/a"), ("/a", "/a/b"), ("/b/a", "/a")];
        for (p, q) in yes {
            assert!(super::starts_with(Path::new(p), Path::new(q)), "{p} {q}");
        }
        for (p, q) in no {
            assert!(!super::starts_with(Path::new(p), Path::new(q)), "{p} {q}");
        }
    }
}
