//! Person names without a network model: gazetteers of common UK given names and surnames, titles
//! (`Mrs Price`) and context cues (`my name is`, `Hi`, `speaking to`). A given name followed by a
//! capitalised word reads as a full name; an unknown capitalised word needs a cue.

use super::text::{self, flags, lex};
use super::{PiiKind, hit};
use crate::finding::Finding;

const TITLES: &[&[u8]] = &[
    b"mr", b"mrs", b"ms", b"miss", b"mx", b"dr", b"sir", b"dame", b"lady", b"lord", b"prof",
];

/// Cues that, right before a capitalised word, say it is a name.
const CUES: &[&str] = &[
    "name is",
    "name's",
    "names",
    "name:",
    "i'm",
    "im",
    "i am",
    "this is",
    "speaking to",
    "speaking with",
    "spoke to",
    "spoke with",
    "speak to",
    "speak with",
    "holder is",
    "holder:",
    "dear",
    "hi",
    "hello",
    "hiya",
    "thanks",
    "thank you",
    "cheers",
    "regards",
    "surname is",
    "called",
    "ask for",
    "it's",
    "signed",
    "yours",
];

/// Relation words that are cues only in lower case (`my mum Ines`, not `Customer Operations`).
const LOWER_CUES: &[&str] = &[
    "mum",
    "mom",
    "dad",
    "husband",
    "wife",
    "partner",
    "son",
    "daughter",
    "mother",
    "father",
    "brother",
    "sister",
    "customer",
    "holder",
    "name of",
    "prescription",
    "colleague",
    "manager",
    "engineer",
    "driver",
    "courier",
];

/// Cues that count only before a two-word name (`send it to Ottilie Nankervis`).
const WEAK_CUES: &[&str] = &["to", "for", "from", "by", "with", "and", "or", "is", "was"];

/// The end of a capitalised name word at `s`: `Price`, `McDonald`, `O'Brien`, `Smith-Jones`.
pub(crate) fn name_word(bytes: &[u8], s: usize) -> Option<usize> {
    let up = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_uppercase);
    let low = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_lowercase);
    if !up(s) {
        return None;
    }
    let mut e = s + 1;
    if bytes.get(e) == Some(&b'\'') && up(e + 1) {
        e += 2;
    }
    let body = e;
    while low(e) {
        e += 1;
    }
    if e == body {
        return None;
    }
    let w = &bytes[s..e];
    if up(e) && (w == b"Mc" || w == b"Mac") && low(e + 1) {
        e += 1;
        while low(e) {
            e += 1;
        }
    }
    while matches!(bytes.get(e), Some(b'-' | b'\'')) && up(e + 1) && low(e + 2) {
        e += 2;
        while low(e) {
            e += 1;
        }
    }
    if bytes.get(e).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(e)
}

/// A capitalised word after `end` (one space) that can be a surname.
fn next_name(bytes: &[u8], end: usize) -> Option<(usize, usize, u8)> {
    if bytes.get(end) != Some(&b' ') {
        return None;
    }
    let s = end + 1;
    let e = name_word(bytes, s)?;
    let w = &bytes[s..e];
    let f = flags(w);
    if f & (lex::NOT_NAME | lex::STREET_SUFFIX) != 0 || w.len() < 2 {
        return None;
    }
    Some((s, e, f))
}

fn cued(bytes: &[u8], i: usize) -> bool {
    cue_before(bytes, i, CUES, false) || cue_before(bytes, i, LOWER_CUES, true)
}

fn cue_before(bytes: &[u8], i: usize, cues: &[&str], lower_only: bool) -> bool {
    let mut k = i;
    while k > 0 && matches!(bytes[k - 1], b' ' | b',' | b':' | b'-') && i - k < 3 {
        k -= 1;
    }
    if k == i {
        return false;
    }
    let colon = bytes[k..i].contains(&b':');
    cues.iter().any(|c| {
        let c = c.as_bytes();
        let c = c.strip_suffix(b":").filter(|_| colon).unwrap_or(c);
        k >= c.len()
            && bytes[k - c.len()..k].eq_ignore_ascii_case(c)
            && (!lower_only || bytes[k - c.len()].is_ascii_lowercase())
            && (k == c.len() || !bytes[k - c.len() - 1].is_ascii_alphabetic())
    })
}

fn sentence_start(bytes: &[u8], i: usize) -> bool {
    let mut k = i;
    while k > 0 && matches!(bytes[k - 1], b' ' | b'"' | b'\n' | b'\r' | b'\t') {
        k -= 1;
    }
    k == 0 || matches!(bytes[k - 1], b'.' | b'!' | b'?' | b'\n')
}

/// Handles the capitalised word at `i` (a word start); returns where scanning resumes.
pub(crate) fn at(bytes: &[u8], i: usize, word_end: usize, out: &mut Vec<Finding>) -> usize {
    let Some(e) = name_word(bytes, i) else {
        return word_end;
    };
    let w = &bytes[i..e];
    if TITLES.iter().any(|t| w.eq_ignore_ascii_case(t)) {
        let after = if bytes.get(e) == Some(&b'.') {
            e + 1
        } else {
            e
        };
        if let Some((s, mut end, _)) = next_name(bytes, after) {
            if let Some((_, e2, _)) = next_name(bytes, end) {
                end = e2;
            }
            out.push(hit(PiiKind::PersonName, s, end, 0.9, Some("context")));
            return end;
        }
        return e;
    }
    let f = flags(w);
    if f & lex::NOT_NAME != 0 {
        return e;
    }
    let next = next_name(bytes, e);
    if f & lex::GIVEN != 0 {
        if let Some((_, mut end, nf)) = next {
            let mut known = nf & lex::SURNAME != 0;
            // A middle name: `Mary Ann Smith`.
            if let Some((_, e2, f2)) = next_name(bytes, end)
                && f2 & lex::SURNAME != 0
            {
                end = e2;
                known = true;
            }
            let confidence = if known { 0.9 } else { 0.75 };
            out.push(hit(
                PiiKind::PersonName,
                i,
                end,
                confidence,
                Some("gazetteer"),
            ));
            return end;
        }
        // `Aurora X5`: a given name before a model number is a product.
        let model = bytes.get(e) == Some(&b' ')
            && bytes.get(e + 1).is_some_and(u8::is_ascii_uppercase)
            && bytes[e + 1..text::word_end(bytes, e + 1)]
                .iter()
                .any(u8::is_ascii_digit);
        if model {
            return e;
        }
        let cued = cued(bytes, i);
        if f & lex::AMBIGUOUS != 0 && !cued {
            return e;
        }
        let confidence = if cued {
            0.85
        } else if sentence_start(bytes, i) {
            0.55
        } else {
            0.65
        };
        out.push(hit(
            PiiKind::PersonName,
            i,
            e,
            confidence,
            Some("gazetteer"),
        ));
        return e;
    }
    if f & lex::STREET_SUFFIX == 0 && cued(bytes, i) {
        let end = next.map_or(e, |n| n.1);
        out.push(hit(PiiKind::PersonName, i, end, 0.75, Some("context")));
        return end;
    }
    if let Some((_, end, _)) = next
        && cue_before(bytes, i, WEAK_CUES, false)
    {
        out.push(hit(PiiKind::PersonName, i, end, 0.7, Some("context")));
        return end;
    }
    if let Some((_, end, nf)) = next
        && nf & lex::SURNAME != 0
    {
        let confidence = if sentence_start(bytes, i) { 0.55 } else { 0.65 };
        out.push(hit(
            PiiKind::PersonName,
            i,
            end,
            confidence,
            Some("gazetteer"),
        ));
        return end;
    }
    e
}

/// Words that end a lower-case name rather than continue it.
const NAME_STOP: &[&[u8]] = &[
    b"here",
    b"and",
    b"from",
    b"calling",
    b"speaking",
    b"again",
    b"i",
    b"im",
    b"the",
    b"my",
    b"on",
    b"at",
    b"about",
    b"please",
    b"thanks",
    b"with",
    b"for",
    b"to",
    b"is",
    b"its",
    b"it",
];

/// Lower-case chat (`my name is sarah jones`, `hi its jude harding-lee here`): after the cue word
/// ending at `cue_end`, a given name from the gazetteer, and the next word as its surname.
pub(crate) fn lower_after_cue(bytes: &[u8], cue_end: usize, out: &mut Vec<Finding>) -> usize {
    let s = cue_end + 1;
    if bytes.get(cue_end) != Some(&b' ') {
        return cue_end;
    }
    let word = |at: usize| {
        let mut e = at;
        while e < bytes.len()
            && (bytes[e].is_ascii_lowercase()
                || (matches!(bytes[e], b'-' | b'\'')
                    && bytes.get(e + 1).is_some_and(u8::is_ascii_lowercase)
                    && e > at))
        {
            e += 1;
        }
        (e > at && !bytes.get(e).is_some_and(u8::is_ascii_alphanumeric)).then_some(e)
    };
    let Some(e) = word(s) else { return cue_end };
    let w = &bytes[s..e];
    let f = flags(w);
    if f & lex::GIVEN == 0 || f & (lex::AMBIGUOUS | lex::NOT_NAME) != 0 {
        return cue_end;
    }
    let mut end = e;
    if bytes.get(e) == Some(&b' ')
        && let Some(e2) = word(e + 1)
        && !NAME_STOP.contains(&&bytes[e + 1..e2])
        && e2 - e > 2
    {
        end = e2;
    }
    out.push(hit(PiiKind::PersonName, s, end, 0.7, Some("gazetteer")));
    end
}

/// Whether the lower-case word `w` ending at `e` is a cue before a lower-case name: `is` after
/// `name` or `this`, `its`, `im`, or `i'm` / `it's`.
pub(crate) fn lower_cue(bytes: &[u8], start: usize, w: &[u8]) -> bool {
    let prev = |word: &[u8]| {
        start > word.len()
            && bytes[start - 1] == b' '
            && bytes[start - 1 - word.len()..start - 1].eq_ignore_ascii_case(word)
    };
    match w {
        b"is" => prev(b"name") || prev(b"this"),
        b"its" | b"im" => true,
        b"m" => {
            start >= 2 && bytes[start - 1] == b'\'' && bytes[start - 2].eq_ignore_ascii_case(&b'i')
        }
        b"s" => {
            start >= 3
                && bytes[start - 1] == b'\''
                && bytes[start - 3..start - 1].eq_ignore_ascii_case(b"it")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::pii::tests::kinds;

    #[test]
    fn names() {
        for (text, want) in [
            ("I spoke to Hannah Price yesterday", "Hannah Price"),
            ("Account holder is Mrs O'Brien.", "O'Brien"),
            ("my name is Zephyrine Quaintance", "Zephyrine Quaintance"),
            ("Hi Oliver, thanks", "Oliver"),
            ("Mr Alan McDonald-Smith called", "Alan McDonald-Smith"),
            ("send it to Ottilie Nankervis please", "Ottilie Nankervis"),
            ("the holder is Khadija Wong.", "Khadija Wong"),
            ("hi its jude harding-lee here", "jude harding-lee"),
            ("my name is sarah jones", "sarah jones"),
            ("i'm oliver", "oliver"),
        ] {
            assert_eq!(kinds(text), vec![("person-name", want.into())], "{text}");
        }
        assert!(kinds("The parcel arrives Monday. Thanks!").is_empty());
        assert!(kinds("May I ask about my order?").is_empty());
        assert!(kinds("this is grace under pressure").is_empty());
        assert!(kinds("Head of Customer Operations").is_empty());
        assert!(kinds("the Oliver X5 phone").is_empty());
        assert!(kinds("my name is on the account").is_empty());
    }
}
