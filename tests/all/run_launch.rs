//! Compile equals run: what `srt compile --target linux --format json` prints under `launch`
//! is exactly the program, argv and environment `srt run` executes, as srt run itself records
//! them right before `posix_spawn` (`SRT_DUMP_LAUNCH`). The per-run values compile cannot know
//! are the placeholders compile lists (`launch.placeholders`); each stands for one value, the
//! same wherever it appears, and every other byte must be equal.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{text, Sandbox};

const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh"],"allowRead":[],"allowWrite":["."],"denyWrite":["locked.txt"]}}"#;
const ONLINE: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":["bad.test"]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
const SECRETS: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[],"tlsTerminate":{}},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]},
 "credentials":{
   "envVars":[{"name":"TOKEN","mode":"mask","injectHosts":["example.com"]},
              {"name":"DENIED_TOKEN","mode":"deny"}],
   "files":[{"path":"~/.api-key","mode":"mask","injectHosts":["example.com"]}]}}"#;

/// srt's whole environment in both commands: nothing else is inherited.
fn srt_env(sb: &Sandbox) -> BTreeMap<String, String> {
    [
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("HOME", sb.home().display().to_string()),
        ("XDG_STATE_HOME", sb.state().display().to_string()),
        ("XDG_RUNTIME_DIR", sb.root.path().display().to_string()),
        ("NO_COLOR", "1".to_string()),
        ("JAVA_TOOL_OPTIONS", "-Xmx64m".to_string()),
        (
            "TOKEN",
            "ghp_R3alS3cretTok3nV4lue0123456789ABCDEF".to_string(),
        ),
        (
            "DENIED_TOKEN",
            "denied-credential-value-0123456789".to_string(),
        ),
        (
            "SRT_DUMP_LAUNCH",
            sb.root.path().join("launch.json").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn srt(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_srt"))
        .args(args)
        .current_dir(sb.project())
        .env_clear()
        .envs(srt_env(sb))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Matches `want` (compile's word, placeholders in it) against `got` (the run's), binding
/// each placeholder to the text it stands for; the same placeholder must stand for the same
/// text everywhere.
fn matches(
    want: &str,
    got: &str,
    placeholders: &[String],
    bound: &mut BTreeMap<String, String>,
) -> bool {
    let mut pattern = String::from("^");
    let mut names = Vec::new();
    let mut rest = want;
    'outer: while !rest.is_empty() {
        for p in placeholders {
            if let Some(after) = rest.strip_prefix(p.as_str()) {
                pattern.push_str("(.+?)");
                names.push(p.clone());
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap();
        pattern.push_str(&regex::escape(&c.to_string()));
        rest = &rest[c.len_utf8()..];
    }
    pattern.push('$');
    let Some(caps) = regex::Regex::new(&pattern).unwrap().captures(got) else {
        return false;
    };
    for (i, name) in names.iter().enumerate() {
        let value = caps.get(i + 1).unwrap().as_str().to_string();
        if value.contains(['<', '>']) {
            return false; // a placeholder is never a run's value
        }
        // One value per run wherever it appears, except the ones per socket, variable or file.
        let per_item = ["DEV:INO", "<per-run sentinel>", "<per-run masked copy>"];
        if !per_item.contains(&name.as_str())
            && bound.entry(name.clone()).or_insert_with(|| value.clone()) != &value
        {
            return false;
        }
        bound.entry(name.clone()).or_insert(value);
    }
    true
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// Compiles, runs `true` with the dump on, and compares the two exactly, up to placeholders.
fn compile_equals_run(policy: &str) {
    let sb = Sandbox::new();
    sb.settings(policy);
    std::fs::write(
        sb.home().join(".api-key"),
        "sk-ant-api03-REALfileSECRETvalue0123456789abcdefXYZ\n",
    )
    .unwrap();
    let out = srt(
        &sb,
        &[
            "compile",
            "--target",
            "linux",
            "--format",
            "json",
            "-s",
            ".srt.json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let compiled: Value = serde_json::from_slice(&out.stdout).unwrap();
    let launch = &compiled["launch"];
    let out = srt(&sb, &["run", "-s", ".srt.json", "--", "true"]);
    assert!(out.status.success(), "{policy}: {}", text(&out.stderr));
    let dump: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.root.path().join("launch.json")).unwrap())
            .unwrap();
    let placeholders: Vec<String> = launch["placeholders"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut bound = BTreeMap::new();

    assert_eq!(launch["program"], dump["program"], "{policy}");
    // The argv: compile's, with `<command>` standing for the command's words.
    let want = strings(&launch["argv"]);
    let got = strings(&dump["args"]);
    assert_eq!(want.last().map(String::as_str), Some("<command>"));
    assert_eq!(got.last().map(String::as_str), Some("true"));
    assert_eq!(
        want.len(),
        got.len(),
        "{policy}\ncompile: {want:?}\nrun:     {got:?}"
    );
    for (w, g) in want.iter().zip(&got).take(want.len() - 1) {
        assert!(
            matches(w, g, &placeholders, &mut bound),
            "{policy}: compile says {w:?}, run executed {g:?}\ncompile: {want:?}\nrun:     {got:?}"
        );
    }
    // The environment: srt's own without what compile withholds or sets, then compile's
    // variables in its order.
    let added: Vec<(String, String)> = launch["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            (
                kv[0].as_str().unwrap().to_string(),
                kv[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let unset = strings(&launch["env_unset"]);
    let mut kept: Vec<String> = srt_env(&sb)
        .into_iter()
        .filter(|(k, _)| !unset.contains(k) && !added.iter().any(|(a, _)| a == k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let envp = strings(&dump["envp"]);
    assert_eq!(envp.len(), kept.len() + added.len(), "{policy}: {envp:#?}");
    let (inherited, set) = envp.split_at(kept.len());
    let mut inherited = inherited.to_vec();
    inherited.sort();
    kept.sort();
    assert_eq!(inherited, kept, "{policy}");
    for ((k, v), g) in added.iter().zip(set) {
        assert!(
            matches(&format!("{k}={v}"), g, &placeholders, &mut bound),
            "{policy}: compile sets {k}={v}, run set {g}"
        );
    }
    // Every placeholder compile printed stood for something the run had.
    for p in want.iter().chain(added.iter().map(|(_, v)| v)) {
        for name in &placeholders {
            if p.contains(name.as_str()) && name != "<command>" {
                assert!(bound.contains_key(name), "{policy}: {name} unbound");
            }
        }
    }
}

#[test]
fn compile_equals_run_offline() {
    compile_equals_run(OFFLINE);
}

#[test]
fn compile_equals_run_with_proxies() {
    compile_equals_run(ONLINE);
}

#[test]
fn compile_equals_run_with_credentials_and_tls() {
    compile_equals_run(SECRETS);
}

/// The dump is srt's own record of what it executes, not a file it trusts: an existing file
/// is never overwritten (a link planted there is not followed), and then nothing runs.
#[test]
fn the_dump_never_overwrites() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let dump = sb.root.path().join("launch.json");
    std::fs::write(&dump, "mine").unwrap();
    let marker = sb.project().join("ran");
    let out = srt(
        &sb,
        &[
            "run",
            "-s",
            ".srt.json",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("SRT_DUMP_LAUNCH"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&dump).unwrap(), "mine");
    assert!(!marker.exists());
}
