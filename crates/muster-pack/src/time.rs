//! Times as the pack prints them: RFC 3339 in UTC.

/// Nanoseconds since the epoch as RFC 3339 (UTC); out-of-range values print as the raw number.
pub fn rfc3339(ns: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .map_or_else(|_| format!("{ns} ns"), |t| t.to_string())
}

pub fn rfc3339_opt(ns: Option<i64>) -> Option<String> {
    ns.map(rfc3339)
}
