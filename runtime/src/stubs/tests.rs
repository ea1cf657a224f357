use std::fs;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::*;

/// Writes a record as srt does (0600) for a run that does not exist.
fn plant(state: &Path, body: &str, mode: u32) -> std::path::PathBuf {
    let path = state.join("runs/999999999-1.stubs");
    fs::create_dir_all(state.join("runs")).unwrap();
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, format!("999999999 1\n{body}").as_bytes()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn line(kind: &str, path: &Path) -> String {
    let m = fs::symlink_metadata(path).unwrap();
    format!("{kind} {} {} {}\n", m.dev(), m.ino(), path.display())
}

fn records(state: &Path) -> usize {
    fs::read_dir(state.join("runs")).unwrap().count()
}

#[test]
fn stubs_are_created_recorded_and_removed() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let existing = tree.path().join(".profile");
    fs::write(&existing, "mine").unwrap();
    let mut run = RunRecord::begin(state.path()).unwrap();
    run.create(
        &[
            (tree.path().join(".bashrc"), StubKind::File),
            (tree.path().join(".vscode"), StubKind::Dir),
            (existing.clone(), StubKind::File),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(run.stubs().len(), 2, "the existing file is not a stub");
    let bashrc = fs::metadata(tree.path().join(".bashrc")).unwrap();
    assert_eq!(bashrc.mode() & 0o7777, 0o444);
    assert_eq!(
        fs::metadata(tree.path().join(".vscode")).unwrap().mode() & 0o7777,
        0o755
    );
    let record = fs::read_dir(state.path().join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(record.metadata().unwrap().mode() & 0o7777, 0o600);
    run.finish();
    assert!(!tree.path().join(".bashrc").exists() && !tree.path().join(".vscode").exists());
    assert_eq!(fs::read_to_string(&existing).unwrap(), "mine");
    assert_eq!(records(state.path()), 0);
}

#[test]
fn a_dead_runs_stubs_are_cleaned_up_and_replaced_files_are_kept() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let (a, b) = (tree.path().join(".bashrc"), tree.path().join(".zshrc"));
    let mut run = RunRecord::begin(state.path()).unwrap();
    run.create(
        &[(a.clone(), StubKind::File), (b.clone(), StubKind::File)],
        &[],
    )
    .unwrap();
    // The user replaces one stub with a real file (new inode) before the cleanup.
    let body = line("file", &a) + &line("file", &b);
    fs::remove_file(&b).unwrap();
    fs::write(&b, "export X=1").unwrap();
    // Pretend the run died: its record under a pid that does not exist.
    let own = state.path().join("runs").join(run.record.file_name());
    fs::remove_file(own).unwrap();
    drop(run);
    plant(state.path(), &body, 0o600);
    assert_eq!(cleanup_stale(state.path()), 2);
    assert!(!a.exists(), "the stub is removed");
    assert_eq!(
        fs::read_to_string(&b).unwrap(),
        "export X=1",
        "the user's file is kept"
    );
    assert_eq!(records(state.path()), 0);
}

#[test]
fn a_live_runs_record_is_left_alone() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let mut run = RunRecord::begin(state.path()).unwrap();
    run.create(&[(tree.path().join(".mcp.json"), StubKind::File)], &[])
        .unwrap();
    assert_eq!(cleanup_stale(state.path()), 0);
    assert!(tree.path().join(".mcp.json").exists());
    run.finish();
    assert!(!tree.path().join(".mcp.json").exists());
}

/// Run B finds run A's stubs (as planned stubs, or as mount points) and relies on them too:
/// they stay until the last of the two ends, whichever it is.
#[test]
fn stubs_shared_by_overlapping_runs_stay_until_the_last_one_ends() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let (mcp, vscode) = (tree.path().join(".mcp.json"), tree.path().join(".vscode"));
    let mut a = RunRecord::begin(state.path()).unwrap();
    a.create(
        &[
            (mcp.clone(), StubKind::File),
            (vscode.clone(), StubKind::Dir),
        ],
        &[],
    )
    .unwrap();
    // B is another live process: a record of this process under another pid would be
    // ignored as ours, so B is the test's parent (alive for as long as the test runs).
    let parent = std::os::unix::process::parent_id();
    let mut b = RunRecord::begin(state.path()).unwrap();
    b.record.pid = parent;
    b.record.start = records::start_time(parent).unwrap();
    b.create(
        &[(mcp.clone(), StubKind::File)],
        std::slice::from_ref(&vscode),
    )
    .unwrap();
    assert_eq!(b.stubs().len(), 2, "B relies on both of A's stubs");
    // A ends first: both stay.
    a.finish();
    assert!(mcp.exists() && vscode.exists());
    // B ends: both go (A's record is gone).
    b.finish();
    assert!(!mcp.exists() && !vscode.exists());
}

/// Records srt did not write the way it writes them, and entries that are not the stubs srt
/// made, are not acted on: the user's empty files and directories survive any record.
#[test]
fn forged_records_and_foreign_files_are_not_deleted() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let empty_file = tree.path().join("empty"); // 0644: not a stub's mode
    fs::write(&empty_file, "").unwrap();
    let empty_dir = tree.path().join("dir"); // 0700: not a stub's mode
    fs::create_dir(&empty_dir).unwrap();
    fs::set_permissions(&empty_dir, fs::Permissions::from_mode(0o700)).unwrap();
    let stub_like = tree.path().join("stub-like"); // 0444 and empty, but a record 0644
    fs::write(&stub_like, "").unwrap();
    fs::set_permissions(&stub_like, fs::Permissions::from_mode(0o444)).unwrap();

    let body = line("file", &empty_file) + &line("dir", &empty_dir);
    plant(state.path(), &body, 0o600);
    cleanup_stale(state.path());
    assert!(empty_file.exists() && empty_dir.exists());

    plant(state.path(), &line("file", &stub_like), 0o644);
    cleanup_stale(state.path());
    assert!(stub_like.exists(), "a record that is not 0600 is not srt's");
    assert_eq!(records(state.path()), 0, "untrusted records are removed");

    // A record that is a symlink to a real record elsewhere is not followed.
    let elsewhere = tempfile::tempdir().unwrap();
    let real = plant(elsewhere.path(), &line("file", &stub_like), 0o600);
    std::os::unix::fs::symlink(&real, state.path().join("runs/999999999-1.stubs")).unwrap();
    cleanup_stale(state.path());
    assert!(stub_like.exists());
}

#[test]
fn a_symlink_where_a_stub_must_go_is_refused_with_its_path() {
    let state = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let link = tree.path().join(".mcp.json");
    std::os::unix::fs::symlink(tree.path().join("nowhere"), &link).unwrap();
    let bashrc = tree.path().join(".bashrc");
    let mut run = RunRecord::begin(state.path()).unwrap();
    let err = run
        .create(
            &[
                (bashrc.clone(), StubKind::File),
                (link.clone(), StubKind::File),
            ],
            &[],
        )
        .unwrap_err();
    assert!(
        matches!(&err, StubError::Symlink { path } if *path == link),
        "{err}"
    );
    assert!(!bashrc.exists(), "nothing is created before the refusal");
    assert!(!tree.path().join("nowhere").exists());
    run.finish();
}

#[test]
fn a_state_directory_others_may_write_is_refused() {
    let state = tempfile::tempdir().unwrap();
    fs::set_permissions(state.path(), fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        RunRecord::begin(state.path()),
        Err(StubError::Unsafe { .. })
    ));
    let real = tempfile::tempdir().unwrap();
    let link = state.path().join("link");
    fs::set_permissions(state.path(), fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(real.path(), &link).unwrap();
    assert!(matches!(
        RunRecord::begin(&link),
        Err(StubError::Unsafe { .. })
    ));
}
