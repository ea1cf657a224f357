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

fn tree() -> Vec<(Vec<u8>, Source)> {
    let fresh = |p: &str, l| (key_of(Path::new(p)), Source::Fresh(l));
    vec![
        fresh("b/x", listing(4, &[])),
        fresh(
            "",
            listing(1, &[("a", Some(Kind::Dir)), ("b", Some(Kind::Dir))]),
        ),
        fresh("a", listing(2, &[(".git", Some(Kind::File))])),
        // A sibling whose name sorts between `b` and `b/x` as text ("b-" < "b/").
        fresh("b-", listing(5, &[])),
        fresh("b", listing(3, &[("x", Some(Kind::Dir)), ("HEAD", None)])),
        // Its parent was not listed: dropped.
        fresh("c/y", listing(9, &[])),
    ]
}

fn encoded(root: &Path, fp: u64) -> Vec<u8> {
    encode(root, fp, &ordered(tree()), &Prior::default())
}

#[test]
fn an_index_round_trips_and_finds_children_by_name() {
    let root = Path::new("/r");
    let prior = decode(encoded(root, 42), root, 42).unwrap();
    assert_eq!(prior.len(), 5);
    assert!(prior.child(0, b"b-").is_some());
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
    let bytes = encoded(root, 42);
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
    let prior = decode(encoded(root, 1), root, 1).unwrap();
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
fn kept_records_are_copied_into_a_new_index() {
    let root = Path::new("/r");
    let prior = decode(encoded(root, 1), root, 1).unwrap();
    let keys = keys(&prior);
    // `a` changed (a new subdirectory `a/n`); everything else is kept.
    let a = prior.child(0, b"a").unwrap();
    let mut items: Vec<(Vec<u8>, Source)> = (0..prior.len() as u32)
        .filter(|r| *r != a)
        .map(|r| (keys[r as usize].clone(), Source::Kept(r)))
        .collect();
    items.push((
        key_of(Path::new("a")),
        Source::Fresh(listing(2, &[("n", Some(Kind::Dir))])),
    ));
    items.push((key_of(Path::new("a/n")), Source::Fresh(listing(8, &[]))));
    let next = decode(encode(root, 1, &ordered(items), &prior), root, 1).unwrap();
    assert_eq!(next.len(), prior.len() + 1);
    let n = next.child(next.child(0, b"a").unwrap(), b"n").unwrap();
    assert_eq!(next.rel_path(n), PathBuf::from("a/n"));
    let b = next.child(0, b"b").unwrap();
    assert_eq!(
        next.listing(b),
        prior.listing(prior.child(0, b"b").unwrap())
    );
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
