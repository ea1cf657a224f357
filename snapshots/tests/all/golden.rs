//! Golden tests: every fixture under `policies/bad` renders its diagnostics (human, with the
//! CLI's renderer at a fixed width and no colour, and JSON); every fixture under
//! `policies/good` loads without findings and its IR is snapshotted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};

use srt_compiler::{resolve, FakeFs, ResolveOptions};
use srt_schema::render::{render_human, render_json, Style};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn bad_files_render_exact_diagnostics() {
    let files = fixtures("bad");
    assert!(files.len() >= 30, "only {} bad fixtures", files.len());
    for file in files {
        let name = format!("{}.json", stem(&file));
        let bytes = std::fs::read(&file).unwrap();
        let loaded = srt_schema::load_bytes(&name, None, &bytes);
        assert!(loaded.has_errors(), "{name} should have errors");
        let mut human = String::new();
        for d in &loaded.diagnostics {
            human.push_str(&render_human(d, &loaded.source, Style::plain(100)));
            human.push('\n');
        }
        insta::assert_snapshot!(format!("bad-{}-human", stem(&file)), human);
        let refs: Vec<_> = loaded
            .diagnostics
            .iter()
            .map(|d| (d, &loaded.source))
            .collect();
        insta::assert_snapshot!(format!("bad-{}-json", stem(&file)), render_json(&refs));
    }
}

#[test]
fn good_files_load_clean_and_resolve() {
    let files = fixtures("good");
    assert!(files.len() >= 5);
    let fs = FakeFs::new()
        .dir("/home/dev/project")
        .dir("/home/dev/.ssh")
        .file("/home/dev/.ssh/known_hosts");
    for file in files {
        let name = format!("{}.json", stem(&file));
        let loaded = srt_schema::load_bytes(&name, None, &std::fs::read(&file).unwrap());
        assert!(
            loaded.diagnostics.is_empty(),
            "{name}: {:#?}",
            loaded.diagnostics
        );
        let opts = ResolveOptions {
            cwd: "/home/dev/project".into(),
            home: "/home/dev".into(),
            settings_path: Some("/home/dev/project/.srt.json".into()),
        };
        let (ir, notes) = resolve(&loaded.settings, Some(loaded.source.clone()), &opts, &fs);
        assert!(notes.is_empty(), "{name}: {notes:#?}");
        insta::assert_snapshot!(format!("ir-{}", stem(&file)), ir.dump());
    }
}
