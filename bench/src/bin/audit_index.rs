//! The end-of-run audit on a tree, with its index: `audit_index DIR [RUNS]` runs the audit of
//! `allowWrite: ["."]` in DIR once without an index and RUNS times with one (in a fresh state
//! directory: the first indexed run writes it), and prints each run's time, how many
//! directories were listed, and what the index cost. Nothing in DIR is changed.

use std::path::PathBuf;
use std::time::Duration;

use srt_compiler::audit::AuditPlan;
use srt_compiler::{resolve, ResolveOptions};
use srt_runtime::audit::{audit, audit_indexed, AuditReport, IndexOptions, Since};

fn line(name: &str, r: &AuditReport) {
    let index = r.index.map_or_else(String::new, |i| {
        format!(
            ", index checked in {:.1} ms, {} bytes written in {:.1} ms",
            i.checked.as_secs_f64() * 1e3,
            i.written,
            i.write_time.as_secs_f64() * 1e3
        )
    });
    println!(
        "{name:<14} {:8.1} ms  {} directories, {} listed, {} findings{index}",
        r.elapsed.as_secs_f64() * 1e3,
        r.dirs,
        r.listed,
        r.findings.len()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).ok_or("usage: audit_index DIR [RUNS]")?).canonicalize()?;
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let state = tempdir()?;
    let home = state.join("home");
    std::fs::create_dir_all(&home)?;
    let loaded = srt_schema::load_str(
        ".srt.json",
        None,
        r#"{"filesystem":{"denyRead":[],"allowWrite":["."],"denyWrite":[]},
            "network":{"allowedDomains":[],"deniedDomains":[]}}"#,
    );
    let opts = ResolveOptions {
        cwd: dir.clone(),
        home: home.clone(),
        settings_path: None,
    };
    let (ir, _) = resolve(&loaded.settings, None, &opts, &srt_compiler::RealFs);
    let mut plan = AuditPlan::from_write_rules(&ir);
    plan.roots.retain(|r| r.path.starts_with(&dir));
    let since = Since::now();
    line("full walk", &audit(&plan, since, &home));
    let index = IndexOptions::in_state_dir(&state).ok_or("no state directory")?;
    for i in 0..runs {
        line(
            &format!("indexed #{}", i + 1),
            &audit_indexed(&plan, since, &home, Some(&index)),
        );
        if i == 0 {
            // Past the settling time: the first index is trusted from the next run on.
            std::thread::sleep(Duration::from_secs(
                u64::try_from(srt_runtime::audit::cache::SETTLE_SECS).unwrap_or(3) + 1,
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&state);
    Ok(())
}

fn tempdir() -> std::io::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("srt-audit-index-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
