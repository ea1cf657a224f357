//! Paths of srt's own in the Linux plan: the state directory (issue 10, item 9) and the init's
//! bridge arguments (item 4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{ir_with, options};
use srt_compiler::backend::linux::{plan, FileId, HostFacts, Step};
use srt_compiler::{Access, FakeFs, Origin};

const STATE: &str = "/home/dev/.local/state/srt";

fn policy(write: &str) -> String {
    format!(
        r#"{{"network":{{"allowedDomains":["example.com"],"deniedDomains":[]}},"filesystem":{{"denyRead":[],"allowWrite":[{write}],"denyWrite":[]}}}}"#
    )
}

fn words(a: &srt_compiler::backend::linux::BwrapArg) -> String {
    a.words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Under a write root the state directory is write-denied (so `decide_path` and the plan
/// agree), made read-only by a mount of origin `built-in srt-state`, and the directories between
/// it and the write root are pinned, so it cannot be renamed away either.
#[test]
fn the_state_directory_is_read_only_under_a_write_root() {
    let fs = FakeFs::new().dir("/home/dev/project").dir(STATE);
    let mut ir = ir_with(&policy(r#"".", "~/.local""#), &fs);
    assert!(ir.decide_path(STATE.as_ref(), Access::Write).allowed);
    ir.protect_state_dir(STATE.as_ref());
    let decision = ir.decide_path(format!("{STATE}/runs/x.stubs").as_ref(), Access::Write);
    assert!(!decision.allowed);
    assert_eq!(
        decision.rule.unwrap().origin,
        Origin::BuiltIn(srt_compiler::builtin::STATE_DIR)
    );
    let facts = HostFacts::gather(&ir, &fs);
    let p = plan(&ir, &facts, &options());
    let state = p
        .args
        .iter()
        .find(|a| {
            a.origin == Origin::BuiltIn(srt_compiler::builtin::STATE_DIR)
                && a.step == Step::WriteDeny
        })
        .expect("a mount for the state directory");
    assert_eq!(words(state), format!("--ro-bind {STATE} {STATE}"));
    let pins: Vec<String> = p
        .args
        .iter()
        .filter(|a| a.step == Step::Pin)
        .map(words)
        .collect();
    assert!(
        pins.contains(&"--ro-bind /home/dev/.local/state /home/dev/.local/state".to_string()),
        "{pins:?}"
    );
    let text = p.render_text(&ir);
    assert!(text.contains("<- built-in srt-state"), "{text}");
}

/// Out of every write root (or with no filesystem isolation) nothing is added.
#[test]
fn the_state_directory_out_of_reach_adds_nothing() {
    let fs = FakeFs::new().dir("/home/dev/project").dir(STATE);
    let mut ir = ir_with(&policy(r#"".""#), &fs);
    let before = ir.fs.deny_write.len();
    ir.protect_state_dir(STATE.as_ref());
    assert_eq!(ir.fs.deny_write.len(), before);
    // A write root inside the state directory counts as reaching it.
    let mut ir = ir_with(&policy(&format!(r#"".", "{STATE}/runs""#)), &fs);
    ir.protect_state_dir(STATE.as_ref());
    assert!(
        !ir.decide_path(format!("{STATE}/runs/x").as_ref(), Access::Write)
            .allowed
    );
}

/// The init is told each socket's identity next to its path; without identities the words
/// say `DEV:INO`, which the init refuses.
#[test]
fn the_init_is_given_each_sockets_identity() {
    let fs = FakeFs::new().dir("/home/dev/project");
    let ir = ir_with(&policy(r#"".""#), &fs);
    let facts = HostFacts::gather(&ir, &fs);
    let mut opts = options();
    let p = plan(&ir, &facts, &opts);
    let args: Vec<String> = p
        .init_args(Some(9))
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        args,
        [
            "__init",
            "--bridge",
            "3128=DEV:INO:/run/srt-sock/http.sock",
            "--bridge",
            "1080=DEV:INO:/run/srt-sock/socks.sock",
            "--seccomp-fd",
            "9"
        ]
    );
    opts.proxy_socket_ids = Some([FileId { dev: 5, ino: 7 }, FileId { dev: 5, ino: 8 }]);
    let p = plan(&ir, &facts, &opts);
    let args: Vec<String> = p
        .init_args(None)
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        args,
        [
            "__init",
            "--bridge",
            "3128=5:7:/run/srt-sock/http.sock",
            "--bridge",
            "1080=5:8:/run/srt-sock/socks.sock"
        ]
    );
    assert!(p
        .render_text(&ir)
        .contains("/usr/bin/srt __init --bridge '3128=5:7:/run/srt-sock/http.sock'"));
}
