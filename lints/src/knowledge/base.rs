//! The knowledge base: one data file per kind under `lints/knowledge/` (network channels by kind,
//! places the host runs, project files tools run), compiled into these statics by `build.rs`.
//! The lints read them; the book's "What the lints know" pages are generated from them
//! ([`crate::book::knowledge_page`]).

use crate::Level;

pub use super::places::On;

/// How sure it is that an attacker gets through, which sets the finding's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sure {
    /// Happens without the user doing anything unusual (the next shell, build, commit).
    Certain,
    /// Real and general, or needs a tool the user runs routinely.
    Real,
    /// Needs a stretch: a step the user takes on purpose.
    Stretch,
}

impl Sure {
    pub fn as_str(self) -> &'static str {
        match self {
            Sure::Certain => "certain",
            Sure::Real => "real",
            Sure::Stretch => "stretch",
        }
    }

    /// The level of a network channel: a warning where the channel is real, a note where it
    /// needs a stretch.
    pub fn channel_level(self) -> Level {
        match self {
            Sure::Certain | Sure::Real => Level::Warn,
            Sure::Stretch => Level::Note,
        }
    }
}

/// One knowledge file.
#[derive(Debug)]
pub struct KindDoc {
    /// `publish`, `ingest`, … (the page's name).
    pub kind: &'static str,
    /// The file under `lints/knowledge/`.
    pub file: &'static str,
    pub title: &'static str,
    /// One of them, in a finding ("publish channel").
    pub label: &'static str,
    pub intro: &'static str,
}

/// A service whose hosts carry data out.
#[derive(Debug)]
pub struct Channel {
    /// The knowledge file's kind: `publish`, `ingest`, `object-stores`, `webhooks`,
    /// `fetch-proxies`.
    pub kind: &'static str,
    pub name: &'static str,
    /// Names, or `*.name` for any name under it (probed as `srt-lint-probe.name`).
    pub hosts: &'static [&'static str],
    /// What an attacker can do through it.
    pub can: &'static str,
    pub sure: Sure,
    /// The narrower alternative.
    pub instead: &'static str,
    /// When a policy legitimately needs it (may be empty).
    pub needed_for: &'static str,
    /// Allowed hosts that make this channel expected (a note then).
    pub expected_with: &'static [&'static str],
    pub expected_why: &'static str,
    /// Each name under its wildcards belongs to one customer (a bucket, a tunnel): an allowed
    /// exact name there is the narrow form, not a finding.
    pub tenants: bool,
}

impl Channel {
    /// What one of its kind is called in a finding ("publish channel").
    pub fn kind_label(&self) -> &'static str {
        KINDS
            .iter()
            .find(|k| k.kind == self.kind)
            .map_or(self.kind, |k| k.label)
    }
}

/// The host a knowledge-base host entry is probed as: `*.x` becomes a made-up name under `x`.
pub fn probe(host: &str) -> std::borrow::Cow<'_, str> {
    match host.strip_prefix("*.") {
        Some(base) => format!("srt-lint-probe.{base}").into(),
        None => host.into(),
    }
}

/// How a knowledge-base host entry is named in a finding.
pub fn shown(host: &str) -> std::borrow::Cow<'_, str> {
    match host.strip_prefix("*.") {
        Some(base) => format!("any name under {base}").into(),
        None => host.into(),
    }
}

/// A place outside the project whose contents the host runs later.
#[derive(Debug)]
pub struct HostRunPlace {
    /// The book's section.
    pub group: &'static str,
    /// Probed for writing.
    pub path: &'static str,
    /// How findings name it.
    pub shown: &'static str,
    pub why: &'static str,
    pub sure: Sure,
    pub on: On,
}

impl HostRunPlace {
    /// The level a finding about it gets: an error (which stops `srt run`) when it is
    /// certain, a warning when it needs a routine tool, a note when it needs a stretch.
    pub fn level(&self) -> Level {
        match self.sure {
            Sure::Certain => Level::Deny,
            Sure::Real => Level::Warn,
            Sure::Stretch => Level::Note,
        }
    }
}

/// A project file a tool runs outside the sandbox.
#[derive(Debug)]
pub struct ProjectFile {
    /// Relative to the project.
    pub path: &'static str,
    pub dir: bool,
    pub tool: &'static str,
    pub why: &'static str,
    pub sure: Sure,
    /// srt's own protected names cover it (the npm srt's do not).
    pub builtin: bool,
}

include!(concat!(env!("OUT_DIR"), "/knowledge.rs"));
