//! The start-of-run scan through the runtime's index (`HostFacts::gather_indexed`): the facts
//! it gathers (what the globs match, the mandatory denies' names, nested repositories) must be
//! exactly those a full listing gathers, whatever changed since the index was written, so
//! that `srt compile` and `srt run` agree.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::fs;
use std::os::unix::fs::symlink;

use crate::common::tree::{next_second, Tree};
use srt_compiler::backend::linux::{HostFacts, ScanIndex};
use srt_compiler::{Ir, RealFs};
use srt_runtime::audit::cache::scan::ScanIndexer;

impl Tree {
    /// The facts through the index (settled after one second), and how many directories it
    /// answered without listing them.
    fn indexed(&self, ir: &Ir) -> (HostFacts, usize) {
        let mut ix = ScanIndexer::new(self.index(1));
        let facts = HostFacts::gather_indexed(ir, &RealFs, Some(&mut ix as &mut dyn ScanIndex));
        let reused = ix.reused;
        ix.finish();
        (facts, reused)
    }

    /// Asserts the indexed facts are the full listing's; returns how many directories the
    /// index answered.
    fn same_facts(&self, ir: &Ir) -> usize {
        let full = HostFacts::gather(ir, &RealFs);
        let (mut indexed, reused) = self.indexed(ir);
        indexed.dirs_listed = full.dirs_listed;
        assert_eq!(full, indexed);
        reused
    }
}

fn populated(t: &Tree) {
    for a in 0..4 {
        for b in 0..4 {
            t.write(&format!("src/m{a}/d{b}/f.rs"), "x");
        }
    }
    t.write("src/m1/key.pem", "secret");
    t.write("src/m2/d3/deep/er/cert.pem", "secret");
    t.write("node_modules/x/test.pem", "secret");
    t.write("pkg/.bashrc", "x");
    t.write("pkg/.vscode/settings.json", "{}");
    t.write("nested/.git/HEAD", "ref: refs/heads/main\n");
    t.write("nested/.git/config", "[core]\n");
    t.write("wt/.git", "gitdir: /elsewhere\n");
    fs::create_dir_all(t.p("real-claude/commands")).unwrap();
    fs::create_dir_all(t.p("sub")).unwrap();
    symlink(t.p("real-claude"), t.p("sub/.claude")).unwrap();
}

#[test]
fn the_indexed_scan_finds_what_a_full_listing_finds() {
    for deny in [r#""**/*.pem""#, r#""~/.ssh""#] {
        let t = Tree::new();
        populated(&t);
        let ir = t.ir(deny);
        // Cold: nothing indexed yet; then listed again, as the first index was made in the
        // second its directories changed; then used.
        assert_eq!(t.same_facts(&ir), 0);
        next_second();
        t.same_facts(&ir);
        assert!(t.same_facts(&ir) > 0);
        // Changes since: a new match deep down, one removed, a directory renamed, a protected
        // name within the scan's depth, a directory replaced by a symlink.
        t.write("src/m3/d0/new/k.pem", "secret");
        fs::remove_file(t.p("src/m1/key.pem")).unwrap();
        fs::rename(t.p("src/m2/d3"), t.p("src/m2/d3-moved")).unwrap();
        t.write("src/m0/.zshrc", "x");
        fs::rename(t.p("src/m0/d0"), t.p("elsewhere")).unwrap();
        symlink(t.p("elsewhere"), t.p("src/m0/d0")).unwrap();
        let reused = t.same_facts(&ir);
        assert!(reused > 0, "the index was not used");
        next_second();
        t.same_facts(&ir);
    }
}

#[test]
fn a_pem_glob_sees_files_the_host_added_between_runs() {
    let t = Tree::new();
    populated(&t);
    let ir = t.ir(r#""**/*.pem""#);
    t.same_facts(&ir);
    next_second();
    t.same_facts(&ir);
    let glob = ir
        .fs
        .deny_read
        .iter()
        .find_map(|r| match &r.pattern {
            srt_compiler::path::PathPattern::Glob { glob, .. } => Some(glob.clone()),
            _ => None,
        })
        .unwrap();
    // Added right after the index was written (same second): still found.
    t.write("src/m1/d1/late.pem", "secret");
    let (facts, _) = t.indexed(&ir);
    assert!(
        facts.globs[&glob].contains(&t.p("src/m1/d1/late.pem")),
        "{:?}",
        facts.globs[&glob]
    );
}
