//! Precompiles the vendored Public Suffix List (`data/public_suffix_list.dat`) for fast lookups:
//! internationalised rules are converted to punycode (settings files hold ASCII names), and the
//! rules are grouped by their last two labels, so a lookup parses only the handful of rules that
//! can match its name with the `publicsuffix` crate, instead of the whole list (about 10,000
//! rules) on every run.
//!
//! A rule can match `a.b.sld.tld` only if it is a one-label rule (`tld`), a wildcard directly
//! under the TLD (`*.tld`), or ends in `sld.tld`. So the output has a group per TLD (its
//! one-label and `*.tld` rules) and a group per `sld.tld` (every longer rule ending there).

#[path = "build_knowledge.rs"]
mod build_knowledge;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

const LIST: &str = "data/public_suffix_list.dat";

#[derive(Default)]
struct Group {
    icann: Vec<String>,
    private: Vec<String>,
}

fn to_ascii(rule: &str) -> Option<String> {
    let mut labels = Vec::new();
    for label in rule.split('.') {
        if label.is_ascii() {
            labels.push(label.to_ascii_lowercase());
        } else {
            labels.push(idna::domain_to_ascii(label).ok()?);
        }
    }
    Some(labels.join("."))
}

fn main() {
    println!("cargo:rerun-if-changed={LIST}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_knowledge.rs");
    println!("cargo:rerun-if-changed=knowledge");
    let text = match std::fs::read_to_string(LIST) {
        Ok(t) => t,
        Err(e) => panic!("{LIST}: {e} (run lints/data/refresh-psl.sh)"),
    };
    let mut version = String::from("unknown");
    let mut section: Option<bool> = None; // Some(true) = ICANN, Some(false) = private
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for line in text.lines() {
        if line.contains("BEGIN ICANN DOMAINS") {
            section = Some(true);
        } else if line.contains("BEGIN PRIVATE DOMAINS") {
            section = Some(false);
        } else if let Some(v) = line.strip_prefix("// VERSION: ") {
            version = v.trim().to_string();
        }
        if line.starts_with("//") {
            continue;
        }
        let (Some(icann), Some(rule)) = (section, line.split_whitespace().next()) else {
            continue;
        };
        let (bang, body) = match rule.strip_prefix('!') {
            Some(b) => ("!", b),
            None => ("", rule),
        };
        let Some(ascii) = to_ascii(body) else {
            panic!("{LIST}: rule {rule:?} cannot be converted to punycode");
        };
        let mut labels = ascii.rsplit('.');
        let tld = labels.next().unwrap_or_default();
        let key = match labels.next() {
            None | Some("*") => tld.to_string(),
            Some(sld) => format!("{sld}.{tld}"),
        };
        let group = groups.entry(key).or_default();
        let list = if icann {
            &mut group.icann
        } else {
            &mut group.private
        };
        list.push(format!("{bang}{ascii}"));
    }
    if groups.len() < 5000 {
        panic!(
            "{LIST}: only {} rule groups; is the list truncated?",
            groups.len()
        );
    }
    let mut out = String::new();
    let _ = writeln!(out, "/// The vendored list's `VERSION` line.");
    let _ = writeln!(out, "pub(crate) const PSL_VERSION: &str = {version:?};");
    let _ = writeln!(
        out,
        "/// (`tld` or `sld.tld`, its ICANN rules, its private rules), one rule a line, sorted."
    );
    let _ = writeln!(
        out,
        "pub(crate) static PSL_GROUPS: &[(&str, &str, &str)] = &["
    );
    for (key, g) in &groups {
        let icann: String = g.icann.iter().map(|r| format!("{r}\n")).collect();
        let private: String = g.private.iter().map(|r| format!("{r}\n")).collect();
        let _ = writeln!(out, "    ({key:?}, {icann:?}, {private:?}),");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dest = out_dir.join("psl_groups.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("{}: {e}", dest.display());
    }
    let knowledge = build_knowledge::generate(std::path::Path::new("knowledge"));
    let dest = out_dir.join("knowledge.rs");
    if let Err(e) = std::fs::write(&dest, knowledge) {
        panic!("{}: {e}", dest.display());
    }
}
