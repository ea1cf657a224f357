//! Compiles the knowledge base (`knowledge/*.toml`) into Rust statics: the lints read them with
//! no parsing at run time, and a malformed entry (an unknown key, a missing field, a bad value)
//! fails the build with its file and entry named.

use std::fmt::Write as _;
use std::path::Path;

use toml_edit::{Document, Item, Table, Value};

/// The network channel files, in the order the lint and the book show them.
pub const CHANNEL_FILES: [&str; 5] = [
    "publish.toml",
    "ingest.toml",
    "object-stores.toml",
    "webhooks.toml",
    "fetch-proxies.toml",
];
pub const HOST_RUN_FILE: &str = "host-run.toml";
pub const PROJECT_FILE: &str = "project-files.toml";

struct Entry<'a> {
    file: &'a str,
    index: usize,
    table: &'a Table,
    allowed: &'a [&'a str],
}

impl Entry<'_> {
    fn fail(&self, what: &str) -> ! {
        panic!("knowledge/{} entry {}: {what}", self.file, self.index + 1)
    }

    fn check_keys(&self) {
        for (k, _) in self.table.iter() {
            if !self.allowed.contains(&k) {
                self.fail(&format!("unknown key `{k}`"));
            }
        }
    }

    fn opt_str(&self, key: &str) -> Option<String> {
        match self.table.get(key) {
            None => None,
            Some(Item::Value(Value::String(s))) => Some(s.value().trim().to_string()),
            Some(_) => self.fail(&format!("`{key}` must be a string")),
        }
    }

    fn str(&self, key: &str) -> String {
        match self.opt_str(key) {
            Some(s) if !s.is_empty() => s,
            _ => self.fail(&format!("`{key}` is required")),
        }
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.table.get(key) {
            None => Vec::new(),
            Some(Item::Value(Value::Array(a))) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.value().to_string(),
                    _ => self.fail(&format!("`{key}` must list strings")),
                })
                .collect(),
            Some(_) => self.fail(&format!("`{key}` must be an array")),
        }
    }

    fn flag(&self, key: &str) -> bool {
        match self.table.get(key) {
            None => false,
            Some(Item::Value(Value::Boolean(b))) => *b.value(),
            Some(_) => self.fail(&format!("`{key}` must be true or false")),
        }
    }

    fn sure(&self) -> &'static str {
        match self.opt_str("sure").as_deref() {
            None | Some("certain") => "Certain",
            Some("real") => "Real",
            Some("stretch") => "Stretch",
            Some(other) => self.fail(&format!("sure = {other:?}: use certain, real or stretch")),
        }
    }
}

fn read(dir: &Path, file: &str) -> Document<String> {
    let path = dir.join(file);
    println!("cargo:rerun-if-changed={}", path.display());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    match Document::parse(text) {
        Ok(d) => d,
        Err(e) => panic!("knowledge/{file}: {e}"),
    }
}

fn header(doc: &Document<String>, file: &str, out: &mut String) -> String {
    let top = doc.as_table();
    let allowed = [
        "kind", "title", "label", "intro", "channel", "place", "file",
    ];
    let e = Entry {
        file,
        index: 0,
        table: top,
        allowed: &allowed,
    };
    e.check_keys();
    let kind = e.str("kind");
    let _ = writeln!(
        out,
        "    KindDoc {{ kind: {kind:?}, file: {file:?}, title: {:?}, label: {:?}, intro: {:?} }},",
        e.str("title"),
        e.str("label"),
        e.str("intro")
    );
    kind
}

fn entries<'a>(doc: &'a Document<String>, file: &str, key: &str) -> Vec<&'a Table> {
    match doc.get(key) {
        Some(Item::ArrayOfTables(a)) => a.iter().collect(),
        _ => panic!("knowledge/{file}: no [[{key}]] entries"),
    }
}

fn check_host(e: &Entry<'_>, host: &str) {
    let name = host.strip_prefix("*.").unwrap_or(host);
    let ok = !name.is_empty()
        && name.contains('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !ok {
        e.fail(&format!(
            "host {host:?}: write a lowercase name or `*.name`"
        ));
    }
}

/// Generates `knowledge.rs` from the files under `dir`.
pub fn generate(dir: &Path) -> String {
    let mut kinds = String::new();
    let mut channels = String::new();
    for file in CHANNEL_FILES {
        let doc = read(dir, file);
        let kind = header(&doc, file, &mut kinds);
        for (index, t) in entries(&doc, file, "channel").into_iter().enumerate() {
            let e = Entry {
                file,
                index,
                table: t,
                allowed: &[
                    "name",
                    "hosts",
                    "can",
                    "sure",
                    "instead",
                    "needed_for",
                    "expected_with",
                    "expected_why",
                    "tenants",
                ],
            };
            e.check_keys();
            let hosts = e.list("hosts");
            if hosts.is_empty() {
                e.fail("`hosts` is required");
            }
            hosts.iter().for_each(|h| check_host(&e, h));
            let expected_with = e.list("expected_with");
            let expected_why = e.opt_str("expected_why").unwrap_or_default();
            if expected_with.is_empty() != expected_why.is_empty() {
                e.fail("`expected_with` and `expected_why` go together");
            }
            let _ = writeln!(
                channels,
                "    Channel {{ kind: {kind:?}, name: {:?}, hosts: &{hosts:?}, can: {:?}, sure: Sure::{}, instead: {:?}, needed_for: {:?}, expected_with: &{expected_with:?}, expected_why: {expected_why:?}, tenants: {} }},",
                e.str("name"),
                e.str("can"),
                e.sure(),
                e.str("instead"),
                e.opt_str("needed_for").unwrap_or_default(),
                e.flag("tenants"),
            );
        }
    }

    let mut places = String::new();
    let doc = read(dir, HOST_RUN_FILE);
    header(&doc, HOST_RUN_FILE, &mut kinds);
    for (index, t) in entries(&doc, HOST_RUN_FILE, "place")
        .into_iter()
        .enumerate()
    {
        let e = Entry {
            file: HOST_RUN_FILE,
            index,
            table: t,
            allowed: &["group", "path", "shown", "why", "sure", "on"],
        };
        e.check_keys();
        let on = match e.opt_str("on").as_deref() {
            None | Some("both") => "Both",
            Some("linux") => "Linux",
            Some("macos") => "Macos",
            Some(o) => e.fail(&format!("on = {o:?}: use both, linux or macos")),
        };
        let path = e.str("path");
        if !(path.starts_with("~/") || path.starts_with('/')) {
            e.fail("`path` must start with ~/ or /");
        }
        let _ = writeln!(
            places,
            "    HostRunPlace {{ group: {:?}, path: {path:?}, shown: {:?}, why: {:?}, sure: Sure::{}, on: On::{on} }},",
            e.str("group"),
            e.str("shown"),
            e.str("why"),
            e.sure(),
        );
    }

    let mut files = String::new();
    let doc = read(dir, PROJECT_FILE);
    header(&doc, PROJECT_FILE, &mut kinds);
    for (index, t) in entries(&doc, PROJECT_FILE, "file").into_iter().enumerate() {
        let e = Entry {
            file: PROJECT_FILE,
            index,
            table: t,
            allowed: &["path", "dir", "tool", "why", "sure", "builtin"],
        };
        e.check_keys();
        let path = e.str("path");
        if path.starts_with('/') || path.starts_with('~') || path.contains("..") {
            e.fail("`path` is relative to the project");
        }
        let _ = writeln!(
            files,
            "    ProjectFile {{ path: {path:?}, dir: {}, tool: {:?}, why: {:?}, sure: Sure::{}, builtin: {} }},",
            e.flag("dir"),
            e.str("tool"),
            e.str("why"),
            e.sure(),
            e.flag("builtin"),
        );
    }

    format!(
        "/// Every knowledge file: its kind, name, title and introduction (the book's pages).\n\
         pub static KINDS: &[KindDoc] = &[\n{kinds}];\n\
         /// Network channels, from {CHANNEL_FILES:?}.\n\
         pub static CHANNELS: &[Channel] = &[\n{channels}];\n\
         /// Places the host runs, from {HOST_RUN_FILE}.\n\
         pub static HOST_RUN: &[HostRunPlace] = &[\n{places}];\n\
         /// Project files tools run, from {PROJECT_FILE}.\n\
         pub static PROJECT_FILES: &[ProjectFile] = &[\n{files}];\n"
    )
}
