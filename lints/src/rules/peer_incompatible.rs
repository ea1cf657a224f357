//! `peer-incompatible`: files srt accepts but the npm srt refuses.

use srt_schema::{Fix, Span};

use crate::edit::{add_members, NewValue};
use crate::fix::REMOVE_BOM;
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags what makes the npm srt (0.0.83) refuse a file that srt accepts:
    /// - a missing `network` or `filesystem` object;
    /// - a missing required list: `network.allowedDomains`, `network.deniedDomains`,
    ///   `filesystem.denyRead`, `filesystem.allowWrite`, `filesystem.denyWrite`;
    /// - a UTF-8 byte order mark at the start of the file (`JSON.parse` rejects it).
    ///
    /// srt reads a missing list as empty, which is what the author meant. The fix
    /// (machine-applicable) adds the missing objects and empty lists, laid out like the rest
    /// of the file, or removes the byte order mark.
    ///
    /// The level is `warn` rather than `note`: the npm srt does not read such a file
    /// differently, it refuses to start ("network.deniedDomains: Required"), so a policy
    /// shared between both tools is broken for half its users.
    ///
    /// ### Why is this bad
    /// Many published examples, including the seed document's, omit `deniedDomains` and the
    /// `filesystem` lists. They work with srt and fail with the npm srt, which is where most
    /// people will try them first.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"]},
    ///  "filesystem": {"allowWrite": ["."]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"], "deniedDomains": []},
    ///  "filesystem": {"allowWrite": ["."], "denyRead": [], "denyWrite": []}}
    /// ```
    pub PEER_INCOMPATIBLE {
        code: "peer-incompatible",
        level: Warn,
        summary: "the npm srt would refuse this file (missing required lists, a byte order mark); the fix adds empty lists",
        check: check,
    }
}

const NETWORK: [&str; 2] = ["allowedDomains", "deniedDomains"];
const FILESYSTEM: [&str; 3] = ["denyRead", "allowWrite", "denyWrite"];

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    if ctx.source.bom {
        let d = out
            .diag("the file starts with a UTF-8 byte order mark, which the npm srt's JSON.parse rejects")
            .with_label(Span::new(0, 0), "byte order mark before this")
            .with_help("save the file as UTF-8 without a byte order mark")
            .with_fix(Fix {
                description: REMOVE_BOM.into(),
                edits: Vec::new(),
            });
        out.emit(d);
    }
    let text = &ctx.source.text;
    let root = ctx.json;
    let mut missing_objects: Vec<(&str, &[&str])> = Vec::new();
    for (object, lists) in [("network", &NETWORK[..]), ("filesystem", &FILESYSTEM[..])] {
        let Some(member) = root.get(object) else {
            missing_objects.push((object, lists));
            continue;
        };
        let missing: Vec<&str> = lists
            .iter()
            .copied()
            .filter(|l| member.value.get(l).is_none())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let names: Vec<String> = missing.iter().map(|l| format!("`{object}.{l}`")).collect();
        let mut d = out
            .diag(format!(
                "the npm srt refuses this file: {} {} required",
                names.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ))
            .with_label(member.key.span, format!("missing {}", missing.join(", ")))
            .with_help(if missing.len() == 1 {
                "srt reads a missing list as empty; add it as an empty list so the npm srt accepts the file too"
            } else {
                "srt reads missing lists as empty; add them as empty lists so the npm srt accepts the file too"
            });
        let new = missing
            .iter()
            .map(|l| (*l, NewValue::Raw("[]".into())))
            .collect();
        if let Some(edit) = add_members(text, &member.value, new) {
            d = d.with_fix(Fix {
                description: format!("add empty {}", names.join(", ")),
                edits: vec![edit],
            });
        }
        out.emit(d);
    }
    if missing_objects.is_empty() {
        return;
    }
    let names: Vec<String> = missing_objects
        .iter()
        .map(|(o, _)| format!("`{o}`"))
        .collect();
    let lists: Vec<Vec<(&str, String)>> = missing_objects
        .iter()
        .map(|(_, ls)| ls.iter().map(|l| (*l, "[]".to_string())).collect())
        .collect();
    let new = missing_objects
        .iter()
        .zip(&lists)
        .map(|((o, _), ls)| (*o, NewValue::Object(ls)))
        .collect();
    let mut d = out
        .diag(format!(
            "the npm srt refuses this file: {} {} required",
            names.join(" and "),
            if names.len() == 1 { "is" } else { "are" }
        ))
        .with_label(Span::new(root.span.start, root.span.start + 1), format!("no {}", names.join(" or ")))
        .with_help("srt reads a missing section as empty (no network, no writes); add it with empty lists so the npm srt accepts the file too");
    if let Some(edit) = add_members(text, root, new) {
        d = d.with_fix(Fix {
            description: format!("add {} with empty lists", names.join(" and ")),
            edits: vec![edit],
        });
    }
    out.emit(d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "peer-incompatible";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": [], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: Context7 config",
                "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"context7.com\", \"*.context7.com\",\n      \"api.upstash.com\"\n    ]\n  },\n  \"filesystem\": {\n    \"allowWrite\": [\n      \".\",\n      \"~/Library/Caches/claude-cli-nodejs\"\n    ]\n  }\n}",
            ),
            ("seed: allowPty only", "{\n  \"allowPty\": true\n}"),
            ("an empty object", "{}"),
            (
                "a byte order mark",
                "\u{feff}{\"network\": {\"allowedDomains\": [], \"deniedDomains\": []}, \"filesystem\": {\"denyRead\": [], \"allowWrite\": [], \"denyWrite\": []}}",
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
