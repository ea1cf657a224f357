//! A tiny classic-BPF assembler, disassembler and interpreter: just the instructions a seccomp
//! filter of this shape needs (`ld [k]`, `and #k`, `jeq`, `jset`, `ja`, `ret`).

use serde::Serialize;

use super::tables::{errno_name, Arch, X32_SYSCALL_BIT};
use super::{Action, ArgTest, Condition, ALL_BITS};

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const ALU_AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const JMP_JA: u16 = 0x05; // BPF_JMP | BPF_JA
const JMP_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JMP_JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_USER_NOTIF`: the call waits for the listener's answer (the observer's).
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
fn off_arg_low(arg: u8) -> u32 {
    // args[i] is a u64 at 16 + 8i; both architectures are little-endian, so the low half
    // comes first.
    16 + 8 * u32::from(arg)
}

/// `struct seccomp_data`, for [`super::SeccompProgram::evaluate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    pub fn new(arch: u32, nr: u32, args: [u64; 6]) -> Self {
        SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    fn word(&self, off: u32) -> Option<u32> {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&self.nr.to_le_bytes());
        bytes.extend_from_slice(&self.arch.to_le_bytes());
        bytes.extend_from_slice(&self.instruction_pointer.to_le_bytes());
        for a in self.args {
            bytes.extend_from_slice(&a.to_le_bytes());
        }
        let off = off as usize;
        let w = bytes.get(off..off + 4)?;
        Some(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Next,
    Label(usize),
}

struct Insn {
    code: u16,
    jt: Target,
    jf: Target,
    k: u32,
    comment: String,
}

#[derive(Default)]
struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.insns.len());
    }
    fn push(&mut self, code: u16, jt: Target, jf: Target, k: u32, comment: impl Into<String>) {
        self.insns.push(Insn {
            code,
            jt,
            jf,
            k,
            comment: comment.into(),
        });
    }
    fn resolve(self) -> (Vec<SockFilter>, Vec<String>) {
        let mut out = Vec::with_capacity(self.insns.len());
        let mut comments = Vec::with_capacity(self.insns.len());
        for (i, insn) in self.insns.into_iter().enumerate() {
            let rel = |t: Target| -> u32 {
                match t {
                    Target::Next => 0,
                    Target::Label(l) => {
                        let at = self.labels[l].unwrap_or(i + 1);
                        // Every jump is forward by construction.
                        (at - (i + 1)) as u32
                    }
                }
            };
            let (jt, jf, k) = if insn.code == JMP_JA {
                (0, 0, rel(insn.jt))
            } else {
                (rel(insn.jt), rel(insn.jf), insn.k)
            };
            assert!(jt <= 255 && jf <= 255, "BPF jump out of range");
            out.push(SockFilter {
                code: insn.code,
                jt: jt as u8,
                jf: jf as u8,
                k,
            });
            comments.push(insn.comment);
        }
        (out, comments)
    }
}

/// One rule as the assembler sees it: a system call number, a condition and an action. Rules
/// for one number must be contiguous.
pub struct AsmRule<'a> {
    pub number: u32,
    pub name: &'a str,
    pub condition: &'a Condition,
    pub action: Action,
    /// The rule in words, for the listing's comments.
    pub describe: String,
}

/// Assembles the filter described in the module docs of [`super`].
pub fn assemble(arch: Arch, rules: &[AsmRule]) -> (Vec<SockFilter>, Vec<String>) {
    use Target::*;
    let mut a = Asm::default();
    let kill = a.label();
    let allow = a.label();
    let mut action_labels: Vec<(Action, usize)> = Vec::new();
    let mut action_label = |a: &mut Asm, act: Action| -> usize {
        if let Some((_, l)) = action_labels.iter().find(|(x, _)| *x == act) {
            return *l;
        }
        let l = a.label();
        action_labels.push((act, l));
        l
    };

    a.push(LD_W_ABS, Next, Next, OFF_ARCH, "A = arch");
    a.push(
        JMP_JEQ_K,
        Next,
        Label(kill),
        arch.audit_arch(),
        format!("{} only; any other syscall table is killed", arch.name()),
    );
    a.push(LD_W_ABS, Next, Next, OFF_NR, "A = syscall number");
    if arch == Arch::X86_64 {
        a.push(
            JMP_JSET_K,
            Label(kill),
            Next,
            X32_SYSCALL_BIT,
            "x32 ABI (bit 30) is killed",
        );
    }
    // Rules for one system call are contiguous, in rule order.
    let mut i = 0;
    while i < rules.len() {
        let number = rules[i].number;
        let group: Vec<&AsmRule> = rules[i..]
            .iter()
            .take_while(|r| r.number == number)
            .collect();
        i += group.len();
        if let [AsmRule {
            condition: Condition::Always,
            action,
            describe,
            ..
        }] = group.as_slice()
        {
            // One unconditional rule: the number test jumps straight to the return.
            let target = action_label(&mut a, *action);
            a.push(JMP_JEQ_K, Label(target), Next, number, describe.clone());
            continue;
        }
        let next_group = a.label();
        a.push(JMP_JEQ_K, Next, Label(next_group), number, group[0].name);
        for rule in group {
            let target = action_label(&mut a, rule.action);
            match rule.condition {
                Condition::Always => a.push(JMP_JA, Label(target), Next, 0, rule.describe.clone()),
                Condition::All(tests) => assemble_tests(&mut a, tests, target, &rule.describe),
            }
        }
        // A no longer holds the syscall number if an argument was loaded: no other group can
        // match this call anyway.
        a.push(JMP_JA, Label(allow), Next, 0, "");
        a.place(next_group);
    }
    a.place(allow);
    a.push(RET_K, Next, Next, RET_ALLOW, "");
    a.place(kill);
    a.push(RET_K, Next, Next, RET_KILL_PROCESS, "");
    for (act, l) in action_labels {
        a.place(l);
        let k = match act {
            Action::Errno(e) => RET_ERRNO | u32::from(e),
            Action::Notify => RET_USER_NOTIF,
        };
        a.push(RET_K, Next, Next, k, "");
    }
    a.resolve()
}

/// A conjunction of tests: jumps to `target` when every test holds, and falls through to the
/// next instruction (the next rule) as soon as one fails. Each test loads its own argument.
fn assemble_tests(a: &mut Asm, tests: &[ArgTest], target: usize, describe: &str) {
    use Target::*;
    let fail = a.label();
    for (i, test) in tests.iter().enumerate() {
        let last = i + 1 == tests.len();
        let arg = test.arg();
        // The whole 64-bit pointer: non-zero if either half is (a pointer whose low half is
        // zero is still a pointer).
        if let ArgTest::NonNull { .. } = test {
            let pass = if last { target } else { a.label() };
            let low = off_arg_low(arg);
            a.push(
                LD_W_ABS,
                Next,
                Next,
                low,
                format!("A = args[{arg}] (low 32 bits)"),
            );
            a.push(JMP_JEQ_K, Next, Label(pass), 0, describe);
            a.push(
                LD_W_ABS,
                Next,
                Next,
                low + 4,
                format!("A = args[{arg}] (high 32 bits)"),
            );
            a.push(JMP_JEQ_K, Label(fail), Label(pass), 0, describe);
            if !last {
                a.place(pass);
            }
            continue;
        }
        a.push(
            LD_W_ABS,
            Next,
            Next,
            off_arg_low(arg),
            format!("A = args[{arg}] (low 32 bits)"),
        );
        let mask = match test {
            ArgTest::In { mask, .. } | ArgTest::NotIn { mask, .. } => *mask,
            ArgTest::AnyBit { .. } | ArgTest::NonNull { .. } => ALL_BITS,
        };
        if mask != ALL_BITS {
            a.push(ALU_AND_K, Next, Next, mask, format!("A &= {mask:#x}"));
        }
        // Where a passing test leads: the target after the last test, else the next test.
        let pass = if last { target } else { a.label() };
        match test {
            ArgTest::In { values, .. } => {
                for (j, v) in values.iter().enumerate() {
                    let otherwise = if j + 1 == values.len() {
                        Label(fail)
                    } else {
                        Next
                    };
                    a.push(JMP_JEQ_K, Label(pass), otherwise, *v, describe);
                }
            }
            ArgTest::NotIn { values, .. } => {
                for v in values {
                    a.push(JMP_JEQ_K, Label(fail), Next, *v, describe);
                }
                if last {
                    a.push(JMP_JA, Label(pass), Next, 0, describe);
                }
            }
            ArgTest::AnyBit { mask, .. } => {
                a.push(JMP_JSET_K, Label(pass), Label(fail), *mask, describe);
            }
            // Assembled above.
            ArgTest::NonNull { .. } => {}
        }
        if !last {
            a.place(pass);
        }
    }
    a.place(fail);
}

pub fn to_bytes(prog: &[SockFilter]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prog.len() * 8);
    for f in prog {
        out.extend_from_slice(&f.code.to_ne_bytes());
        out.push(f.jt);
        out.push(f.jf);
        out.extend_from_slice(&f.k.to_ne_bytes());
    }
    out
}

pub fn from_bytes(bytes: &[u8]) -> Option<Vec<SockFilter>> {
    if !bytes.chunks_exact(8).remainder().is_empty() || bytes.is_empty() {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| SockFilter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect(),
    )
}

/// Interprets the program the way the kernel does (for this instruction subset). An
/// instruction outside the subset, or running off the end, yields `RET_KILL_PROCESS`.
pub fn run(prog: &[SockFilter], data: &SeccompData) -> u32 {
    let mut acc = 0u32;
    let mut pc = 0usize;
    while let Some(f) = prog.get(pc) {
        pc += 1;
        match f.code {
            LD_W_ABS => match data.word(f.k) {
                Some(w) => acc = w,
                None => return RET_KILL_PROCESS,
            },
            ALU_AND_K => acc &= f.k,
            JMP_JA => pc += f.k as usize,
            JMP_JEQ_K => pc += usize::from(if acc == f.k { f.jt } else { f.jf }),
            JMP_JSET_K => pc += usize::from(if acc & f.k != 0 { f.jt } else { f.jf }),
            RET_K => return f.k,
            _ => return RET_KILL_PROCESS,
        }
    }
    RET_KILL_PROCESS
}

fn ret_name(k: u32) -> String {
    match k {
        RET_ALLOW => "ALLOW".into(),
        RET_KILL_PROCESS => "KILL_PROCESS".into(),
        RET_USER_NOTIF => "USER_NOTIF".into(),
        k if k & 0xffff_0000 == RET_ERRNO => {
            let e = (k & 0xffff) as u16;
            format!(
                "ERRNO({})",
                errno_name(e).map_or_else(|| e.to_string(), str::to_string)
            )
        }
        k => format!("{k:#x}"),
    }
}

/// `0003: jeq  #0x29            jt 0004  jf 0007   ; socket`.
pub fn disassemble(prog: &[SockFilter], comments: &[String]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, f) in prog.iter().enumerate() {
        let target = |off: u32| i + 1 + off as usize;
        let text = match f.code {
            LD_W_ABS => format!("ld   [{}]", f.k),
            ALU_AND_K => format!("and  #{:#x}", f.k),
            JMP_JA => format!("ja   {:04}", target(f.k)),
            JMP_JEQ_K => format!(
                "jeq  #{:<#12x} jt {:04}  jf {:04}",
                f.k,
                target(u32::from(f.jt)),
                target(u32::from(f.jf))
            ),
            JMP_JSET_K => format!(
                "jset #{:<#12x} jt {:04}  jf {:04}",
                f.k,
                target(u32::from(f.jt)),
                target(u32::from(f.jf))
            ),
            RET_K => format!("ret  {}", ret_name(f.k)),
            c => format!("?    code={c:#x} k={:#x}", f.k),
        };
        let comment = comments.get(i).map(String::as_str).unwrap_or("");
        if comment.is_empty() {
            let _ = writeln!(out, "{i:04}: {text}");
        } else {
            let _ = writeln!(out, "{i:04}: {text:<44} ; {comment}");
        }
    }
    out
}
