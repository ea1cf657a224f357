//! The Linux plan's errors (`srt_compiler::backend::linux::REFUSAL_CODES`): what makes a plan
//! impossible to run, so `srt run` refuses it and `srt compile` exits 1.
//! `compiler/tests/all/linux_notes.rs` runs every example.

crate::declare_code! {
    /// ### What it does
    /// Refuses a plan where a symlink on the way to a protected path leads nowhere (its
    /// target does not exist) to a place the command could create, or cannot be followed (a
    /// loop, more than 40 links), in a directory the command may write: a `.bashrc` or `.git`
    /// left dangling by an earlier run, or planted. bwrap cannot mount on such a link, and srt
    /// will not create files where a link points. `srt run` stops before the command starts,
    /// naming the link; `srt compile` prints the plan with the error and exits 1. A link whose
    /// target the command cannot create (its directory is read-only in the sandbox, as spelled
    /// and as resolved) is not refused: it is pinned, and the name leads nowhere for the whole
    /// run (anyone can leave such a link under a shared write root such as `/tmp`).
    ///
    /// ### Why is this bad
    /// Without the mount the protected name would be open: the command could create the
    /// link's target and so write what the host reads under the protected name.
    ///
    /// ### Example
    /// Bad, when `./.zshrc` is a symlink to `/nowhere/zshrc`:
    /// ```text
    /// "allowWrite": ["."]
    /// ```
    /// Use instead: remove the link (`rm .zshrc`), or create what it points to.
    pub DANGLING_SYMLINK {
        code: "dangling-symlink",
        kind: Backend,
        level: Deny,
        summary: "a symlink where a protected name goes leads nowhere; the run is refused",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Refuses a run whose working directory lies under `/dev` or `/proc`, such as a
    /// project in `/dev/shm`. The sandbox gets its own `/dev` and `/proc`, mounted over the
    /// host's ([`kernel-fs-path`](kernel-fs-path.md)), so the directory is not there inside:
    /// bubblewrap could not change into it, or the command would start in an empty private
    /// directory of the same name and its writes would vanish with the sandbox. `srt run`
    /// stops before anything starts and says why; `srt compile` prints the plan with the error
    /// and exits 1. The npm srt passes no `--chdir`, so bubblewrap falls back to the home
    /// directory: the command runs there instead, read-only unless the home is a write root.
    ///
    /// ### Why is this bad
    /// Nothing the command does there reaches the project the user meant.
    ///
    /// ### Example
    /// Bad: `cd /dev/shm/scratch && srt -c make`.
    ///
    /// Use instead: keep the project on a tmpfs the sandbox shares with the host, such as
    /// `/tmp` or `$XDG_RUNTIME_DIR`.
    pub CWD_IN_KERNEL_FS {
        code: "cwd-in-kernel-fs",
        kind: Backend,
        level: Deny,
        summary: "the working directory lies under /dev or /proc, which the sandbox replaces; the run is refused",
    }
}
