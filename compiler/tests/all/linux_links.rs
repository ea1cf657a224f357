//! The Linux plan around symlinks in front of protected names: mounts land on the targets,
//! the links (and the directories above them) are pinned, and a link that leads nowhere
//! refuses the plan. `tests/all/run_fs_links.rs` runs the same situations in real sandboxes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::PathBuf;

use common::{plan_with, CWD};
use srt_compiler::backend::linux::{LinuxPlan, StubKind};
use srt_compiler::FakeFs;

const WRITE_DOT: &str = r#"{"filesystem":{"allowWrite":["."],"denyWrite":["cfg/app.json"]}}"#;

fn pins(plan: &LinuxPlan) -> Vec<String> {
    plan.link_pins
        .iter()
        .map(|p| p.path.display().to_string())
        .collect()
}

fn words(plan: &LinuxPlan) -> String {
    plan.argv()
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn linked() -> FakeFs {
    FakeFs::new()
        .dir("/srv/realgit/hooks")
        .file("/srv/realgit/HEAD")
        .dir("/srv/shared-claude/commands")
        .dir(format!("{CWD}/real-cfg"))
        .file(format!("{CWD}/real-cfg/app.json"))
        .link(format!("{CWD}/.git"), "/srv/realgit")
        .link(format!("{CWD}/.claude"), "/srv/shared-claude")
        .link(format!("{CWD}/cfg"), format!("{CWD}/real-cfg"))
        .dir("/tmp/claude")
}

#[test]
fn links_in_front_of_protected_names_are_pinned_and_mounts_land_on_targets() {
    let (_, plan) = plan_with(WRITE_DOT, &linked());
    assert_eq!(
        pins(&plan),
        [
            format!("{CWD}/.claude"),
            format!("{CWD}/.git"),
            format!("{CWD}/cfg")
        ]
    );
    assert!(!plan.bridges, "no host is allowed: nothing to bridge");
    let argv = words(&plan);
    assert!(argv.contains("--cap-drop ALL --cap-add CAP_SYS_ADMIN --cap-add CAP_SETPCAP"));
    assert!(argv.contains("--as-pid-1"));
    // The deny sits on the target; no pin is printed for a path through a link.
    assert!(argv.contains(&format!(
        "--ro-bind {CWD}/real-cfg/app.json {CWD}/real-cfg/app.json"
    )));
    assert!(
        !argv.contains(&format!("--ro-bind {CWD}/.git {CWD}/.git")),
        "{argv}"
    );
    // A missing protected name under a linked directory is stubbed in the target only when
    // the command could create it there (here the targets are read-only: no stub).
    assert!(!plan
        .stubs
        .iter()
        .any(|s| s.path.starts_with(format!("{CWD}/.git"))));
    let init = plan.init_args(None);
    let init: Vec<String> = init
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        init[..3],
        ["__init", "--pin-link", &format!("{CWD}/.claude")]
    );
    assert!(!init.iter().any(|w| w == "--bridge"));
    let text = plan.render_text(&common::ir_with(WRITE_DOT, &linked()));
    assert!(
        text.contains(&format!(
            "--pin-link {CWD}/.git  <- built-in mandatory-deny"
        )),
        "{text}"
    );
}

#[test]
fn a_linked_target_inside_the_write_root_gets_its_stubs_there() {
    let fs = FakeFs::new()
        .dir(format!("{CWD}/realgit/hooks"))
        .file(format!("{CWD}/realgit/HEAD"))
        .link(format!("{CWD}/.git"), format!("{CWD}/realgit"))
        .dir("/tmp/claude");
    let (_, plan) = plan_with(WRITE_DOT, &fs);
    assert_eq!(pins(&plan), [format!("{CWD}/.git")]);
    let config = PathBuf::from(format!("{CWD}/realgit/config"));
    assert!(plan
        .stubs
        .iter()
        .any(|s| s.path == config && s.kind == StubKind::File));
    let argv = words(&plan);
    assert!(
        argv.contains(&format!("--ro-bind {CWD}/realgit {CWD}/realgit")),
        "the target's directory is pinned: {argv}"
    );
}

#[test]
fn chains_and_directories_above_a_link_are_pinned() {
    let fs = FakeFs::new()
        .dir("/srv/realgit/hooks")
        .file("/srv/realgit/HEAD")
        .link(format!("{CWD}/sub/a"), "/srv/realgit")
        .link(format!("{CWD}/sub/.git"), format!("{CWD}/sub/a"))
        .dir("/tmp/claude");
    let (_, plan) = plan_with(WRITE_DOT, &fs);
    assert_eq!(
        pins(&plan),
        [format!("{CWD}/sub/.git"), format!("{CWD}/sub/a")]
    );
    let argv = words(&plan);
    assert!(
        argv.contains(&format!("--ro-bind {CWD}/sub {CWD}/sub")),
        "{argv}"
    );
}

#[test]
fn links_outside_what_the_command_may_write_are_left_alone() {
    let fs = linked();
    let (_, plan) = plan_with(r#"{"filesystem":{"allowWrite":[]}}"#, &fs);
    assert!(plan.link_pins.is_empty());
    assert!(!words(&plan).contains("--pin-link"));
    assert!(!words(&plan).contains("CAP_SYS_ADMIN"));
    // A link in the home directory to a protected target, home not writable: no pin.
    let fs = FakeFs::new()
        .dir("/srv/dotfiles/vscode")
        .link("/home/dev/.vscode", "/srv/dotfiles/vscode")
        .dir(CWD);
    let (_, plan) = plan_with(WRITE_DOT, &fs);
    assert!(plan.link_pins.is_empty(), "{:?}", plan.link_pins);
}

/// A link that leads nowhere the command could create is pinned and the run goes on: the name
/// leads nowhere for the whole run (anyone can leave such a link under a shared write root
/// such as /tmp, and that must not stop every run).
#[test]
fn a_dangling_link_whose_target_cannot_be_created_is_pinned() {
    let fs = FakeFs::new()
        .dir(CWD)
        .link(format!("{CWD}/.claude"), "/nowhere/claude")
        .dir("/tmp/claude");
    let (_, plan) = plan_with(WRITE_DOT, &fs);
    assert_eq!(plan.refusals().count(), 0);
    assert_eq!(pins(&plan), [format!("{CWD}/.claude")]);
    // No stub is planned through it.
    assert!(!plan
        .stubs
        .iter()
        .any(|s| s.path.starts_with(format!("{CWD}/.claude"))));
}

/// A link to a missing target the command could create, as spelled or through another link,
/// is refused: the protected name would become the command's file.
#[test]
fn a_dangling_link_at_a_protected_name_is_a_refusal() {
    for target in [
        format!("{CWD}/missing-claude"),
        "/srv/ro/claude".to_string(),
    ] {
        let fs = FakeFs::new()
            .dir(format!("{CWD}/sub"))
            .link("/srv/ro", format!("{CWD}/sub"))
            .link(format!("{CWD}/.claude"), &target)
            .dir("/tmp/claude");
        let (_, plan) = plan_with(WRITE_DOT, &fs);
        let refusals: Vec<_> = plan.refusals().collect();
        assert_eq!(refusals.len(), 1, "{target}: {refusals:#?}");
        assert!(refusals[0]
            .message
            .contains(&format!("{CWD}/.claude is a symlink to {target}")));
        // No stub is planned through it.
        assert!(!plan
            .stubs
            .iter()
            .any(|s| s.path.starts_with(format!("{CWD}/.claude"))));
    }
}
