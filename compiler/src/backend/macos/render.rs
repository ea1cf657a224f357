//! The profile as a list of items (rules, comments, verbatim blocks) and its rendering. Filter
//! texts arrive here already escaped (see [`super::escape`]); notes are provenance comments,
//! written only with `--annotate`.

use super::escape;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        }
    }
}

/// One filter of a rule, with where it came from.
#[derive(Clone, Debug)]
pub struct Filter {
    pub sbpl: String,
    pub notes: Vec<String>,
}

/// An ordered set of filters: a filter text that is added twice keeps its first place and
/// gathers both notes (the project directory is routinely a root for two reasons).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    items: Vec<Filter>,
}

impl Filters {
    pub fn add(&mut self, sbpl: String, note: String) {
        match self.items.iter_mut().find(|f| f.sbpl == sbpl) {
            Some(f) => {
                if !f.notes.contains(&note) {
                    f.notes.push(note);
                }
            }
            None => self.items.push(Filter {
                sbpl,
                notes: vec![note],
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[derive(Clone, Debug)]
pub enum Item {
    Blank,
    /// `(deny default (with message TAG))`.
    DenyDefault,
    /// A `;` comment; the text is made safe when rendered.
    Comment(String),
    /// Fixed profile text (the base, the pty block): written as is.
    Verbatim(&'static str),
    /// A rule without filters: it applies to every use of the operations.
    Unconditional {
        action: Action,
        ops: &'static str,
        note: Option<String>,
    },
    /// A rule over a set of filters, omitted when the set is empty (a rule without filters
    /// would match everything). `message` adds the log tag, as the npm srt does for path rules.
    Rule {
        action: Action,
        ops: &'static str,
        filters: Filters,
        message: bool,
    },
}

impl Item {
    pub fn rule(action: Action, ops: &'static str, filters: Filters) -> Item {
        Item::Rule {
            action,
            ops,
            filters,
            message: true,
        }
    }

    /// A one-filter rule written on one line, without the log tag (network, Mach services).
    pub fn single(action: Action, ops: &'static str, sbpl: String, note: String) -> Item {
        let mut filters = Filters::default();
        filters.add(sbpl, note);
        Item::Rule {
            action,
            ops,
            filters,
            message: false,
        }
    }
}

/// Renders the items. `tag` is the log tag as an SBPL string literal.
pub fn render(items: &[Item], tag: &str, annotate: bool) -> String {
    let mut out = String::new();
    // One comment line per filter: its first origin, and how many more gave the same filter.
    // A filter with the same origins as the one before it shares that comment.
    let notes = |out: &mut String, indent: &str, notes: &[String], previous: Option<&[String]>| {
        if !annotate || notes.is_empty() || previous == Some(notes) {
            return;
        }
        out.push_str(indent);
        out.push_str("; ");
        out.push_str(&escape::comment(&notes[0]));
        if notes.len() > 1 {
            out.push_str(&format!(" (+{} more)", notes.len() - 1));
        }
        out.push('\n');
    };
    // Consecutive one-line rules with the same origin share one comment.
    let mut previous_single: Option<&[String]> = None;
    for item in items {
        let single_before = previous_single.take();
        match item {
            Item::Blank => out.push('\n'),
            Item::DenyDefault => out.push_str(&format!("(deny default (with message {tag}))\n")),
            Item::Comment(c) => {
                out.push_str("; ");
                out.push_str(&escape::comment(c));
                out.push('\n');
            }
            Item::Verbatim(text) => out.push_str(text),
            Item::Unconditional { action, ops, note } => {
                notes(&mut out, "", note.as_slice(), None);
                out.push_str(&format!("({} {ops})\n", action.as_str()));
            }
            Item::Rule {
                action,
                ops,
                filters,
                message,
            } => {
                if filters.is_empty() {
                    continue;
                }
                let action = action.as_str();
                if !message && filters.items.len() == 1 {
                    let f = &filters.items[0];
                    notes(&mut out, "", &f.notes, single_before);
                    previous_single = Some(&f.notes);
                    out.push_str(&format!("({action} {ops} {})\n", f.sbpl));
                    continue;
                }
                out.push_str(&format!("({action} {ops}\n"));
                let last = filters.items.len() - 1;
                for (i, f) in filters.items.iter().enumerate() {
                    let previous = i.checked_sub(1).map(|p| filters.items[p].notes.as_slice());
                    notes(&mut out, "  ", &f.notes, previous);
                    out.push_str("  ");
                    out.push_str(&f.sbpl);
                    if i == last && !message {
                        out.push(')');
                    }
                    out.push('\n');
                }
                if *message {
                    out.push_str(&format!("  (with message {tag}))\n"));
                }
            }
        }
    }
    out
}
