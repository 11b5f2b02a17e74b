//! Source positions. Every diagnostic points at a line and column a person can open in an editor.

use std::fmt;

/// A position in a source file. `line` and `column` are 1-based (column counts characters), `offset`
/// is the byte offset, so renderers can slice the text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

/// A half-open range of source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn new(start: Pos, end: Pos) -> Self {
        Self { start, end }
    }

    pub fn point(pos: Pos) -> Self {
        Self {
            start: pos,
            end: pos,
        }
    }

    /// Byte length, never negative even when a parser reports an end before its start.
    pub fn byte_len(&self) -> usize {
        self.end.offset.saturating_sub(self.start.offset)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Maps character indices and byte offsets of one text to positions.
///
/// The YAML parser counts characters while miette and TOML count bytes; this keeps both honest.
#[derive(Debug)]
pub struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    /// Byte offset of each character, plus one entry for the end of the text.
    char_offsets: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        let mut char_offsets = Vec::with_capacity(text.len() + 1);
        for (offset, ch) in text.char_indices() {
            char_offsets.push(offset);
            if ch == '\n' {
                line_starts.push(offset + 1);
            }
        }
        char_offsets.push(text.len());
        Self {
            text,
            line_starts,
            char_offsets,
        }
    }

    /// Position of a byte offset (clamped to the text, snapped back to a character boundary).
    pub fn pos_at_byte(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count());
        Pos {
            line: u32::try_from(line_idx + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
            offset,
        }
    }

    /// Position of a character index (as counted by the YAML scanner).
    pub fn pos_at_char(&self, char_index: usize) -> Pos {
        let last = self.char_offsets.len().saturating_sub(1);
        let byte = self
            .char_offsets
            .get(char_index.min(last))
            .copied()
            .unwrap_or(self.text.len());
        self.pos_at_byte(byte)
    }

    pub fn span_of_bytes(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.pos_at_byte(range.start), self.pos_at_byte(range.end))
    }

    pub fn span_of_chars(&self, start: usize, end: usize) -> Span {
        Span::new(self.pos_at_char(start), self.pos_at_char(end))
    }

    /// Span covering the whole of one line (without its newline), for diagnostics about a region.
    pub fn line_span(&self, line: u32) -> Span {
        let idx = (line as usize).saturating_sub(1);
        let start = self
            .line_starts
            .get(idx)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(idx + 1)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        self.span_of_bytes(start..end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "a: é\nbé: x\n";
        let index = LineIndex::new(text);
        let pos = index.pos_at_byte(text.find("x").unwrap_or(0));
        assert_eq!((pos.line, pos.column), (2, 5));
        let by_char = index.pos_at_char(9);
        assert_eq!(by_char, pos);
    }

    #[test]
    fn offsets_beyond_the_text_are_clamped() {
        let index = LineIndex::new("ab");
        assert_eq!(index.pos_at_byte(99).offset, 2);
        assert_eq!(index.pos_at_char(99).column, 3);
    }
}
