//! Timestamp normalisation: every encoding the sources use (trace-formats §0) to UTC nanoseconds
//! since the Unix epoch, as `i64` (1677-09-21 to 2262-04-11).
//!
//! Accepted:
//! * integers and decimal strings of them, in a declared unit or (for [`parse`] and
//!   [`parse_json`]) a unit guessed from the magnitude (see [`guess_unit`]);
//! * decimal fractions (`"1433188255.500"`, `1433188255.5`), exact when given as a string;
//! * RFC 3339 / ISO 8601: `T`, `t` or a space between date and time; `Z`, `z`, `±HH:MM`,
//!   `±HHMM` (Salesforce) or `±HH`; no offset means UTC; any number of fraction digits after `.`
//!   or `,` (beyond nanoseconds they are truncated); minutes-only times; a bare date;
//! * the compact `YYYYMMDDTHHMMSS[ffffff]Z` of LangSmith's `dotted_order` and ISO basic format.
//!
//! Nothing here panics on any input; the property tests hold that.

use serde_json::Value;

const NS_PER_SEC: i128 = 1_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("empty timestamp")]
    Empty,
    #[error("`{0}` is not a timestamp in any known encoding")]
    Unrecognised(String),
    #[error("`{input}` is not a valid timestamp: {what}")]
    Invalid { input: String, what: &'static str },
    #[error("`{0}` is outside the representable range (years 1677 to 2262)")]
    OutOfRange(String),
    #[error("a timestamp must be a number or a string, not {0}")]
    WrongType(&'static str),
}

/// The unit of an epoch number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    fn ns(self) -> i128 {
        match self {
            EpochUnit::Seconds => 1_000_000_000,
            EpochUnit::Millis => 1_000_000,
            EpochUnit::Micros => 1_000,
            EpochUnit::Nanos => 1,
        }
    }
}

/// The unit an undeclared epoch number is most likely in. Thresholds are the values each unit
/// reaches in 1973, so any time from 1973 to 5138 is read right; earlier times need a declared
/// unit (sources that send them declare it: OTLP is always ns, Intercom always s).
pub fn guess_unit(magnitude: f64) -> EpochUnit {
    let m = magnitude.abs();
    if m >= 1e17 {
        EpochUnit::Nanos
    } else if m >= 1e14 {
        EpochUnit::Micros
    } else if m >= 1e11 {
        EpochUnit::Millis
    } else {
        EpochUnit::Seconds
    }
}

fn to_i64(ns: i128, input: &str) -> Result<i64, TimeError> {
    i64::try_from(ns).map_err(|_| TimeError::OutOfRange(input.to_owned()))
}

/// An integer epoch value in a declared unit.
pub fn from_epoch_int(value: i128, unit: EpochUnit) -> Result<i64, TimeError> {
    let ns = value
        .checked_mul(unit.ns())
        .ok_or_else(|| TimeError::OutOfRange(value.to_string()))?;
    to_i64(ns, &value.to_string())
}

/// A floating epoch value in a declared unit. Precision is what `f64` holds (about a microsecond
/// for today's times in seconds); pass the source's text to [`from_epoch_str`] when exactness
/// matters.
pub fn from_epoch_f64(value: f64, unit: EpochUnit) -> Result<i64, TimeError> {
    if !value.is_finite() {
        return Err(TimeError::Invalid {
            input: value.to_string(),
            what: "not a finite number",
        });
    }
    let ns = (value * unit.ns() as f64).round();
    // i64's range as f64; the bounds are exclusive because i64::MAX is not representable.
    if !(-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&ns) {
        return Err(TimeError::OutOfRange(value.to_string()));
    }
    Ok(ns as i64)
}

/// A decimal epoch value given as text (`"1795720102180012471"`, `"1433188255.500"`,
/// `"-12.5"`), exactly, in a declared unit. Fraction digits beyond a nanosecond are truncated.
pub fn from_epoch_str(s: &str, unit: EpochUnit) -> Result<i64, TimeError> {
    let t = s.trim();
    let invalid = |what| TimeError::Invalid {
        input: s.to_owned(),
        what,
    };
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        Some(_) => (false, t),
        None => return Err(TimeError::Empty),
    };
    let (int_part, frac_part) = match digits.find('.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid("no digits"));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid("not a decimal number"));
    }
    if int_part.len() > 30 {
        return Err(TimeError::OutOfRange(s.to_owned()));
    }
    let mut whole: i128 = 0;
    for b in int_part.bytes() {
        whole = whole * 10 + i128::from(b - b'0');
    }
    let mut ns = whole
        .checked_mul(unit.ns())
        .ok_or_else(|| TimeError::OutOfRange(s.to_owned()))?;
    // The fraction's worth in ns: digits × unit / 10^len, taking at most the digits that can
    // still matter (a unit is at most 10^9 ns).
    let mut scale = unit.ns();
    for b in frac_part.bytes().take(9) {
        scale /= 10;
        ns += i128::from(b - b'0') * scale;
    }
    if negative {
        ns = -ns;
    }
    to_i64(ns, s)
}

/// Any string encoding: a decimal epoch number (unit guessed from its magnitude) or a calendar
/// date-time.
pub fn parse(s: &str) -> Result<i64, TimeError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(TimeError::Empty);
    }
    let numeric = t
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        && t.bytes().skip(1).all(|b| b != b'-' && b != b'+');
    if numeric {
        let magnitude: f64 = t.parse().map_err(|_| TimeError::Invalid {
            input: s.to_owned(),
            what: "not a decimal number",
        })?;
        return from_epoch_str(t, guess_unit(magnitude));
    }
    if t.bytes().any(|b| b == b'e' || b == b'E') && t.parse::<f64>().is_ok() {
        let value: f64 = t.parse().unwrap_or(f64::NAN);
        return from_epoch_f64(value, guess_unit(value));
    }
    parse_calendar(t).map_err(|e| match e {
        CalError::Range => TimeError::OutOfRange(s.to_owned()),
        CalError::Invalid(what) => TimeError::Invalid {
            input: s.to_owned(),
            what,
        },
        CalError::Unrecognised => TimeError::Unrecognised(s.to_owned()),
    })
}

/// A JSON value: a number (unit guessed), or a string for [`parse`].
pub fn parse_json(v: &Value) -> Result<i64, TimeError> {
    match v {
        Value::String(s) => parse(s),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                from_epoch_int(i128::from(i), guess_unit(i as f64))
            } else if let Some(u) = n.as_u64() {
                from_epoch_int(i128::from(u), guess_unit(u as f64))
            } else {
                // A fraction (Splunk HEC's `1433188255.500`): read through its shortest decimal
                // text, which is exact for the digits the sender wrote, where the f64 product
                // would be off by tens of nanoseconds.
                let f = n.as_f64().unwrap_or(f64::NAN);
                let text = n.to_string();
                if text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                {
                    from_epoch_str(&text, guess_unit(f))
                } else {
                    from_epoch_f64(f, guess_unit(f))
                }
            }
        }
        Value::Null => Err(TimeError::WrongType("null")),
        Value::Bool(_) => Err(TimeError::WrongType("a boolean")),
        Value::Array(_) => Err(TimeError::WrongType("an array")),
        Value::Object(_) => Err(TimeError::WrongType("an object")),
    }
}

/// RFC 3339 in UTC with nine fraction digits: `2026-11-26T19:08:52.887005000Z`. Parses back to
/// the same value.
pub fn format_rfc3339(ns: i64) -> String {
    let ns = i128::from(ns);
    let secs = ns.div_euclid(NS_PER_SEC);
    let frac = ns.rem_euclid(NS_PER_SEC);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

enum CalError {
    Unrecognised,
    Invalid(&'static str),
    Range,
}

/// Howard Hinnant's days-from-civil: proleptic Gregorian date to days since 1970-01-01.
fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i128) -> (i128, i128, i128) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i128, m: i128) -> i128 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<i128> {
        let end = self.i.checked_add(n)?;
        let s = self.b.get(self.i..end)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i = end;
        Some(
            s.iter()
                .fold(0i128, |acc, b| acc * 10 + i128::from(b - b'0')),
        )
    }

    fn rest(&self) -> &[u8] {
        self.b.get(self.i..).unwrap_or_default()
    }
}

fn parse_calendar(t: &str) -> Result<i64, CalError> {
    let mut c = Cursor {
        b: t.as_bytes(),
        i: 0,
    };
    let year = c.digits(4).ok_or(CalError::Unrecognised)?;
    // Extended (`2026-11-26`) or basic (`20261126`) form; the time must use the same.
    let extended = c.eat(b'-');
    let month = c.digits(2).ok_or(CalError::Unrecognised)?;
    if extended && !c.eat(b'-') {
        return Err(CalError::Unrecognised);
    }
    let day = c.digits(2).ok_or(CalError::Unrecognised)?;
    if !(1..=12).contains(&month) {
        return Err(CalError::Invalid("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(CalError::Invalid("day out of range for its month"));
    }
    let mut secs_of_day: i128 = 0;
    let mut frac_ns: i128 = 0;
    let mut offset_secs: i128 = 0;
    match c.peek() {
        None => {}
        Some(b'T' | b't' | b' ') => {
            c.i += 1;
            let hour = c.digits(2).ok_or(CalError::Invalid("hour"))?;
            if extended && !c.eat(b':') {
                return Err(CalError::Invalid("expected `:` after the hour"));
            }
            let minute = c.digits(2).ok_or(CalError::Invalid("minute"))?;
            let has_seconds = if extended {
                c.eat(b':')
            } else {
                c.peek().is_some_and(|b| b.is_ascii_digit())
            };
            let second = if has_seconds {
                c.digits(2).ok_or(CalError::Invalid("second"))?
            } else {
                0
            };
            // 24:00:00 is not accepted: no source sends it. 60 seconds (a leap second) is,
            // counted into the next minute.
            if hour > 23 || minute > 59 || second > 60 {
                return Err(CalError::Invalid("time of day out of range"));
            }
            secs_of_day = hour * 3600 + minute * 60 + second;
            // A fraction after `.`/`,`, or (basic form, LangSmith) digits straight after seconds.
            let explicit = c.eat(b'.') || c.eat(b',');
            if explicit || (!extended && c.peek().is_some_and(|b| b.is_ascii_digit())) {
                let start = c.i;
                let mut scale = NS_PER_SEC;
                while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                    if scale > 1 {
                        scale /= 10;
                        frac_ns += i128::from(b - b'0') * scale;
                    }
                    c.i += 1;
                }
                if c.i == start {
                    return Err(CalError::Invalid("no digits after the decimal sign"));
                }
            }
            offset_secs = parse_offset(&mut c)?;
        }
        Some(_) => return Err(CalError::Unrecognised),
    }
    if !c.rest().is_empty() {
        return Err(CalError::Invalid("unexpected text after the timestamp"));
    }
    let days = days_from_civil(year, month, day);
    let ns = ((days * 86_400 + secs_of_day - offset_secs) * NS_PER_SEC) + frac_ns;
    i64::try_from(ns).map_err(|_| CalError::Range)
}

/// `Z`, `z`, ` UTC`, `±HH:MM`, `±HHMM`, `±HH`, or nothing (UTC).
fn parse_offset(c: &mut Cursor<'_>) -> Result<i128, CalError> {
    match c.peek() {
        None => Ok(0),
        Some(b'Z' | b'z') => {
            c.i += 1;
            Ok(0)
        }
        Some(b' ') if c.rest().eq_ignore_ascii_case(b" utc") => {
            c.i += 4;
            Ok(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = c.digits(2).ok_or(CalError::Invalid("offset hours"))?;
            let m = if c.eat(b':') {
                c.digits(2).ok_or(CalError::Invalid("offset minutes"))?
            } else {
                c.digits(2).unwrap_or(0)
            };
            if h > 23 || m > 59 {
                return Err(CalError::Invalid("offset out of range"));
            }
            let secs = h * 3600 + m * 60;
            Ok(if sign == b'-' { -secs } else { secs })
        }
        Some(_) => Err(CalError::Invalid("unexpected text after the time")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: i64 = 1_795_720_102_180_012_471; // 2026-11-26T…, from the OTLP fixtures

    #[test]
    fn otlp_nanoseconds_as_string_or_number() {
        assert_eq!(parse("1795720102180012471"), Ok(T));
        assert_eq!(parse_json(&serde_json::json!(T)), Ok(T));
        assert_eq!(parse_json(&serde_json::json!("1795720102180012471")), Ok(T));
    }

    #[test]
    fn epoch_units_are_guessed_by_magnitude() {
        assert_eq!(parse("1433188255"), Ok(1_433_188_255_000_000_000));
        assert_eq!(parse("1433188255.500"), Ok(1_433_188_255_500_000_000));
        assert_eq!(
            parse_json(&serde_json::json!(1433188255.5)),
            Ok(1_433_188_255_500_000_000)
        );
        assert_eq!(parse("1740141851000"), Ok(1_740_141_851_000_000_000));
        assert_eq!(parse("1740141851000123"), Ok(1_740_141_851_000_123_000));
        assert_eq!(parse("1.7957201e9"), Ok(1_795_720_100_000_000_000));
    }

    #[test]
    fn calendar_forms() {
        let base = 1_795_720_132_000_000_000;
        assert_eq!(parse("2026-11-26T19:08:52Z"), Ok(base));
        for (s, extra) in [
            ("2026-11-26T19:08:52.887005+00:00", 887_005_000),
            ("2026-11-26T19:08:52.887005Z", 887_005_000),
            ("2026-11-26t19:08:52.887005z", 887_005_000),
            ("2026-11-26 19:08:52.887005", 887_005_000),
            ("2026-11-26T19:08:52,5Z", 500_000_000),
            ("2026-11-26T19:08:52.1234567891234Z", 123_456_789),
            ("2026-11-26T20:08:52.000+0100", 0),
            ("2026-11-26T14:08:52-05", 0),
            ("2026-11-26T19:08:52", 0),
            ("2026-11-26 19:08:52 UTC", 0),
            ("20261126T190852Z", 0),
            ("20261126T190852887005Z", 887_005_000),
        ] {
            assert_eq!(parse(s), Ok(base + extra), "{s}");
        }
        assert_eq!(parse("2026-11-26T19:08Z"), Ok(base - 52_000_000_000));
        assert_eq!(
            parse("2026-11-26"),
            Ok(base - (19 * 3600 + 8 * 60 + 52) * 1_000_000_000)
        );
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(matches!(parse(""), Err(TimeError::Empty)));
        assert!(matches!(
            parse("yesterday"),
            Err(TimeError::Unrecognised(_))
        ));
        assert!(matches!(
            parse("2026-02-30T00:00:00Z"),
            Err(TimeError::Invalid { .. })
        ));
        assert!(matches!(
            parse("2026-11-26T25:00:00Z"),
            Err(TimeError::Invalid { .. })
        ));
        assert!(matches!(
            parse("2026-11-26T19:08:52Zjunk"),
            Err(TimeError::Invalid { .. })
        ));
        assert!(matches!(
            parse("9999-01-01T00:00:00Z"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse("99999999999999999999999"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(parse("1.2.3"), Err(TimeError::Invalid { .. })));
        assert!(matches!(
            parse_json(&serde_json::json!(true)),
            Err(TimeError::WrongType(_))
        ));
    }

    #[test]
    fn format_known_value() {
        assert_eq!(format_rfc3339(T), "2026-11-26T19:08:22.180012471Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    }

    proptest! {
        #[test]
        fn never_panics_on_any_string(s in "\\PC*") {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_timestamp_like_strings(s in "[0-9T:.,+zZ -]{0,40}") {
            let _ = parse(&s);
            let _ = from_epoch_str(&s, EpochUnit::Seconds);
        }

        #[test]
        fn never_panics_on_any_number(f in proptest::num::f64::ANY, i in any::<i128>()) {
            let _ = from_epoch_f64(f, EpochUnit::Millis);
            let _ = from_epoch_int(i, EpochUnit::Micros);
            let _ = parse_json(&serde_json::json!(f));
        }

        #[test]
        fn rfc3339_round_trips(ns in any::<i64>()) {
            prop_assert_eq!(parse(&format_rfc3339(ns)), Ok(ns));
        }

        #[test]
        fn decimal_nanoseconds_round_trip(ns in 100_000_000_000_000_000i64..i64::MAX) {
            prop_assert_eq!(parse(&ns.to_string()), Ok(ns));
            prop_assert_eq!(from_epoch_str(&ns.to_string(), EpochUnit::Nanos), Ok(ns));
        }

        #[test]
        fn seconds_with_fraction_round_trip(secs in 0i64..9_000_000_000, frac in 0u32..1_000_000_000) {
            let s = format!("{secs}.{frac:09}");
            prop_assert_eq!(
                from_epoch_str(&s, EpochUnit::Seconds),
                Ok(secs * 1_000_000_000 + i64::from(frac))
            );
        }
    }
}
