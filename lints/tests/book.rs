//! The book's lint chapter is generated from the declarations. This test fails when a code has
//! no page, a page describes no code, a page or the index is stale, or SUMMARY.md does not list
//! exactly the pages. `SRT_BLESS_BOOK=1 cargo test -p srt-lints --test book` rewrites them.

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

/// SUMMARY.md with the chapter's lines replaced by the generated ones.
fn expected_summary(current: &str) -> String {
    let mut out = Vec::new();
    let mut lines = current.lines().peekable();
    while let Some(line) = lines.next() {
        out.push(line.to_string());
        if line.trim_start().starts_with("- [Lints](lints/index.md)") {
            while lines
                .peek()
                .is_some_and(|l| l.contains("(lints/") && l.starts_with("  "))
            {
                lines.next();
            }
            out.extend(srt_lints::book::summary_lines());
        }
    }
    out.join("\n") + "\n"
}

#[test]
fn every_code_has_a_current_page_and_every_page_a_code() {
    let dir = book().join("lints");
    let bless = std::env::var_os("SRT_BLESS_BOOK").is_some();
    let expected = expected();
    let mut problems = Vec::new();
    let present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .collect();
    for name in &present {
        if !expected.contains_key(name) {
            problems.push(format!("book/src/lints/{name} describes no code"));
            if bless {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
        }
    }
    for (name, text) in &expected {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(t) if &t == text => {}
            Ok(_) => problems.push(format!("book/src/lints/{name} is stale")),
            Err(_) => problems.push(format!("book/src/lints/{name} is missing")),
        }
        if bless {
            std::fs::write(&path, text).unwrap();
        }
    }
    let summary_path = book().join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path).unwrap();
    let want = expected_summary(&summary);
    if summary != want {
        problems.push("book/src/SUMMARY.md does not list exactly the lint pages".into());
        if bless {
            std::fs::write(&summary_path, &want).unwrap();
        }
    }
    assert!(
        bless || problems.is_empty(),
        "{}\nrun `SRT_BLESS_BOOK=1 cargo test -p srt-lints --test book` to regenerate",
        problems.join("\n")
    );
}
