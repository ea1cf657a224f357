//! Property tests over generated settings: the macOS profile is always well formed (or a clean
//! error when a name cannot be written), it never contains a deny a later allow makes
//! unreachable, and it decides every probed read and write exactly as `Ir::decide_path`, under
//! both evaluation models. Names mix quotes, backslashes, newlines, non-ASCII, regex and glob
//! characters. `PROPTEST_CASES` raises the number of cases (default 64).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Value};
use srt_compiler::backend::macos::{self, EmitError, Options};
use srt_compiler::{resolve, Access, FakeFs, ResolveOptions};
use srt_snapshots::peer_table::{probes, CWD, HOME, SETTINGS};
use srt_snapshots::sbpl::{self, decide_both};

const NAMES: &[&str] = &[
    "a",
    "b",
    ".env",
    "sec rets",
    "q\"uote",
    "back\\slash",
    "new\nline",
    "tab\tx",
    "é日😀",
    "x.y+z(1)|$^",
    "{c}",
    "*.pem",
    "**",
    "?x",
    "[ab]",
    "[z-a]",
    ".git",
    "hooks",
    ".vscode",
    "public",
];

const BASES: &[&str] = &[
    "~",
    ".",
    "/Users/dev/project/sub",
    "/tmp",
    "/etc",
    "~/.ssh",
    "/",
    "..",
    "/Users/dev/project",
];

fn spelling() -> impl Strategy<Value = String> {
    (
        prop::sample::select(BASES),
        prop::collection::vec(prop::sample::select(NAMES), 0..4),
    )
        .prop_map(|(base, names)| {
            if names.is_empty() {
                return base.to_string();
            }
            let base = base.trim_end_matches('/');
            format!("{base}/{}", names.join("/"))
        })
}

fn entry() -> impl Strategy<Value = Value> {
    (spelling(), prop::bool::weighted(0.15)).prop_map(|(path, literal)| {
        if literal {
            json!({"path": path, "literal": true})
        } else {
            json!(path)
        }
    })
}

fn list(max: usize) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(entry(), 0..max)
}

fn settings() -> impl Strategy<Value = Value> {
    (
        (list(5), list(4), list(4), list(4)),
        prop::collection::vec(spelling(), 0..2),
        prop::collection::vec(
            prop::sample::select(&["com.example.a", "org.example.*", "q\"z"][..]),
            0..2,
        ),
        prop::array::uniform6(any::<bool>()),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |((deny_read, allow_read, allow_write, deny_write), sockets, mach, flags, bell)| {
                let mut deny_read = deny_read;
                if bell {
                    deny_read.push(json!("/p/bell\u{7}"));
                }
                json!({
                    "network": {
                        "allowedDomains": ["example.com"],
                        "deniedDomains": [],
                        "allowUnixSockets": sockets,
                        "allowMachLookup": mach,
                        "allowLocalBinding": flags[0],
                        "allowAllUnixSockets": flags[1],
                    },
                    "filesystem": {
                        "denyRead": deny_read,
                        "allowRead": allow_read,
                        "allowWrite": allow_write,
                        "denyWrite": deny_write,
                        "allowGitConfig": flags[2],
                    },
                    "allowPty": flags[3],
                    "allowAppleEvents": flags[4],
                    "enableWeakerNetworkIsolation": flags[5],
                })
            },
        )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn generated_settings_give_well_formed_profiles_that_decide_like_the_ir(s in settings()) {
        let text = s.to_string();
        let loaded = srt_schema::load_str("gen.json", None, &text);
        prop_assume!(!loaded.has_errors());
        let fs = FakeFs::new().dir("/Users/dev/project/sub").dir("/Users/dev/.ssh");
        let opts = ResolveOptions {
            cwd: CWD.into(),
            home: HOME.into(),
            settings_path: Some(SETTINGS.into()),
        };
        let (ir, notes) = resolve(&loaded.settings, Some(loaded.source.clone()), &opts, &fs);
        prop_assume!(notes.iter().all(|n| n.severity != srt_schema::Severity::Error));
        let profile = match macos::emit(&ir, &Options::for_ir(&ir)) {
            Ok(p) => p,
            Err(EmitError::Unrepresentable { text: t, .. }) => {
                prop_assert!(t.contains("\\u{7}"), "refused {t}");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert!(!text.contains("bell"), "a bell was written into the profile");
        let parsed = match sbpl::validate(&profile) {
            Ok(p) => p,
            Err(problems) => return Err(TestCaseError::fail(format!("{}\n{profile}", problems.join("\n")))),
        };
        for req in probes(&ir) {
            let (path, _) = req.path.as_ref().unwrap();
            if ir.process.allow_pty && (path.starts_with("/dev/ttys") || path.starts_with("/dev/ptmx")) {
                continue;
            }
            let ours = decide_both(&parsed, &req).map_err(TestCaseError::fail)?;
            let p = Path::new(path);
            let write = ir.decide_path(p, Access::Write).allowed;
            match req.op.as_str() {
                "file-read-data" if path == "/" => {}
                "file-read-data" => prop_assert_eq!(ours, ir.decide_path(p, Access::Read).allowed, "{:?}", req),
                "file-write-data" => prop_assert_eq!(ours, write, "{:?}", req),
                _ => prop_assert!(write || !ours, "{:?} allowed though writing is denied", req),
            }
        }
    }
}
