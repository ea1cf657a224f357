#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::path::{Path, PathBuf};

use super::format::{decode, encode, patch};
use super::*;

fn listing(ino: u64, entries: &[(&str, Option<Kind>)]) -> Listing {
    Listing {
        stamp: Stamp {
            dev: 7,
            ino,
            ctime_sec: 1_000,
            ctime_nsec: 5,
        },
        settled: true,
        count: entries.len() as u64 + 3,
        entries: entries
            .iter()
            .map(|(n, k)| (CString::new(*n).unwrap(), *k))
            .collect(),
    }
}

fn tree() -> Vec<(PathBuf, Listing)> {
    vec![
        (PathBuf::from("b/x"), listing(4, &[])),
        (
            PathBuf::new(),
            listing(1, &[("a", Some(Kind::Dir)), ("b", Some(Kind::Dir))]),
        ),
        (
            PathBuf::from("a"),
            listing(2, &[(".git", Some(Kind::File))]),
        ),
        (
            PathBuf::from("b"),
            listing(3, &[("x", Some(Kind::Dir)), ("HEAD", None)]),
        ),
        // Its parent was not listed: dropped.
        (PathBuf::from("c/y"), listing(9, &[])),
    ]
}

#[test]
fn an_index_round_trips_and_finds_children_by_name() {
    let root = Path::new("/r");
    let bytes = encode(root, 42, &ordered(tree()));
    let prior = decode(bytes, root, 42).unwrap();
    assert_eq!(prior.len(), 4);
    let b = prior.child(0, b"b").unwrap();
    let x = prior.child(b, b"x").unwrap();
    assert_eq!(prior.rel_path(x), PathBuf::from("b/x"));
    assert_eq!(prior.child(0, b"c"), None);
    assert_eq!(prior.recs[x as usize].stamp.ino, 4);
    let entries: Vec<_> = prior.entries(b).collect();
    assert_eq!(
        entries,
        [(&b"x"[..], Some(Kind::Dir)), (&b"HEAD"[..], None)]
    );
    assert_eq!(
        prior.listing(b).unwrap(),
        listing(3, &[("x", Some(Kind::Dir)), ("HEAD", None)])
    );
}

#[test]
fn a_foreign_torn_or_altered_index_is_not_used() {
    let root = Path::new("/r");
    let bytes = encode(root, 42, &ordered(tree()));
    assert!(decode(bytes.clone(), Path::new("/other"), 42).is_none());
    assert!(decode(bytes.clone(), root, 43).is_none());
    assert!(decode(bytes[..bytes.len() - 1].to_vec(), root, 42).is_none());
    assert!(decode(Vec::new(), root, 42).is_none());
    for at in [0, 12, 30, bytes.len() / 2, bytes.len() - 9] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x40;
        assert!(
            decode(flipped, root, 42).is_none(),
            "a flipped byte at {at} was accepted"
        );
    }
}

#[test]
fn stamps_are_patched_in_place_unless_the_entries_changed() {
    let root = Path::new("/r");
    let prior = decode(encode(root, 1, &ordered(tree())), root, 1).unwrap();
    let b = prior.child(0, b"b").unwrap();
    let mut newer = prior.listing(b).unwrap();
    newer.stamp.ctime_sec = 2_000;
    newer.settled = false;
    let patched = decode(patch(&prior, &[(b, newer.clone())]).unwrap(), root, 1).unwrap();
    assert_eq!(patched.listing(b).unwrap(), newer);
    assert_eq!(patched.len(), prior.len());
    let mut other = newer;
    other.entries.pop();
    assert!(patch(&prior, &[(b, other)]).is_none());
}

#[test]
fn only_what_the_walk_acts_on_is_kept() {
    let last = last_components(&[".git/hooks", ".bashrc", ".claude/settings.json"]);
    assert!(kept(b"src", Some(Kind::Dir), &last));
    assert!(kept(b"odd", None, &last));
    assert!(kept(b".bashrc", Some(Kind::File), &last));
    assert!(kept(b"hooks", Some(Kind::Symlink), &last));
    assert!(kept(b"settings.json", Some(Kind::File), &last));
    assert!(kept(b"HEAD", Some(Kind::File), &last));
    assert!(kept(b".git", Some(Kind::File), &last));
    assert!(!kept(b"main.rs", Some(Kind::File), &last));
    assert!(!kept(b"link", Some(Kind::Symlink), &last));
    assert_ne!(fingerprint(&[".bashrc"]), fingerprint(&[".zshrc"]));
    assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["b", "a"]));
}

#[test]
fn a_change_within_the_settling_time_is_not_trusted() {
    let s = Stamp {
        ctime_sec: 100,
        ..Stamp::default()
    };
    assert!(!settled(&s, 100, SETTLE_SECS));
    assert!(!settled(&s, 102, SETTLE_SECS));
    assert!(settled(&s, 103, SETTLE_SECS));
}
