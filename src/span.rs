//! Byte spans into the query text and their translation to lines and columns.

/// A half-open byte range `start..end` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// An empty span at `at`, for "expected something here".
    pub fn point(at: usize) -> Self {
        Span { start: at, end: at }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Where a byte offset sits in the text, the way editors count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line; lines end at `\n` (a `\r` before it belongs to no column).
    pub line: usize,
    /// 1-based column in Unicode scalar values.
    pub column: usize,
    /// 1-based column in UTF-16 code units (how JavaScript editors count).
    pub column_utf16: usize,
    /// Byte offset where the line starts.
    pub line_start: usize,
}

impl Location {
    /// Locate `offset` (clamped to the text, and to a char boundary) in `text`.
    pub fn of(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let in_line = &text[line_start..offset];
        Location {
            line,
            column: in_line.chars().count() + 1,
            column_utf16: in_line.encode_utf16().count() + 1,
            line_start,
        }
    }
}
