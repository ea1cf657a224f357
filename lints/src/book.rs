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
    };
    let mut out = format!("# `{}`\n\n", lint.code);
    out.push_str(&format!("{}\n\n", capitalise(lint.summary)));
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| Kind | {kind} |\n"));
    out.push_str(&format!(
        "| Default level | `{}` ({level_note}) |\n",
        lint.level
    ));
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

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// The chapter's index page: every code with its level and summary.
pub fn index() -> String {
    let mut out = String::from(
        "# Lints\n\n\
         `srt lint` checks a settings file in two stages. First the file is validated: a file \
         with a **validation error** is rejected (exit 1) and nothing else runs, because the npm \
         srt would refuse or misread it too; these codes cannot be allowed away. Then every \
         **lint** runs on the valid file, reading the settings and the compiled policy and asking \
         srt's decision procedure what is allowed.\n\n\
         Each lint has a default level: `deny` findings are errors (exit 1), `warn` findings \
         warnings, `note` findings notes. Change them per run with `-A CODE` (allow: hide), \
         `-W CODE` (warn) and `-D CODE` (deny); `-D warnings` makes every warning an error, and \
         a code named explicitly keeps its own level. Some lints report particular findings at \
         another level; their pages say which. Levels live on the command line (or in the \
         pre-commit hook's `args`), never in the settings file, which must stay valid for the \
         npm srt.\n\n\
         `srt lint --list` prints this table; `srt explain CODE` prints a page.\n\n",
    );
    for (title, kinds) in [
        ("Lints", &[Kind::Lint][..]),
        (
            "Validation errors and compiler notes",
            &[Kind::Validation, Kind::Compiler][..],
        ),
    ] {
        out.push_str(&format!(
            "## {title}\n\n| code | level | what it flags |\n|---|---|---|\n"
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
    };
    format!(
        "{} ({kind}, default level: {})\n{}\n\n{}",
        lint.code,
        lint.level,
        capitalise(lint.summary),
        plain_text(&lint.doc())
    )
}
