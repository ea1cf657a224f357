//! Checks on a parsed profile beyond its shape: no deny that a later allow makes unreachable.

use super::eval::op_covers;
use super::profile::{Filter, Profile};

fn under(path: &str, dir: &str) -> bool {
    path == dir
        || dir == "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Does every path `inner` matches also match `outer`? (Only what can be seen from the text;
/// `false` when unsure.)
fn subsumes(outer: &Filter, inner: &Filter) -> bool {
    if outer == inner {
        return true;
    }
    match (outer, inner) {
        (Filter::Subpath(q), Filter::Subpath(p) | Filter::Literal(p)) => under(p, q),
        (Filter::Regex(re, _), Filter::Literal(p)) => re.is_match(p),
        (_, Filter::RequireAll(items)) => items.iter().any(|i| subsumes(outer, i)),
        _ => false,
    }
}

/// Problems with `profile`, one line each: a deny filter that a later allow for the same
/// operations covers entirely can never decide anything (Seatbelt applies the last match).
pub fn unreachable_denies(profile: &Profile) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, deny) in profile.rules.iter().enumerate().skip(1) {
        if deny.allow {
            continue;
        }
        for f in &deny.filters {
            let killer = profile.rules[i + 1..].iter().find(|allow| {
                allow.allow
                    && deny
                        .ops
                        .iter()
                        .all(|d| allow.ops.iter().any(|a| op_covers(a, d)))
                    && (allow.filters.is_empty() || allow.filters.iter().any(|g| subsumes(g, f)))
            });
            if let Some(k) = killer {
                problems.push(format!(
                    "{}: deny {} {f:?} is unreachable: the allow at {} covers it",
                    deny.pos,
                    deny.ops.join(" "),
                    k.pos
                ));
            }
        }
        if deny.filters.is_empty() {
            if let Some(k) = profile.rules[i + 1..].iter().find(|a| {
                a.allow
                    && a.filters.is_empty()
                    && deny
                        .ops
                        .iter()
                        .all(|d| a.ops.iter().any(|o| op_covers(o, d)))
            }) {
                problems.push(format!(
                    "{}: unconditional deny is unreachable: the allow at {} covers it",
                    deny.pos, k.pos
                ));
            }
        }
    }
    problems
}
