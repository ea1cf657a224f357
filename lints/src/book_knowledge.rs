//! The book's "What the lints know" chapter (`book/src/knowledge/`), generated from the knowledge
//! base (`lints/knowledge/*.toml`): a page per data file, and an index. `lints/tests/all/book.rs`
//! keeps the pages current.

use crate::knowledge::{Channel, KindDoc, Sure, CHANNELS, HOST_RUN, KINDS, PROJECT_FILES};

/// The chapter's line in `SUMMARY.md`.
pub const SUMMARY_HEADER: &str = "- [What the lints know](knowledge/index.md)";

/// The `SUMMARY.md` lines under [`SUMMARY_HEADER`].
pub fn summary_lines() -> Vec<String> {
    KINDS
        .iter()
        .map(|k| format!("  - [{}](knowledge/{}.md)", k.title, k.kind))
        .collect()
}

/// Every page of the chapter: (file name, text).
pub fn pages() -> Vec<(String, String)> {
    let mut out = vec![("index.md".to_string(), index())];
    out.extend(KINDS.iter().map(|k| (format!("{}.md", k.kind), page(k))));
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn sure_cell(sure: Sure, levels: [&str; 3]) -> String {
    let level = match sure {
        Sure::Certain => levels[0],
        Sure::Real => levels[1],
        Sure::Stretch => levels[2],
    };
    format!("{} ({level})", sure.as_str())
}

fn index() -> String {
    let mut out = String::from(
        "# What the lints know\n\n\
         The lints that judge hosts and places do not keep lists of names in code: they read a \
         knowledge base, one data file per kind under `lints/knowledge/`, compiled into srt when \
         it is built (a malformed entry fails the build). Each entry says what an attacker can \
         do through it, how sure that is, and the narrower alternative; the lints repeat that in \
         their findings, and these pages are generated from the same files (a test keeps them \
         current).\n\n\
         How sure, and the level it gives:\n\n\
         - **certain**: it happens without the user doing anything unusual (the next shell, \
         login, commit or build). A place the host runs: an error, which stops `srt run`; a \
         network channel: a warning.\n\
         - **real**: the channel is real and general (a publish with a token the attacker \
         brings), or it needs a tool the user runs routinely: a warning.\n\
         - **stretch**: it needs a step the user takes on purpose: a note.\n\n\
         Project files are the exception: the project is meant to be written, so a note names \
         them when a broader entry (`.`) makes them writable, and a warning when an entry names \
         one of them.\n\n\
         | kind | file | entries | read by |\n|---|---|---|---|\n",
    );
    for k in KINDS {
        let (count, lint) = match k.kind {
            "host-run" => (HOST_RUN.len(), "write-allows-host-code-execution"),
            "project-files" => (PROJECT_FILES.len(), "project-file-runs-on-host"),
            kind => (
                CHANNELS.iter().filter(|c| c.kind == kind).count(),
                "exfiltration-surface",
            ),
        };
        out.push_str(&format!(
            "| [{}]({}.md) | `lints/knowledge/{}` | {count} | [`{lint}`](../lints/{lint}.md) |\n",
            k.title, k.kind, k.file
        ));
    }
    out.push_str(
        "\nTo add an entry, edit the data file (its header comment gives the format), rebuild, \
         and regenerate these pages with `SRT_BLESS_BOOK=1 cargo test -p srt-lints --test all book::`.\n",
    );
    out
}

fn page(k: &KindDoc) -> String {
    let mut out = format!(
        "# {}\n\n{}\n\nSource: `lints/knowledge/{}`.\n\n",
        k.title, k.intro, k.file
    );
    match k.kind {
        "host-run" => host_run(&mut out),
        "project-files" => project_files(&mut out),
        kind => channels(&mut out, kind),
    }
    out
}

fn channels(out: &mut String, kind: &str) {
    out.push_str(
        "Read by [`exfiltration-surface`](../lints/exfiltration-surface.md), which names the \
         channel in its message.\n\n\
         | service | hosts | what an attacker can do | how sure | when it is needed | narrower alternative |\n\
         |---|---|---|---|---|---|\n",
    );
    for c in CHANNELS.iter().filter(|c| c.kind == kind) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell(c.name),
            hosts(c),
            cell(c.can),
            sure_cell(c.sure, ["warning", "warning", "note"]),
            cell(&needed(c)),
            cell(c.instead),
        ));
    }
}

fn hosts(c: &Channel) -> String {
    c.hosts
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn needed(c: &Channel) -> String {
    let mut s = c.needed_for.to_string();
    if !c.expected_with.is_empty() {
        s.push_str(&format!(
            " (a note when {} is allowed too: {})",
            c.expected_with.join(", "),
            c.expected_why
        ));
    }
    s
}

fn host_run(out: &mut String) {
    out.push_str(
        "Read by [`write-allows-host-code-execution`](../lints/write-allows-host-code-execution.md), \
         which probes each path for writing and reports the `allowWrite` entry that opens it.\n",
    );
    let mut groups: Vec<&str> = Vec::new();
    for p in HOST_RUN {
        if !groups.contains(&p.group) {
            groups.push(p.group);
        }
    }
    for g in groups {
        let mut title = g.to_string();
        if let Some(first) = title.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        out.push_str(&format!(
            "\n## {title}\n\n| place | probed as | why it runs on the host | how sure | OS |\n|---|---|---|---|---|\n"
        ));
        for p in HOST_RUN.iter().filter(|p| p.group == g) {
            let on = match p.on {
                crate::knowledge::places::On::Both => "both",
                crate::knowledge::places::On::Linux => "Linux",
                crate::knowledge::places::On::Macos => "macOS",
            };
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {on} |\n",
                p.shown,
                p.path,
                cell(p.why),
                sure_cell(p.sure, ["error", "warning", "note"]),
            ));
        }
    }
}

fn project_files(out: &mut String) {
    out.push_str(
        "Read by [`project-file-runs-on-host`](../lints/project-file-runs-on-host.md), which \
         probes each file at the working directory and offers the `denyWrite` lines: a note \
         when a broader entry such as `.` makes them writable, a warning when an entry names \
         one of them.\n\n\
         | file | tool | why it runs on the host | how sure | srt's built-in deny |\n|---|---|---|---|---|\n",
    );
    for f in PROJECT_FILES {
        out.push_str(&format!(
            "| `{}{}` | {} | {} | {} | {} |\n",
            f.path,
            if f.dir { "/" } else { "" },
            cell(f.tool),
            cell(f.why),
            f.sure.as_str(),
            if f.builtin {
                "yes (the npm srt: no)"
            } else {
                "no"
            },
        ));
    }
}
