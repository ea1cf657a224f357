//! The macOS backend against the npm srt: the reference profiles and srt's are read with the
//! test SBPL reader, every request of the comparison table is decided in both (under both
//! evaluation models) and by `Ir::decide_path`, and the answers must be the table's. Plus
//! golden profiles for every fixture, each checked for well-formedness.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};

use srt_compiler::backend::macos::command::{self, shell_quote};
use srt_compiler::backend::macos::{self, KeySpans, Options, ProxyPorts};
use srt_compiler::env::{
    java_tool_options, proxy_env, srt_ssh_proxy_command, ProxyEnv, DEFAULT_TMPDIR,
};
use srt_compiler::{resolve, Access, FakeFs, Ir, ResolveOptions};
use srt_snapshots::peer_table::{self, proxy_port, reference_ir, Row, REFERENCE};
use srt_snapshots::sbpl::{self, decide_both, Kind, Profile};

const BOOK: &str = include_str!("../../../book/src/compile/macos.md");

fn options(ir: &Ir, port: u16) -> Options {
    Options {
        proxy: ProxyPorts::for_ir(ir, port),
        ..Options::for_ir(ir)
    }
}

fn srt_profile(json: &str, port: u16) -> String {
    let ir = reference_ir(json, true);
    macos::emit(&ir, &options(&ir, port)).unwrap()
}

fn port_of(config: &str) -> u16 {
    let (_, _, sb) = REFERENCE.iter().find(|(n, _, _)| *n == config).unwrap();
    proxy_port(sb)
}

/// The access `Ir::decide_path` answers for a request, if it is one.
fn access_of(row: &Row) -> Option<(PathBuf, Access)> {
    let (path, kind) = row.request.path.as_ref()?;
    if *kind == Kind::CharDevice {
        return None; // devices: the profile's own business (pty, ioctl)
    }
    match row.request.op.as_str() {
        "file-read-data" => Some((path.into(), Access::Read)),
        "file-write-data" => Some((path.into(), Access::Write)),
        _ => None,
    }
}

#[test]
fn reference_profiles_are_read_by_the_test_reader() {
    for (name, _, sb) in REFERENCE {
        let p = sbpl::parse(sb).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.rules.len() > 20, "{name}");
    }
}

#[test]
fn the_table_matches_the_npm_srt_srt_and_the_decision_procedure() {
    let rows = peer_table::rows(&port_of);
    assert!(rows.len() >= 200, "{} rows", rows.len());
    let mut failures = Vec::new();
    for (name, json, sb) in REFERENCE {
        let reference = sbpl::parse(sb).unwrap();
        let ours_text = srt_profile(json, proxy_port(sb));
        let ours = sbpl::validate(&ours_text).unwrap_or_else(|e| panic!("{name}: {e:#?}"));
        let ir = reference_ir(json, true);
        for row in rows.iter().filter(|r| r.config == name) {
            let req = &row.request;
            match decide_both(&reference, req) {
                Ok(v) if v == row.reference => {}
                other => failures.push(format!("{name} npm srt {req:?}: {other:?}")),
            }
            match decide_both(&ours, req) {
                Ok(v) if v == row.srt => {}
                other => failures.push(format!("{name} srt {req:?}: {other:?}")),
            }
            if let Some((path, access)) = access_of(row) {
                let d = ir.decide_path(&path, access);
                if d.allowed != row.srt {
                    failures.push(format!(
                        "{name} decide_path {} {access:?}: {}",
                        path.display(),
                        d.allowed
                    ));
                }
            }
            match (row.reference == row.srt, row.difference) {
                (true, None) => {}
                (false, Some(d)) => {
                    if !BOOK.contains(&format!("\n{}\n", d.heading())) {
                        failures.push(format!("the book does not document {d:?}"));
                    }
                }
                (same, d) => failures.push(format!(
                    "{name} {req:?}: outcomes same={same} but difference {d:?}"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<PathBuf> = ["good", "macos"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn fixture_ir(file: &Path) -> (Ir, KeySpans) {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let loaded = srt_schema::load_bytes(&name, None, &std::fs::read(file).unwrap());
    assert!(!loaded.has_errors(), "{name}: {:#?}", loaded.diagnostics);
    let fs = FakeFs::new()
        .dir("/Users/dev/project/src")
        .dir("/Users/dev/.ssh")
        .file("/Users/dev/.ssh/known_hosts");
    let opts = ResolveOptions {
        cwd: peer_table::CWD.into(),
        home: peer_table::HOME.into(),
        settings_path: Some(peer_table::SETTINGS.into()),
    };
    let (ir, notes) = resolve(&loaded.settings, Some(loaded.source.clone()), &opts, &fs);
    assert!(notes.is_empty(), "{name}: {notes:#?}");
    (ir, KeySpans::from_settings(&loaded.settings))
}

/// The profile with the fixed base replaced by one line, so each snapshot shows what the
/// settings made (the base is checked to be there, once, verbatim).
fn without_base(profile: &str) -> String {
    assert_eq!(profile.matches(macos::BASE).count(), 1);
    profile.replace(macos::BASE, "; [base.sbpl, verbatim]\n")
}

#[test]
fn every_fixture_gives_a_well_formed_deterministic_profile() {
    let files = fixtures();
    assert!(files.len() >= 12, "{} fixtures", files.len());
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let (ir, _) = fixture_ir(&file);
        let opts = Options::for_ir(&ir);
        let text = macos::emit(&ir, &opts).unwrap();
        assert_eq!(text, macos::emit(&ir, &opts).unwrap(), "{stem}");
        if let Err(problems) = sbpl::validate(&text) {
            panic!("{stem}:\n{}\n{text}", problems.join("\n"));
        }
        insta::assert_snapshot!(format!("macos-{stem}"), without_base(&text));
    }
}

#[test]
fn annotated_full_and_command_forms() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/good/peer-s2.json");
    let (ir, spans) = fixture_ir(&file);
    let plain = macos::emit(&ir, &Options::for_ir(&ir)).unwrap();
    insta::assert_snapshot!("macos-full-peer-s2", plain);
    let annotated = macos::emit(
        &ir,
        &Options {
            annotate: true,
            key_spans: spans,
            ..Options::for_ir(&ir)
        },
    )
    .unwrap();
    sbpl::validate(&annotated).unwrap();
    // Annotations are comments only: the rules read back the same.
    let rules = |p: &Profile| {
        format!(
            "{:?}",
            p.rules
                .iter()
                .map(|r| (&r.ops, &r.filters))
                .collect::<Vec<_>>()
        )
    };
    assert_eq!(
        rules(&sbpl::parse(&annotated).unwrap()),
        rules(&sbpl::parse(&plain).unwrap())
    );
    insta::assert_snapshot!("macos-annotated-peer-s2", without_base(&annotated));
    let mut env = proxy_env(&ProxyEnv {
        host: "localhost".into(),
        http_port: 3128,
        socks_port: 3128,
        auth: None,
        ssh_proxy_command: srt_ssh_proxy_command("srt", Some("127.0.0.1:3128")),
        tmpdir: Some(DEFAULT_TMPDIR.into()),
    });
    env.push((
        "JAVA_TOOL_OPTIONS".into(),
        java_tool_options("localhost", 3128, None),
    ));
    let script = command::command_script(&plain, &env, &[]);
    insta::assert_snapshot!(
        "macos-command-peer-s2",
        script.replace(&shell_quote(&plain), "'<PROFILE>'")
    );
}

/// Every reference config, request by request over generated probes: where srt's profile and
/// the npm srt's disagree, srt's answer must be its decision procedure's, and the list of
/// disagreements is a reviewed snapshot (each kind is documented in the book).
#[test]
fn disagreements_with_the_npm_srt_are_reviewed() {
    let mut unexplained = Vec::new();
    for (name, json, sb) in REFERENCE {
        let reference = sbpl::parse(sb).unwrap();
        let ir = reference_ir(json, false);
        let ours = sbpl::validate(&macos::emit(&ir, &options(&ir, proxy_port(sb))).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e:#?}"));
        let mut lines = Vec::new();
        let probes = peer_table::probes(&ir);
        for req in &probes {
            let (path, _) = req.path.as_ref().unwrap();
            let srt = decide_both(&ours, req).unwrap_or_else(|e| panic!("{name}: {e}"));
            let access = match req.op.as_str() {
                "file-read-data" => Some(Access::Read),
                "file-write-data" => Some(Access::Write),
                _ => None,
            };
            let decided_write = ir.decide_path(Path::new(path), Access::Write).allowed;
            match access {
                // `/` stays readable when a deny covers it (no program starts otherwise).
                Some(Access::Read) if path == "/" => {}
                Some(a) => assert_eq!(
                    srt,
                    ir.decide_path(Path::new(path), a).allowed,
                    "{name}: {req:?}"
                ),
                // What cannot be written cannot be unlinked or created either.
                None => assert!(decided_write || !srt, "{name}: {req:?}"),
            }
            let word = |b: bool| if b { "allows" } else { "denies" };
            match decide_both(&reference, req) {
                Ok(npm) if npm == srt => {}
                Ok(npm) => {
                    let why = peer_table::classify(&ir, req, npm).map_or_else(
                        || {
                            unexplained.push(format!("{name} {} {path:?}", req.op));
                            "UNEXPLAINED"
                        },
                        |d| {
                            assert!(BOOK.contains(&format!("\n{}\n", d.heading())), "{d:?}");
                            d.name()
                        },
                    );
                    lines.push(format!(
                        "{} {path:?}: npm srt {}, srt {} ({why})",
                        req.op,
                        word(npm),
                        word(srt)
                    ))
                }
                Err(_) => lines.push(format!(
                    "{} {path:?}: npm srt's profile is ambiguous (the two models disagree), srt {}",
                    req.op,
                    word(srt)
                )),
            }
        }
        assert!(probes.len() > 100, "{name}: {} probes", probes.len());
        insta::assert_snapshot!(format!("peer-disagreements-{name}"), lines.join("\n"));
    }
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
}
