//! Documentation generated from the declarations: the book's page per code
//! (`book/src/lints/CODE.md`), the chapter index, and the plain text `srt explain` prints.

use crate::registry::{registry, Kind, Lint};

/// The book page of one code.
pub fn page(lint: &Lint) -> String {
    let (kind, level_note) = match lint.kind {
        Kind::Lint => (
            "lint",
            format!("set with `-A {c}`, `-W {c}` or `-D {c}`", c = lint.code),
        ),
        Kind::Compiler => (
            "compiler note",
            format!("set with `-A {c}` or `-W {c}`", c = lint.code),
        ),
        Kind::Validation => (
            "validation error",
            "fixed: the file is rejected and no lint runs".to_string(),
        ),
        Kind::Backend => (
            backend_kind(lint),
            "fixed: reported by `srt compile`, not by `srt lint`".to_string(),
        ),
    };
    let mut out = format!("# `{}`\n\n", lint.code);
    out.push_str(&format!("{}\n\n", capitalise(lint.summary)));
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| Kind | {kind} |\n"));
    out.push_str(&format!(
        "| Default level | `{}` ({level_note}) |\n",
        lint.level
    ));
    out.push_str(&format!("| Stops `srt run` | {} |\n", stops_run(lint)));
    if lint.local_disk() {
        out.push_str("| Group | local disk: depends on the machine that lints; `srt lint` reports it locally, not with `--portable`, in CI (`CI` set) or under pre-commit |\n");
    }
    out.push_str(&format!("| Explain | `srt explain {}` |\n\n", lint.code));
    for line in lint.doc().lines() {
        // Doc comments use `###` so they read well in rustdoc; a page's sections are `##`.
        match line.strip_prefix("### ") {
            Some(h) => out.push_str(&format!("## {h}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Whether the code's findings stop `srt run`, for its page.
fn stops_run(lint: &Lint) -> String {
    match lint.kind {
        Kind::Validation => "yes: the file cannot be enforced as written".into(),
        Kind::Compiler => "only at error level (a rule that did not resolve); notes never".into(),
        Kind::Backend if lint.level == crate::Level::Deny => {
            "yes, on the target it is about: no sandbox can be made".into()
        }
        Kind::Backend => "no: the plan is made, with this caveat".into(),
        Kind::Lint => match crate::run_gate::run_policy(lint.code) {
            Some(p) if p.stops && p.code == "unsupported-key" => format!(
                "yes, whatever its level ({}); remove the key, or run the file with the npm srt",
                p.why
            ),
            Some(p) if p.stops => format!(
                "yes, at error level ({}); `-A {c}` or `-W {c}` lets it run",
                p.why,
                c = lint.code
            ),
            _ => format!(
                "no: reported in one line and the run goes on, unless `-D {}` is given",
                lint.code
            ),
        },
    }
}

/// A backend code is a note (the plan is made, with a caveat) or an error (no plan).
fn backend_kind(lint: &Lint) -> &'static str {
    match lint.level {
        crate::Level::Deny => "backend error",
        _ => "backend note",
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// The chapter's index page: how `srt lint` works, then every code with its level and summary.
pub fn index() -> String {
    let fixable: Vec<String> = registry()
        .iter()
        .filter(|l| l.raw_doc.contains("machine-applicable"))
        .map(|l| format!("[`{c}`]({c}.md)", c = l.code))
        .collect();
    let mut out = String::from(INDEX_INTRO);
    out.push_str(&format!(
        "Lints with machine-applicable fixes: {}.\n\n",
        fixable.join(", ")
    ));
    out.push_str(&format!(
        "## The Public Suffix List\n\n\
         `wildcard-over-public-suffix` reads the [Public Suffix List](https://publicsuffix.org/) \
         with the `publicsuffix` crate. The list is vendored in `lints/data/` (MPL-2.0; this build: \
         `{}`) and refreshed from PyPI's `publicsuffixlist` package by \
         `lints/data/refresh-psl.sh`; srt never fetches it at run time. Parsing all ~10,000 rules \
         on every run would cost milliseconds, so `lints/build.rs` converts internationalised \
         rules to punycode and groups the rules by their last two labels: a lookup parses only \
         the few rules that can match its name. A test checks that this agrees with the whole \
         list for every rule. (The `psl` crate, with the list compiled to code, was the \
         alternative; it ties list updates to crate releases.)\n\n",
        crate::psl::version()
    ));
    out.push_str(RUN_INTRO);
    for p in crate::run_gate::RUN_POLICY {
        out.push_str(&format!(
            "| [`{c}`]({c}.md) | {} | {} |\n",
            if p.stops { "yes" } else { "no" },
            p.why.replace('|', "\\|"),
            c = p.code
        ));
    }
    out.push_str(RUN_OUTRO);
    for (title, intro, kinds) in [
        ("Lints", "", &[Kind::Lint][..]),
        (
            "Validation errors and compiler notes",
            "",
            &[Kind::Validation, Kind::Compiler][..],
        ),
        (
            "Backend notes and errors",
            BACKEND_INTRO,
            &[Kind::Backend][..],
        ),
    ] {
        out.push_str(&format!(
            "## {title}\n\n{intro}| code | level | what it flags |\n|---|---|---|\n"
        ));
        for l in registry().iter().filter(|l| kinds.contains(&l.kind)) {
            out.push_str(&format!(
                "| [`{c}`]({c}.md) | `{}` | {} |\n",
                l.level,
                l.summary.replace('|', "\\|"),
                c = l.code
            ));
        }
        out.push('\n');
    }
    out
}

const RUN_INTRO: &str = "## What stops `srt run`\n\n\
`srt run` lints the file first, for this machine's OS. A file the npm srt runs, srt runs: it \
refuses one only when it cannot enforce it as written, or when running it would hand the \
sandbox the host outright. Everything else is reported once, a line per finding, and the \
command runs.\n\n\
| finding | stops `srt run`? | why |\n|---|---|---|\n\
| any validation error | yes | the file cannot be enforced as written; fix the file |\n\
| a compiler error (a rule that did not resolve) | yes | the rule would be missing from the sandbox |\n\
| `httpProxyPort` / `socksProxyPort` | yes | srt runs its own proxies and does not chain to another one |\n";

const RUN_OUTRO: &str =
    "| every other lint (warnings, notes) | no | reported in one line each |\n\n\
A lint raised to `deny` on the command line (`-D CODE`, or `-D warnings`) stops the run too. \
A stopping lint can be relaxed for one run, in either form: `srt run -A CODE -c CMD` or \
`srt -s FILE -A CODE -c CMD`. The keys srt does not implement (`unsupported-key`) cannot be \
relaxed: remove the key, or run the file with the npm srt.\n\n";

const BACKEND_INTRO: &str = "`srt compile` reports these with the plan it prints: a note where \
the target's sandbox cannot express a rule exactly (the plan is still made, and says what it \
does instead), an error where no safe plan can be written at all. `srt lint` does not report \
them and their levels cannot be changed; `srt explain CODE` describes each.\n\n";

const INDEX_INTRO: &str = r#"# Lints

`srt lint` checks a settings file in two stages. First the file is validated: a file with a
**validation error** is rejected (exit 1) and nothing else runs, because the npm srt would refuse
or misread it too; these codes cannot be allowed away. Then every **lint** runs on the valid
file. Lints read the settings (with the exact span of every key and value) and the compiled
policy, and ask srt's decision procedure what is allowed, so a lint can never disagree with what
`srt run` enforces.

```sh
srt lint [FILE…]               # default: ~/.srt-settings.json, as the npm srt
srt lint --target macos FILE   # some keys work on one OS only (default: the file's, else this machine's)
srt lint --portable FILE       # only what the file says (the default in CI and pre-commit)
srt lint --list                # every code, its level and summary
srt explain CODE               # a code's page, in the terminal
```

## The same verdict on every machine

A file gets the same findings on a laptop, in a pre-commit hook and on a CI runner. `srt lint`
resolves it on a made-up machine: `~` is `/home/user` (`/Users/user` for macOS), the project is
`~/project`, and nothing exists on its disk; paths under `/home/NAME`, `/Users/NAME` and `/root`
are read as under `~` (a policy written for `/Users/alice` means the same on a runner whose
`$HOME` is `/root`), and `/home` and `/Users` as the directory that holds the homes. `--home` and
`--cwd` replace the made-up ones.

Without `--target`, the OS is the one the file is written for when it says so (macOS-only keys
such as `allowPty` or `allowUnixSockets`, or paths such as `/Users` and `~/Library`; Linux-only
keys such as `bwrapPath`, or paths such as `/home` and `/proc`), otherwise this machine's. A team
whose files name neither and who lint on both OSes should pin `--target` in the hook's `args`.

Only the **local-disk group** looks at this machine: [`missing-path`](missing-path.md) and
[`symlink-not-followed`](symlink-not-followed.md), whose messages say "on this machine". It runs
against this machine's disk, `$HOME` and working directory when `srt lint` runs by hand, and is
left out in CI (the `CI` variable set, as every CI service does), under pre-commit (which sets
`PRE_COMMIT`) and with `--portable`; `--local` forces it on. `srt run` is about this machine, so
it lints against the real disk, home and working directory.

How well this holds up is measured on a corpus of 48 realistic policies (`snapshots/corpus/`),
linted as CI runs `srt lint` and checked against a reviewer's expectations in CI: precision and
recall are in `bench/README.md`. What the lints know about hosts and places is data, with a page
per kind: [What the lints know](../knowledge/index.md).

## Levels

Each lint has a default level: `deny` findings are errors and make `srt lint` exit 1, `warn`
findings are warnings, `note` findings are notes; `allow` hides a lint. Change them per run:
`-A CODE` (allow), `-W CODE` (warn), `-D CODE` (deny), repeatable or comma-separated.
`-D warnings` makes every warning an error (`-A warnings` hides them); a code named explicitly
keeps its own level whatever the order, so `-D warnings -W exfiltration-surface` fails on every
warning but that one. Some lints report particular findings at another level; their pages say
which. Giving a code two levels, naming an unknown code, or changing a validation code's level
is a usage error (exit 2).

Levels live on the command line (or in a pre-commit hook's `args`), never in the settings file:
the npm srt would drop an unknown key such as `"lints"`, and srt rejects unknown keys.

## Output

- `--format human` (default): each finding with its code, a snippet of the file, a label under
  the exact span, and help; a summary line (`srt: 2 errors, 1 warning`) on stderr.
- `--format json`: `{"version": 1, "diagnostics": [...]}` on stdout. Each diagnostic has
  `code`, `severity` (`error`, `warning`, `note`), `message`, `file`, `line`, `column`,
  `end_line`, `end_column` (1-based; columns count characters; the end is just past the span),
  `help`, and, when one exists, `fix`: `{"description", "edits": [{"start", "end",
  "replacement"}]}` with byte offsets into the file's text (after a byte order mark).
- `--format sarif`: SARIF 2.1.0 on stdout, for code-scanning tools. The run's `rules` list
  every code with its summary and this documentation as help (text and Markdown); results carry
  their rule, level, exact region, related locations and fixes. A test validates real output
  against the official OASIS schema.

Exit codes: 0 when nothing reaches deny level, 1 when something does, 2 for a usage error or a
file that cannot be read.

## Fixes

`srt lint --fix FILE` applies machine-applicable fixes in place: it lints, applies every fix
whose edits do not overlap, and repeats until nothing is left to fix. New entries and keys are
added after the existing ones, laid out like their neighbours (one per line or inline,
indentation, spacing), so the file's formatting and key order are kept. The file is replaced
atomically (a temporary file in the same directory, synced, renamed over the original with its
permissions), so an interrupted fix leaves the old file or the new one, never half of each; a
fix that would make the file invalid is refused. `--fix --dry-run` prints a unified diff instead
and exits 1 if there is anything to change. Allowed lints are never fixed.

"#;

/// The `SUMMARY.md` lines for the chapter's pages.
pub fn summary_lines() -> Vec<String> {
    registry()
        .iter()
        .map(|l| format!("  - [{c}](lints/{c}.md)", c = l.code))
        .collect()
}

/// Markdown to plain text for terminals and SARIF `help.text`: headings lose their `#`s,
/// code fences are dropped and their contents indented.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
        } else if let Some(h) = line
            .trim_start_matches('#')
            .strip_prefix(' ')
            .filter(|_| line.starts_with('#'))
        {
            out.push_str(&h.to_uppercase());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// What `srt explain CODE` prints.
pub fn explain(lint: &Lint) -> String {
    let kind = match lint.kind {
        Kind::Lint => "lint",
        Kind::Compiler => "compiler note",
        Kind::Validation => "validation error",
        Kind::Backend => backend_kind(lint),
    };
    format!(
        "{} ({kind}, default level: {})\n{}\n\n{}",
        lint.code,
        lint.level,
        capitalise(lint.summary),
        plain_text(&lint.doc())
    )
}
