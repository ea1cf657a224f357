//! Notes the Linux backend puts on its plan about globs in the filesystem lists. On Linux a
//! glob becomes one mount per path it matches, found by listing directories when the sandbox
//! starts (`srt compile` looks when it runs); on macOS it is a regex in the profile and
//! covers paths created later too.

crate::declare_code! {
    /// ### What it does
    /// Notes a glob with no literal directory to expand it from: one with a wildcard right
    /// after `/` (`/**/*.key`, `/*.log`), or whose literal directory is under `/proc`, `/sys`
    /// or `/dev`. The Linux plan expands a glob by listing the directories below its literal
    /// part, and does not walk the whole machine or the kernel's filesystems (nor does the npm
    /// srt).
    ///
    /// ### Why is this bad
    /// On Linux the entry covers nothing: a deny hides nothing, an allow grants nothing.
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "denyRead": ["/**/*.key"]
    /// ```
    /// Use instead (name where the files are):
    /// ```text
    /// "denyRead": ["~/keys/**/*.key"]
    /// ```
    pub GLOB_NO_BASE {
        code: "glob-no-base",
        kind: Backend,
        level: Note,
        summary: "a glob has no literal directory to expand from; on Linux it covers nothing",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a glob in a filesystem list that matches nothing on this machine, so on Linux
    /// it adds no mount.
    ///
    /// ### Why is this bad
    /// A deny glob protects nothing: a matching file created later, by the command or by
    /// another program while the sandbox runs, is not denied. An allow glob grants nothing,
    /// and the command cannot create a matching path.
    ///
    /// ### Example
    /// Bad, when `~/keys` holds no `.pem` file yet:
    /// ```text
    /// "denyRead": ["~/keys/*.pem"]
    /// ```
    /// Use instead (a directory is denied whole, including what is created in it later):
    /// ```text
    /// "denyRead": ["~/keys"]
    /// ```
    pub GLOB_MATCHES_NOTHING {
        code: "glob-matches-nothing",
        kind: Backend,
        level: Note,
        summary: "a glob matches nothing on this machine; on Linux it covers nothing",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes a `denyRead` or `denyWrite` glob on Linux: it covers the paths it matches when
    /// the sandbox starts, one mount each. The note says how many.
    ///
    /// ### Why is this bad
    /// A matching path created later is not covered: one the command creates in a
    /// writable directory (`"denyWrite": ["./*.lock"]` does not stop a new `new.lock`), or one
    /// another program creates while the sandbox runs.
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "denyRead": ["~/secrets/*.pem"]
    /// ```
    /// Use instead, when the whole directory may go:
    /// ```text
    /// "denyRead": ["~/secrets"]
    /// ```
    pub DENY_GLOB_EXISTING_ONLY {
        code: "deny-glob-existing-only",
        kind: Backend,
        level: Note,
        summary: "on Linux a deny glob covers only the paths that exist when the sandbox starts",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes an `allowRead` or `allowWrite` glob on Linux: it grants the paths it matches when
    /// the sandbox starts, one bind each. The note says how many; the count includes
    /// directories, which are not bound (see
    /// [`allow-glob-directory`](allow-glob-directory.md)).
    ///
    /// ### Why is this bad
    /// The command cannot create a new matching path, and a program that replaces a file by
    /// renaming a new one over it (editors, atomic writes) fails, because the directory
    /// around the file stays read-only.
    ///
    /// ### Example
    /// Bad:
    /// ```text
    /// "allowWrite": ["./*.log"]
    /// ```
    /// Use instead (and write the logs there):
    /// ```text
    /// "allowWrite": ["./logs"]
    /// ```
    pub ALLOW_GLOB_EXISTING_ONLY {
        code: "allow-glob-existing-only",
        kind: Backend,
        level: Note,
        summary: "on Linux an allow glob grants only the paths that exist when the sandbox starts",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Notes an `allowRead` or `allowWrite` glob that matches a directory. An allow glob
    /// grants the paths it matches, not what is inside them (as in the macOS profile), but a
    /// bind mount of a directory would grant everything in it, so on Linux the directory is
    /// left as its surroundings are (usually read-only).
    ///
    /// ### Why is this bad
    /// The command cannot write (or, inside a denied directory, read) the directory the glob
    /// names.
    ///
    /// ### Example
    /// Bad, when `./out-1` is a directory:
    /// ```text
    /// "allowWrite": ["./out-*"]
    /// ```
    /// Use instead (a literal directory is granted with its contents):
    /// ```text
    /// "allowWrite": ["./out-1"]
    /// ```
    pub ALLOW_GLOB_DIRECTORY {
        code: "allow-glob-directory",
        kind: Backend,
        level: Note,
        summary: "an allow glob matches a directory, which on Linux is left as it is",
    }
}
