//! The `deny-hard-linked` note: a path rule decides by name, and a regular file with more than
//! one hard link has other names. bwrap mounts the deny on one name (the inode is reachable
//! through every other name that the policy leaves readable or writable), and nothing in a
//! mount table can follow a file's other names, which may be anywhere on the filesystem.

use std::collections::BTreeSet;

use srt_schema::Diagnostic;

use super::facts::HostFacts;
use super::notes::{self as code, note_at};
use crate::decide::Access;
use crate::ir::Ir;

/// Notes every existing regular file an explicit rule denies (`denyRead`, or `denyWrite` and
/// the protected names inside a write root) that has more than one link.
pub(super) fn notes(ir: &Ir, facts: &HostFacts, out: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for (path, fact) in &facts.paths {
        if fact.nlink <= 1 {
            continue;
        }
        let read = ir.decide_path(path, Access::Read);
        let (rule, denied, through) = if !read.allowed {
            (read.rule, "read-denied", "read")
        } else {
            let write = ir.decide_path(path, Access::Write);
            if write.allowed {
                continue;
            }
            (write.rule, "write-protected", "written")
        };
        // Only a rule's deny: everything outside the write roots is read-only by default.
        let Some(rule) = rule else { continue };
        if !seen.insert(fact.real.clone().unwrap_or_else(|| path.clone())) {
            continue;
        }
        let message = format!(
            "{} is {denied} ({}), but the file has {} hard links: it can be {through} through any of its other names that the policy allows, wherever they are",
            path.display(),
            ir.describe(&rule.origin),
            fact.nlink
        );
        out.push(note_at(&rule.origin, code::DENY_HARD_LINKED, message));
    }
}
