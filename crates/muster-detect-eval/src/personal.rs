//! Evaluation: personal data. A seeded generator of UK support-chat messages (customer and agent
//! turns) with labelled spans and labelled lookalikes, and per-type scoring of `pii::find`.
//!
//! Names, streets and towns come from `data/personal/`, kept apart from the detector's gazetteers:
//! the lists overlap only as real populations do, so the name and address scores measure
//! generalisation. Check digits are computed here independently of the detector's code.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use muster_detect::{Finding, FindingKind, PiiKind};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One labelled span: type name (as `PiiKind::as_str`, or a decoy type), byte and char offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: String,
    /// Byte offsets into `text`.
    pub start: usize,
    pub end: usize,
    /// Char (Unicode scalar) offsets into `text`, for Python.
    pub cstart: usize,
    pub cend: usize,
}

/// A generated chat message with its gold personal-data spans and labelled lookalikes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledMessage {
    pub id: String,
    /// `customer` or `agent`.
    pub role: String,
    pub text: String,
    pub entities: Vec<Entity>,
    /// Spans that look like personal data and are not (order numbers, non-Luhn 16-digit numbers…).
    #[serde(default)]
    pub decoys: Vec<Entity>,
}

struct Lists {
    given: Vec<&'static str>,
    surnames: Vec<&'static str>,
    streets: Vec<&'static str>,
    suffixes: Vec<&'static str>,
    towns: Vec<(&'static str, &'static str)>,
}

fn lines(data: &'static str) -> Vec<&'static str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

static LISTS: LazyLock<Lists> = LazyLock::new(|| Lists {
    given: lines(include_str!("../data/personal/given_names.txt")),
    surnames: lines(include_str!("../data/personal/surnames.txt")),
    streets: lines(include_str!("../data/personal/street_names.txt")),
    suffixes: lines(include_str!("../data/personal/street_suffixes.txt")),
    towns: lines(include_str!("../data/personal/towns.txt"))
        .into_iter()
        .filter_map(|l| l.rsplit_once(' '))
        .collect(),
});

/// Builds a message piece by piece, recording spans as they are appended.
#[derive(Default)]
struct Msg {
    text: String,
    entities: Vec<(&'static str, usize, usize)>,
    decoys: Vec<(&'static str, usize, usize)>,
}

impl Msg {
    fn t(&mut self, s: &str) -> &mut Msg {
        self.text.push_str(s);
        self
    }
    fn p(&mut self, kind: PiiKind, value: &str) -> &mut Msg {
        let start = self.text.len();
        self.text.push_str(value);
        self.entities.push((kind.as_str(), start, self.text.len()));
        self
    }
    fn d(&mut self, kind: &'static str, value: &str) -> &mut Msg {
        let start = self.text.len();
        self.text.push_str(value);
        self.decoys.push((kind, start, self.text.len()));
        self
    }
}

fn to_entities(text: &str, spans: &[(&'static str, usize, usize)]) -> Vec<Entity> {
    let chars = |b: usize| text[..b].chars().count();
    spans
        .iter()
        .map(|&(kind, start, end)| Entity {
            kind: kind.to_string(),
            start,
            end,
            cstart: chars(start),
            cend: chars(end),
        })
        .collect()
}

struct Gen {
    rng: ChaCha8Rng,
}

const NINO_FIRST: &[u8] = b"ABCEGHJKLMNOPRSTWXYZ";
const NINO_SECOND: &[u8] = b"ABCEGHJKLMNPRSTWXYZ";
const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn luhn_check(payload: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &d) in payload.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

fn nhs_check(stem: &[u8]) -> Option<u8> {
    let sum: u32 = stem
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (10 - i as u32))
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

fn mod97(s: &str) -> u32 {
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    rearranged.chars().fold(0u32, |rem, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        }
    })
}

fn group(s: &str, size: usize, sep: &str) -> String {
    s.as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(sep)
}

fn digits_str(d: &[u8]) -> String {
    d.iter().map(|v| char::from(b'0' + v)).collect()
}

impl Gen {
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        *xs.choose(&mut self.rng).unwrap_or(&xs[0])
    }
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }
    fn n(&mut self, lo: u32, hi: u32) -> u32 {
        self.rng.random_range(lo..=hi)
    }
    fn digits(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.rng.random_range(0..10u8)).collect()
    }
    fn letter(&mut self, from: &[u8]) -> char {
        char::from(self.pick(from))
    }

    fn given(&mut self) -> &'static str {
        self.pick(&LISTS.given)
    }
    fn surname(&mut self) -> &'static str {
        self.pick(&LISTS.surnames)
    }

    /// A name as it appears in chat; the gold span excludes a title.
    fn name(&mut self, m: &mut Msg) {
        let (g, s) = (self.given(), self.surname());
        match self.n(0, 9) {
            0 | 1 => {
                let title = self.pick(&["Mr", "Mrs", "Ms", "Miss", "Dr", "Mr.", "Mrs."]);
                m.t(title).t(" ").p(PiiKind::PersonName, s);
            }
            2 => {
                let title = self.pick(&["Mr", "Mrs", "Ms", "Dr"]);
                m.t(title)
                    .t(" ")
                    .p(PiiKind::PersonName, &format!("{g} {s}"));
            }
            _ => {
                m.p(PiiKind::PersonName, &format!("{g} {s}"));
            }
        }
    }

    fn email(&mut self) -> String {
        let (g, s) = (self.given(), self.surname());
        let clean = |x: &str| -> String {
            x.chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_lowercase()
        };
        let (g, s) = (clean(g), clean(s));
        let domain = self.pick(&[
            "example.com",
            "example.co.uk",
            "example.org",
            "mail.example.net",
            "example-mail.co.uk",
            "test.example.com",
        ]);
        let local = match self.n(0, 5) {
            0 => format!("{g}.{s}"),
            1 => format!("{g}{s}{}", self.n(1, 99)),
            2 => format!("{}.{s}", &g[..1]),
            3 => format!("{s}_{g}"),
            4 => format!("{g}.{s}+orders"),
            _ => format!("{g}{}", self.n(1970, 2005)),
        };
        let e = format!("{local}@{domain}");
        if self.chance(0.1) {
            let mut c = e.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or(e)
        } else {
            e
        }
    }

    fn phone(&mut self) -> String {
        let tail = |g: &mut Gen, n: usize| digits_str(&g.digits(n));
        match self.n(0, 11) {
            0 | 1 => format!("07700 900{:03}", self.n(0, 999)),
            2 => format!("07{}{} {}", self.n(1, 9), tail(self, 2), tail(self, 6)),
            3 => format!("07{}{}{}", self.n(1, 9), tail(self, 2), tail(self, 6)),
            4 => format!("020 7946 0{}", tail(self, 3)),
            5 => format!("0161 496 0{}", tail(self, 3)),
            6 => format!("(0113) 496 0{}", tail(self, 3)),
            7 => format!("+44 7700 900{}", tail(self, 3)),
            8 => format!("+44 (0)20 7946 0{}", tail(self, 3)),
            9 => format!("0117-496-0{}", tail(self, 3)),
            10 => format!("+353 1 {} {}", tail(self, 3), tail(self, 4)),
            _ => format!("+1 202 555 01{}", tail(self, 2)),
        }
    }

    fn nino(&mut self) -> String {
        let (a, b) = loop {
            let a = self.pick(NINO_FIRST);
            let b = self.pick(NINO_SECOND);
            if !matches!(
                &[a, b],
                b"BG" | b"GB" | b"KN" | b"NK" | b"NT" | b"TN" | b"ZZ"
            ) && a != b'O'
            {
                break (char::from(a), char::from(b));
            }
        };
        let d = digits_str(&self.digits(6));
        let s = self.letter(b"ABCD");
        let v = match self.n(0, 3) {
            0 | 1 => format!("{a}{b}{d}{s}"),
            2 => format!("{a}{b} {} {} {} {s}", &d[..2], &d[2..4], &d[4..]),
            _ => format!("{a}{b}{d} {s}"),
        };
        if self.chance(0.1) {
            v.to_lowercase()
        } else {
            v
        }
    }

    fn nhs(&mut self) -> String {
        let d = loop {
            let mut stem = vec![self.rng.random_range(4..10u8)];
            stem.extend(self.digits(8));
            if let Some(c) = nhs_check(&stem) {
                stem.push(c);
                break digits_str(&stem);
            }
        };
        match self.n(0, 2) {
            0 | 1 => format!("{} {} {}", &d[..3], &d[3..6], &d[6..]),
            _ => d,
        }
    }

    fn inward(&mut self) -> String {
        format!(
            "{}{}{}",
            self.n(0, 9),
            self.letter(INWARD),
            self.letter(INWARD)
        )
    }

    fn postcode_for(&mut self, outward: &str) -> String {
        let inward = self.inward();
        match self.n(0, 9) {
            0 => format!("{outward}{inward}"),
            1 => format!("{outward} {inward}").to_lowercase(),
            _ => format!("{outward} {inward}"),
        }
    }

    fn town(&mut self) -> (&'static str, &'static str) {
        self.pick(&LISTS.towns)
    }

    fn sort_code(&mut self) -> (String, bool) {
        let d = digits_str(&self.digits(6));
        match self.n(0, 5) {
            0..=3 => (format!("{}-{}-{}", &d[..2], &d[2..4], &d[4..]), true),
            4 => (format!("{} {} {}", &d[..2], &d[2..4], &d[4..]), false),
            _ => (d, false),
        }
    }

    fn account(&mut self) -> String {
        digits_str(&self.digits(8))
    }

    fn iban(&mut self, valid: bool) -> String {
        let (country, bban) = match self.n(0, 4) {
            0 | 1 => {
                let bank = self.pick(&["NWBK", "BARC", "LOYD", "HBUK", "MIDL", "WEST"]);
                ("GB", format!("{bank}{}", digits_str(&self.digits(14))))
            }
            2 => ("DE", digits_str(&self.digits(18))),
            3 => {
                let bank = self.pick(&["AIBK", "BOFI"]);
                ("IE", format!("{bank}{}", digits_str(&self.digits(14))))
            }
            _ => {
                let bank = self.pick(&["ABNA", "INGB", "RABO"]);
                ("NL", format!("{bank}{}", digits_str(&self.digits(10))))
            }
        };
        let rem = mod97(&format!("{country}00{bban}"));
        let mut check = 98 - rem;
        if !valid {
            check = (check + self.n(1, 90)) % 97 + 2;
            if check == 98 - rem {
                check = if check > 2 { check - 1 } else { check + 1 };
            }
        }
        let compact = format!("{country}{check:02}{bban}");
        if self.chance(0.7) {
            group(&compact, 4, " ")
        } else {
            compact
        }
    }

    fn card(&mut self, valid: bool) -> String {
        let amex = self.chance(0.2);
        let mut d = if amex {
            vec![3, self.pick(&[4u8, 7])]
        } else if self.chance(0.6) {
            vec![4]
        } else {
            vec![5, self.rng.random_range(1..6u8)]
        };
        let len = if amex { 15 } else { 16 };
        let more = self.digits(len - 1 - d.len());
        d.extend(more);
        let c = luhn_check(&d);
        d.push(if valid {
            c
        } else {
            (c + self.n(1, 9) as u8) % 10
        });
        let s = digits_str(&d);
        if amex {
            match self.n(0, 1) {
                0 => format!("{} {} {}", &s[..4], &s[4..10], &s[10..]),
                _ => s,
            }
        } else {
            match self.n(0, 3) {
                0 | 1 => group(&s, 4, " "),
                2 => group(&s, 4, "-"),
                _ => s,
            }
        }
    }

    fn date(&mut self, year_lo: u32, year_hi: u32) -> String {
        let (d, mo, y) = (self.n(1, 28), self.n(1, 12), self.n(year_lo, year_hi));
        let month = MONTHS[(mo - 1) as usize];
        let ord = match d {
            1 | 21 => "st",
            2 | 22 => "nd",
            3 | 23 => "rd",
            _ => "th",
        };
        match self.n(0, 9) {
            0 | 1 => format!("{d:02}/{mo:02}/{y}"),
            2 => format!("{d}/{mo}/{y}"),
            3 => format!("{d:02}-{mo:02}-{y}"),
            4 => format!("{d:02}.{mo:02}.{y}"),
            5 => format!("{y}-{mo:02}-{d:02}"),
            6 => format!("{d} {month} {y}"),
            7 => format!("{d}{ord} {month} {y}"),
            8 => format!("{month} {d}, {y}"),
            _ => format!("{d}{ord} of {month} {y}"),
        }
    }

    fn ip(&mut self) -> String {
        if self.chance(0.2) {
            let h = |g: &mut Gen| format!("{:x}", g.n(1, 0xffff));
            return match self.n(0, 2) {
                0 => format!("2001:db8::{}:{}", h(self), h(self)),
                1 => format!("fe80::{}:{}:{}:{}", h(self), h(self), h(self), h(self)),
                _ => (0..8)
                    .map(|_| format!("{:04x}", self.n(0, 0xffff)))
                    .collect::<Vec<_>>()
                    .join(":"),
            };
        }
        format!(
            "{}.{}.{}.{}",
            self.n(1, 223),
            self.n(0, 255),
            self.n(0, 255),
            self.n(1, 254)
        )
    }

    fn passport(&mut self) -> String {
        if self.chance(0.7) {
            format!("{}{}", self.n(1, 9), digits_str(&self.digits(8)))
        } else {
            format!(
                "{}{}{}",
                self.letter(UPPER),
                self.letter(UPPER),
                digits_str(&self.digits(7))
            )
        }
    }

    fn licence(&mut self) -> String {
        let s: String = self
            .surname()
            .chars()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_uppercase();
        let mut five: String = s.chars().take(5).collect();
        while five.len() < 5 {
            five.push('9');
        }
        let g = self.given().chars().next().unwrap_or('A');
        let second = if self.chance(0.5) {
            self.given().chars().next().unwrap_or('9')
        } else {
            '9'
        };
        let year = self.n(40, 99);
        let month = self.n(1, 12) + if self.chance(0.5) { 50 } else { 0 };
        let day = self.n(1, 28);
        format!(
            "{five}{}{month:02}{day:02}{}{}{}9{}{}",
            year / 10,
            year % 10,
            g.to_ascii_uppercase(),
            second.to_ascii_uppercase(),
            self.letter(UPPER),
            self.letter(UPPER)
        )
    }

    fn street(&mut self) -> String {
        let num = self.n(1, 240);
        let letter = if self.chance(0.08) { "a" } else { "" };
        let name = self.pick(&LISTS.streets);
        let suffix = self.pick(&LISTS.suffixes);
        let s = format!("{num}{letter} {name} {suffix}");
        if self.chance(0.1) {
            s.to_lowercase()
        } else {
            s
        }
    }

    /// A street address with town and postcode: `14 Acacia Avenue, Leeds LS6 2AB`.
    fn full_address(&mut self, m: &mut Msg) {
        if self.chance(0.15) {
            m.t(&format!("Flat {}, ", self.n(1, 30)));
        }
        let street = self.street();
        m.p(PiiKind::StreetAddress, &street);
        let (town, outward) = self.town();
        let pc = self.postcode_for(outward);
        match self.n(0, 3) {
            0 => m.t(&format!(", {town}, ")).p(PiiKind::UkPostcode, &pc),
            1 => m.t(&format!(", {town} ")).p(PiiKind::UkPostcode, &pc),
            2 => m.t(&format!(" {town} ")).p(PiiKind::UkPostcode, &pc),
            _ => m.t(&format!(", {town}")),
        };
    }

    // Lookalikes.
    fn order_ref(&mut self) -> String {
        loop {
            let d = self.digits(10);
            if nhs_check(&d[..9]) != Some(d[9]) {
                return digits_str(&d);
            }
        }
    }
    fn tracking(&mut self) -> String {
        match self.n(0, 2) {
            0 => format!("JD{}", digits_str(&self.digits(16))),
            1 => format!("TBA{}", digits_str(&self.digits(12))),
            _ => format!(
                "{}{}{}{}GB",
                self.letter(UPPER),
                self.letter(UPPER),
                digits_str(&self.digits(9)),
                ""
            ),
        }
    }
    fn amount(&mut self) -> String {
        format!("£{}.{:02}", self.n(1, 1999), self.n(0, 99))
    }
    fn time(&mut self) -> String {
        match self.n(0, 2) {
            0 => format!("{:02}:{:02}", self.n(8, 20), self.pick(&[0, 15, 30, 45])),
            1 => format!("{}:{:02}pm", self.n(1, 9), self.pick(&[0, 15, 30, 45])),
            _ => format!("{}am", self.n(8, 11)),
        }
    }
    fn bad_nino(&mut self) -> String {
        let prefix = self.pick(&["BG", "GB", "NK", "KN", "TN", "NT", "ZZ", "QQ", "DA", "FY"]);
        format!(
            "{prefix}{}{}",
            digits_str(&self.digits(6)),
            self.letter(b"ABCD")
        )
    }
}

/// `n` labelled messages generated from `seed`.
pub fn corpus(seed: u64, n: usize) -> Vec<LabelledMessage> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    (0..n)
        .map(|i| {
            let agent = g.chance(0.35);
            let mut m = Msg::default();
            if agent {
                agent_turn(&mut g, &mut m);
            } else {
                customer_turn(&mut g, &mut m);
            }
            LabelledMessage {
                id: format!("{seed}-{i}"),
                role: if agent { "agent" } else { "customer" }.to_string(),
                entities: to_entities(&m.text, &m.entities),
                decoys: to_entities(&m.text, &m.decoys),
                text: m.text,
            }
        })
        .collect()
}

fn customer_turn(g: &mut Gen, m: &mut Msg) {
    use PiiKind as K;
    match g.n(0, 46) {
        0 => {
            m.t(g.pick(&["Hi, my name is ", "Hello, my name's ", "Hiya, I'm "]));
            g.name(m);
            m.t(" and my order ")
                .d("order-ref", &g.order_ref())
                .t(" never arrived.");
        }
        1 => {
            let p = g.phone();
            m.t(g.pick(&[
                "You can call me on ",
                "my mobile is ",
                "Best number to reach me: ",
                "Phone ",
            ]))
            .p(K::Phone, &p)
            .t(g.pick(&[".", " after 5pm", ", thanks", "!", ""]));
        }
        2 => {
            let e = g.email();
            m.t(g.pick(&[
                "Please send the receipt to ",
                "my email is ",
                "Email: ",
                "it's registered under ",
            ]))
            .p(K::Email, &e)
            .t(g.pick(&[".", " please", "", " x"]));
        }
        3 => {
            m.t("I've moved, the new address is ");
            g.full_address(m);
            m.t(g.pick(&[".", "", " - can you update it?"]));
        }
        4 => {
            let (sc, _) = g.sort_code();
            let a = g.account();
            m.t("Refund it to sort code ")
                .p(K::SortCode, &sc)
                .t(g.pick(&[", account ", " account number ", " acc no "]))
                .p(K::AccountNumber, &a)
                .t(" please.");
        }
        5 => {
            let a = g.account();
            let (sc, _) = g.sort_code();
            m.t("My account number is ")
                .p(K::AccountNumber, &a)
                .t(" and the sort code is ")
                .p(K::SortCode, &sc);
        }
        6 => {
            let nino = g.nino();
            m.t(g.pick(&[
                "My NI number is ",
                "national insurance: ",
                "NI no. ",
                "here's my national insurance number ",
            ]))
            .p(K::UkNino, &nino)
            .t(g.pick(&["", ".", " if you need it"]));
        }
        7 => {
            let nhs = g.nhs();
            m.t(g.pick(&["My NHS number is ", "NHS no: ", "the patient's NHS number "]))
                .p(K::NhsNumber, &nhs)
                .t(".");
        }
        8 => {
            let iban = g.iban(true);
            m.t(g.pick(&[
                "Please pay it to IBAN ",
                "my IBAN is ",
                "Bank details (IBAN): ",
            ]))
            .p(K::Iban, &iban)
            .t(g.pick(&["", ".", " thanks"]));
        }
        9 => {
            let card = g.card(true);
            m.t(g.pick(&[
                "I paid with card ",
                "card number ",
                "The card was ",
                "charged to my card ",
            ]))
            .p(K::PaymentCard, &card)
            .t(" exp ")
            .d("expiry", &format!("{:02}/{}", g.n(1, 12), g.n(26, 31)));
        }
        10 => {
            let dob = g.date(1935, 2006);
            m.t(g.pick(&[
                "My date of birth is ",
                "DOB: ",
                "I was born on ",
                "d.o.b ",
                "date of birth ",
            ]))
            .p(K::DateOfBirth, &dob)
            .t(g.pick(&[".", "", " if that helps"]));
        }
        11 => {
            m.t("Passport number ")
                .p(K::UkPassport, &g.passport())
                .t(", expires ")
                .d("date", &g.date(2027, 2034));
        }
        12 => {
            m.t(g.pick(&[
                "driving licence number ",
                "Licence no: ",
                "my driving licence is ",
            ]))
            .p(K::UkDrivingLicence, &g.licence());
        }
        13 => {
            m.t("It says my login came from ")
                .p(K::IpAddress, &g.ip())
                .t(" but that wasn't me");
        }
        14 => {
            m.t("This is ");
            g.name(m);
            m.t(", I rang yesterday about order ")
                .d("order-ref", &g.order_ref())
                .t(", you can ring me back on ")
                .p(K::Phone, &g.phone());
        }
        15 => {
            m.t("Order ")
                .d("order-ref", &g.order_ref())
                .t(" was £")
                .d("amount", &format!("{}.{:02}", g.n(5, 900), g.n(0, 99)))
                .t(", delivered ")
                .d("date", &g.date(2025, 2026))
                .t(" at ")
                .d("time", &g.time())
                .t(" and it's broken.");
        }
        16 => {
            m.t("tracking says ")
                .d("tracking-ref", &g.tracking())
                .t(", ref ")
                .d("order-ref", &g.order_ref())
                .t(", still nothing");
        }
        17 => {
            m.t("I got a gift card ")
                .d("card-like", &g.card(false))
                .t(" for ")
                .d("amount", &g.amount())
                .t(" but it won't work");
        }
        18 => {
            m.t("The IBAN they gave me was ")
                .d("iban-invalid", &g.iban(false))
                .t(" and the bank says it's wrong?");
        }
        19 => {
            m.t("my NI number is ")
                .d("nino-invalid", &g.bad_nino())
                .t(" I think");
        }
        20 => {
            m.t(g.pick(&["Hi ", "Hello ", "Dear "]));
            let g1 = g.given();
            m.p(K::PersonName, g1)
                .t(", thanks for your help earlier. Case ")
                .d("order-ref", &g.order_ref())
                .t(".");
        }
        21 => {
            m.t("The account is in the name of ");
            g.name(m);
            m.t(", ");
            g.full_address(m);
        }
        22 => {
            m.t("Send it to ");
            g.name(m);
            m.t(" at ");
            g.full_address(m);
            m.t(" please");
        }
        23 => {
            m.t("ok so I'm ");
            g.name(m);
            m.t(", DOB ")
                .p(K::DateOfBirth, &g.date(1940, 2005))
                .t(", postcode ");
            let (_, o) = g.town();
            let pc = g.postcode_for(o);
            m.p(K::UkPostcode, &pc);
        }
        24 => {
            m.t("I need to update my details: ")
                .p(K::Email, &g.email())
                .t(" / ")
                .p(K::Phone, &g.phone());
        }
        25 => {
            m.t("Can I pay £")
                .d("amount", &format!("{}", g.n(10, 500)))
                .t(" by ")
                .d("date", &g.date(2025, 2026))
                .t("? Invoice ")
                .d("order-ref", &g.order_ref())
                .t(".");
        }
        26 => {
            m.t(g.pick(&[
                "Why was I charged twice?",
                "The app keeps crashing when I log in.",
                "How long does a refund take?",
                "Can I change my delivery slot to Saturday?",
                "I want to cancel my subscription.",
                "Nobody has replied to my complaint for 2 weeks.",
                "Is the store on the High Street open on Sunday?",
                "I'll be home after 3 so any time then is fine",
            ]));
        }
        27 => {
            m.t("order number ")
                .d("order-ref", &format!("0{}", digits_str(&g.digits(9))))
                .t(" please check");
        }
        28 => {
            m.t("Our address is ");
            g.full_address(m);
            m.t(" and my husband ");
            let (gn, s) = (g.given(), g.surname());
            m.p(K::PersonName, &format!("{gn} {s}"))
                .t(" is the account holder.");
        }
        29 => {
            m.t("Card ending ")
                .d("card-last4", &digits_str(&g.digits(4)))
                .t(", membership no ")
                .d("card-like", &g.card(false));
        }
        30 => {
            let nhs = g.nhs();
            m.t("For the prescription: ");
            g.name(m);
            m.t(", NHS ")
                .p(K::NhsNumber, &nhs)
                .t(", born ")
                .p(K::DateOfBirth, &g.date(1930, 2020));
        }
        31 => {
            m.t("my mum ");
            let (gn, s) = (g.given(), g.surname());
            m.p(K::PersonName, &format!("{gn} {s}"))
                .t(" will collect it, her number is ")
                .p(K::Phone, &g.phone());
        }
        32 => {
            m.t("app version ")
                .d(
                    "version",
                    &format!("{}.{}.{}.{}", g.n(1, 9), g.n(0, 20), g.n(0, 9), g.n(0, 99)),
                )
                .t(" crashes");
        }
        44 => {
            // A pasted form, one field a line.
            m.t("Name: ");
            g.name(m);
            m.t("\nAddress: ");
            g.full_address(m);
            m.t("\nPhone: ")
                .p(K::Phone, &g.phone())
                .t("\nEmail: ")
                .p(K::Email, &g.email())
                .t("\nDOB: ")
                .p(K::DateOfBirth, &g.date(1940, 2005));
        }
        45 => {
            let (open, close) =
                g.pick(&[("(", ")"), ("<", ">"), ("\"", "\""), ("[", "]"), ("'", "'")]);
            m.t("contact me ")
                .t(open)
                .p(K::Email, &g.email())
                .t(close)
                .t(" or ")
                .t(open)
                .p(K::Phone, &g.phone())
                .t(close)
                .t(g.pick(&["!", "?", ";", "...", " :)"]));
        }
        46 => {
            m.t(g.pick(&["Thanks so much ", "Cheers ", "Thank you "]));
            m.p(K::PersonName, g.given()).t(g.pick(&[
                "!",
                "!!",
                ".",
                " :)",
                ", you've been great",
            ]));
        }
        34 => {
            let name = format!("{} {}", g.given(), g.surname()).to_lowercase();
            m.t(g.pick(&["hi its ", "hiya this is ", "hello my name is "]))
                .p(K::PersonName, &name)
                .t(" here, my number is ")
                .p(K::Phone, &g.phone());
        }
        35 => {
            m.p(K::PersonName, &format!("{} {}", g.given(), g.surname()))
                .t(" here - I ordered from ")
                .d(
                    "organisation",
                    g.pick(&["Marks and Spencer", "John Lewis", "Currys PC World"]),
                )
                .t(" but ")
                .d(
                    "organisation",
                    g.pick(&["Royal Mail", "Parcelforce", "Evri"]),
                )
                .t(" lost it.");
        }
        36 => {
            m.t("details: ")
                .p(K::PersonName, &format!("{} {}", g.given(), g.surname()))
                .t(", ")
                .p(K::Phone, &g.phone())
                .t(", ");
            let (_, o) = g.town();
            let pc = g.postcode_for(o);
            m.p(K::UkPostcode, &pc);
        }
        37 => {
            m.p(K::DateOfBirth, &g.date(1940, 2005)).t(g.pick(&[
                " is my date of birth",
                " (DOB)",
                " - that's my d.o.b",
            ]));
        }
        38 => {
            m.t("it was delivered on ")
                .d(
                    "date",
                    &format!("{:02}-{:02}-{}", g.n(1, 28), g.n(1, 12), g.n(24, 26)),
                )
                .t(" but the box was damaged");
        }
        39 => {
            let street = format!("{} {}", g.pick(&LISTS.streets), g.pick(&LISTS.suffixes));
            m.t("I live on ")
                .d("street-no-number", &street)
                .t(" near the Co-op, is there a locker?");
        }
        40 => {
            let d = digits_str(&g.digits(3));
            let p = match g.n(0, 2) {
                0 => format!("0044 7700 900{d}"),
                1 => format!("+44 7700 900 {d}"),
                _ => format!("07700-900-{d}"),
            };
            m.t(g.pick(&["WhatsApp me on ", "text ", "my new number: "]))
                .p(K::Phone, &p);
        }
        41 => {
            m.t("Customer Services told me to ring Head Office in ")
                .d(
                    "place",
                    g.pick(&["Milton Keynes", "Leeds", "Swindon", "Bristol"]),
                )
                .t(" on Monday, but the Black Friday offer had ended.");
        }
        42 => {
            m.t("the name on the card is ");
            g.name(m);
            m.t(" and the long number is ")
                .p(K::PaymentCard, &g.card(true));
        }
        43 => {
            m.t("Dr ")
                .p(K::PersonName, g.surname())
                .t(" at the Riverside Surgery has my NHS number, it's ")
                .p(K::NhsNumber, &g.nhs());
        }
        _ => {
            m.t("Hi, ")
                .p(K::PersonName, &format!("{} {}", g.given(), g.surname()));
            m.t(" here. I'm at ");
            g.full_address(m);
        }
    }
}

fn agent_turn(g: &mut Gen, m: &mut Msg) {
    use PiiKind as K;
    match g.n(0, 21) {
        0 => {
            m.t("Thanks ")
                .p(K::PersonName, g.given())
                .t(", I've found your order ")
                .d("order-ref", &g.order_ref())
                .t(".");
        }
        1 => {
            m.t("I can see the address on file is ");
            g.full_address(m);
            m.t(". Is that still correct?");
        }
        2 => {
            m.t("We'll call you back on ")
                .p(K::Phone, &g.phone())
                .t(" within 2 working days.");
        }
        3 => {
            m.t("I've sent a confirmation to ")
                .p(K::Email, &g.email())
                .t(".");
        }
        4 => {
            m.t("Your parcel ")
                .d("tracking-ref", &g.tracking())
                .t(" is due on ")
                .d("date", &g.date(2025, 2026))
                .t(" between ")
                .d("time", &g.time())
                .t(" and ")
                .d("time", &g.time())
                .t(".");
        }
        5 => {
            m.t("A refund of ")
                .d("amount", &g.amount())
                .t(" has been issued for order ")
                .d("order-ref", &g.order_ref())
                .t(".");
        }
        6 => {
            m.t("Hello ");
            g.name(m);
            m.t(", I'm ")
                .p(K::PersonName, g.given())
                .t(" from the support team.");
        }
        7 => {
            let (sc, _) = g.sort_code();
            m.t("The refund will go to the account ending in ")
                .d("account-last4", &digits_str(&g.digits(4)))
                .t(", sort code ")
                .p(K::SortCode, &sc)
                .t(".");
        }
        8 => {
            m.t("Could you confirm your date of birth? We have ")
                .p(K::DateOfBirth, &g.date(1940, 2004))
                .t(" on file.");
        }
        9 => {
            m.t("For security I can see the card ")
                .p(K::PaymentCard, &g.card(true))
                .t(" is linked to the account.");
        }
        10 => {
            m.t("The last login was from ")
                .p(K::IpAddress, &g.ip())
                .t(" at ")
                .d("time", &g.time())
                .t(" on ")
                .d("date", &g.date(2025, 2026))
                .t(".");
        }
        11 => {
            m.t("I've updated the account holder to ");
            g.name(m);
            m.t(", contact ")
                .p(K::Email, &g.email())
                .t(", mobile ")
                .p(K::Phone, &g.phone())
                .t(".");
        }
        12 => {
            m.t(g.pick(&[
                "I'm sorry for the delay. Is there anything else I can help with?",
                "Your case has been escalated to our specialist team.",
                "I can offer a goodwill credit of £10 on your next order.",
                "Delivery usually takes 3 to 5 working days.",
                "Please don't share your full card number in this chat.",
                "Our opening hours are 8am to 8pm, Monday to Saturday.",
            ]));
        }
        13 => {
            m.t("Ticket ")
                .d("order-ref", &g.order_ref())
                .t(": reference ")
                .d("order-ref", &format!("0{}", digits_str(&g.digits(10))))
                .t(" logged for ")
                .d("amount", &g.amount())
                .t(".");
        }
        14 => {
            m.t("Payment to ")
                .p(K::Iban, &g.iban(true))
                .t(" for ")
                .d("amount", &g.amount())
                .t(" was returned.");
        }
        15 => {
            m.t("Thanks, I've noted NI number ")
                .p(K::UkNino, &g.nino())
                .t(" and NHS number ")
                .p(K::NhsNumber, &g.nhs())
                .t(".");
        }
        16 => {
            m.t("Billing note: customer ");
            g.name(m);
            m.t(" asked for refunds to ")
                .p(K::SortCode, &g.sort_code().0)
                .t(" / ")
                .p(K::AccountNumber, &g.account())
                .t(".");
        }
        18 => {
            m.t("Hi ");
            g.name(m);
            m.t(", I've checked with Royal Mail and your parcel is at the ")
                .d("place", g.town().0)
                .t(" depot.");
        }
        19 => {
            m.t("Can you confirm the first line of your address and postcode? I have ")
                .p(K::StreetAddress, &g.street())
                .t(" and ");
            let (_, o) = g.town();
            let pc = g.postcode_for(o);
            m.p(K::UkPostcode, &pc).t(".");
        }
        20 => {
            m.t("I've passed this to my colleague ")
                .p(K::PersonName, g.given())
                .t(" in the Returns team.");
        }
        21 => {
            m.t("Please never share passwords here. Your reference is ")
                .d("order-ref", &g.order_ref())
                .t(" and the engineer visit is booked for ")
                .d(
                    "date",
                    &format!("{:02}-{:02}-{}", g.n(1, 28), g.n(1, 12), g.n(25, 27)),
                )
                .t(".");
        }
        _ => {
            m.t("Kind regards, ")
                .p(K::PersonName, &format!("{} {}", g.given(), g.surname()))
                .t(", Customer Care");
        }
    }
}

/// Counts for one type.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TypeScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub gold: usize,
    pub predicted: usize,
    /// Overlap matching: predictions overlapping a gold span of the same type, and golds overlapped.
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Exact span matching.
    pub exact_precision: f64,
    pub exact_recall: f64,
    pub exact_f1: f64,
}

/// Per-type scores over a corpus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonalReport {
    pub messages: usize,
    pub threshold: f32,
    pub types: Vec<TypeScore>,
    /// All types together (micro-averaged).
    pub all: TypeScore,
    /// Per lookalike type: how many there were and how many a prediction overlapped.
    pub decoys: Vec<DecoyScore>,
}

/// How often one kind of lookalike was mistaken for personal data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecoyScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub count: usize,
    pub flagged: usize,
}

impl PersonalReport {
    pub fn get(&self, kind: PiiKind) -> Option<&TypeScore> {
        self.types.iter().find(|t| t.kind == kind.as_str())
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    gold: usize,
    predicted: usize,
    tp_pred: usize,
    tp_gold: usize,
    exact: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn score(kind: &str, c: Counts) -> TypeScore {
    let (p, r) = (ratio(c.tp_pred, c.predicted), ratio(c.tp_gold, c.gold));
    let (ep, er) = (ratio(c.exact, c.predicted), ratio(c.exact, c.gold));
    TypeScore {
        kind: kind.to_string(),
        gold: c.gold,
        predicted: c.predicted,
        precision: p,
        recall: r,
        f1: f1(p, r),
        exact_precision: ep,
        exact_recall: er,
        exact_f1: f1(ep, er),
    }
}

/// Scores `muster_detect::pii::find` (findings at or above `pii::LIKELY`) against the gold spans.
pub fn evaluate(messages: &[LabelledMessage]) -> PersonalReport {
    let threshold = muster_detect::pii::LIKELY;
    let mut counts: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut decoys: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut found: Vec<Finding> = Vec::new();
    for msg in messages {
        found.clear();
        muster_detect::pii::find(&msg.text, &mut found);
        let preds: Vec<(&'static str, usize, usize)> = found
            .iter()
            .filter(|f| f.confidence >= threshold)
            .filter_map(|f| match f.kind {
                FindingKind::Personal(k) => Some((k.as_str(), f.start, f.end)),
                _ => None,
            })
            .collect();
        for d in &msg.decoys {
            let entry = decoys.entry(d.kind.clone()).or_default();
            entry.0 += 1;
            if preds.iter().any(|p| p.1 < d.end && d.start < p.2) {
                entry.1 += 1;
            }
        }
        for kind in PiiKind::ALL.map(PiiKind::as_str) {
            let c = counts.entry(kind).or_default();
            let gold: Vec<&Entity> = msg.entities.iter().filter(|e| e.kind == kind).collect();
            let pred: Vec<&(&str, usize, usize)> = preds.iter().filter(|p| p.0 == kind).collect();
            c.gold += gold.len();
            c.predicted += pred.len();
            let overlaps = |p: &(&str, usize, usize), g: &Entity| p.1 < g.end && g.start < p.2;
            c.tp_pred += pred
                .iter()
                .filter(|p| gold.iter().any(|g| overlaps(p, g)))
                .count();
            c.tp_gold += gold
                .iter()
                .filter(|g| pred.iter().any(|p| overlaps(p, g)))
                .count();
            c.exact += pred
                .iter()
                .filter(|p| gold.iter().any(|g| p.1 == g.start && p.2 == g.end))
                .count();
        }
    }
    let mut total = Counts::default();
    let types = PiiKind::ALL
        .iter()
        .map(|k| {
            let c = counts.get(k.as_str()).copied().unwrap_or_default();
            total.gold += c.gold;
            total.predicted += c.predicted;
            total.tp_pred += c.tp_pred;
            total.tp_gold += c.tp_gold;
            total.exact += c.exact;
            score(k.as_str(), c)
        })
        .collect();
    PersonalReport {
        messages: messages.len(),
        threshold,
        types,
        all: score("all", total),
        decoys: decoys
            .into_iter()
            .map(|(kind, (count, flagged))| DecoyScore {
                kind,
                count,
                flagged,
            })
            .collect(),
    }
}

impl fmt::Display for PersonalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} messages, confidence >= {}; overlap and exact-span matching",
            self.messages, self.threshold
        )?;
        writeln!(
            f,
            "{:<20} {:>6} {:>6} {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}",
            "type", "gold", "pred", "P", "R", "F1", "exP", "exR", "exF1"
        )?;
        for t in self.types.iter().chain(std::iter::once(&self.all)) {
            writeln!(
                f,
                "{:<20} {:>6} {:>6} {:>6.3} {:>6.3} {:>6.3}   {:>6.3} {:>6.3} {:>6.3}",
                t.kind,
                t.gold,
                t.predicted,
                t.precision,
                t.recall,
                t.f1,
                t.exact_precision,
                t.exact_recall,
                t.exact_f1
            )?;
        }
        let decoys: Vec<String> = self
            .decoys
            .iter()
            .map(|d| format!("{} {}/{}", d.kind, d.flagged, d.count))
            .collect();
        writeln!(f, "lookalikes flagged: {}", decoys.join(", "))?;
        Ok(())
    }
}

/// The F1 bar each type must reach (overlap matching).
pub fn bar(kind: PiiKind) -> f64 {
    match kind {
        PiiKind::PersonName | PiiKind::StreetAddress => 0.85,
        _ => 0.97,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_values_and_chars() {
        for m in corpus(7, 500) {
            for e in m.entities.iter().chain(&m.decoys) {
                assert!(m.text.is_char_boundary(e.start) && m.text.is_char_boundary(e.end));
                let by_chars: String = m
                    .text
                    .chars()
                    .skip(e.cstart)
                    .take(e.cend - e.cstart)
                    .collect();
                assert_eq!(by_chars, &m.text[e.start..e.end]);
            }
        }
    }

    #[test]
    fn seeded_and_reproducible() {
        assert_eq!(corpus(3, 50), corpus(3, 50));
        assert_ne!(corpus(3, 50), corpus(4, 50));
    }

    #[test]
    fn generated_check_digits_hold() {
        for m in corpus(11, 2000) {
            for e in &m.entities {
                let v: String = m.text[e.start..e.end]
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                if e.kind == "iban" {
                    assert_eq!(mod97(&v), 1, "{v}");
                }
                if e.kind == "nhs-number" {
                    let d: Vec<u8> = v.bytes().map(|b| b - b'0').collect();
                    assert_eq!(nhs_check(&d[..9]), Some(d[9]));
                }
            }
        }
    }
}
