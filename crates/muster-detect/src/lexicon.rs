//! Word lists as data: the cheap prefilter in front of the per-sentence patterns of the injection,
//! escalation and commitment detectors.
//!
//! A list is plain text, one entry a line; `#` starts a comment line. `word` matches a whole word
//! (ASCII case-insensitive), `word*` any word that starts with it. Entries may hold spaces.
//!
//! The three families' trigger lists are walked together, once per text, in one trie ([`Words`]),
//! and each list's sentences come out exactly as its own leftmost-longest matcher would mark them
//! (a property test holds the two to the same answers). A [`Lexicon`] is one list's own
//! Aho-Corasick matcher, for the lists looked up in a sentence or a single word.

use std::cell::Cell;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// A compiled word list. The trigger lists of the injection, commitment and escalation detectors
/// are matched together by [`Words`]; a `Lexicon` matches one list on its own (task verbs, looked
/// up in one word at a time).
pub(crate) struct Lexicon {
    matcher: AhoCorasick,
    prefix: Vec<bool>,
    /// Entries with no ASCII letter or digit (`£`, `%`) match anywhere.
    symbol: Vec<bool>,
}

/// One whole-word hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
}

/// The entries of list texts, in order: `(word, is_prefix)`.
fn entries<'l>(lists: &[&'l str]) -> impl Iterator<Item = (&'l str, bool)> {
    lists.iter().flat_map(|list| {
        list.lines().filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            Some(match line.strip_suffix('*') {
                Some(w) => (w, true),
                None => (line, false),
            })
        })
    })
}

fn is_symbol(word: &str) -> bool {
    !word.bytes().any(|b| b.is_ascii_alphanumeric())
}

impl Lexicon {
    /// One list from several texts.
    #[allow(clippy::expect_used)]
    pub(crate) fn new(lists: &[&str]) -> Lexicon {
        let mut words = Vec::new();
        let mut prefix = Vec::new();
        let mut symbol = Vec::new();
        for (word, is_prefix) in entries(lists) {
            words.push(word.to_owned());
            prefix.push(is_prefix);
            symbol.push(is_symbol(word));
        }
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .expect("constant word list compiles");
        Lexicon {
            matcher,
            prefix,
            symbol,
        }
    }

    /// Calls `f` for every whole-word hit in `text`, in order.
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(Hit)) {
        self.until(text, |h| {
            f(h);
            true
        });
    }

    /// Whether `text` holds a whole-word hit.
    pub(crate) fn any(&self, text: &str) -> bool {
        let mut found = false;
        self.until(text, |_| {
            found = true;
            false
        });
        found
    }

    /// Calls `f` for every whole-word hit in `text`, in order, until it returns `false`. Matches
    /// do not overlap: one that is part of a longer word still hides any entry starting inside it.
    pub(crate) fn until(&self, text: &str, mut f: impl FnMut(Hit) -> bool) {
        let bytes = text.as_bytes();
        for m in self.matcher.find_iter(text) {
            let id = m.pattern().as_usize();
            if let Some(hit) = whole_word(
                bytes,
                0,
                bytes.len(),
                m.start(),
                m.end(),
                self.prefix[id],
                self.symbol[id],
            ) && !f(hit)
            {
                return;
            }
        }
    }
}

/// The hit a raw match `start..end` of an entry makes inside `bytes[lo..hi]`, or `None` when it
/// is part of a longer word. A prefix entry's hit runs to the end of the word.
fn whole_word(
    bytes: &[u8],
    lo: usize,
    hi: usize,
    start: usize,
    mut end: usize,
    prefix: bool,
    symbol: bool,
) -> Option<Hit> {
    if symbol {
        return Some(Hit { start, end });
    }
    if start > lo && is_word_byte(bytes[start - 1]) && is_word_byte(bytes[start]) {
        return None;
    }
    if prefix {
        while end < hi && is_word_byte(bytes[end]) {
            end += 1;
        }
    } else if end < hi && is_word_byte(bytes[end]) && end > 0 && is_word_byte(bytes[end - 1]) {
        return None;
    }
    Some(Hit { start, end })
}

/// The trigger lists matched together in one pass over a text by [`Words`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    /// Injection trigger words and task verbs.
    Injection,
    Commitment,
    Escalation,
}

impl List {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

pub(crate) const INJECTION_TRIGGERS: &str = include_str!("../data/injection-triggers.txt");
pub(crate) const TASK_VERBS: &str = include_str!("../data/task-verbs.txt");
pub(crate) const COMMITMENT_TRIGGERS: &str = include_str!("../data/commitment-triggers.txt");
const ESCALATION_TRIGGERS: &str = include_str!("../data/escalation-triggers.txt");

/// The texts of each list, in the order the entries were always given (the order decides between
/// duplicate entries).
const LISTS: [(List, &[&str]); 3] = [
    (List::Injection, &[INJECTION_TRIGGERS, TASK_VERBS]),
    (List::Commitment, &[COMMITMENT_TRIGGERS]),
    (List::Escalation, &[ESCALATION_TRIGGERS]),
];

/// Every list's entries in one trie over ASCII-case-folded bytes, walked from the positions where a
/// whole-word hit can start. At each position the walk gives, per list, the longest entry there:
/// the match a leftmost-longest matcher of that list alone reports at that position.
struct Trie {
    /// Byte to symbol; 0 for bytes that occur in no entry.
    class: [u8; 256],
    /// One row of symbols per node: `edges[row + class]` is the edge to the child, 0 where there
    /// is none (class 0 never leads anywhere). An edge holds the child's row (`EDGE_ROW`) and, in
    /// its top byte, what ends at the child (`node_info`): each step of the walk is one load from
    /// the row it is in. Reading what ends at a node from the node's own row cost a second load,
    /// from a row the walk mostly never reads again, and the walk spent most of its time waiting
    /// for it.
    edges: Vec<u32>,
    /// Per byte: `WORD`, `ALNUM`, and `START` when some entry begins with it.
    kind: [u8; 256],
}

const WORD: u8 = 1;
const ALNUM: u8 = 2;
const START: u8 = 4;

/// A node's info: the lists with an entry ending here (bits 0-2), those in which it is a prefix
/// entry, `word*` (bits 3-5), and whether the entry is a symbol, with no ASCII letter or digit
/// (bit 6).
fn node_info(lists: u8, prefix: u8, symbol: bool) -> u16 {
    u16::from(lists) | u16::from(prefix) << 3 | u16::from(symbol) << 6
}
const SYMBOL: u16 = 1 << 6;

/// The bits of an edge that hold the child's row; `node_info` sits above them.
const EDGE_ROW: u32 = (1 << 24) - 1;

#[allow(clippy::expect_used)]
static TRIE: LazyLock<Trie> = LazyLock::new(|| {
    let mut class = [0u8; 256];
    let mut classes = 1usize;
    let mut kind = [0u8; 256];
    for (b, k) in (0u8..=255).zip(kind.iter_mut()) {
        if is_word_byte(b) {
            *k |= WORD;
        }
        if b.is_ascii_alphanumeric() {
            *k |= ALNUM;
        }
    }
    let all: Vec<(List, &str, bool)> = LISTS
        .iter()
        .flat_map(|(list, texts)| entries(texts).map(move |(w, p)| (*list, w, p)))
        .collect();
    for (_, word, _) in &all {
        for b in word.bytes() {
            let b = b.to_ascii_lowercase();
            if class[usize::from(b)] == 0 {
                class[usize::from(b)] = u8::try_from(classes).expect("fewer than 256 symbols");
                classes += 1;
            }
            class[usize::from(b.to_ascii_uppercase())] = class[usize::from(b)];
        }
        if let Some(&b) = word.as_bytes().first() {
            kind[usize::from(b.to_ascii_lowercase())] |= START;
            kind[usize::from(b.to_ascii_uppercase())] |= START;
        }
    }
    let mut next = vec![0u16; classes];
    let (mut lists, mut prefix, mut symbol) = (vec![0u8], vec![0u8], vec![false]);
    for (list, word, is_prefix) in all {
        let mut node = 0usize;
        for b in word.bytes() {
            let at = node * classes + usize::from(class[usize::from(b)]);
            node = match next[at] {
                0 => {
                    let new = lists.len();
                    next[at] = u16::try_from(new).expect("fewer than 65536 trie nodes");
                    next.extend(std::iter::repeat_n(0, classes));
                    lists.push(0);
                    prefix.push(0);
                    symbol.push(false);
                    new
                }
                n => usize::from(n),
            };
        }
        // A one-list matcher reports the first of two equal entries (leftmost-longest breaks ties
        // by pattern order), so the first entry's flags stand.
        if lists[node] & list.bit() == 0 {
            lists[node] |= list.bit();
            if is_prefix {
                prefix[node] |= list.bit();
            }
            symbol[node] = is_symbol(word);
        }
    }
    let edges = next
        .iter()
        .map(|&child| {
            let child = usize::from(child);
            if child == 0 {
                return 0;
            }
            let row = u32::try_from(child * classes)
                .ok()
                .filter(|&r| r <= EDGE_ROW)
                .expect("trie rows fit in an edge");
            row | u32::from(node_info(lists[child], prefix[child], symbol[child])) << 24
        })
        .collect();
    Trie { class, edges, kind }
});

/// A whole-word hit of one list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListHit {
    start: usize,
    end: usize,
    list: List,
}

/// The whole-word hits of the trigger lists in one text, from one walk.
pub(crate) struct Words<'t> {
    text: &'t str,
    /// Per position, per list: the longest entry there, when it makes a whole word. In text order.
    hits: Vec<ListHit>,
    /// The last sentence drawn (see `sentence`).
    last: Cell<Drawn>,
}

/// A sentence as `sentence_around` draws it: `lo..hi` before trimming, `start..end` after.
#[derive(Clone, Copy, Default)]
struct Drawn {
    lo: usize,
    hi: usize,
    start: usize,
    end: usize,
}

impl<'t> Words<'t> {
    /// The hits in `text`, kept in `hits` (cleared first; passed in so its allocation is reused).
    pub(crate) fn new(text: &'t str, mut hits: Vec<ListHit>) -> Words<'t> {
        const LISTS: [List; 3] = [List::Injection, List::Commitment, List::Escalation];
        let trie = &*TRIE;
        let bytes = text.as_bytes();
        hits.clear();
        let mut prev_word = false;
        let mut next_p = 0;
        while let Some(&b) = bytes.get(next_p) {
            let p = next_p;
            let kind = trie.kind[usize::from(b)];
            // Inside a word, an entry starting with a letter or digit is never a whole word, and
            // symbol entries have none; so only word starts and other bytes are looked at. After
            // a word byte, the letters and digits that follow are passed over in one tight loop.
            let inside = prev_word && kind & WORD != 0;
            next_p = p + 1;
            if kind & WORD != 0 {
                next_p += bytes
                    .get(next_p..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| trie.kind[usize::from(c)] & ALNUM == 0)
                    .unwrap_or(bytes.len() - next_p);
            }
            let skip = prev_word && kind & ALNUM != 0;
            prev_word = kind & WORD != 0;
            if skip || kind & START == 0 {
                continue;
            }
            // Per list, the info of the deepest node reached that ends one of its entries, and
            // where.
            let mut longest = [(0u16, 0usize); 3];
            // Most word starts end no entry at all; they skip the per-list check below.
            let mut any = 0u16;
            let mut row = 0usize;
            let mut end = p;
            while let Some(&next) = bytes.get(end) {
                // A byte of class 0 reads slot 0 of the row, which is never an edge.
                let c = usize::from(trie.class[usize::from(next)]);
                let edge = trie.edges.get(row + c).copied().unwrap_or(0);
                if edge == 0 {
                    break;
                }
                row = (edge & EDGE_ROW) as usize;
                let info = (edge >> 24) as u16;
                end += 1;
                if info & 7 != 0 {
                    any |= info;
                    for (slot, list) in LISTS.into_iter().enumerate() {
                        if info & u16::from(list.bit()) != 0 {
                            longest[slot] = (info, end);
                        }
                    }
                }
            }
            if any & 7 == 0 {
                continue;
            }
            for (slot, list) in LISTS.into_iter().enumerate() {
                let (info, end) = longest[slot];
                if info == 0 {
                    continue;
                }
                // As `whole_word`, given the start; a prefix entry is a whole word however the
                // word goes on.
                let whole = info & SYMBOL != 0
                    || (!inside
                        && (info & u16::from(list.bit()) << 3 != 0
                            || end >= bytes.len()
                            || !is_word_byte(bytes[end])
                            || !is_word_byte(bytes[end - 1])));
                if whole {
                    hits.push(ListHit {
                        start: p,
                        end,
                        list,
                    });
                }
            }
        }
        Words {
            text,
            hits,
            last: Cell::new(Drawn::default()),
        }
    }

    /// `sentence_around(text, at)`, remembering the last answer: the lists mostly mark the same
    /// sentences, and each family looks its sentences up again.
    ///
    /// Every position in `lo..hi` (the sentence before trimming) gets the same answer: no
    /// boundary lies between `lo` and `hi`, so the backward search from any of them stops at `lo`
    /// and the forward search at `hi`.
    pub(crate) fn sentence(&self, at: usize) -> (usize, usize) {
        let last = self.last.get();
        if last.lo <= at && at < last.hi {
            return (last.start, last.end);
        }
        let (lo, hi) = sentence_bounds(self.text, at);
        let (start, end) = trim(self.text, lo, hi);
        self.last.set(Drawn { lo, hi, start, end });
        (start, end)
    }

    /// Where the first whole-word hit of `list` starts.
    pub(crate) fn first(&self, list: List) -> Option<usize> {
        self.hits.iter().find(|h| h.list == list).map(|h| h.start)
    }

    /// The hits' buffer, for reuse; no hits are left.
    pub(crate) fn take_buffer(&mut self) -> Vec<ListHit> {
        std::mem::take(&mut self.hits)
    }

    /// Calls `f(start, end)` once for every sentence (as `sentence_around` draws them) holding at
    /// least one whole-word hit of `list`; after a hit, the next is looked for past the end of its
    /// sentence. The same sentences as a leftmost-longest matcher of the list alone, restarted one
    /// byte on after a match that is part of a longer word.
    pub(crate) fn for_each_sentence(&self, list: List, mut f: impl FnMut(usize, usize)) {
        let text = self.text;
        let mut pos = 0;
        for h in self.hits.iter().filter(|h| h.list == list) {
            if h.start < pos {
                continue;
            }
            let (s, e) = self.sentence(h.start);
            f(s, e);
            // Past the sentence and any white space after it.
            pos = e.max(h.end);
            while pos < text.len() && !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The sentence around byte `at`: from just after the previous boundary to just after the next
/// (`.`, `!`, `?`, `;` or `:` followed by white space, or a line break). Offsets are on character
/// boundaries because every boundary byte is ASCII.
pub(crate) fn sentence_around(text: &str, at: usize) -> (usize, usize) {
    let (start, end) = sentence_bounds(text, at);
    trim(text, start, end)
}

/// The sentence around `at` before trimming. The bytes between boundary candidates are passed
/// over by a table, as this runs for every sentence a family looks at.
fn sentence_bounds(text: &str, at: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let candidate = |b: &u8| BOUNDARY[usize::from(*b)];
    let mut start = at;
    loop {
        match bytes
            .get(..start)
            .unwrap_or_default()
            .iter()
            .rposition(candidate)
        {
            None => {
                start = 0;
                break;
            }
            Some(k) => {
                if bytes[k] == b'\n' || bytes.get(k + 1).is_some_and(u8::is_ascii_whitespace) {
                    start = k + 1;
                    break;
                }
                start = k;
            }
        }
    }
    let mut end = at;
    loop {
        match bytes
            .get(end..)
            .unwrap_or_default()
            .iter()
            .position(candidate)
        {
            None => {
                end = bytes.len();
                break;
            }
            Some(k) => {
                let q = end + k;
                if bytes[q] == b'\n' {
                    end = q;
                    break;
                }
                end = q + 1;
                if bytes.get(end).is_none_or(u8::is_ascii_whitespace) {
                    break;
                }
            }
        }
    }
    (start, end)
}

/// The bytes that can end a sentence (`sentence_bounds`).
static BOUNDARY: [bool; 256] = {
    let mut table = [false; 256];
    table[b'\n' as usize] = true;
    table[b'.' as usize] = true;
    table[b'!' as usize] = true;
    table[b'?' as usize] = true;
    table[b';' as usize] = true;
    table[b':' as usize] = true;
    table
};

/// `start..end` without white space at either end (ASCII, so boundaries stay on characters).
fn trim(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    while start < end && bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

/// `text` lower-cased into `buf` with typographic apostrophes and quotes made plain, reusing the
/// buffer's allocation. ([`Lowered`] does the same for a whole text at once.)
#[cfg(test)]
pub(crate) fn lower_into(text: &str, buf: &mut String) {
    buf.clear();
    for c in text.chars() {
        push_lower(c, buf);
    }
}

fn push_lower(c: char, buf: &mut String) {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => buf.push('\''),
        '\u{201C}' | '\u{201D}' => buf.push('"'),
        c if c.is_ascii() => buf.push(c.to_ascii_lowercase()),
        c => buf.extend(c.to_lowercase()),
    }
}

/// A text lower-cased once, as `lower_into` lower-cases any of its pieces: lower-casing goes
/// character by character, so a sentence's lower case is a slice of the text's.
pub(crate) struct Lowered {
    buf: String,
    /// After each character whose lower case has another length (typographic quotes, a few
    /// letters such as `İ`): its end offset in the text and in `buf`, in order.
    shifts: Vec<(usize, usize)>,
}

impl Lowered {
    /// `text` lower-cased into the given buffers (cleared first; passed in so their allocations
    /// are reused).
    pub(crate) fn new(text: &str, (mut buf, mut shifts): (String, Vec<(usize, usize)>)) -> Lowered {
        buf.clear();
        buf.reserve(text.len());
        shifts.clear();
        // Most chat text is ASCII: two whole-text passes that vectorise, instead of the run
        // search below.
        if text.is_ascii() {
            buf.push_str(text);
            buf.make_ascii_lowercase();
            return Lowered { buf, shifts };
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let run = bytes[i..]
                .iter()
                .position(|b| !b.is_ascii())
                .map_or(bytes.len(), |n| i + n);
            let at = buf.len();
            buf.push_str(text.get(i..run).unwrap_or(""));
            if let Some(pushed) = buf.get_mut(at..) {
                pushed.make_ascii_lowercase();
            }
            i = run;
            let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            let before = buf.len();
            push_lower(c, &mut buf);
            i += c.len_utf8();
            if buf.len() - before != c.len_utf8() {
                shifts.push((i, buf.len()));
            }
        }
        Lowered { buf, shifts }
    }

    /// The buffers, for reuse.
    pub(crate) fn into_buffers(self) -> (String, Vec<(usize, usize)>) {
        (self.buf, self.shifts)
    }

    /// `text[start..end]` lower-cased; `start` and `end` must be character boundaries of `text`.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &str {
        self.buf.get(self.map(start)..self.map(end)).unwrap_or("")
    }

    fn map(&self, at: usize) -> usize {
        match self.shifts.partition_point(|s| s.0 <= at) {
            0 => at,
            n => {
                let (text_end, buf_end) = self.shifts[n - 1];
                buf_end + (at - text_end)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_and_prefixes() {
        let lex = Lexicon::new(&["ignore\ninstruction*\n# comment\nai"]);
        let mut hits = Vec::new();
        lex.for_each(
            "Ignore the INSTRUCTIONS, said the aide; AI wins. ignored",
            |h| hits.push(h),
        );
        assert_eq!(hits.len(), 3, "{hits:?}");
        assert_eq!(hits[1].end - hits[1].start, "INSTRUCTIONS".len());
    }

    #[test]
    fn sentence_bounds() {
        let t = "First one. Second £1.50 here! Third\nFourth";
        let (s, e) = sentence_around(t, t.find("Second").unwrap_or(0) + 2);
        assert_eq!(&t[s..e], "Second £1.50 here!");
        let (s, e) = sentence_around(t, t.len() - 1);
        assert_eq!(&t[s..e], "Fourth");
    }

    /// The sentences one list's own leftmost-longest matcher marks, restarting one byte on after a
    /// match that is part of a longer word: how the families found their sentences before the
    /// lists were walked together. `Words` must mark exactly the same.
    fn one_list_sentences(lex: &Lexicon, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos < text.len() {
            let input = aho_corasick::Input::new(text).span(pos..text.len());
            let Some(m) = lex.matcher.find(input) else {
                break;
            };
            let id = m.pattern().as_usize();
            let whole = lex.symbol[id]
                || !(m.start() > 0
                    && is_word_byte(bytes[m.start() - 1])
                    && is_word_byte(bytes[m.start()]))
                    && (lex.prefix[id]
                        || m.end() >= bytes.len()
                        || !is_word_byte(bytes[m.end()])
                        || !is_word_byte(bytes[m.end() - 1]));
            if whole {
                let (s, e) = sentence_around(text, m.start());
                out.push((s, e));
                pos = e.max(m.end()).max(pos + 1);
            } else {
                pos = m.start() + 1;
            }
            while pos < text.len() && !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
        out
    }

    /// Text made of list entries (whole, cut short, in any case, run together) and characters the
    /// word and sentence rules look at closely.
    fn entry_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let words: Vec<String> = LISTS
            .iter()
            .flat_map(|(_, texts)| entries(texts).map(|(w, _)| w.to_owned()))
            .collect();
        let piece = prop_oneof![
            (proptest::sample::select(words), 0usize..4, any::<bool>()).prop_map(
                |(w, cut, upper)| {
                    let keep = w.len().saturating_sub(cut % 2 * cut);
                    let mut w = w.get(..keep).unwrap_or(&w).to_owned();
                    if upper {
                        w.make_ascii_uppercase();
                    }
                    w
                }
            ),
            proptest::sample::select(vec![
                " ", " ", " ", "", "s", "ed", "x", "_", "-", "'", ".", ". ", "? ", ":\n", "\n",
                "£", "’", "İ", "é", "5", "%", "$", "<", "|", "[", "]", "a", "re", "un", " — ",
            ])
            .prop_map(str::to_owned),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    /// `sentence_bounds` byte by byte, as it was before it skipped to candidate bytes.
    fn reference_bounds(text: &str, at: usize) -> (usize, usize) {
        let bytes = text.as_bytes();
        let at = at.min(bytes.len());
        let mut start = at;
        while start > 0 {
            let b = bytes[start - 1];
            if b == b'\n' {
                break;
            }
            if matches!(b, b'.' | b'!' | b'?' | b';' | b':')
                && start < bytes.len()
                && bytes[start].is_ascii_whitespace()
            {
                break;
            }
            start -= 1;
        }
        let mut end = at;
        while end < bytes.len() {
            let b = bytes[end];
            if b == b'\n' {
                break;
            }
            end += 1;
            if matches!(b, b'.' | b'!' | b'?' | b';' | b':')
                && (end == bytes.len() || bytes[end].is_ascii_whitespace())
            {
                break;
            }
        }
        (start, end)
    }

    static ONE_LIST: LazyLock<Vec<Lexicon>> =
        LazyLock::new(|| LISTS.iter().map(|(_, texts)| Lexicon::new(texts)).collect());

    proptest::proptest! {
        #[test]
        fn one_walk_marks_what_each_list_alone_marks(text in entry_text()) {
            let mut words = Words::new(&text, Vec::new());
            for ((list, _), lex) in LISTS.iter().zip(ONE_LIST.iter()) {
                let mut got = Vec::new();
                words.for_each_sentence(*list, |s, e| got.push((s, e)));
                let want = one_list_sentences(lex, &text);
                proptest::prop_assert_eq!(got, want, "{:?} in {:?}", list, text);
            }
            // Reusing the buffer gives the same hits.
            let buffer = words.take_buffer();
            let again = Words::new(&text, buffer);
            for ((list, _), lex) in LISTS.iter().zip(ONE_LIST.iter()) {
                let mut got = Vec::new();
                again.for_each_sentence(*list, |s, e| got.push((s, e)));
                proptest::prop_assert_eq!(got, one_list_sentences(lex, &text));
            }
        }

        /// The remembered sentence is the one `sentence_around` draws, whatever positions are
        /// asked for in whatever order.
        #[test]
        fn remembered_sentences_are_drawn_sentences(
            text in entry_text(),
            at in proptest::collection::vec(0usize..200, 0..20),
        ) {
            let words = Words::new(&text, Vec::new());
            for at in at {
                let at = at % (text.len() + 1);
                proptest::prop_assert_eq!(words.sentence(at), sentence_around(&text, at));
            }
        }

        #[test]
        fn sentence_bounds_as_byte_by_byte(text in entry_text(), at in 0usize..200) {
            let at = at % (text.len() + 1);
            proptest::prop_assert_eq!(super::sentence_bounds(&text, at), reference_bounds(&text, at));
        }

        #[test]
        fn lowered_slices_are_lowered_sentences(text in "(\\PC|[’‘“”ʼİẞΣǅﬁ.?\n ]){0,40}") {
            let lowered = Lowered::new(&text, (String::from("stale"), vec![(1, 2)]));
            let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let mut buf = String::new();
            for (k, &s) in bounds.iter().enumerate() {
                for &e in &bounds[k..] {
                    lower_into(&text[s..e], &mut buf);
                    proptest::prop_assert_eq!(lowered.slice(s, e), buf.as_str());
                }
            }
        }
    }
}
