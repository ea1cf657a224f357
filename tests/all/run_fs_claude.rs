//! `srt run` and Claude Code's settings (threat model, item 6): hooks in
//! `.claude/settings.json` or `.claude/settings.local.json` run on the host the next time Claude
//! Code starts there, so the command may not create or change them, at the working directory
//! or in the home directory, whether or not `.claude` exists; Claude Code's own writable state
//! (`~/.claude/todos`, `projects`, `session-env`, …) stays writable.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use common::{exists, ok, Sandbox};

const HOOK: &str =
    r#"{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"touch /tmp/pwned"}]}]}}"#;

fn policy(allow_write: &str) -> String {
    format!(
        r#"{{"network":{{"allowedDomains":[],"deniedDomains":[]}},
         "filesystem":{{"denyRead":[],"allowRead":[],"allowWrite":{allow_write},"denyWrite":[]}}}}"#
    )
}

/// Writes both settings files under `dir` (made first), printing one line per refusal.
fn plant(dir: &str) -> String {
    format!(
        "mkdir -p {dir}/.claude 2>/dev/null; \
         echo '{HOOK}' > {dir}/.claude/settings.json 2>/dev/null || echo settings-denied; \
         echo '{HOOK}' > {dir}/.claude/settings.local.json 2>/dev/null || echo local-denied; \
         mv {dir}/.claude {dir}/.claude-old 2>/dev/null || echo move-denied; "
    )
}

#[test]
fn claude_settings_cannot_be_created_where_the_project_has_no_claude_dir() {
    let sb = Sandbox::new();
    sb.settings(&policy(r#"["."]"#));
    let out = sb.run(&plant("."));
    assert_eq!(ok(&out), "settings-denied\nlocal-denied\nmove-denied\n");
    assert!(!exists(&sb.project().join(".claude")), "the stubs are gone");
}

#[test]
fn claude_settings_cannot_be_created_in_an_existing_claude_dir() {
    let sb = Sandbox::new();
    sb.settings(&policy(r#"["."]"#));
    std::fs::create_dir(sb.project().join(".claude")).unwrap();
    let out = sb.run(&format!(
        "{} touch .claude/notes.md && echo other-ok",
        plant(".")
    ));
    assert_eq!(
        ok(&out),
        "settings-denied\nlocal-denied\nmove-denied\nother-ok\n"
    );
    let mut left: Vec<String> = std::fs::read_dir(sb.project().join(".claude"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.md"]);
}

#[test]
fn claude_settings_in_the_home_directory_are_protected() {
    let sb = Sandbox::new();
    sb.settings(&policy(r#"["~"]"#));
    // `~` is a deny-level lint (it opens the shell rc files too); relaxed for the test.
    let out = sb
        .srt()
        .args([
            "run",
            "-A",
            "write-allows-host-code-execution",
            "-s",
            ".srt.json",
            "-c",
        ])
        .arg(plant("~"))
        .output()
        .unwrap();
    assert_eq!(ok(&out), "settings-denied\nlocal-denied\nmove-denied\n");
    assert!(!exists(&sb.home().join(".claude/settings.json")));
}

/// `allowWrite: ["~/.claude"]` (Claude Code run inside srt needs its state writable) keeps
/// the settings files in it protected, and everything else in it writable.
#[test]
fn a_writable_claude_home_keeps_its_settings_read_only() {
    let sb = Sandbox::new();
    sb.settings(&policy(r#"["~/.claude"]"#));
    let claude = sb.home().join(".claude");
    std::fs::create_dir_all(claude.join("todos")).unwrap();
    std::fs::write(claude.join("settings.json"), "{}").unwrap();
    let out = sb.run(&format!(
        "echo '{HOOK}' > ~/.claude/settings.json 2>/dev/null || echo settings-denied; \
         rm ~/.claude/settings.json 2>/dev/null || echo rm-denied; \
         echo '{HOOK}' > ~/.claude/settings.local.json 2>/dev/null || echo local-denied; \
         mkdir -p ~/.claude/commands 2>/dev/null; echo x > ~/.claude/commands/c.md 2>/dev/null || echo commands-denied; \
         echo t > ~/.claude/todos/t.json && mkdir -p ~/.claude/projects/p && echo state-ok"
    ));
    assert_eq!(
        ok(&out),
        "settings-denied\nrm-denied\nlocal-denied\ncommands-denied\nstate-ok\n"
    );
    assert_eq!(
        std::fs::read_to_string(claude.join("settings.json")).unwrap(),
        "{}"
    );
    assert!(!exists(&claude.join("settings.local.json")));
    assert!(claude.join("todos/t.json").exists());
}
