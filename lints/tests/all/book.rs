//! The book's lint chapter is generated from the declarations, and its knowledge chapter from
//! the knowledge base. This test fails when a code has no page, a page describes no code, a page
//! or an index is stale, or SUMMARY.md does not list exactly the pages. `SRT_BLESS_BOOK=1 cargo test -p srt-lints --test all book::` rewrites them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src")
}

fn expected() -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    for l in srt_lints::registry() {
        pages.insert(format!("{}.md", l.code), srt_lints::book::page(l));
    }
    pages.insert("index.md".into(), srt_lints::book::index());
    pages
}

/// SUMMARY.md with the two generated chapters' lines replaced by the generated ones (the
/// knowledge chapter is added after the lints chapter when it is missing).
fn expected_summary(current: &str) -> String {
    let knowledge_header = srt_lints::book_knowledge::SUMMARY_HEADER;
    let has_knowledge = current.lines().any(|l| l == knowledge_header);
    let mut out = Vec::new();
    let mut lines = current.lines().peekable();
    while let Some(line) = lines.next() {
        out.push(line.to_string());
        for (header, dir, generated) in [
            (
                "- [Lints](lints/index.md)",
                "(lints/",
                srt_lints::book::summary_lines(),
            ),
            (
                knowledge_header,
                "(knowledge/",
                srt_lints::book_knowledge::summary_lines(),
            ),
        ] {
            if line != header {
                continue;
            }
            while lines
                .peek()
                .is_some_and(|l| l.contains(dir) && l.starts_with("  "))
            {
                lines.next();
            }
            out.extend(generated);
            if header.contains("(lints/") && !has_knowledge {
                out.push(knowledge_header.to_string());
                out.extend(srt_lints::book_knowledge::summary_lines());
            }
        }
    }
    out.join("\n") + "\n"
}

/// Compares (and with `SRT_BLESS_BOOK`, rewrites) one generated directory.
fn check_dir(dir: &Path, expected: &BTreeMap<String, String>, bless: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if bless {
        std::fs::create_dir_all(dir).unwrap();
    }
    let shown = dir
        .strip_prefix(book())
        .unwrap_or(dir)
        .display()
        .to_string();
    let present: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".md"))
                .collect()
        })
        .unwrap_or_default();
    for name in &present {
        if !expected.contains_key(name) {
            problems.push(format!("book/src/{shown}/{name} is not generated"));
            if bless {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
        }
    }
    for (name, text) in expected {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(t) if &t == text => {}
            Ok(_) => problems.push(format!("book/src/{shown}/{name} is stale")),
            Err(_) => problems.push(format!("book/src/{shown}/{name} is missing")),
        }
        if bless {
            std::fs::write(&path, text).unwrap();
        }
    }
    problems
}

#[test]
fn every_code_has_a_current_page_and_every_page_a_code() {
    let bless = std::env::var_os("SRT_BLESS_BOOK").is_some();
    let mut problems = check_dir(&book().join("lints"), &expected(), bless);
    let knowledge: BTreeMap<String, String> =
        srt_lints::book_knowledge::pages().into_iter().collect();
    problems.extend(check_dir(&book().join("knowledge"), &knowledge, bless));
    let summary_path = book().join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path).unwrap();
    let want = expected_summary(&summary);
    if summary != want {
        problems.push("book/src/SUMMARY.md does not list exactly the generated pages".into());
        if bless {
            std::fs::write(&summary_path, &want).unwrap();
        }
    }
    assert!(
        bless || problems.is_empty(),
        "{}\nrun `SRT_BLESS_BOOK=1 cargo test -p srt-lints --test all book::` to regenerate",
        problems.join("\n")
    );
}
