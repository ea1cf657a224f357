//! The everyday tools, run as a user would: `srt init`, `srt diff`, completions, man pages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use assert_cmd::Command;

fn srt() -> Command {
    Command::cargo_bin("srt").unwrap()
}

const PRESETS: [&str; 6] = ["rust", "go", "node", "python", "claude", "mcp-context7"];

#[test]
fn every_preset_combination_passes_lint() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for mask in 1u32..(1 << PRESETS.len()) {
        let chosen: Vec<&str> = PRESETS
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect();
        let file = dir.path().join(format!("{}.json", chosen.join("+")));
        srt()
            .args(["init", "--preset", &chosen.join(","), "-o"])
            .arg(&file)
            .assert()
            .success();
        files.push(file);
    }
    // One lint run over all 63 files.
    let out = srt()
        .args(["lint", "--format", "json"])
        .args(&files)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let above_note: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] != "note")
        .map(|d| format!("{} {} {}", d["file"], d["code"], d["message"]))
        // The npm registry is a publish channel a Node build inside the sandbox cannot do
        // without; the preset's documentation says so, and the warning stays.
        .filter(|d| !(d.contains("exfiltration-surface") && d.contains("`registry.npmjs.org`")))
        .collect();
    assert_eq!(out.status.code(), Some(0), "{above_note:#?}");
    // No other warning: every preset's output lints clean.
    assert!(above_note.is_empty(), "{above_note:#?}");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".srt.json");
    std::fs::write(&file, "{}").unwrap();
    srt()
        .args(["init", "--preset", "rust", "-o"])
        .arg(&file)
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{}");
    srt()
        .args(["init", "--preset", "rust", "--force", "-o"])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\"index.crates.io\"") && text.contains("\"deniedDomains\": []"),
        "{text}"
    );
    // no temporary file is left beside it
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn there_is_no_github_preset() {
    // github.com is an exfiltration surface `srt lint` warns about: added by hand, knowingly.
    srt()
        .args(["init", "--preset", "github", "--stdout"])
        .assert()
        .code(2);
}

#[test]
fn diff_reports_widening_and_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    srt()
        .args(["init", "--preset", "rust", "-o"])
        .arg(&old)
        .assert()
        .success();
    srt()
        .args(["init", "--preset", "rust", "-o"])
        .arg(&new)
        .assert()
        .success();
    let text = std::fs::read_to_string(&new).unwrap();
    std::fs::write(
        &new,
        text.replace(
            "\"index.crates.io\",",
            "\"index.crates.io\",\n      \"github.com\",",
        ),
    )
    .unwrap();
    let out = srt()
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--exit-code", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["widened"], 1);
    assert_eq!(doc["changes"][0]["what"], "github.com (any port)");
    // the other way round only narrows: exit 0 even with --exit-code
    srt()
        .arg("diff")
        .arg(&new)
        .arg(&old)
        .arg("--exit-code")
        .assert()
        .success();
    // the same policy: no change
    let same = srt().arg("diff").arg(&old).arg(&old).output().unwrap();
    assert_eq!(
        String::from_utf8(same.stdout).unwrap(),
        "no change in effect\n"
    );
}

#[test]
fn diff_of_an_invalid_file_shows_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"network\": {\"allowedDomain\": []}}").unwrap();
    let out = srt().arg("diff").arg(&bad).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("allowedDomains"));
    srt()
        .arg("diff")
        .arg(dir.path().join("missing.json"))
        .arg(&bad)
        .assert()
        .code(2);
}

#[test]
fn completions_and_man_pages_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = srt().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["lint", "compile", "explain", "diff", "init"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
        // The internal subcommands are not offered.
        for hidden in ["__init", "__proxy-connect"] {
            let offered = [" ", "\"", "'", ":"]
                .iter()
                .any(|before| text.contains(&format!("{before}{hidden}")));
            assert!(!offered, "{shell} completion offers {hidden}");
        }
    }
    let man = String::from_utf8(srt().arg("man").output().unwrap().stdout).unwrap();
    assert!(man.starts_with(".ie") && man.contains(".TH srt 1"), "{man}");
    let man = String::from_utf8(srt().args(["man", "diff"]).output().unwrap().stdout).unwrap();
    assert!(man.contains("exit\\-code"), "{man}");
    srt().args(["man", "nope"]).assert().code(2);
}
