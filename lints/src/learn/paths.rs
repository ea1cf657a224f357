//! Filesystem refusals → `allowWrite` and `allowRead` candidates.
//!
//! Writes: each refused path is first tried on its own (the file with every refused path
//! allowed, decided again): what a mandatory deny, a `denyWrite` entry or the settings file
//! still refuses is never proposed, and the reason is the decision's. Writes under `/tmp`
//! get the TMPDIR advice instead of a write root. A write under a place srt knows (a
//! toolchain's cache, Claude Code's state) proposes that place, named. The rest are grouped
//! by the process that made them, and each group proposes the deepest directory covering
//! its paths, never `/`, a top-level directory, the home directory or a directory many tools
//! share (`~/.cache`, `~/.config`, …): a group whose common directory is one of those is
//! split below it, down to the files themselves.
//!
//! Reads: a path hidden by the user's `denyRead` proposes `allowRead` for that one path,
//! unless it is a secret srt knows (`~/.ssh`, `~/.aws`, …).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use srt_compiler::{builtin, Access, FileKind, Ir, Origin, PathDecision};

use super::known::{self, SHARED_UNDER_HOME};
use super::settle::{self, Candidate};
use super::{LearnInput, List, Subject};
use crate::knowledge::places::SECRETS;

/// What the path refusals gave.
#[derive(Default)]
pub(super) struct PathOutcome {
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<(usize, String)>,
    /// Refused by the user's own deny lists: recorded already.
    pub user_denied: Vec<usize>,
    pub advice: Vec<String>,
    pub already: u64,
}

/// Why a path decision refused, in words: the rule and what it is.
pub(super) fn denial(ir: &Ir, d: &PathDecision<'_>) -> String {
    match d.rule {
        Some(r) => match &r.origin {
            Origin::BuiltIn(name) => format!("built-in {name}: {}", builtin::describe(*name)),
            Origin::Policy { .. } if d.via_read_deny => format!(
                "reading it is denied by your {}, so writing is too",
                ir.describe(&r.origin)
            ),
            Origin::Policy { .. } => format!("your {} denies it", ir.describe(&r.origin)),
        },
        None => "not under any filesystem.allowWrite".into(),
    }
}

/// One refused write, and the directory that would cover it.
#[derive(Clone, Debug)]
struct Item {
    refusal: usize,
    path: PathBuf,
    target: PathBuf,
}

/// Said of a write root outside the home directory and the project.
const OUTSIDE: &str = " (outside the home directory and the project: make sure nothing outside the sandbox runs or trusts what is written there)";

const KERNEL: [&str; 3] = ["/proc", "/sys", "/dev"];
const TMP: [&str; 5] = [
    "/tmp",
    "/var/tmp",
    "/usr/tmp",
    "/private/tmp",
    "/private/var/tmp",
];

struct Paths<'a, 'b> {
    input: &'a LearnInput<'b>,
    ir: &'a Ir,
    home: PathBuf,
    cwd: PathBuf,
    /// The settings file is the project's (in the cwd): paths there are spelled relative.
    project: bool,
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', ']'])
}

impl Paths<'_, '_> {
    /// `(shown, json)`: `./x` in the project, `~/x` in the home directory, else absolute;
    /// the literal object form when the path holds glob characters.
    fn spell(&self, p: &Path) -> Option<(String, String)> {
        let abs = p.to_str()?;
        if has_glob(abs) {
            let json = serde_json::json!({"path": abs, "literal": true}).to_string();
            return Some((abs.to_string(), json));
        }
        let shown = match (p.strip_prefix(&self.cwd), p.strip_prefix(&self.home)) {
            (Ok(rel), _) if self.project => match rel.to_str()? {
                "" => ".".to_string(),
                r => format!("./{r}"),
            },
            (_, Ok(rel)) => match rel.to_str()? {
                "" => "~".to_string(),
                r => format!("~/{r}"),
            },
            _ => abs.to_string(),
        };
        let json = serde_json::Value::from(shown.clone()).to_string();
        Some((shown, json))
    }

    /// Too wide to be a write root: `/`, a top-level directory, the home directory or one of
    /// its ancestors, a directory many tools share, `/tmp`.
    fn too_wide(&self, dir: &Path) -> bool {
        dir.components().count() <= 2
            || self.home.starts_with(dir)
            || SHARED_UNDER_HOME.iter().any(|s| self.home.join(s) == dir)
            || TMP.iter().any(|t| Path::new(t) == dir)
            || dir == Path::new("/private/var")
    }

    fn candidate(
        &self,
        list: List,
        path: &Path,
        why: String,
        refusals: Vec<usize>,
    ) -> Option<Candidate> {
        let (shown, json) = self.spell(path)?;
        Some(Candidate {
            list,
            json,
            shown,
            known: None,
            why,
            refusals,
            fallback: Vec::new(),
            missing_dir: None,
            verify: true,
        })
    }

    /// Inside the home directory or the project.
    fn ours(&self, p: &Path) -> bool {
        p.starts_with(&self.home) || p.starts_with(&self.cwd)
    }

    /// A missing directory `srt learn --apply` may create: only in the home directory or the
    /// project, never a system directory.
    fn creatable(&self, dir: &Path) -> Option<PathBuf> {
        self.ours(dir).then(|| dir.to_path_buf())
    }

    /// The file itself.
    fn exact(&self, it: &Item, why: &str) -> Result<Option<Candidate>, String> {
        let dir = it
            .path
            .parent()
            .unwrap_or(Path::new("/"))
            .display()
            .to_string();
        if let Some(stem) = replacement_of(&it.path) {
            let known = known::REPLACED
                .iter()
                .find(|(p, _)| self.ir.absolute(Path::new(p)) == it.path.with_file_name(&stem))
                .map(|(_, advice)| format!(" {advice}"))
                .unwrap_or_default();
            return Err(format!(
                "a temporary file for replacing {stem} (written beside it, then renamed over it): srt can allow a file that is replaced only by allowing its whole directory, and {dir} is too wide.{known}"
            ));
        }
        if self.input.fs.kind(&it.path).is_none() {
            return Err(format!(
                "the file does not exist, and its directory ({dir}) is too wide to allow: srt can allow one file only when it exists. If the tool writes it in place, create it (touch it) and run srt learn again"
            ));
        }
        let Some(mut c) = self.candidate(
            List::AllowWrite,
            &it.path,
            why.to_string(),
            vec![it.refusal],
        ) else {
            return Ok(None);
        };
        if !self.ours(&it.path) {
            c.why.push_str(OUTSIDE);
        }
        Ok(Some(c))
    }

    /// The candidates for one tool's writes, and the writes no candidate may cover.
    fn cluster(&self, items: Vec<Item>, who: &str) -> Clustered {
        let Some(common) = common_ancestor(items.iter().map(|i| i.target.as_path())) else {
            return (Vec::new(), Vec::new());
        };
        if self.too_wide(&common) {
            return self.split(items, &common, who);
        }
        let n = items.len();
        let why = if n == 1 {
            format!("the directory of the write {who} was refused")
        } else {
            format!("the deepest directory covering the {n} writes {who} was refused")
        };
        let refusals = items.iter().map(|i| i.refusal).collect();
        let Some(mut c) = self.candidate(List::AllowWrite, &common, why, refusals) else {
            return (Vec::new(), Vec::new());
        };
        if self.input.fs.kind(&common).is_none() {
            c.missing_dir = self.creatable(&common);
        }
        if !self.ours(&common) {
            c.why.push_str(OUTSIDE);
        }
        // Should the directory be dropped, its refusals carry the reason it was dropped.
        c.fallback = self.split(items, &common, who).0;
        (vec![c], Vec::new())
    }

    /// Groups below `base`, each clustered on its own; the files directly in it, alone.
    fn split(&self, items: Vec<Item>, base: &Path, who: &str) -> Clustered {
        let mut groups: BTreeMap<OsString, Vec<Item>> = BTreeMap::new();
        let (mut out, mut rejected) = (Vec::new(), Vec::new());
        for it in items {
            let next = it
                .target
                .strip_prefix(base)
                .ok()
                .and_then(|rest| rest.components().next())
                .and_then(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                });
            match next {
                Some(n) => groups.entry(n).or_default().push(it),
                None if it.path != base && !self.too_wide(&it.path) => {
                    let why = if self.too_wide(base) {
                        format!("the file itself: its directory is too wide to allow for {who}")
                    } else {
                        format!("the file {who} wrote, alone")
                    };
                    match self.exact(&it, &why) {
                        Ok(c) => out.extend(c),
                        Err(why) => rejected.push((it.refusal, why)),
                    }
                }
                None => rejected.push((
                    it.refusal,
                    format!(
                        "{} is the home directory, a top-level directory or one many tools share: srt learn proposes no write root that wide. If it is missing, create it before the run; otherwise allow the tool's own directory below it",
                        it.path.display()
                    ),
                )),
            }
        }
        for group in groups.into_values() {
            let (c, r) = self.cluster(group, who);
            out.extend(c);
            rejected.extend(r);
        }
        (out, rejected)
    }
}

/// Candidates, and refusals (with why) no candidate may cover.
type Clustered = (Vec<Candidate>, Vec<(usize, String)>);

/// The file a temporary file is meant to replace (`~/.claude.json` for
/// `~/.claude.json.tmp.6.0812c05da8a6`, `x` for `.x.swp`-style and `x.tmp-123` names), when
/// its name says it is one.
fn replacement_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    for marker in [".tmp.", ".tmp-", ".tmp_", ".temp.", ".tmp"] {
        if let Some(i) = name.find(marker) {
            let tail = &name[i + marker.len()..];
            if i > 0 && (marker != ".tmp" || tail.is_empty()) {
                return Some(name[..i].to_string());
            }
        }
    }
    None
}

/// The deepest directory that is an ancestor of (or equal to) every path.
fn common_ancestor<'p>(mut paths: impl Iterator<Item = &'p Path>) -> Option<PathBuf> {
    let mut common = paths.next()?.to_path_buf();
    for p in paths {
        while !p.starts_with(&common) {
            if !common.pop() {
                return None;
            }
        }
    }
    Some(common)
}

/// Does the project's settings file live in the cwd?
fn project_file(input: &LearnInput<'_>) -> bool {
    match input.path.and_then(Path::parent) {
        None => false,
        Some(d) if d.as_os_str().is_empty() => true,
        Some(d) => input.fs.realpath(d).unwrap_or_else(|| d.to_path_buf()) == input.opts.cwd,
    }
}

pub(super) fn candidates(input: &LearnInput<'_>, ir: &Ir, indices: &[usize]) -> PathOutcome {
    let me = Paths {
        input,
        ir,
        home: input.opts.home.clone(),
        cwd: input.opts.cwd.clone(),
        project: project_file(input),
    };
    let mut out = PathOutcome::default();
    let mut writes: Vec<usize> = Vec::new();
    for &i in indices {
        let r = &input.refusals[i];
        let Subject::Path { access, path } = &r.subject else {
            continue;
        };
        if !path.is_absolute() {
            out.rejected.push((
                i,
                "the path is not absolute; srt learn cannot place it".into(),
            ));
            continue;
        }
        if path.to_str().is_none() {
            out.rejected.push((
                i,
                "the path is not UTF-8, which a settings file cannot name".into(),
            ));
            continue;
        }
        let d = ir.decide_path(path, *access);
        if d.allowed {
            out.already += r.times;
            continue;
        }
        if KERNEL.iter().any(|k| path.starts_with(k)) {
            out.rejected.push((
                i,
                "a kernel filesystem or device: srt does not make it writable".into(),
            ));
            continue;
        }
        match access {
            Access::Read => read(&me, i, path, &d, &mut out),
            Access::Write => writes.push(i),
        }
    }
    write(&me, writes, &mut out);
    out
}

fn read(me: &Paths<'_, '_>, i: usize, path: &Path, d: &PathDecision<'_>, out: &mut PathOutcome) {
    let Some(rule) = d.rule.filter(|r| matches!(r.origin, Origin::Policy { .. })) else {
        out.rejected.push((i, denial(me.ir, d)));
        return;
    };
    let rule_text = me.ir.describe(&rule.origin);
    if let Some((_, what)) = SECRETS
        .iter()
        .find(|(s, _)| path.starts_with(me.ir.absolute(Path::new(s))))
    {
        out.user_denied.push(i);
        out.rejected.push((
            i,
            format!("{what}: srt learn never proposes reading a secret; your {rule_text} keeps it hidden"),
        ));
        return;
    }
    let why = format!("hidden by your {rule_text}: this re-allows this one path");
    out.candidates
        .extend(me.candidate(List::AllowRead, path, why, vec![i]));
}

fn write(me: &Paths<'_, '_>, writes: Vec<usize>, out: &mut PathOutcome) {
    let input = me.input;
    let path_of = |i: usize| match &input.refusals[i].subject {
        Subject::Path { path, .. } => path.clone(),
        _ => PathBuf::new(),
    };
    // Each path alone, allowed exactly: what is still refused never will be.
    let exact: Vec<Candidate> = writes
        .iter()
        .filter_map(|&i| me.candidate(List::AllowWrite, &path_of(i), String::new(), vec![i]))
        .collect();
    let probe = settle::hypothetical(input, &exact.iter().collect::<Vec<_>>());
    let tmpdir = me.ir.absolute(Path::new(input.tmpdir));
    let mut places: Vec<(PathBuf, known::KnownPlace)> = known::places(input.target)
        .into_iter()
        .map(|k| (me.ir.absolute(Path::new(&k.spelled)), k))
        .collect();
    // `CLAUDE_CODE_TMPDIR` (or `CLAUDE_TMPDIR`) moves the command's TMPDIR, which srt then
    // does not make writable by itself (the npm srt's rule: only /tmp/claude is).
    if let Some((shown, _)) = me
        .spell(&tmpdir)
        .filter(|_| !TMP.iter().any(|t| tmpdir.starts_with(t)))
    {
        places.insert(
            0,
            (
                tmpdir.clone(),
                known::KnownPlace {
                    spelled: shown,
                    what: "$TMPDIR, the temporary directory srt gives the command (CLAUDE_CODE_TMPDIR), which srt does not make writable by itself".into(),
                },
            ),
        );
    }
    let not_needed: Vec<(String, &str)> = known::NOT_NEEDED
        .iter()
        .map(|(p, why)| {
            (
                me.ir.absolute(Path::new(p)).to_string_lossy().into_owned(),
                *why,
            )
        })
        .collect();
    let mut known_hits: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut by_command: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut to_tmp = 0usize;
    for i in writes {
        let path = path_of(i);
        if let Some((_, _, probe)) = &probe {
            let d = probe.decide_path(&path, Access::Write);
            if !d.allowed {
                if d.rule
                    .is_some_and(|r| matches!(r.origin, Origin::Policy { .. }))
                {
                    out.user_denied.push(i);
                }
                out.rejected.push((i, denial(probe, &d)));
                continue;
            }
        }
        // A home or project that lives under /tmp (a CI runner's) is not a temporary file.
        let temporary = TMP.iter().any(|t| path.starts_with(t))
            && ![&tmpdir, &me.home, &me.cwd]
                .iter()
                .any(|d| path.starts_with(d));
        if temporary {
            to_tmp += 1;
            out.rejected.push((
                i,
                format!("a temporary file outside $TMPDIR: srt gives the command TMPDIR={} to write, and does not propose /tmp as a write root", input.tmpdir),
            ));
            continue;
        }
        if let Some((_, why)) = not_needed
            .iter()
            .find(|(prefix, _)| path.to_string_lossy().starts_with(prefix.as_str()))
        {
            out.rejected.push((i, (*why).to_string()));
            continue;
        }
        if let Some(k) = places.iter().position(|(p, _)| path.starts_with(p)) {
            known_hits.entry(k).or_default().push(i);
            continue;
        }
        let r = &input.refusals[i];
        let makes_dir = r.how.iter().any(|h| h.starts_with("mkdir"));
        let target = if makes_dir || input.fs.kind(&path) == Some(FileKind::Dir) {
            path.clone()
        } else {
            path.parent()
                .map_or_else(|| path.clone(), Path::to_path_buf)
        };
        let who = r.commands.iter().next().cloned().unwrap_or_default();
        by_command.entry(who).or_default().push(Item {
            refusal: i,
            path,
            target,
        });
    }
    for (k, idx) in known_hits {
        let (abs, place) = &places[k];
        let why = "a place srt knows".to_string();
        if let Some(mut c) = me.candidate(List::AllowWrite, abs, why, idx) {
            c.shown = place.spelled.clone();
            c.json = serde_json::Value::from(place.spelled.clone()).to_string();
            c.known = Some(place.what.clone());
            if input.fs.kind(abs).is_none() {
                c.missing_dir = me.creatable(abs);
            }
            out.candidates.push(c);
        }
    }
    // One tool's writes are clustered together; two tools that need the same directory
    // (`mkdir -p d` then the shell writing `d/f`) share its entry.
    let mut clustered: Vec<(Candidate, Vec<String>)> = Vec::new();
    for (who, items) in by_command {
        let shown = if who.is_empty() {
            "the command".to_string()
        } else {
            format!("`{who}`")
        };
        let (candidates, rejected) = me.cluster(items, &shown);
        out.rejected.extend(rejected);
        for c in candidates {
            match clustered.iter_mut().find(|(o, _)| o.json == c.json) {
                Some((o, whos)) => {
                    o.refusals.extend(c.refusals);
                    whos.push(shown.clone());
                    o.why = format!(
                        "the deepest directory covering the {} writes {} were refused",
                        o.refusals.len(),
                        whos.join(" and ")
                    );
                }
                None => clustered.push((c, vec![shown.clone()])),
            }
        }
    }
    out.candidates.extend(clustered.into_iter().map(|(c, _)| c));
    if to_tmp > 0 {
        let tmpdir_missing = input.fs.kind(&tmpdir).is_none();
        let mut advice = if tmpdir_missing {
            // A tool that finds $TMPDIR unusable tries the usual places next (Python's
            // tempfile: /tmp, /var/tmp, /usr/tmp, then the current directory).
            format!(
                "{to_tmp} write{} went to /tmp and the like because $TMPDIR ({}) does not exist: they are a tool's fallbacks and go away once it does",
                if to_tmp == 1 { "" } else { "s" },
                input.tmpdir
            )
        } else {
            format!(
                "{to_tmp} write{} went to /tmp rather than $TMPDIR: srt gives the command TMPDIR={}, which it may write; make the tool use $TMPDIR (most do; some take an option) instead of allowing /tmp",
                if to_tmp == 1 { "" } else { "s" },
                input.tmpdir
            )
        };
        if tmpdir_missing {
            advice.push_str(&format!(
                ". {} does not exist: create it before the run (mkdir -p {})",
                input.tmpdir, input.tmpdir
            ));
        }
        out.advice.push(advice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ancestors() {
        let p = |s: &'static str| Path::new(s);
        assert_eq!(
            common_ancestor([p("/a/b/c"), p("/a/b/d/e")].into_iter()),
            Some(PathBuf::from("/a/b"))
        );
        assert_eq!(
            common_ancestor([p("/a/b")].into_iter()),
            Some(PathBuf::from("/a/b"))
        );
        assert_eq!(
            common_ancestor([p("/x"), p("/y")].into_iter()),
            Some(PathBuf::from("/"))
        );
    }
}
