//! Times `HostFacts::gather` and `backend::linux::plan` on a real directory (see
//! `bench/linux-plan.sh`). Prints one line per measurement: `name median_ms min_ms`.
//!
//! Usage: `linux_plan_bench DIR POLICY_JSON RUNS`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions};
use srt_compiler::{resolve, RealFs, ResolveOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::fs::canonicalize(&args[1]).unwrap();
    let policy = &args[2];
    let runs: usize = args[3].parse().unwrap();
    let loaded = srt_schema::load_str("policy.json", None, policy);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: dir.clone(),
        home: std::env::home_dir().unwrap(),
        settings_path: None,
    };
    let mut resolving = Vec::new();
    let mut both = Vec::new();
    let mut gather = Vec::new();
    let mut planning = Vec::new();
    let mut total = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t0 = Instant::now();
        let (ir, _) = resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &RealFs,
        );
        let t1 = Instant::now();
        let facts = HostFacts::gather(&ir, &RealFs);
        let t2 = Instant::now();
        let p = plan(
            &ir,
            &facts,
            &LinuxOptions::new("/usr/bin/srt".into(), "/tmp/srt-bench".into()),
        );
        let t3 = Instant::now();
        resolving.push((t1 - t0).as_secs_f64() * 1e3);
        both.push((t3 - t1).as_secs_f64() * 1e3);
        gather.push((t2 - t1).as_secs_f64() * 1e3);
        planning.push((t3 - t2).as_secs_f64() * 1e3);
        total.push((t3 - t0).as_secs_f64() * 1e3);
        last = Some((
            facts.dirs_listed,
            p.args.len(),
            facts.globs.values().map(Vec::len).sum::<usize>(),
            facts.mandatory_found.len(),
        ));
    }
    let report = |name: &str, v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{name} {:.2} {:.2}", v[v.len() / 2], v[0]);
    };
    report("resolve", &mut resolving);
    report("gather", &mut gather);
    report("plan", &mut planning);
    report("gather+plan", &mut both);
    report("total", &mut total);
    let (dirs, args, matches, mandatory) = last.unwrap();
    println!("dirs_listed {dirs}\nbwrap_args {args}\nglob_matches {matches}\nmandatory_found {mandatory}");
}
