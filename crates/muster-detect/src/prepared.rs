//! What every trigger-word family needs from a text, computed once per text and shared: the hits
//! of every trigger list (one pass) and the lower-cased text the sentence patterns run on.

use std::cell::{Cell, OnceCell};

use crate::lexicon::{ListHit, Lowered, Words};

/// Buffers kept between calls on one thread: a chat is scanned message by message, and
/// allocating them afresh for every message cost more than the trigger-word pass itself.
#[derive(Default)]
struct Buffers {
    hits: Vec<ListHit>,
    lowered: (String, Vec<(usize, usize)>),
}

thread_local! {
    static BUFFERS: Cell<Buffers> = Cell::new(Buffers::default());
}

/// Buffers grown past this in all (by a long text) are dropped rather than kept for the next call.
const KEEP: usize = 1 << 20;

pub(crate) struct Prepared<'t> {
    pub(crate) text: &'t str,
    pub(crate) words: Words<'t>,
    /// Only lower-cased once a family has a sentence to look at.
    lowered: OnceCell<Lowered>,
    spare: Cell<(String, Vec<(usize, usize)>)>,
}

impl<'t> Prepared<'t> {
    pub(crate) fn new(text: &'t str) -> Prepared<'t> {
        let buffers = BUFFERS.try_with(Cell::take).unwrap_or_default();
        Prepared {
            text,
            words: Words::new(text, buffers.hits),
            lowered: OnceCell::new(),
            spare: Cell::new(buffers.lowered),
        }
    }

    /// `text[start..end]` lower-cased with plain apostrophes and quotes (as `lower_into` makes
    /// it); `start` and `end` must be character boundaries.
    pub(crate) fn lower(&self, start: usize, end: usize) -> &str {
        self.lowered
            .get_or_init(|| Lowered::new(self.text, self.spare.take()))
            .slice(start, end)
    }
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        let hits = self.words.take_buffer();
        let lowered = match self.lowered.take() {
            Some(l) => l.into_buffers(),
            None => self.spare.take(),
        };
        let kept = hits.capacity() * std::mem::size_of::<ListHit>()
            + lowered.0.capacity()
            + lowered.1.capacity() * std::mem::size_of::<(usize, usize)>();
        if kept <= KEEP {
            let _ = BUFFERS.try_with(|b| b.set(Buffers { hits, lowered }));
        }
    }
}
