//! Errors of the macOS backend (`srt compile --target macos`): text that cannot go into a
//! Seatbelt profile. The codes are `srt_compiler::backend::macos::ERROR_CODES`. No profile is
//! written then: one without the rule would be weaker than the settings say.

crate::declare_code! {
    /// ### What it does
    /// Reports text that cannot be written into a Seatbelt profile: a path, the regex of a
    /// glob, a `network.allowMachLookup` name or the `--log-tag` that holds a control
    /// character other than newline, tab and carriage return (the profile's string syntax has
    /// no escape that is sure to read back as the same byte), or that is longer than 1024
    /// bytes once escaped (`sandbox-exec` rejects a longer string, and with it the whole
    /// profile). `srt compile --target macos` writes no profile and exits 1.
    ///
    /// ### Why is this bad
    /// A profile without the rule would be weaker than the settings say, and a guessed
    /// escape could make the rule name another path.
    ///
    /// ### Example
    /// Bad (an escape character in a file name):
    /// ```text
    /// "denyRead": ["/p/a\u001bb"]
    /// ```
    /// Use instead: rename the file, or leave the entry out.
    pub SEATBELT_UNREPRESENTABLE {
        code: "seatbelt-unrepresentable",
        kind: Backend,
        level: Deny,
        summary: "text cannot be written safely into a Seatbelt profile, so no profile is made",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Reports a path that is not valid UTF-8 where `srt compile --target macos` writes it
    /// into a Seatbelt profile, which is text. The settings file's own entries are always
    /// UTF-8 (it is JSON); such a path comes from the machine: the working directory, the
    /// home directory, the settings file's location, or where a symlink in an entry leads.
    /// No profile is written and srt exits 1.
    ///
    /// ### Why is this bad
    /// A profile without the rule would be weaker than the settings say, and a lossy
    /// conversion would make the rule name another path.
    ///
    /// ### Example
    /// Bad: running from a directory whose name is Latin-1, such as `/Users/dev/caf\xe9`.
    /// Use instead: rename the directory (or the symlink's target) to UTF-8.
    pub SEATBELT_PATH_NOT_UTF8 {
        code: "seatbelt-path-not-utf8",
        kind: Backend,
        level: Deny,
        summary: "a path is not valid UTF-8, which a Seatbelt profile needs, so no profile is made",
    }
}
