//! Personal data in text that arrives in pieces (a log, a transcript being written). Text is
//! scanned a line at a time as lines complete, so memory stays bounded by the longest line (or
//! `MAX_PENDING` bytes, cut at a space, for text without newlines) and offsets are absolute.
//! Nothing the detectors find spans a newline; context cues are read within the line, so a cue
//! on the previous line (rare in chat) is not seen.

use super::find;
use crate::finding::Finding;

/// Text held back waiting for a newline before it is cut at the last space instead.
const MAX_PENDING: usize = 64 * 1024;

/// Incremental `find`: feed chunks with `push`, then call `finish`.
#[derive(Debug, Default)]
pub struct Stream {
    pending: String,
    /// Absolute offset of `pending[0]`.
    offset: usize,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Adds `chunk` and appends findings in every line it completes to `out`.
    pub fn push(&mut self, chunk: &str, out: &mut Vec<Finding>) {
        self.pending.push_str(chunk);
        let cut = match self.pending.rfind('\n') {
            Some(nl) => Some(nl + 1),
            None if self.pending.len() > MAX_PENDING => self.pending.rfind(' ').map(|s| s + 1),
            None => None,
        };
        if let Some(cut) = cut {
            self.flush(cut, out);
        }
    }

    /// Scans whatever is left.
    pub fn finish(&mut self, out: &mut Vec<Finding>) {
        let all = self.pending.len();
        self.flush(all, out);
    }

    fn flush(&mut self, cut: usize, out: &mut Vec<Finding>) {
        let base = out.len();
        find(&self.pending[..cut], out);
        for f in &mut out[base..] {
            f.start += self.offset;
            f.end += self.offset;
        }
        self.pending.drain(..cut);
        self.offset += cut;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TEXT: &str = "Hi, I'm Hannah Price.\ncall 07700 900123 or hannah@example.com\n\
                        sort code 20-00-00 account 12345678\nNI AB123456C, postcode LS6 2AB\n";

    proptest! {
        #[test]
        fn chunked_equals_whole(cuts in proptest::collection::vec(0usize..TEXT.len(), 0..6)) {
            let mut whole = Vec::new();
            find(TEXT, &mut whole);
            let mut cuts = cuts;
            cuts.sort_unstable();
            cuts.retain(|c| TEXT.is_char_boundary(*c));
            let mut stream = Stream::new();
            let mut got = Vec::new();
            let mut at = 0;
            for c in cuts {
                stream.push(&TEXT[at..c], &mut got);
                at = c;
            }
            stream.push(&TEXT[at..], &mut got);
            stream.finish(&mut got);
            prop_assert_eq!(got, whole);
        }
    }
}
