//! `srt learn`'s proposal engine: from what a command was refused to the smallest additions
//! to its settings file that would have allowed it, each one checked by the lints and by the
//! decision procedure before it is proposed. Pure: it reads the refusals (parsed from
//! `--violations` lines, [`refusal`]), the settings text and a filesystem view; running the
//! command is the binary's job.
//!
//! ```text
//! refusals ─► classify: hosts (exact, wildcard for several siblings), writes (known places,
//!   │          the deepest directory per tool), hidden reads, sockets; the rest "not proposed"
//!   ▼
//! candidates ─► settle: apply to the text, resolve, lint, decide again
//!   │             a deny-level finding or a refusal still refused drops a candidate (its
//!   │             narrower fallback is tried instead); warnings stay next to it
//!   ▼
//! Learned { proposals, not proposed (and why), advice, new text }
//! ```

mod classify;
mod edits;
mod hosts;
pub mod known;
mod paths;
pub mod refusal;
pub mod render;
mod settle;

use std::path::{Path, PathBuf};

use serde::Serialize;
use srt_compiler::{FsView, ResolveOptions};
use srt_schema::Severity;

use crate::{LevelConfig, Target};
pub use refusal::{parse_jsonl, Refusal, Refusals, Subject};

/// Where learning starts when there is no file: the npm srt's built-in default (no network,
/// no writes) with every list it requires, laid out as `srt init` writes files.
pub const EMPTY_POLICY: &str = "{\n  \"network\": {\n    \"allowedDomains\": [],\n    \"deniedDomains\": []\n  },\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"allowRead\": [],\n    \"allowWrite\": [],\n    \"denyWrite\": []\n  }\n}\n";

/// Everything the engine needs.
pub struct LearnInput<'a> {
    /// How the settings file is shown, and its path (none for a file not written yet).
    pub name: &'a str,
    pub path: Option<&'a Path>,
    /// Its current text.
    pub text: &'a str,
    pub opts: &'a ResolveOptions,
    pub fs: &'a dyn FsView,
    pub target: Target,
    pub levels: &'a LevelConfig,
    pub refusals: &'a [Refusal],
    /// The command the refusals came from, as the user typed it.
    pub command: &'a str,
    /// The `TMPDIR` the sandbox gives the command.
    pub tmpdir: &'a str,
    /// srt's state directory, which no proposal may make writable.
    pub state_dir: Option<&'a Path>,
    /// Record what is not proposed as a deny (`deniedDomains`) or in `ignoreViolations`.
    pub deny_rest: bool,
}

/// A lint finding shown next to a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Finding {
    fn of(d: &srt_schema::Diagnostic) -> Self {
        Finding {
            code: d.code.to_string(),
            severity: d.severity.as_str(),
            message: d.message.clone(),
            help: d.help.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error.as_str()
    }
}

/// A refusal as a proposal or a rejection cites it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cited {
    /// `CONNECT pkg.example.com:443`, `write /home/dev/.cache/x (openat)`.
    pub refusal: String,
    pub times: u64,
    /// The processes that asked, when known.
    pub commands: Vec<String>,
}

/// One added line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// The list it goes in: `network.allowedDomains`, `ignoreViolations.python3`, …
    pub key: String,
    /// The entry as written (a path or a domain pattern).
    pub entry: String,
    /// What srt knows it is (`Rust (cargo): the registry cache`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// Why this entry and not a wider or narrower one.
    pub why: String,
    pub refusals: Vec<Cited>,
    /// Warnings and notes the lints give the entry.
    pub findings: Vec<Finding>,
    /// A directory that does not exist yet; srt can only bind what exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_dir: Option<PathBuf>,
    /// The entry's JSON text in the file.
    #[serde(skip)]
    pub json: String,
}

/// A refusal srt learn does not propose to allow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    #[serde(flatten)]
    pub refusal: Cited,
    pub why: String,
    /// The lint that refused the entry that would have allowed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Where `--deny-rest` recorded it (`network.deniedDomains`, `ignoreViolations.cmd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_in: Option<String>,
}

/// What the engine found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Learned {
    pub proposals: Vec<Proposal>,
    pub not_proposed: Vec<Rejected>,
    /// Advice that is not an edit (TMPDIR).
    pub advice: Vec<String>,
    /// New findings the proposals cause that no single entry carries.
    pub findings: Vec<Finding>,
    /// Refusals `ignoreViolations` silences (not proposed, not listed).
    pub ignored: u64,
    /// Refusals the file already allows (it changed since the run).
    pub already_allowed: u64,
    /// The settings text with the proposals.
    #[serde(skip)]
    pub content: String,
}

impl Learned {
    /// Nothing to add: the command ran as the file allows (or only asked for what srt will
    /// not propose, without `--deny-rest`).
    pub fn converged(&self) -> bool {
        self.proposals.is_empty()
    }

    /// A new finding at error level that no proposal carries (the file would not pass
    /// `srt lint`): `--apply` and `-o` refuse to write it.
    pub fn blocking(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.is_error())
    }
}

/// Where a proposal goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum List {
    AllowedDomains,
    DeniedDomains,
    AllowRead,
    AllowWrite,
    AllowUnixSockets,
    /// `ignoreViolations[key]`.
    IgnoreViolations(String),
}

impl List {
    /// The parent object's key and the list's key in it.
    pub fn location(&self) -> (&'static str, &str) {
        match self {
            List::AllowedDomains => ("network", "allowedDomains"),
            List::DeniedDomains => ("network", "deniedDomains"),
            List::AllowUnixSockets => ("network", "allowUnixSockets"),
            List::AllowRead => ("filesystem", "allowRead"),
            List::AllowWrite => ("filesystem", "allowWrite"),
            List::IgnoreViolations(k) => ("ignoreViolations", k),
        }
    }

    pub fn key(&self) -> String {
        let (parent, list) = self.location();
        format!("{parent}.{list}")
    }
}

/// The `ignoreViolations` key for a command: its first word, which the npm srt's rule (a key
/// is a substring of the command) matches on every later run of the same command.
pub fn ignore_key(command: &str) -> String {
    command
        .split_whitespace()
        .next()
        .filter(|w| !w.is_empty())
        .unwrap_or("*")
        .to_string()
}

/// The engine: refusals in, proposals out.
pub fn learn(input: &LearnInput<'_>) -> Learned {
    let mut classified = classify::classify(input);
    let candidates = std::mem::take(&mut classified.candidates);
    let settled = settle::settle(input, candidates);
    classify::finish(input, classified, settled)
}

#[cfg(test)]
mod tests;
