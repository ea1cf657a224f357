//! The observer: a second seccomp program, which srt's init installs on the command after the
//! policy filter. It sends the system calls that can express a write (and, when the policy hides
//! a path, every open) to the init as user notifications (`SECCOMP_RET_USER_NOTIF`); the init
//! reads the path, lets the call go on at once (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`) and reports
//! the ones the policy refuses. It never decides: the mount table is the enforcement, and a call
//! the policy filter refuses never reaches it (the kernel applies the most severe action of
//! all filters, and `ERRNO`/`KILL` outrank `USER_NOTIF`).
//!
//! What BPF can see is filtered here, so that only calls that can write wait for the init:
//! `open`/`openat` only with `O_WRONLY`, `O_RDWR`, `O_CREAT` or `O_TRUNC` (unless reads are
//! observed), `utimensat`/`futimesat` only with a path (a `NULL` path is the descriptor's
//! file, opened for writing already). Calls on a descriptor (`write`, `ftruncate`, `fchmod`,
//! `fchown`, `fsetxattr`) are not observed: the open that gave the descriptor was.

use serde::Serialize;

use super::bpf::{self, AsmRule, SeccompData, SockFilter};
use super::{Action, Arch, ArgTest, Condition};

/// `O_WRONLY | O_RDWR | O_CREAT | O_TRUNC` (the same on x86_64 and aarch64): the open flags
/// that can write. `O_TMPFILE` needs `O_WRONLY` or `O_RDWR`; `O_APPEND` alone cannot write.
pub const WRITE_FLAGS: u32 = 0o1 | 0o2 | 0o100 | 0o1000;

/// Where a system call names a path it writes: the path argument, and the directory
/// descriptor it is relative to (none: the cwd).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PathArg {
    pub dirfd: Option<u8>,
    pub path: u8,
}

const fn at(dirfd: u8, path: u8) -> PathArg {
    PathArg {
        dirfd: Some(dirfd),
        path,
    }
}

const fn cwd(path: u8) -> PathArg {
    PathArg { dirfd: None, path }
}

macro_rules! observed {
    ($($variant:ident $name:literal x86 $x:expr, arm $a:expr, paths $paths:expr;)*) => {
        /// The system calls the observer can be told about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Observed { $($variant),* }

        impl Observed {
            pub const ALL: &'static [Observed] = &[$(Observed::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Observed::$variant => $name),* }
            }

            /// The number on `arch`; `None` where the architecture has no such call (aarch64
            /// has only the `*at` forms).
            pub fn number(self, arch: Arch) -> Option<u32> {
                match (self, arch) {
                    $((Observed::$variant, Arch::X86_64) => Some($x),
                      (Observed::$variant, Arch::Aarch64) => $a,)*
                }
            }

            /// The paths it writes (or, for an open, reads or writes).
            pub fn paths(self) -> &'static [PathArg] {
                match self { $(Observed::$variant => { const P: &[PathArg] = $paths; P }),* }
            }
        }
    };
}

observed! {
    Open "open" x86 2, arm None, paths &[cwd(0)];
    Openat "openat" x86 257, arm Some(56), paths &[at(0, 1)];
    Openat2 "openat2" x86 437, arm Some(437), paths &[at(0, 1)];
    Creat "creat" x86 85, arm None, paths &[cwd(0)];
    Mkdir "mkdir" x86 83, arm None, paths &[cwd(0)];
    Mkdirat "mkdirat" x86 258, arm Some(34), paths &[at(0, 1)];
    Mknod "mknod" x86 133, arm None, paths &[cwd(0)];
    Mknodat "mknodat" x86 259, arm Some(33), paths &[at(0, 1)];
    Unlink "unlink" x86 87, arm None, paths &[cwd(0)];
    Unlinkat "unlinkat" x86 263, arm Some(35), paths &[at(0, 1)];
    Rmdir "rmdir" x86 84, arm None, paths &[cwd(0)];
    Rename "rename" x86 82, arm None, paths &[cwd(0), cwd(1)];
    Renameat "renameat" x86 264, arm Some(38), paths &[at(0, 1), at(2, 3)];
    Renameat2 "renameat2" x86 316, arm Some(276), paths &[at(0, 1), at(2, 3)];
    Link "link" x86 86, arm None, paths &[cwd(1)];
    Linkat "linkat" x86 265, arm Some(37), paths &[at(2, 3)];
    Symlink "symlink" x86 88, arm None, paths &[cwd(1)];
    Symlinkat "symlinkat" x86 266, arm Some(36), paths &[at(1, 2)];
    Truncate "truncate" x86 76, arm Some(45), paths &[cwd(0)];
    Chmod "chmod" x86 90, arm None, paths &[cwd(0)];
    Fchmodat "fchmodat" x86 268, arm Some(53), paths &[at(0, 1)];
    Fchmodat2 "fchmodat2" x86 452, arm Some(452), paths &[at(0, 1)];
    Chown "chown" x86 92, arm None, paths &[cwd(0)];
    Lchown "lchown" x86 94, arm None, paths &[cwd(0)];
    Fchownat "fchownat" x86 260, arm Some(54), paths &[at(0, 1)];
    Utime "utime" x86 132, arm None, paths &[cwd(0)];
    Utimes "utimes" x86 235, arm None, paths &[cwd(0)];
    Futimesat "futimesat" x86 261, arm None, paths &[at(0, 1)];
    Utimensat "utimensat" x86 280, arm Some(88), paths &[at(0, 1)];
    Setxattr "setxattr" x86 188, arm Some(5), paths &[cwd(0)];
    Lsetxattr "lsetxattr" x86 189, arm Some(6), paths &[cwd(0)];
    Removexattr "removexattr" x86 197, arm Some(14), paths &[cwd(0)];
    Lremovexattr "lremovexattr" x86 198, arm Some(15), paths &[cwd(0)];
    Setxattrat "setxattrat" x86 463, arm Some(463), paths &[at(0, 1)];
    Removexattrat "removexattrat" x86 466, arm Some(466), paths &[at(0, 1)];
}

impl Observed {
    /// The system call with number `nr` on `arch`, if the observer knows it.
    pub fn from_number(arch: Arch, nr: u32) -> Option<Observed> {
        Observed::ALL
            .iter()
            .copied()
            .find(|o| o.number(arch) == Some(nr))
    }

    /// Where an open's flags are: an argument (`open`, `openat`), or in memory (`openat2`'s
    /// `struct open_how`, whose first field they are). `None`: not an open; it always writes.
    pub fn open_flags(self) -> Option<OpenFlags> {
        match self {
            Observed::Open => Some(OpenFlags::Arg(1)),
            Observed::Openat => Some(OpenFlags::Arg(2)),
            Observed::Openat2 => Some(OpenFlags::HowStruct(2)),
            _ => None,
        }
    }
}

/// Where an open's flags are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenFlags {
    Arg(u8),
    /// A pointer in this argument to `struct open_how`, whose first `u64` is the flags.
    HowStruct(u8),
}

/// What the observer is told about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObserverOptions {
    /// Every open, not only those that can write: the policy hides paths, and a read of one
    /// is reported (it finds an empty file or directory, or nothing).
    pub reads: bool,
}

/// One line of the observer's program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObserverRule {
    #[serde(serialize_with = "name")]
    pub syscall: Observed,
    pub condition: Condition,
    pub why: &'static str,
}

fn name<S: serde::Serializer>(o: &Observed, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(o.name())
}

impl ObserverRule {
    /// `openat(arg2 & (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC)) -> NOTIFY`.
    pub fn describe(&self) -> String {
        let cond = match &self.condition {
            Condition::Always => String::new(),
            Condition::All(tests) => format!(
                "({})",
                tests
                    .iter()
                    .map(|t| match t {
                        ArgTest::AnyBit { arg, mask } if *mask == WRITE_FLAGS => {
                            format!("arg{arg} & (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC)")
                        }
                        ArgTest::NonNull { arg } => format!("arg{arg} != NULL"),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" && ")
            ),
        };
        format!("{}{cond} -> NOTIFY", self.syscall.name())
    }
}

/// The rules (the same on every architecture; a call the architecture lacks is left out of
/// its program).
pub fn rules(opts: ObserverOptions) -> Vec<ObserverRule> {
    use Observed::*;
    let open_why = if opts.reads {
        "every open: the policy hides paths, and a read of one is reported"
    } else {
        "an open that can write"
    };
    let open_rule = |syscall, arg| ObserverRule {
        syscall,
        condition: if opts.reads {
            Condition::Always
        } else {
            Condition::All(vec![ArgTest::AnyBit {
                arg,
                mask: WRITE_FLAGS,
            }])
        },
        why: open_why,
    };
    let mut out = vec![
        open_rule(Open, 1),
        open_rule(Openat, 2),
        ObserverRule {
            syscall: Openat2,
            condition: Condition::Always,
            why: "its flags are in memory BPF cannot read; the init reads them",
        },
    ];
    for (syscall, why) in [
        (Creat, "creates or truncates a file"),
        (Mkdir, "creates a directory"),
        (Mkdirat, "creates a directory"),
        (Mknod, "creates a node"),
        (Mknodat, "creates a node"),
        (Unlink, "removes a name"),
        (Unlinkat, "removes a name"),
        (Rmdir, "removes a directory"),
        (Rename, "removes one name and creates another"),
        (Renameat, "removes one name and creates another"),
        (Renameat2, "removes one name and creates another"),
        (Link, "creates a name"),
        (Linkat, "creates a name"),
        (Symlink, "creates a name"),
        (Symlinkat, "creates a name"),
        (Truncate, "changes a file's contents"),
        (Chmod, "changes a file's metadata"),
        (Fchmodat, "changes a file's metadata"),
        (Fchmodat2, "changes a file's metadata"),
        (Chown, "changes a file's metadata"),
        (Lchown, "changes a file's metadata"),
        (Fchownat, "changes a file's metadata"),
        (Utime, "changes a file's metadata"),
        (Utimes, "changes a file's metadata"),
        (Setxattr, "changes a file's metadata"),
        (Lsetxattr, "changes a file's metadata"),
        (Removexattr, "changes a file's metadata"),
        (Lremovexattr, "changes a file's metadata"),
        (Setxattrat, "changes a file's metadata"),
        (Removexattrat, "changes a file's metadata"),
    ] {
        out.push(ObserverRule {
            syscall,
            condition: Condition::Always,
            why,
        });
    }
    for syscall in [Futimesat, Utimensat] {
        out.push(ObserverRule {
            syscall,
            condition: Condition::All(vec![ArgTest::NonNull { arg: 1 }]),
            why: "changes a file's times by path (a NULL path is an open descriptor's file)",
        });
    }
    out
}

/// The observer's program for one architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObserverProgram {
    pub arch: Arch,
    pub options: ObserverOptions,
    pub rules: Vec<ObserverRule>,
    pub instructions: Vec<SockFilter>,
    comments: Vec<String>,
}

impl ObserverProgram {
    pub fn build(arch: Arch, options: ObserverOptions) -> Self {
        let rules = rules(options);
        let asm: Vec<AsmRule> = rules
            .iter()
            .filter_map(|r| {
                Some(AsmRule {
                    number: r.syscall.number(arch)?,
                    name: r.syscall.name(),
                    condition: &r.condition,
                    action: Action::Notify,
                    describe: r.describe(),
                })
            })
            .collect();
        let (instructions, comments) = bpf::assemble(arch, &asm);
        ObserverProgram {
            arch,
            options,
            rules,
            instructions,
            comments,
        }
    }

    /// The rules this architecture has the system calls for.
    pub fn present_rules(&self) -> impl Iterator<Item = &ObserverRule> {
        self.rules
            .iter()
            .filter(|r| r.syscall.number(self.arch).is_some())
    }

    /// As [`super::SeccompProgram::to_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        bpf::to_bytes(&self.instructions)
    }

    /// Runs the program on one system call, as the kernel would.
    pub fn evaluate(&self, data: &SeccompData) -> u32 {
        bpf::run(&self.instructions, data)
    }

    pub fn disassemble(&self) -> String {
        bpf::disassemble(&self.instructions, &self.comments)
    }
}

#[cfg(test)]
mod tests {
    use super::super::bpf::{RET_ALLOW, RET_KILL_PROCESS, RET_USER_NOTIF};
    use super::*;

    const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

    fn call(p: &ObserverProgram, o: Observed, args: [u64; 6]) -> u32 {
        let nr = o.number(p.arch).unwrap_or(u32::MAX);
        p.evaluate(&SeccompData::new(p.arch.audit_arch(), nr, args))
    }

    #[test]
    fn only_opens_that_can_write_are_sent() {
        for arch in ARCHES {
            let p = ObserverProgram::build(arch, ObserverOptions::default());
            let o_rdonly_cloexec = 0o2000000;
            assert_eq!(
                call(&p, Observed::Openat, [0, 0, o_rdonly_cloexec, 0, 0, 0]),
                RET_ALLOW
            );
            for flag in [0o1, 0o2, 0o100, 0o1000, 0o20200000 | 0o2] {
                assert_eq!(
                    call(&p, Observed::Openat, [0, 0, flag, 0, 0, 0]),
                    RET_USER_NOTIF,
                    "{arch:?} {flag:o}"
                );
            }
            // The kernel truncates the flags to 32 bits; so does the filter.
            assert_eq!(
                call(&p, Observed::Openat, [0, 0, 0xffff_ffff_0000_0000, 0, 0, 0]),
                RET_ALLOW
            );
            assert_eq!(call(&p, Observed::Openat2, [0; 6]), RET_USER_NOTIF);
            for o in [Observed::Unlinkat, Observed::Renameat2, Observed::Mkdirat] {
                assert_eq!(call(&p, o, [0; 6]), RET_USER_NOTIF, "{}", o.name());
            }
            if arch == Arch::X86_64 {
                assert_eq!(
                    call(&p, Observed::Open, [0, 0o2, 0, 0, 0, 0]),
                    RET_USER_NOTIF
                );
                assert_eq!(call(&p, Observed::Open, [0, 0, 0, 0, 0, 0]), RET_ALLOW);
                assert_eq!(call(&p, Observed::Creat, [0; 6]), RET_USER_NOTIF);
            }
        }
    }

    #[test]
    fn a_times_call_is_sent_only_with_a_path_any_half_of_it_set() {
        for arch in ARCHES {
            let p = ObserverProgram::build(arch, ObserverOptions::default());
            assert_eq!(call(&p, Observed::Utimensat, [0; 6]), RET_ALLOW);
            for ptr in [0x1000, 0x7f00_0000_0000, 0x1_0000_0000] {
                assert_eq!(
                    call(&p, Observed::Utimensat, [0, ptr, 0, 0, 0, 0]),
                    RET_USER_NOTIF,
                    "{arch:?} {ptr:#x}"
                );
            }
        }
    }

    #[test]
    fn with_reads_every_open_is_sent_and_other_calls_never_are() {
        for arch in ARCHES {
            let p = ObserverProgram::build(arch, ObserverOptions { reads: true });
            assert_eq!(call(&p, Observed::Openat, [0; 6]), RET_USER_NOTIF);
            // Calls the observer does not name pass; foreign tables are the policy's to kill.
            let read = match arch {
                Arch::X86_64 => 0,
                Arch::Aarch64 => 63,
            };
            assert_eq!(
                p.evaluate(&SeccompData::new(arch.audit_arch(), read, [0; 6])),
                RET_ALLOW
            );
            assert_eq!(
                p.evaluate(&SeccompData::new(0x4000_0003, 5, [0; 6])),
                RET_KILL_PROCESS
            );
        }
    }

    #[test]
    fn every_rule_is_in_the_program_of_each_architecture_that_has_the_call() {
        for arch in ARCHES {
            let p = ObserverProgram::build(arch, ObserverOptions::default());
            for r in p.present_rules() {
                assert!(
                    p.disassemble().contains(r.syscall.name()),
                    "{arch:?} {}",
                    r.syscall.name()
                );
            }
            assert_eq!(
                Observed::from_number(arch, Observed::Renameat2.number(arch).unwrap()),
                Some(Observed::Renameat2)
            );
        }
        assert_eq!(Observed::Open.number(Arch::Aarch64), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn numbers_agree_with_the_syscalls_crate() {
        use syscalls::{aarch64, x86_64};
        for o in Observed::ALL {
            let x: x86_64::Sysno = o.name().parse().unwrap();
            assert_eq!(Some(x.id() as u32), o.number(Arch::X86_64), "{}", o.name());
            let a = o
                .name()
                .parse::<aarch64::Sysno>()
                .ok()
                .map(|s| s.id() as u32);
            assert_eq!(a, o.number(Arch::Aarch64), "aarch64 {}", o.name());
        }
    }
}
