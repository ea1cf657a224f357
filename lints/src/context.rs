//! What a lint sees (the spanned settings, the JSON tree, the IR, the target) and how it
//! reports.

use std::path::Path;
use std::sync::Arc;

use srt_compiler::{Access, FsView, HostDecision, Ir, Origin, PathDecision};
use srt_schema::json::Json;
use srt_schema::{Diagnostic, Edit, Settings, Severity, SourceFile, Span};

use crate::edit::{self, NewValue};
use crate::level::Level;
use crate::registry::Lint;

pub use srt_compiler::Target;

/// Everything a lint may read. Lints never match paths or hosts themselves: they ask the
/// compiler's decision procedure through [`LintContext::path`] and [`LintContext::host`].
pub struct LintContext<'a> {
    pub settings: &'a Settings,
    /// The parsed file (spans of every key and value), for fixes.
    pub json: &'a Json,
    pub source: &'a Arc<SourceFile>,
    pub ir: &'a Ir,
    pub target: Target,
    /// The filesystem as the compiler saw it (for `missing-path`).
    pub fs: &'a dyn FsView,
}

impl LintContext<'_> {
    /// The decision for a host on a port.
    pub fn host(&self, host: &str, port: u16) -> HostDecision<'_> {
        self.ir.decide_host(host, port)
    }

    /// Is `host` reachable on HTTPS (443)?
    pub fn reachable(&self, host: &str) -> bool {
        self.host(host, 443).allowed
    }

    /// The decision for a path (`~/…`, relative or absolute).
    pub fn path(&self, path: &str, access: Access) -> PathDecision<'_> {
        self.ir.decide_path(Path::new(path), access)
    }

    pub fn writable(&self, path: &str) -> bool {
        self.path(path, Access::Write).allowed
    }

    /// Could an `allowWrite` entry of the file cover `abs` (an absolute path)? A cheap test
    /// before asking the decision procedure, which alone decides; lints that probe many places
    /// skip the rest with it.
    pub fn policy_may_write(&self, abs: &Path) -> bool {
        self.ir.fs.disabled
            || self.ir.fs.allow_write.iter().any(|r| {
                matches!(r.origin, Origin::Policy { .. })
                    && match &r.pattern {
                        // Both sides are normalised: a byte prefix at a `/` is `starts_with`.
                        srt_compiler::PathPattern::Literal(root) => {
                            let (a, b) = (
                                abs.as_os_str().as_encoded_bytes(),
                                root.as_os_str().as_encoded_bytes(),
                            );
                            a.starts_with(b)
                                && (a.len() == b.len()
                                    || b.ends_with(b"/")
                                    || a.get(b.len()) == Some(&b'/'))
                        }
                        glob => glob.covers(abs, true),
                    }
            })
    }

    /// Could an `allowedDomains` entry match `host` (canonical) on 443? The cheap test before
    /// [`Self::host`] for lints that probe many hosts.
    pub fn policy_may_reach(&self, host: &srt_schema::domain::Host) -> bool {
        self.ir
            .net
            .allowed
            .iter()
            .any(|r| r.pattern.matches(host, 443))
    }

    /// The span an origin points at, when it is an entry of the file.
    pub fn span_of(&self, origin: &Origin) -> Option<Span> {
        origin.span()
    }

    /// The JSON node at a pointer (`/filesystem/allowWrite`).
    pub fn node(&self, pointer: &str) -> Option<&Json> {
        self.json.pointer(pointer).map(|(n, _)| n)
    }

    /// The span of the key that introduces the value at `pointer`, else the value's span.
    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        let (node, member) = self.json.pointer(pointer)?;
        Some(member.map_or(node.span, |m| m.key.span))
    }

    /// Where a finding about a list should point: the list, else the object that should hold
    /// it, else the start of the file.
    pub fn list_anchor(&self, object: &str, list: &str) -> Span {
        if let Some(s) = self.key_span(&format!("/{object}/{list}")) {
            return s;
        }
        if let Some(s) = self.key_span(&format!("/{object}")) {
            return s;
        }
        Span::new(self.json.span.start, self.json.span.start + 1)
    }

    /// An edit that appends `value` to `object.list`, creating the list or the object when
    /// they are missing. `None` when the file's shape does not allow it (a wrong type).
    pub fn append_to_list(&self, object: &str, list: &str, value: &str) -> Option<Edit> {
        self.append_all_to_list(object, list, &[value])
    }

    /// Like [`Self::append_to_list`], for several values in one edit.
    pub fn append_all_to_list(&self, object: &str, list: &str, values: &[&str]) -> Option<Edit> {
        let text = &self.source.text;
        let literals: Vec<String> = values
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .ok()?;
        let new_list = format!("[{}]", literals.join(edit::comma(text)));
        if let Some((obj, _)) = self.json.pointer(&format!("/{object}")) {
            obj.members()?;
            return match obj.get(list) {
                Some(m) => edit::append_elements(text, &m.value, &literals),
                None => edit::add_member(text, obj, list, NewValue::Raw(new_list)),
            };
        }
        let members = [(list, new_list)];
        edit::add_member(text, self.json, object, NewValue::Object(&members))
    }

    /// `key[index]` of an origin, for messages (`filesystem.allowWrite[2]`).
    pub fn describe(&self, origin: &Origin) -> String {
        match origin {
            Origin::Policy { key, index, .. } => format!("{key}[{index}]"),
            Origin::BuiltIn(name) => format!("built-in {name}"),
        }
    }
}

/// Runs `f` on `scratch` (a clone of the IR) with rule `index` of the list `pick` selects set
/// aside, then puts it back: "would anything change without this rule?", answered by the
/// decision procedure. One clone serves a whole list.
pub fn set_aside<T, R>(
    scratch: &mut Ir,
    pick: fn(&mut Ir) -> &mut Vec<T>,
    index: usize,
    f: impl FnOnce(&Ir) -> R,
) -> R {
    let rule = pick(scratch).remove(index);
    let result = f(scratch);
    pick(scratch).insert(index, rule);
    result
}

/// `a, b, c and 4 more`: keeps labels on one line.
pub fn short_list(items: &[&str]) -> String {
    match items.len() {
        0..=3 => items.join(", "),
        n => format!("{} and {} more", items[..3].join(", "), n - 3),
    }
}

/// A finding with the level it is reported at unless the command line says otherwise.
#[derive(Clone, Debug)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub level: Level,
}

/// Collects a lint's findings.
pub struct Emitter {
    lint: &'static Lint,
    pub(crate) findings: Vec<Finding>,
}

impl Emitter {
    pub(crate) fn new(lint: &'static Lint) -> Self {
        Emitter {
            lint,
            findings: Vec::new(),
        }
    }

    /// A diagnostic with this lint's code (its severity is set from the final level).
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(
            srt_schema::Code::declared(self.lint.code),
            Severity::Warning,
            message,
        )
    }

    /// Reports at the lint's default level.
    pub fn emit(&mut self, d: Diagnostic) {
        self.emit_at(self.lint.level, d);
    }

    /// Reports at another default level (documented in the lint's doc comment).
    pub fn emit_at(&mut self, level: Level, mut d: Diagnostic) {
        d.code = self.lint.code.into();
        self.findings.push(Finding {
            diagnostic: d,
            level,
        });
    }
}
