//! The source map: a contract's files and their combined text, which every span indexes,
//! and the conversion of byte offsets to lines and columns. Depends on nothing else of the
//! language, so diagnostics, imports and the code generator's debug entries all use it.

use super::ast::Span;

/// One file of a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileText {
    /// Its name: the root's as given, an imported file's as the loader resolved it.
    pub name: String,
    /// Its text.
    pub text: String,
    /// Where it starts in the combined text.
    pub start: usize,
}

/// The files of a contract and their combined text, which spans index.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Sources {
    files: Vec<FileText>,
    combined: String,
}

impl Sources {
    /// A contract of one file.
    pub fn single(name: &str, text: &str) -> Self {
        Sources {
            files: vec![FileText {
                name: name.to_string(),
                text: text.to_string(),
                start: 0,
            }],
            combined: text.to_string(),
        }
    }

    pub(crate) fn push(&mut self, name: String, text: String) -> usize {
        self.combined.push('\n');
        let start = self.combined.len();
        self.combined.push_str(&text);
        self.files.push(FileText { name, text, start });
        self.files.len() - 1
    }

    /// The files, root first.
    pub fn files(&self) -> &[FileText] {
        &self.files
    }

    /// The combined text: every file, root first, joined by newlines. Debug line numbers of
    /// a compiled module count lines of this text.
    pub fn text(&self) -> &str {
        &self.combined
    }

    /// The file a combined-text offset falls in (the root if none), and its index.
    pub fn file_index(&self, offset: usize) -> usize {
        self.files
            .partition_point(|f| f.start <= offset)
            .saturating_sub(1)
    }

    /// A span of the combined text as (file index, range within that file), clamped to it.
    pub fn locate(&self, span: Span) -> (usize, std::ops::Range<usize>) {
        let i = self.file_index(span.start);
        let f = &self.files[i];
        let clamp = |o: usize| {
            let mut o = o.saturating_sub(f.start).min(f.text.len());
            while !f.text.is_char_boundary(o) {
                o -= 1;
            }
            o
        };
        let start = clamp(span.start);
        (i, start..clamp(span.end).max(start))
    }

    /// The file name, line and column (1-based) of a combined-text offset.
    pub fn position(&self, offset: usize) -> (&str, u32, u32) {
        let (i, range) = self.locate(Span::new(offset, offset));
        let f = &self.files[i];
        let (line, col) = Lines::new(&f.text).position(range.start);
        (&f.name, line, col)
    }
}

/// Byte offsets to 1-based line and column (in characters), for diagnostics and the code
/// generator's debug entries alike.
pub struct Lines<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> Lines<'s> {
    /// The line starts of `source`.
    pub fn new(source: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { source, starts }
    }

    /// The line and column of byte `offset` (clamped to the source, and back to a character
    /// boundary).
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let col = self.source[self.starts[line]..offset].chars().count();
        (line as u32 + 1, col as u32 + 1)
    }
}
