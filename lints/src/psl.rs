//! The Public Suffix List, vendored under `lints/data/` and read with the `publicsuffix` crate.
//!
//! `build.rs` converts the list's internationalised rules to punycode and groups the rules by
//! their last two labels; a lookup parses only the rules that can match its name (its TLD's
//! group and its `sld.tld` group), once per process.
//! No network access ever: the list is compiled in (refresh it with `lints/data/refresh-psl.sh`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use publicsuffix::{List, Psl, Type};

include!(concat!(env!("OUT_DIR"), "/psl_groups.rs"));

/// The version line of the vendored list (for `srt lint --version`-style reporting and the book).
pub fn version() -> &'static str {
    PSL_VERSION
}

/// Which part of the list a suffix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Registry-operated suffixes (`co.uk`, `com`).
    Icann,
    /// Suffixes that companies run for their customers (`github.io`, `cloudfront.net`).
    Private,
}

/// The public suffix of a name, as the list defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicSuffix {
    pub suffix: String,
    /// `None` when only the implicit `*` rule applied (an unlisted top-level label).
    pub section: Option<Section>,
}

fn group(key: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    PSL_GROUPS
        .binary_search_by(|(k, _, _)| (*k).cmp(key))
        .ok()
        .map(|i| &PSL_GROUPS[i])
}

/// The list of every rule that can match a name ending in `sld.tld`, parsed once.
fn rules_for(tld: &str, sld: Option<&str>) -> Option<Arc<List>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<List>>>> = OnceLock::new();
    let key = match sld {
        Some(s) => format!("{s}.{tld}"),
        None => tld.to_string(),
    };
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    if let Some(list) = map.get(&key) {
        return Some(list.clone());
    }
    let groups: Vec<_> = [group(tld), sld.and_then(|_| group(&key))]
        .into_iter()
        .flatten()
        .collect();
    let mut text = String::from("// ===BEGIN ICANN DOMAINS===\n");
    groups.iter().for_each(|(_, icann, _)| text.push_str(icann));
    text.push_str("// ===BEGIN PRIVATE DOMAINS===\n");
    groups
        .iter()
        .for_each(|(_, _, private)| text.push_str(private));
    let list = Arc::new(text.parse::<List>().ok()?);
    map.insert(key, list.clone());
    Some(list)
}

/// The public suffix of `name` (lowercase ASCII, no trailing dot).
pub fn public_suffix(name: &str) -> PublicSuffix {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut labels = name.rsplit('.');
    let tld = labels.next().unwrap_or_default();
    let sld = labels.next();
    let implicit = || PublicSuffix {
        suffix: tld.to_string(),
        section: None,
    };
    let Some(list) = rules_for(tld, sld) else {
        return implicit();
    };
    match list.suffix(name.as_bytes()) {
        Some(s) => PublicSuffix {
            suffix: String::from_utf8_lossy(s.as_bytes()).into_owned(),
            section: s.typ().map(|t| match t {
                Type::Icann => Section::Icann,
                Type::Private => Section::Private,
            }),
        },
        None => implicit(),
    }
}

/// Is `name` itself a public suffix (`github.io`, `co.uk`, `eu-west-1.compute.amazonaws.com`)?
pub fn is_public_suffix(name: &str) -> Option<PublicSuffix> {
    let ps = public_suffix(name);
    (ps.section.is_some() && ps.suffix == name.trim_end_matches('.').to_ascii_lowercase())
        .then_some(ps)
}

/// Can anyone register names that `*.base` matches? True when `base` is a public suffix, or
/// when the list has a wildcard rule making every name directly under `base` one (then `*.base`
/// reaches names registered under each of those). Returns the suffix that makes it so.
pub fn wildcard_reaches_registrable_names(base: &str) -> Option<PublicSuffix> {
    if let Some(ps) = is_public_suffix(base) {
        return Some(ps);
    }
    // A label no rule names: if the list still calls `label.base` a suffix, a wildcard rule
    // (`*.base`) covers every child of `base`.
    let probe = format!("srt-lint-probe.{}", base.trim_end_matches('.'));
    is_public_suffix(&probe).map(|mut ps| {
        ps.suffix = format!("*.{base}");
        ps
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_suffixes() {
        assert_eq!(
            is_public_suffix("github.io").unwrap().section,
            Some(Section::Private)
        );
        assert_eq!(
            is_public_suffix("cloudfront.net").unwrap().section,
            Some(Section::Private)
        );
        assert_eq!(
            is_public_suffix("co.uk").unwrap().section,
            Some(Section::Icann)
        );
        assert_eq!(
            is_public_suffix("com").unwrap().section,
            Some(Section::Icann)
        );
        assert!(is_public_suffix("crates.io").is_none());
        assert!(is_public_suffix("github.com").is_none());
        assert_eq!(public_suffix("static.crates.io").suffix, "io");
        assert_eq!(public_suffix("foo.bar.github.io").suffix, "github.io");
    }

    #[test]
    fn wildcard_rules_and_punycode() {
        // `*.compute.amazonaws.com` is a wildcard rule: every region is a suffix.
        assert!(is_public_suffix("eu-west-1.compute.amazonaws.com").is_some());
        assert!(wildcard_reaches_registrable_names("compute.amazonaws.com").is_some());
        assert!(wildcard_reaches_registrable_names("crates.io").is_none());
        // Internationalised rules are matched in their punycode form (`公司.cn`).
        assert!(is_public_suffix("xn--55qx5d.cn").is_some());
        // An unlisted top-level label falls back to the implicit rule.
        assert_eq!(public_suffix("a.b.notatld").section, None);
        assert!(wildcard_reaches_registrable_names("corp.notatld").is_none());
    }

    /// The grouped lookup gives the same answer as the whole list parsed at once, for a name at
    /// and under every ASCII rule.
    #[test]
    fn grouping_agrees_with_the_whole_list() {
        let text = include_str!("../data/public_suffix_list.dat");
        let whole: List = text.parse().unwrap();
        let mut checked = 0;
        for line in text.lines() {
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            if rule.starts_with("//") || !rule.is_ascii() {
                continue;
            }
            let base = rule.trim_start_matches('!').replace('*', "w");
            for name in [base.clone(), format!("probe.{base}"), format!("a.b.{base}")] {
                let expected = whole.suffix(name.as_bytes()).map(|s| {
                    (
                        String::from_utf8_lossy(s.as_bytes()).into_owned(),
                        s.typ().is_some(),
                    )
                });
                let got = public_suffix(&name);
                let got = Some((got.suffix, got.section.is_some()));
                assert_eq!(got, expected, "{name}");
                checked += 1;
            }
        }
        assert!(checked > 20_000, "{checked}");
    }

    #[test]
    fn the_list_is_recent_enough_to_matter() {
        assert!(version().starts_with("20"), "{}", version());
    }
}
