//! Table tests for the path side of the decision procedure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::Path;

use srt_compiler::{builtin, resolve, Access, FakeFs, Ir, Origin, ResolveOptions};

fn ir_with(json: &str, fs: &FakeFs) -> Ir {
    let loaded = srt_schema::load_str("t.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: "/home/dev/project".into(),
        home: "/home/dev".into(),
        settings_path: Some("/home/dev/project/.srt.json".into()),
    };
    resolve(&loaded.settings, Some(loaded.source.clone()), &opts, fs).0
}

const POLICY: &str = r#"{
  "network": {"allowedDomains": [], "deniedDomains": []},
  "filesystem": {
    "denyRead": ["~/.ssh", "/etc/shadow", "**/*.pem", "~"],
    "allowRead": ["~/.ssh/known_hosts", "~/project", "~/.cargo"],
    "allowWrite": [".", "/tmp/out", "src/**/*.ts", "~/.cargo/registry"],
    "denyWrite": [".env", "secrets/**", "config/*.json", "~/.cargo/registry/cache"]
  }
}"#;

#[test]
fn path_table() {
    let ir = ir_with(POLICY, &FakeFs::new());
    use Access::*;
    // (path, access, allowed, deciding origin key or built-in name)
    let table: &[(&str, Access, bool, &str)] = &[
        ("/etc/passwd", Read, true, "default"),
        ("/etc/shadow", Read, false, "filesystem.denyRead"),
        ("/etc/shadow.bak", Read, true, "default"),
        ("/home/dev/.ssh", Read, false, "filesystem.denyRead"),
        ("/home/dev/.ssh/id_rsa", Read, false, "filesystem.denyRead"),
        (
            "/home/dev/.ssh/known_hosts",
            Read,
            true,
            "filesystem.allowRead",
        ),
        ("~/.ssh/known_hosts", Read, true, "filesystem.allowRead"),
        (
            "/home/dev/.bash_history",
            Read,
            false,
            "filesystem.denyRead",
        ),
        (
            "/home/dev/project/src/main.rs",
            Read,
            true,
            "filesystem.allowRead",
        ),
        ("src/main.rs", Read, true, "filesystem.allowRead"),
        (
            "/home/dev/project/key.pem",
            Read,
            false,
            "filesystem.denyRead",
        ),
        (
            "/home/dev/project/a/b/key.pem",
            Read,
            false,
            "filesystem.denyRead",
        ),
        (
            "/home/dev/project/key.pem/inner",
            Read,
            false,
            "filesystem.denyRead",
        ),
        (
            "/home/dev/project/key.pemx",
            Read,
            true,
            "filesystem.allowRead",
        ),
        (
            "/home/dev/.cargo/bin/cargo",
            Read,
            true,
            "filesystem.allowRead",
        ),
        ("/tmp/x", Write, false, "default"),
        ("/etc/passwd", Write, false, "default"),
        ("/tmp/out/a", Write, true, "filesystem.allowWrite"),
        ("/tmp/output", Write, false, "default"),
        (
            "/home/dev/project/src/a.rs",
            Write,
            true,
            "filesystem.allowWrite",
        ),
        (
            "/home/dev/project/.env",
            Write,
            false,
            "filesystem.denyWrite",
        ),
        (
            "/home/dev/project/.env.local",
            Write,
            true,
            "filesystem.allowWrite",
        ),
        (
            "/home/dev/project/secrets",
            Write,
            false,
            "filesystem.denyWrite",
        ),
        (
            "/home/dev/project/secrets/k",
            Write,
            false,
            "filesystem.denyWrite",
        ),
        (
            "/home/dev/project/config/a.json",
            Write,
            false,
            "filesystem.denyWrite",
        ),
        (
            "/home/dev/project/config/sub/a.json",
            Write,
            true,
            "filesystem.allowWrite",
        ),
        ("/home/dev/project/.bashrc", Write, false, "mandatory-deny"),
        (
            "/home/dev/project/sub/dir/.zshrc",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.git/hooks/pre-commit",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.git/config",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.git/HEAD",
            Write,
            true,
            "filesystem.allowWrite",
        ),
        (
            "/home/dev/project/.claude/commands/x.md",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.claude/settings.json",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.vscode/settings.json",
            Write,
            false,
            "mandatory-deny",
        ),
        (
            "/home/dev/project/.mcp.json",
            Write,
            false,
            "mandatory-deny",
        ),
        ("/home/dev/project/.srt.json", Write, false, "settings-file"),
        (
            "/home/dev/project/key.pem",
            Write,
            false,
            "filesystem.denyRead",
        ),
        (
            "/home/dev/.cargo/registry/index/x",
            Write,
            true,
            "filesystem.allowWrite",
        ),
        (
            "/home/dev/.cargo/registry/cache/x.crate",
            Write,
            false,
            "filesystem.denyWrite",
        ),
        (
            "/home/dev/.cargo/registry/.gitconfig",
            Write,
            false,
            "mandatory-deny",
        ),
        ("/home/dev/.cargo/bin/cargo", Write, false, "default"),
        ("/dev/null", Write, true, "default-write-path"),
        ("/tmp/claude/x", Write, true, "default-write-path"),
        (
            "/home/dev/.npm/_logs/x.log",
            Write,
            false,
            "filesystem.denyRead",
        ),
        ("/tmp/out/../../etc/passwd", Write, false, "default"),
        ("/tmp/out/./a", Write, true, "filesystem.allowWrite"),
    ];
    let mut failures = Vec::new();
    for (path, access, allowed, by) in table {
        let d = ir.decide_path(Path::new(path), *access);
        let got_by = match d.rule.map(|r| &r.origin) {
            Some(Origin::Policy { key, .. }) => *key,
            Some(Origin::BuiltIn(name)) => name.name(),
            None => d.default.name(),
        };
        if d.allowed != *allowed || got_by != *by {
            failures.push(format!(
                "{path} {access:?}: allowed={} by={got_by}",
                d.allowed
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn allow_git_config_lifts_only_git_config() {
    let ir = ir_with(
        r#"{"filesystem":{"allowWrite":["."],"allowGitConfig":true}}"#,
        &FakeFs::new(),
    );
    assert!(
        ir.decide_path(Path::new(".git/config"), Access::Write)
            .allowed
    );
    assert!(
        !ir.decide_path(Path::new(".git/hooks/x"), Access::Write)
            .allowed
    );
}

#[test]
fn disabled_filesystem_allows_everything() {
    let ir = ir_with(
        r#"{"filesystem":{"denyRead":["/etc"],"disabled":true}}"#,
        &FakeFs::new(),
    );
    let d = ir.decide_path(Path::new("/etc/shadow"), Access::Write);
    assert!(d.allowed);
    assert_eq!(d.default, builtin::FILESYSTEM_DISABLED);
}

#[test]
fn glob_allow_write_is_exact() {
    let ir = ir_with(
        r#"{"filesystem":{"allowWrite":["out/**/*.txt"]}}"#,
        &FakeFs::new(),
    );
    assert!(
        ir.decide_path(Path::new("out/a/b.txt"), Access::Write)
            .allowed
    );
    assert!(
        ir.decide_path(Path::new("out/b.txt"), Access::Write)
            .allowed
    );
    assert!(!ir.decide_path(Path::new("out/b.rs"), Access::Write).allowed);
}

#[test]
fn symlinked_write_root_escaping_its_tree_is_not_followed() {
    let fs = FakeFs::new()
        .dir("/home/dev/project")
        .link("/home/dev/project/cache", "/home/dev");
    let ir = ir_with(r#"{"filesystem":{"allowWrite":["cache"]}}"#, &fs);
    assert!(
        !ir.decide_path(Path::new("/home/dev/.profile2"), Access::Write)
            .allowed
    );
    let rule = ir
        .fs
        .allow_write
        .iter()
        .find(|r| r.spelled == "cache")
        .unwrap();
    assert_eq!(
        rule.symlink_not_followed.as_deref(),
        Some(Path::new("/home/dev"))
    );
}

#[test]
fn a_write_root_that_is_or_lies_in_a_protected_name_is_still_denied() {
    let ir = ir_with(
        r#"{"filesystem":{"allowWrite":["~/.bashrc", "~/.vscode/extensions", "~/.cache", "/srv/repo/.git/hooks"]}}"#,
        &FakeFs::new(),
    );
    for (path, allowed) in [
        ("/home/dev/.bashrc", false),
        ("/home/dev/.vscode/extensions/x.js", false),
        ("/srv/repo/.git/hooks/pre-commit", false),
        ("/home/dev/.cache/pip/x", true),
    ] {
        let d = ir.decide_path(Path::new(path), Access::Write);
        assert_eq!(d.allowed, allowed, "{path}");
        if !allowed {
            assert_eq!(
                d.rule.map(|r| &r.origin),
                Some(&Origin::BuiltIn(builtin::MANDATORY_DENY)),
                "{path}"
            );
        }
    }
}
