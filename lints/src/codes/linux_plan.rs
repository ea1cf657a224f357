//! Notes the Linux backend puts on its plan (`srt compile --target linux`): what bubblewrap
//! cannot express exactly. The codes are `srt_compiler::backend::linux::NOTE_CODES`; the
//! glob notes are in `linux_globs.rs`. `compiler/tests/all/linux_notes.rs` runs every example.

crate::declare_code! {
    /// ### What it does
    /// Notes a settings entry under `/dev` or `/proc`, such as `"allowWrite": ["/dev/shm"]`
    /// or `"denyRead": ["/proc/1/environ"]`. The sandbox gets its own `/dev` (bwrap's
    /// `--dev`: `null`, `zero`, `full`, `random`, `urandom`, `tty` and pseudo-terminals) and
    /// its own `/proc` (showing the sandbox's processes only), mounted over the host's, so the
    /// Linux plan does not apply the entry. Entries under `/sys` are applied as usual.
    ///
    /// ### Why is this bad
    /// The entry does nothing on Linux: an allow grants nothing beyond the private `/dev`,
    /// and a deny hides nothing in it (the host's devices and processes are out of reach
    /// anyway; the command's own `/proc/self` stays readable).
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "allowWrite": ["/dev/shm"]
    /// ```
    /// Use instead: leave the entry out (or keep it for macOS, where it applies).
    pub KERNEL_FS_PATH {
        code: "kernel-fs-path",
        kind: Backend,
        level: Note,
        summary: "an entry under /dev or /proc, which the sandbox replaces with its own, is not applied on Linux",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes an `allowRead` or `allowWrite` path, or a path an allow glob matches, that is a
    /// symlink (or lies under one) leading somewhere else. A bind mount follows the link, so
    /// binding the path would make the target readable or writable at its own location too,
    /// which no rule grants; the Linux plan leaves the path as its surroundings are (usually
    /// read-only). An entry whose link stays inside its own tree is resolved to the target
    /// before planning and gets no note; one leading out of it also gets
    /// [`symlink-not-followed`](symlink-not-followed.md).
    ///
    /// ### Why is this bad
    /// The command cannot write (or, inside a denied directory, read) what the entry names.
    ///
    /// ### Example
    /// Bad, when `./data` is a symlink to `/srv/data`:
    /// ```text
    /// "allowWrite": ["./data"]
    /// ```
    /// Use instead (the command still reaches it as `./data`):
    /// ```text
    /// "allowWrite": ["/srv/data"]
    /// ```
    pub SYMLINK_ALLOW_SKIPPED {
        code: "symlink-allow-skipped",
        kind: Backend,
        level: Note,
        summary: "an allowed path is a symlink leading elsewhere; on Linux it is not bound",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a `denyRead` or `denyWrite` path, a path a deny glob matches, or a protected
    /// name of the mandatory denies, that is a symlink. bwrap follows a symlink when it
    /// mounts, so the Linux plan mounts the deny on the file or directory the link leads to.
    ///
    /// The link itself, where it sits in a directory the command may write, is pinned:
    /// srt's init mounts it on itself before the command starts (`srt compile` lists it
    /// under "link pins"), so the command cannot remove or replace it and put a directory of
    /// its own under the protected name. The same holds for every link on the way to the
    /// path (a chain, or a linked directory above it) and for a missing protected name
    /// under a linked directory (its stub goes in the target).
    ///
    /// ### Why is this bad
    /// The deny is wider than spelled: the target is hidden (or read-only) at its own path
    /// and through every other path that leads to it. That is usually what is meant, but it
    /// can surprise when the target is shared, say a dotfile linked from a dotfiles
    /// repository.
    ///
    /// ### Example
    /// Bad, when `./data` is a symlink to `/srv/data`:
    /// ```text
    /// "denyRead": ["./data"]
    /// ```
    /// Use instead (says what is enforced):
    /// ```text
    /// "denyRead": ["/srv/data"]
    /// ```
    pub SYMLINK_DENY_TARGET {
        code: "symlink-deny-target",
        kind: Backend,
        level: Note,
        summary: "a denied path is a symlink; on Linux the deny is mounted on its target",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes an `allowWrite` path that does not exist when the plan is made (by `srt compile`,
    /// or by `srt run` as the sandbox starts). A bind mount needs something to bind, so
    /// nothing is mounted for the entry.
    ///
    /// ### Why is this bad
    /// Under a read-only parent the command cannot create the path: a build that makes its
    /// output directory fails with "Read-only file system". The note does not look at other
    /// entries: when another `allowWrite` entry makes the parent writable (`[".",
    /// "./build"]`), the command can create the path after all.
    ///
    /// ### Example
    /// Bad, when `./build` does not exist:
    /// ```text
    /// "allowWrite": ["./build"]
    /// ```
    /// Use instead: create it before the run (`mkdir -p build`), or allow writing its
    /// parent.
    pub WRITE_PATH_MISSING {
        code: "write-path-missing",
        kind: Backend,
        level: Note,
        summary: "an allowWrite path does not exist, so on Linux there is nothing to bind",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes the protected names of the mandatory denies that do not exist at a write root
    /// other than the working directory and the home directory. The names (`.bashrc`,
    /// `.bash_profile`, `.zshrc`, `.zprofile`, `.profile`, `.gitconfig`, `.gitmodules`,
    /// `.ripgreprc`, `.mcp.json`, `.vscode`, `.idea`, `.claude/commands`, `.claude/agents`,
    /// `.git/hooks`, and `.git/config` unless `allowGitConfig`) are never writable: where one
    /// exists the plan mounts it read-only. A mount needs something to mount on, so for a
    /// missing name `srt run` creates an empty stub before the run and removes it after, but
    /// only in the working and home directories, where such files are read later. At other
    /// write roots a missing name gets no mount. The note lists those roots.
    ///
    /// ### Why is this bad
    /// The command can create, say, `/srv/app/.bashrc` or `/srv/app/.vscode/tasks.json`.
    /// That matters when something later runs or trusts files there: a shell whose home it
    /// is, or git, an editor or an agent opening it as a project. On macOS the denies are
    /// patterns and cover missing names too.
    ///
    /// ### Example
    /// Bad, for a project opened later:
    /// ```text
    /// "allowWrite": ["/srv/app"]
    /// ```
    /// Use instead: run srt from the project (`cd /srv/app`), with `"allowWrite": ["."]`;
    /// a directory nothing opens later, such as a cache, needs no change.
    pub MANDATORY_DENY_NOT_STUBBED {
        code: "mandatory-deny-not-stubbed",
        kind: Backend,
        level: Note,
        summary: "protected names missing at a write root other than the working and home directories are not denied",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes, for every plan in which the command may write somewhere, how far the mandatory
    /// denies reach on Linux. The protected names (see
    /// [`mandatory-deny-not-stubbed`](mandatory-deny-not-stubbed.md)) are denied at the
    /// working directory and each write root, and wherever the plan finds one below them,
    /// down to `mandatoryDenySearchDepth` levels (default 3; `node_modules` is skipped). The
    /// search runs when the sandbox starts.
    ///
    /// ### Why is this bad
    /// A protected name the command creates later in a subdirectory (`tools/.bashrc`, the
    /// hooks of a repository it clones), or one deeper than the search depth, is not denied,
    /// and a later shell, git or editor may run it. On macOS the denies are patterns and
    /// cover every depth.
    ///
    /// ### Example
    /// Bad, with repositories nested four levels down:
    /// ```text
    /// "allowWrite": ["."]
    /// ```
    /// Use instead (finds them; names created later are still not covered, so the note
    /// stays):
    /// ```text
    /// "allowWrite": ["."], "mandatoryDenySearchDepth": 6
    /// ```
    pub MANDATORY_DENY_DEPTH {
        code: "mandatory-deny-depth",
        kind: Backend,
        level: Note,
        summary: "on Linux the mandatory denies cover existing names only down to the search depth",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a `denyRead` that covers `/` (`"/"` or `"/**"`): everything is hidden except
    /// what `allowRead` re-opens. bwrap needs a root, so the plan keeps `/` and hides each
    /// entry of it instead (a file behind `/dev/null`, a directory behind an empty read-only
    /// one), except `/dev` and `/proc`, which the sandbox's own replace, and `/sys`, which
    /// stays readable.
    ///
    /// ### Why is this bad
    /// `/sys` (hardware, kernel and cgroup information) stays readable, an entry added to
    /// `/` after the sandbox starts is not hidden, and listing `/` still shows the names.
    ///
    /// ### Example
    /// This is enforced as described; there is nothing to change unless `/sys` must be
    /// hidden, which srt cannot do on Linux:
    /// ```text
    /// "denyRead": ["/"], "allowRead": ["/usr", "/etc", "."]
    /// ```
    pub DENY_READ_ROOT {
        code: "deny-read-root",
        kind: Backend,
        level: Note,
        summary: "denyRead covers /; on Linux each entry of / except /dev, /proc and /sys is hidden instead",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes the directories the Linux plan needed to list but could not (usually for lack
    /// of read permission): those below a glob's literal directory, and those within the
    /// mandatory-deny search depth below a write root.
    ///
    /// ### Why is this bad
    /// What lies inside is unknown to the plan: paths there that a deny glob matches, and
    /// protected names there, are not denied. A directory that can be entered but not listed
    /// (mode `0711`) still lets the command reach the names it knows.
    ///
    /// ### Example
    /// Bad, when `./vault` has mode `0311`:
    /// ```text
    /// "allowWrite": ["."]
    /// ```
    /// Use instead: make it listable by the user running srt (`chmod u+r vault`), or deny it
    /// whole (`"denyRead": ["./vault"]`; the note stays, but nothing inside is reachable).
    pub WALK_INCOMPLETE {
        code: "walk-incomplete",
        kind: Backend,
        level: Note,
        summary: "a directory could not be listed; glob matches and protected names inside it are unknown",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a working directory that a `denyRead` covers and no `allowRead` re-opens. The
    /// command would start in a directory it cannot see, so the plan creates an empty
    /// directory at that path (`--dir`) and starts the command there.
    ///
    /// ### Why is this bad
    /// The command finds none of the project's files.
    ///
    /// ### Example
    /// Bad, run from `~/project`:
    /// ```text
    /// "denyRead": ["~"]
    /// ```
    /// Use instead:
    /// ```text
    /// "denyRead": ["~"], "allowRead": ["."]
    /// ```
    pub CWD_HIDDEN {
        code: "cwd-hidden",
        kind: Backend,
        level: Note,
        summary: "the working directory is read-denied; the command starts in an empty directory",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes each `network.allowUnixSockets` entry on Linux. The seccomp filter cannot see
    /// which path a socket will connect to, so it refuses every new Unix socket
    /// (`socket(AF_UNIX, …)` fails with `EPERM`) unless `network.allowAllUnixSockets` is
    /// true: one path cannot be allowed on its own. On macOS the entry works. The note is
    /// given even when `allowAllUnixSockets` is true; the entry is then redundant on Linux.
    /// The [`platform-no-op`](platform-no-op.md) lint reports the same entry.
    ///
    /// ### Why is this bad
    /// The command cannot reach the socket: `docker`, say, fails to connect.
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "network": { "allowUnixSockets": ["/var/run/docker.sock"] }
    /// ```
    /// Use instead, only if the command must reach it (this allows every Unix socket; see
    /// [`dangerous-unix-socket`](dangerous-unix-socket.md)):
    /// ```text
    /// "network": { "allowAllUnixSockets": true }
    /// ```
    pub UNIX_SOCKET_PATHS_LINUX {
        code: "unix-socket-paths-linux",
        kind: Backend,
        level: Note,
        summary: "on Linux a single Unix socket path cannot be allowed",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes that the `TMPDIR` srt gives the command on Linux does not exist on this machine:
    /// `/tmp/claude`, or `$CLAUDE_CODE_TMPDIR`, else `$CLAUDE_TMPDIR`, when set (as the npm srt
    /// chooses it). `/tmp/claude` is a default write path, but a bind mount needs something to
    /// bind, so it is not mounted, and `/tmp` is read-only in the sandbox.
    ///
    /// ### Why is this bad
    /// Programs that make temporary files (`mktemp`, compilers, package managers) fail.
    ///
    /// ### Example
    /// Any policy, when `/tmp/claude` does not exist. Use instead: create it before the run
    /// (`mkdir -p /tmp/claude`).
    pub TMPDIR_MISSING {
        code: "tmpdir-missing",
        kind: Backend,
        level: Note,
        summary: "TMPDIR (/tmp/claude by default) does not exist, so the command cannot write temporary files",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a policy that does not let the command write `/tmp/claude`, the `TMPDIR` srt
    /// gives it on Linux: a `denyWrite` or `denyRead` entry covers it.
    ///
    /// ### Why is this bad
    /// Programs that make temporary files (`mktemp`, compilers, package managers) fail.
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "denyWrite": ["/tmp"]
    /// ```
    /// Use instead (deny only what must stay unwritten):
    /// ```text
    /// "denyWrite": ["/tmp/cache"]
    /// ```
    pub TMPDIR_NOT_WRITABLE {
        code: "tmpdir-not-writable",
        kind: Backend,
        level: Note,
        summary: "the policy does not let the command write TMPDIR (/tmp/claude)",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a regular file that a `denyRead` or `denyWrite` entry (or a built-in protected
    /// name) denies and that has more than one hard link when the sandbox starts. A path rule
    /// denies a *name*: the Linux plan mounts over that name, and the file's other names
    /// (links made with `ln`, by a backup tool, by a package manager's store) lead to the same
    /// contents without passing through it. Where one of them lies somewhere the policy lets
    /// the command read (or write), the command reads (or writes) the denied file through it.
    /// srt cannot find the other names without searching every filesystem, and a mount cannot
    /// follow them; inside the sandbox the command cannot make new links to a hidden file
    /// (it is replaced by `/dev/null` or an empty directory), only use those that exist.
    ///
    /// ### Why is this bad
    /// The deny is weaker than it reads: the secret is readable, or the protected file
    /// writable, under another name.
    ///
    /// ### Example
    /// Bad, when `~/.aws/credentials` was hard-linked as `~/project/creds-backup`:
    /// ```text
    /// "denyRead": ["~/.aws/credentials"]
    /// ```
    /// Use instead: find the other names (`find / -xdev -samefile ~/.aws/credentials`), and
    /// remove them or deny them too; or deny the directory that holds them.
    pub DENY_HARD_LINKED {
        code: "deny-hard-linked",
        kind: Backend,
        level: Note,
        summary: "a denied file has other hard links, through which it can still be read or written",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a `denyRead` file (or a file a deny glob matches) that is hidden by a mount on
    /// the file itself, because the command may write its directory or the directory has
    /// more than 32 entries (or the plan has rebuilt 64 entries' worth of directories
    /// already: each entry is a bind mount, about 0.45 ms). A mount stays on the file that existed when the sandbox
    /// started: when the host replaces it by rename during the run (an editor's atomic save,
    /// a tool rewriting its credentials file), the new file is not under the mount, and the
    /// command can read it until the run ends. Where the directory is read-only in the
    /// sandbox and small enough, srt rebuilds it instead (an empty read-only directory with
    /// every other entry bound back), and nothing renamed into it later shows: no note then.
    ///
    /// ### Why is this bad
    /// A secret the host rewrites while a long command runs (a refreshed token) is readable.
    ///
    /// ### Example
    /// Bad, where the command may write the project:
    /// ```text
    /// "denyRead": ["./.env"], "allowWrite": ["."]
    /// ```
    /// Use instead: keep secrets in a directory the command may not write (`~/.config/app`),
    /// or deny the directory that holds them.
    pub DENY_READ_FILE_REPLACEABLE {
        code: "deny-read-file-replaceable",
        kind: Backend,
        level: Note,
        summary: "a denied file is hidden by a mount on the file; a replacement by rename during the run is readable",
    }
}
