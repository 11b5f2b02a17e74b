//! How often an agent is drilled again, and what brings the next drill forward.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;

use crate::tier::Tier;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cadence {
    /// `quarterly`, `twice a year` or `yearly`.
    pub label: &'static str,
    pub months: i8,
    /// Changes to the agent that call for a drill before the cadence runs out.
    pub triggers: Vec<&'static str>,
}

/// Re-drill triggers `muster gate` checks, in the words the gate reports them.
pub const TRIGGERS: [&str; 8] = [
    "the model or its version changes",
    "a tool is added or removed, or its effect, limits or preconditions change",
    "a data source is added, removed or changed",
    "the agent enters a new market",
    "the agent joins a new customer journey",
    "a policy document gets a new version",
    "a decision the agent makes or influences changes",
    "a critical finding is still open, or a risk acceptance expires",
];

impl Cadence {
    pub fn for_tier(tier: Tier) -> Cadence {
        let (label, months) = match tier {
            Tier::Three => ("quarterly", 3),
            Tier::Two => ("twice a year", 6),
            Tier::One => ("yearly", 12),
        };
        Cadence {
            label,
            months,
            triggers: TRIGGERS.to_vec(),
        }
    }

    /// The date the next drill is due after one on `last`.
    pub fn next_due(&self, last: Date) -> Date {
        last.checked_add(i32::from(self.months).months())
            .unwrap_or(Date::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_due_adds_calendar_months_and_clamps_to_month_end() {
        let c = Cadence::for_tier(Tier::Three);
        assert_eq!(
            c.next_due(Date::constant(2026, 11, 30)),
            Date::constant(2027, 2, 28)
        );
        let c = Cadence::for_tier(Tier::One);
        assert_eq!(
            c.next_due(Date::constant(2026, 1, 15)),
            Date::constant(2027, 1, 15)
        );
    }
}
