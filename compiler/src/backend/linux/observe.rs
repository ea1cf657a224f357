//! The plan's filesystem observer: which system calls srt's init is told about, so that `srt
//! run` can report the accesses the sandbox refused (see [`super::seccomp::observer`]).

use std::fmt::Write;

use serde_json::{json, Value};

use super::seccomp::observer::{ObserverOptions, ObserverProgram};
use super::{builtin, BwrapArg, LinuxOptions, Step};
use crate::ir::Ir;
use crate::origin::Origin;

/// What the init observes, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsObserver {
    pub program: ObserverProgram,
    /// `built-in fs-violations`.
    pub origin: Origin,
    /// The rules whose hidden paths make every open observed (empty: only writes are).
    pub hidden_by: Vec<Origin>,
}

/// The observer for a plan with these arguments, unless the run turns it off.
pub(super) fn plan(ir: &Ir, args: &[BwrapArg], opts: &LinuxOptions) -> Option<FsObserver> {
    if !opts.fs_violations || ir.fs.disabled {
        return None;
    }
    let mut hidden_by: Vec<Origin> = Vec::new();
    let hiding = args
        .iter()
        .filter(|a| opts.fs_violation_reads && a.step == Step::ReadDeny);
    for a in hiding {
        if !hidden_by.contains(&a.origin) {
            hidden_by.push(a.origin.clone());
        }
    }
    let options = ObserverOptions {
        reads: !hidden_by.is_empty(),
    };
    Some(FsObserver {
        program: ObserverProgram::build(opts.arch, options),
        origin: Origin::BuiltIn(builtin::FS_VIOLATIONS),
        hidden_by,
    })
}

pub(super) fn render_text(obs: Option<&FsObserver>, ir: &Ir, out: &mut String) {
    let Some(obs) = obs else {
        let _ = writeln!(
            out,
            "\n# filesystem observer: off (refused accesses are not reported)"
        );
        return;
    };
    let p = &obs.program;
    let _ = writeln!(
        out,
        "\n# filesystem observer ({}): {} rules, {} instructions; installed by the init on the command after the filter above; each call waits for the init, which reads its path and lets it continue (it reports, never decides)  <- {}",
        p.arch.name(),
        p.present_rules().count(),
        p.instructions.len(),
        ir.describe(&obs.origin)
    );
    if !obs.hidden_by.is_empty() {
        let by: Vec<String> = obs.hidden_by.iter().map(|o| ir.describe(o)).collect();
        let _ = writeln!(
            out,
            "# reads observed: paths are hidden by {}",
            by.join(", ")
        );
    }
    for r in p.present_rules() {
        let _ = writeln!(out, "{:<52}  # {}", r.describe(), r.why);
    }
    let _ = writeln!(out, "\n# filesystem observer BPF");
    out.push_str(&p.disassemble());
}

pub(super) fn render_json(obs: Option<&FsObserver>, ir: &Ir) -> Value {
    let Some(obs) = obs else {
        return Value::Null;
    };
    let p = &obs.program;
    json!({
        "arch": p.arch.name(),
        "origin": ir.describe(&obs.origin),
        "reads": p.options.reads,
        "hidden_by": obs.hidden_by.iter().map(|o| ir.describe(o)).collect::<Vec<_>>(),
        "rules": p.present_rules().map(|r| json!({
            "syscall": r.syscall.name(),
            "condition": r.condition,
            "rule": r.describe(),
            "why": r.why,
        })).collect::<Vec<_>>(),
        "instructions": p.instructions.len(),
    })
}
