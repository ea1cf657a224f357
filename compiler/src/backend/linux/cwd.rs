//! The working directory: where the command starts, and when it cannot start there.

use std::path::Path;

use srt_schema::Diagnostic;

use super::candidates::KERNEL_FS;
use super::notes::{self as code, note, refusal};
use super::{builtin, path_word, BwrapArg, Step};
use crate::ir::Ir;
use crate::origin::Origin;

/// `--chdir` to the working directory, after an empty `--dir` of it when it is read-denied;
/// a refusal when it lies where the sandbox has a private filesystem of its own.
pub(super) fn args(ir: &Ir, notes: &mut Vec<Diagnostic>) -> Vec<BwrapArg> {
    let mut args = Vec::new();
    // bwrap's `--dev /dev` and `--proc /proc` replace the host's: a working directory beneath
    // them is not there in the sandbox (bwrap fails to chdir), or is an empty private one.
    let kernel_fs = KERNEL_FS
        .into_iter()
        .find(|k| ir.cwd.starts_with(k) && ir.cwd != Path::new(k));
    if let Some(k) = kernel_fs {
        notes.push(refusal(
            &Origin::BuiltIn(builtin::CWD),
            code::CWD_IN_KERNEL_FS,
            format!(
                "the working directory {} lies under {k}, which the sandbox replaces with a private {k} of its own: the command cannot start there",
                ir.cwd.display()
            ),
            format!("run srt from a directory outside {k} (a project kept in memory can live on a tmpfs such as /tmp or $XDG_RUNTIME_DIR, which the sandbox sees as the host does)"),
        ));
    }
    if !ir.fs.disabled && !ir.decide_path(&ir.cwd, crate::Access::Read).allowed {
        // Inside a hidden directory the cwd does not exist: make it (empty) before the seal.
        notes.push(note(
            code::CWD_HIDDEN,
            format!(
                "the working directory {} is read-denied: the command starts in an empty directory of that name",
                ir.cwd.display()
            ),
        ));
        args.push(BwrapArg {
            words: vec!["--dir".into(), path_word(&ir.cwd)],
            step: Step::Process,
            origin: Origin::BuiltIn(builtin::CWD),
            effect: "empty directory",
        });
    }
    args.push(BwrapArg {
        words: vec!["--chdir".into(), path_word(&ir.cwd)],
        step: Step::Process,
        origin: Origin::BuiltIn(builtin::CWD),
        effect: "working directory",
    });
    args
}
