//! Precompiles the vendored Public Suffix List (`data/public_suffix_list.dat`) for fast lookups:
//! internationalised rules are converted to punycode (settings files hold ASCII names), and the
//! rules are grouped by their top-level label, so a lookup parses only its own TLD's rules with
//! the `publicsuffix` crate instead of the whole list (about 10,000 rules) on every run.

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
        let tld = ascii.rsplit('.').next().unwrap_or_default().to_string();
        let group = groups.entry(tld).or_default();
        let list = if icann {
            &mut group.icann
        } else {
            &mut group.private
        };
        list.push(format!("{bang}{ascii}"));
    }
    if groups.len() < 1000 {
        panic!(
            "{LIST}: only {} top-level groups; is the list truncated?",
            groups.len()
        );
    }
    let mut out = String::new();
    let _ = writeln!(out, "/// The vendored list's `VERSION` line.");
    let _ = writeln!(out, "pub(crate) const PSL_VERSION: &str = {version:?};");
    let _ = writeln!(
        out,
        "/// (top-level label, that label's rules in the list's own format), sorted by label."
    );
    let _ = writeln!(out, "pub(crate) static PSL_GROUPS: &[(&str, &str)] = &[");
    for (tld, g) in &groups {
        let mut body = String::from("// ===BEGIN ICANN DOMAINS===\n");
        for r in &g.icann {
            body.push_str(r);
            body.push('\n');
        }
        body.push_str("// ===BEGIN PRIVATE DOMAINS===\n");
        for r in &g.private {
            body.push_str(r);
            body.push('\n');
        }
        let _ = writeln!(out, "    ({tld:?}, {body:?}),");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("psl_groups.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("{}: {e}", dest.display());
    }
}
