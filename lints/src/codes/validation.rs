//! Validation errors (`srt-schema`). A file with any of them is rejected: `srt lint` exits 1,
//! `srt run` refuses to start, and no lint runs. Their level cannot be changed.

crate::declare_code! {
    /// ### What it does
    /// Rejects a key the settings format does not have, with a did-you-mean
    /// (`allowedDomain` → `allowedDomains`, `denywrite` → `denyWrite`) or the place the key
    /// belongs.
    ///
    /// ### Why is this bad
    /// The npm srt silently drops unknown keys. A typo'd `denyWrite` therefore fails open: the
    /// file looks protective and protects nothing. srt refuses the file instead.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denywrite": [".env"]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [".env"]}}
    /// ```
    pub UNKNOWN_KEY {
        code: "unknown-key",
        kind: Validation,
        level: Deny,
        summary: "a key the settings format does not have (the npm srt would silently drop it)",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects an `allowedDomains`/`deniedDomains` entry that is not a domain pattern: URLs
    /// (`https://x`), paths (`x/path`), misplaced wildcards (`*x.com`, `a*.x`), wildcards over a
    /// top-level domain (`*.com`), a bare `*` in an allow list, bad ports, unbracketed IPv6,
    /// spaces, empty labels, and non-ASCII names not written in punycode.
    ///
    /// ### Why is this bad
    /// Such an entry never matches what its author meant (the proxy sees host names, never
    /// URLs), or it is far broader than intended. The npm srt rejects most of these too.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["https://crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub INVALID_DOMAIN_PATTERN {
        code: "invalid-domain-pattern",
        kind: Validation,
        level: Deny,
        summary: "a domain entry that is not a valid pattern (URL, path, misplaced or too-broad wildcard, bad port)",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a value of the wrong JSON type: a string where a list is expected, a string for
    /// a boolean, an object for a path.
    ///
    /// ### Why is this bad
    /// The npm srt refuses such a file; a value of the wrong type has no meaning.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": "github.com", "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["github.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub WRONG_TYPE {
        code: "wrong-type",
        kind: Validation,
        level: Deny,
        summary: "a value of the wrong JSON type",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects an object that lacks a key it cannot work without, such as `network.mitmProxy`
    /// without `domains`. (Missing top-level lists are accepted by srt and reported by
    /// `peer-incompatible` instead.)
    ///
    /// ### Why is this bad
    /// The feature cannot be configured without it, and the npm srt rejects the file.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": [],
    ///   "mitmProxy": {"socketPath": "/tmp/m.sock"}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": [],
    ///   "mitmProxy": {"socketPath": "/tmp/m.sock", "domains": ["api.example.com"]}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub MISSING_KEY {
        code: "missing-key",
        kind: Validation,
        level: Deny,
        summary: "an object lacks a key it requires",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a number outside its range: ports outside 1–65535, `mandatoryDenySearchDepth`
    /// outside 1–10.
    ///
    /// ### Why is this bad
    /// The npm srt rejects the file; there is no sensible value to fall back to.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "mandatoryDenySearchDepth": 20}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "mandatoryDenySearchDepth": 10}
    /// ```
    pub OUT_OF_RANGE {
        code: "out-of-range",
        kind: Validation,
        level: Deny,
        summary: "a number outside its allowed range",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a value the key does not accept: a relative `bwrapPath`, an empty string, a
    /// value not among an option's choices, a `deniedResolvedAddresses` entry that is not an IP
    /// or CIDR, a misplaced `*` in `allowMachLookup`.
    ///
    /// ### Why is this bad
    /// The npm srt rejects the file; the value cannot mean what was intended.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "bwrapPath": "bwrap"}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "bwrapPath": "/usr/bin/bwrap"}
    /// ```
    pub INVALID_VALUE {
        code: "invalid-value",
        kind: Validation,
        level: Deny,
        summary: "a value the key does not accept",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects an empty string in a filesystem list.
    ///
    /// ### Why is this bad
    /// An empty path names nothing; the npm srt rejects it ("Path cannot be empty").
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [""], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (`.` is the current directory):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    pub EMPTY_PATH {
        code: "empty-path",
        kind: Validation,
        level: Deny,
        summary: "an empty path in a filesystem list",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a malformed filesystem entry: a `{ "path", "literal" }` object with
    /// `literal` other than `true` or a missing member, a deny glob ending in `/` (which can
    /// match no path), a path with a NUL character (`\u0000`, which no file name can hold),
    /// or a glob srt cannot translate.
    ///
    /// ### Why is this bad
    /// The entry cannot do what it says; a deny that matches nothing fails open.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": ["/tmp/*/"]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": ["/tmp/*"]}}
    /// ```
    pub INVALID_PATH_ENTRY {
        code: "invalid-path-entry",
        kind: Validation,
        level: Deny,
        summary: "a malformed filesystem entry (bad literal object, deny glob ending in `/`)",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects an object key written twice.
    ///
    /// ### Why is this bad
    /// `JSON.parse` keeps only the last one, so the first list is silently ignored; a merged
    /// file often loses its denies this way.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/.ssh"], "denyRead": ["~/.aws"], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/.ssh", "~/.aws"], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub DUPLICATE_KEY {
        code: "duplicate-key",
        kind: Validation,
        level: Deny,
        summary: "an object key written twice (only the last counts)",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects text that is not strict JSON: comments, trailing commas, single quotes,
    /// unquoted keys, two root values.
    ///
    /// ### Why is this bad
    /// The npm srt reads settings with `JSON.parse` and refuses such a file.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": [],},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub INVALID_JSON {
        code: "invalid-json",
        kind: Validation,
        level: Deny,
        summary: "the file is not strict JSON",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects an empty (or whitespace-only) settings file.
    ///
    /// ### Why is this bad
    /// The npm srt refuses to run with it rather than fall back to its defaults, which would
    /// silently drop whatever the file was meant to say.
    ///
    /// ### Example
    /// Bad: a file with nothing in it.
    ///
    /// Use instead: delete the file, or write a minimal policy (`srt init`):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub EMPTY_FILE {
        code: "empty-file",
        kind: Validation,
        level: Deny,
        summary: "the settings file is empty",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Rejects a file that is not valid UTF-8, pointing at the first bad byte.
    ///
    /// ### Why is this bad
    /// Settings files are UTF-8 JSON; a path or host with a mis-encoded byte never matches.
    ///
    /// ### Example
    /// Bad: a file saved as Latin-1 with `"~/Développement"` in it.
    ///
    /// Use instead: the same file saved as UTF-8.
    pub NOT_UTF8 {
        code: "not-utf8",
        kind: Validation,
        level: Deny,
        summary: "the settings file is not valid UTF-8",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Reports a settings file that cannot be read: it does not exist, it is a directory, or
    /// reading it failed. `srt lint` exits 2.
    ///
    /// ### Why is this bad
    /// There is no policy to check or enforce; srt never falls back to a default for a file
    /// that was named explicitly.
    ///
    /// ### Example
    /// Bad: `srt lint does-not-exist.json`.
    ///
    /// Use instead: the path of an existing settings file.
    pub UNREADABLE_FILE {
        code: "unreadable-file",
        kind: Validation,
        level: Deny,
        summary: "the settings file cannot be read",
    }
}

crate::declare_code! {
    /// ### What it does
    /// Reports a failure inside srt itself (its built-in schema did not load).
    ///
    /// ### Why is this bad
    /// Nothing about the file can be trusted to have been checked. Please report it.
    ///
    /// ### Example
    /// Not caused by any settings file.
    pub INTERNAL_ERROR {
        code: "internal-error",
        kind: Validation,
        level: Deny,
        summary: "a bug in srt",
    }
}
