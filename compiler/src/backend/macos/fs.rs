//! Sections 5–7: file read, file write, and read-denied paths inside write roots.
//!
//! Reads follow [`crate::decide`]: allowed by default; among the `denyRead` and `allowRead`
//! rules that match, the most specific decides, and a tie goes to the allow. Seatbelt applies
//! the last matching rule, so the rules are emitted in layers of increasing specificity, the
//! denies of one specificity before its allows.
//!
//! Writes: the roots allow, then `denyWrite`, the settings file and the mandatory denies. A
//! path that cannot be read cannot be written either (section 7).
//!
//! Moving a file is an unlink at its old name and a create at its new one, so "deny unlink and
//! create" on a denied path and on every directory above it keeps the path where its rule
//! applies (the npm srt's move-blocking rules).

use std::path::{Path, PathBuf};

use super::render::{Action, Filters, Item};
use super::{Ctx, EmitError};
use crate::glob::anchored_body;
use crate::ir::PathRule;
use crate::path::PathPattern;

const READ: &str = "file-read*";
const WRITE: &str = "file-write*";
const MOVE: &str = "file-write-unlink file-write-create";
const UNLINK: &str = "file-write-unlink";

pub(super) fn file_sections(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    if ctx.ir.fs.disabled {
        let note = Some(ctx.key_note("filesystem.disabled"));
        items.push(Item::Blank);
        items.push(Item::Comment(
            "File read and write: filesystem.disabled lifts every filesystem rule".into(),
        ));
        items.push(Item::Unconditional {
            action: Action::Allow,
            ops: READ,
            note: note.clone(),
        });
        items.push(Item::Unconditional {
            action: Action::Allow,
            ops: WRITE,
            note,
        });
        return Ok(());
    }
    read_section(ctx, items)?;
    write_section(ctx, items)?;
    read_denied_in_roots(ctx, items)
}

fn note(ctx: &Ctx<'_>, r: &PathRule) -> String {
    ctx.note(&r.origin, &r.spelled, &r.pattern.display())
}

/// The filter for a deny: the path and everything beneath it.
fn deny_filter(ctx: &Ctx<'_>, r: &PathRule) -> Result<String, EmitError> {
    let what = || ctx.ir.describe(&r.origin);
    match &r.pattern {
        PathPattern::Literal(p) => ctx.subpath(p, &what),
        PathPattern::Glob { regex, .. } => ctx.regex(&regex.deny_regex(), &what),
    }
}

/// The filter for an allow: a literal's subtree, or exactly the paths a glob names.
fn allow_filter(ctx: &Ctx<'_>, r: &PathRule) -> Result<String, EmitError> {
    let what = || ctx.ir.describe(&r.origin);
    match &r.pattern {
        PathPattern::Literal(p) => ctx.subpath(p, &what),
        PathPattern::Glob { regex, .. } => ctx.regex(&regex.allow_regex(), &what),
    }
}

/// Ancestors of `p`, nearest first, without `/`.
fn ancestors(p: &Path) -> impl Iterator<Item = &Path> {
    p.ancestors().skip(1).take_while(|a| a.parent().is_some())
}

/// The directories whose move would carry a rule's paths away: a glob's base directory, and
/// every directory above the rule's base, up to (not including) `/`.
fn move_dirs(r: &PathRule) -> Vec<PathBuf> {
    let base = r.pattern.base();
    let mut out = Vec::new();
    if r.pattern.is_glob() && base.parent().is_some() {
        out.push(base.clone());
    }
    out.extend(ancestors(&base).map(Path::to_path_buf));
    out
}

/// Adds the move-blocking filters for `r` (the rule's own filter, then the directories above).
/// `keep` decides, per path, whether a filter is worth writing.
fn add_move_blocking(
    ctx: &Ctx<'_>,
    r: &PathRule,
    filters: &mut Filters,
    keep_subtree: impl Fn(&Path) -> bool,
    keep_dir: impl Fn(&Path) -> bool,
) -> Result<(), EmitError> {
    let n = note(ctx, r);
    let own = match &r.pattern {
        PathPattern::Literal(p) => keep_subtree(p),
        PathPattern::Glob { .. } => true,
    };
    if own {
        filters.add(deny_filter(ctx, r)?, format!("move-blocking: {n}"));
    }
    for dir in move_dirs(r) {
        if keep_dir(&dir) {
            let what = || ctx.ir.describe(&r.origin);
            filters.add(
                ctx.literal(&dir, &what)?,
                format!("move-blocking, directory above: {n}"),
            );
        }
    }
    Ok(())
}

/// `denyRead` and `allowRead` in the order Seatbelt needs them: increasing specificity, denies
/// before allows of the same specificity, consecutive rules of one kind in one layer. Layers
/// before the first deny change nothing (reading is allowed already) and are left out, and so
/// is a deny filter that an allow of the very same path replaces.
fn read_layers<'a>(
    rules_deny: &'a [PathRule],
    rules_allow: &'a [PathRule],
) -> Vec<(bool, Vec<&'a PathRule>)> {
    let mut all: Vec<(usize, bool, usize, &PathRule)> = rules_deny
        .iter()
        .enumerate()
        .map(|(i, r)| (r.pattern.specificity(), false, i, r))
        .chain(
            rules_allow
                .iter()
                .enumerate()
                .map(|(i, r)| (r.pattern.specificity(), true, i, r)),
        )
        .collect();
    all.sort_by_key(|(spec, is_allow, i, _)| (*spec, *is_allow, *i));
    // A literal deny whose path a literal allow also names is decided by the allow (a tie).
    let replaced = |d: &PathRule| {
        rules_allow
            .iter()
            .any(|a| !a.pattern.is_glob() && !d.pattern.is_glob() && a.pattern == d.pattern)
    };
    let mut layers: Vec<(bool, Vec<(usize, &'a PathRule)>)> = Vec::new();
    for (_, is_allow, i, r) in all {
        if !is_allow && replaced(r) {
            continue;
        }
        if layers.is_empty() && is_allow {
            continue;
        }
        match layers.last_mut() {
            Some((allow, rules)) if *allow == is_allow => rules.push((i, r)),
            _ => layers.push((is_allow, vec![(i, r)])),
        }
    }
    layers
        .into_iter()
        .map(|(allow, mut rules)| {
            rules.sort_by_key(|(i, _)| *i);
            (!allow, rules.into_iter().map(|(_, r)| r).collect())
        })
        .collect()
}

fn under_literal_root(roots: &[PathRule], p: &Path) -> bool {
    roots
        .iter()
        .any(|r| matches!(&r.pattern, PathPattern::Literal(q) if p.starts_with(q)))
}

/// Is the directory `p` itself writable through a root (a literal root above or at it, or a
/// glob root naming it)?
fn dir_in_root(roots: &[PathRule], p: &Path) -> bool {
    under_literal_root(roots, p)
        || roots
            .iter()
            .any(|r| r.pattern.is_glob() && r.pattern.covers(p, false))
}

fn read_section(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    let fs = &ctx.ir.fs;
    items.push(Item::Blank);
    items.push(Item::Comment(
        "File read: allowed by default; the most specific of denyRead and allowRead wins, a tie goes to the allow".into(),
    ));
    items.push(Item::Unconditional {
        action: Action::Allow,
        ops: READ,
        note: Some("built-in: reading is allowed by default".into()),
    });
    for (deny, rules) in read_layers(&fs.deny_read, &fs.allow_read) {
        let mut filters = Filters::default();
        for r in rules {
            let f = if deny {
                deny_filter(ctx, r)?
            } else {
                allow_filter(ctx, r)?
            };
            filters.add(f, note(ctx, r));
        }
        let action = if deny { Action::Deny } else { Action::Allow };
        items.push(Item::rule(action, READ, filters));
    }
    if !ctx.opts.trust_files.is_empty() {
        let what = || "the run's trust files".to_string();
        let mut filters = Filters::default();
        for f in &ctx.opts.trust_files {
            filters.add(
                ctx.literal(f, &what)?,
                "tlsTerminate: the run's CA bundle or Java trust store (certificates only)".into(),
            );
        }
        items.push(Item::rule(Action::Allow, READ, filters));
    }
    if fs
        .deny_read
        .iter()
        .any(|d| d.pattern.covers(Path::new("/"), true))
    {
        items.push(Item::single(
            Action::Allow,
            READ,
            "(literal \"/\")".into(),
            "built-in: the root directory itself stays readable, or no program starts; what is beneath it stays denied".into(),
        ));
    }
    if !fs.deny_read.is_empty() {
        items.push(Item::single(
            Action::Allow,
            "file-read-metadata",
            "(vnode-type DIRECTORY)".into(),
            "built-in: stat() on any directory, so realpath() works through denied ones".into(),
        ));
    }
    // Read-denied paths, and the directories above them, stay where they are. What lies in a
    // write root is re-allowed just below (so `rm` works there); a filter that re-allow would
    // cover entirely is left out, and section 7 takes the read-denied paths in roots back.
    let roots = &fs.allow_write;
    let mut moves = Filters::default();
    for d in &fs.deny_read {
        add_move_blocking(
            ctx,
            d,
            &mut moves,
            |p| !under_literal_root(roots, p),
            |p| !dir_in_root(roots, p),
        )?;
    }
    items.push(Item::rule(Action::Deny, MOVE, moves));
    let mut reallow = Filters::default();
    for r in roots {
        reallow.add(allow_filter(ctx, r)?, note(ctx, r));
    }
    items.push(Item::rule(Action::Allow, MOVE, reallow));
    Ok(())
}

fn write_section(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    let fs = &ctx.ir.fs;
    items.push(Item::Blank);
    items.push(Item::Comment(
        "File write: denied by default; the write roots allow; denyWrite, the settings file and the mandatory denies win inside them".into(),
    ));
    let mut allow = Filters::default();
    for r in &fs.allow_write {
        allow.add(allow_filter(ctx, r)?, note(ctx, r));
    }
    items.push(Item::rule(Action::Allow, WRITE, allow));
    let mut deny = Filters::default();
    let mut moves = Filters::default();
    for d in &fs.deny_write {
        deny.add(deny_filter(ctx, d)?, note(ctx, d));
        add_move_blocking(ctx, d, &mut moves, |_| true, |_| true)?;
    }
    // The mandatory denies, as the npm srt writes them: the name at the root, and the name
    // anywhere beneath it (the root matched literally, whatever characters it contains).
    for root in &fs.mandatory_deny_roots {
        let what = || format!("mandatory deny under {}", root.display());
        let root_text = ctx.path_text(root, &what)?;
        for name in &fs.mandatory_deny_names {
            let n = format!("built-in mandatory-deny: {name} under {}", root.display());
            let at_root = root.join(name);
            let sub = ctx.subpath(&at_root, &what)?;
            let regex = format!(
                "^{}(/.*)?$",
                anchored_body(root_text, &format!("/**/{name}"))
            );
            let re = ctx.regex(&regex, &what)?;
            deny.add(sub.clone(), n.clone());
            deny.add(re.clone(), n.clone());
            let above = format!("move-blocking, directory above: {n}");
            moves.add(sub, format!("move-blocking: {n}"));
            for dir in ancestors(&at_root) {
                moves.add(ctx.literal(dir, &what)?, above.clone());
            }
            moves.add(re, format!("move-blocking: {n}"));
        }
    }
    // A write root that is itself a protected name (or inside one) has a literal mandatory
    // deny of its own in the IR; the root-anchored rules above do not reach it.
    for d in fs.mandatory_deny.iter().filter(|d| !d.pattern.is_glob()) {
        deny.add(deny_filter(ctx, d)?, note(ctx, d));
        add_move_blocking(ctx, d, &mut moves, |_| true, |_| true)?;
    }
    items.push(Item::rule(Action::Deny, WRITE, deny));
    items.push(Item::rule(Action::Deny, MOVE, moves));
    Ok(())
}

/// Do the trees under two rules' bases overlap? (Every path a rule matches lies under its
/// base; when neither base contains the other, the rules share no path.)
fn may_overlap(a: &PathRule, b: &PathRule) -> bool {
    let (x, y) = (a.pattern.base(), b.pattern.base());
    x.starts_with(&y) || y.starts_with(&x)
}

/// Section 7. The read section re-allows unlink/create in the write roots and the write
/// section allows writing there, so a read-denied path inside a root needs denying again, last:
/// writing (srt: what cannot be read cannot be written), creating, and moving it or a
/// directory between it and the root.
fn read_denied_in_roots(ctx: &Ctx<'_>, items: &mut Vec<Item>) -> Result<(), EmitError> {
    let fs = &ctx.ir.fs;
    let roots = &fs.allow_write;
    let mut denied = Filters::default();
    let mut dirs = Filters::default();
    for d in &fs.deny_read {
        if !roots.iter().any(|r| may_overlap(r, d)) {
            continue;
        }
        // Exactly the read-denied part of `d`: minus every allow that beats it.
        let carve: Vec<String> = fs
            .allow_read
            .iter()
            .filter(|a| a.pattern.specificity() >= d.pattern.specificity() && may_overlap(a, d))
            .map(|a| allow_filter(ctx, a).map(|f| format!("(require-not {f})")))
            .collect::<Result<_, _>>()?;
        let own = deny_filter(ctx, d)?;
        let filter = if carve.is_empty() {
            own
        } else {
            format!("(require-all {own} {})", carve.join(" "))
        };
        let n = note(ctx, d);
        denied.add(filter, n.clone());
        for dir in move_dirs(d) {
            let strictly_in_root = roots.iter().any(|r| match &r.pattern {
                PathPattern::Literal(q) => dir != *q && dir.starts_with(q),
                PathPattern::Glob { .. } => r.pattern.covers(&dir, false),
            });
            if strictly_in_root {
                let what = || ctx.ir.describe(&d.origin);
                dirs.add(ctx.literal(&dir, &what)?, format!("directory above: {n}"));
            }
        }
    }
    if denied.is_empty() {
        return Ok(());
    }
    items.push(Item::Blank);
    items.push(Item::Comment(
        "Read-denied paths inside write roots: not writable, not creatable, not movable".into(),
    ));
    items.push(Item::rule(Action::Deny, WRITE, denied.clone()));
    items.push(Item::rule(Action::Deny, MOVE, denied));
    items.push(Item::rule(Action::Deny, UNLINK, dirs));
    Ok(())
}
