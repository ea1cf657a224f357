//! A settings file's text, its display name, and line/column lookup.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Span;

/// The text of one settings file as srt parsed it. A UTF-8 byte order mark is removed before
/// parsing, and `bom_len` remembers it so positions shown to the user still count it.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as given on the command line).
    pub name: String,
    /// The file's path, when it came from the filesystem.
    pub path: Option<PathBuf>,
    /// The text, without a byte order mark. Invalid UTF-8 is replaced (see `load`).
    pub text: String,
    /// The file began with a UTF-8 byte order mark (removed from `text`; `--fix` writes it back).
    pub bom: bool,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: Option<&Path>, text: impl Into<String>) -> Arc<Self> {
        let mut text = text.into();
        let bom = text.starts_with('\u{feff}');
        if bom {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(SourceFile {
            name: name.into(),
            path: path.map(Path::to_path_buf),
            text,
            bom,
            line_starts,
        })
    }

    /// 1-based line and column of a byte offset. Columns count Unicode scalar values.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// `name:line:col` of a span's start.
    pub fn location(&self, span: Span) -> String {
        let (l, c) = self.line_col(span.start);
        format!("{}:{l}:{c}", self.name)
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}
