//! How old is a figure, and may it still be shown as current?
//!
//! Rule: data older than twice its poll interval is stale.

use crate::UnixMs;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Never observed.
    Missing,
    Fresh,
    Stale,
}

/// The age of an observation at `now`, never negative (clocks may disagree by a little).
pub fn age_ms(observed_at: UnixMs, now: UnixMs) -> u64 {
    now.saturating_sub(observed_at)
}

pub fn freshness(observed_at: Option<UnixMs>, now: UnixMs, poll_interval_ms: u64) -> Freshness {
    match observed_at {
        None => Freshness::Missing,
        Some(at) if age_ms(at, now) > poll_interval_ms.saturating_mul(2) => Freshness::Stale,
        Some(_) => Freshness::Fresh,
    }
}

/// A short human age: "4 s", "3 min", "2 h 05 min", "3 d".
pub fn format_age(ms: u64) -> String {
    let s = ms / 1_000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min", s / 60),
        3_600..=86_399 => format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_only_past_twice_the_interval() {
        assert_eq!(freshness(None, 10_000, 5_000), Freshness::Missing);
        assert_eq!(freshness(Some(0), 10_000, 5_000), Freshness::Fresh);
        assert_eq!(freshness(Some(0), 10_001, 5_000), Freshness::Stale);
    }

    #[test]
    fn future_timestamps_are_age_zero() {
        assert_eq!(age_ms(2_000, 1_000), 0);
        assert_eq!(freshness(Some(2_000), 1_000, 5_000), Freshness::Fresh);
    }

    #[test]
    fn ages_read_like_a_person_says_them() {
        assert_eq!(format_age(999), "0 s");
        assert_eq!(format_age(59_999), "59 s");
        assert_eq!(format_age(60_000), "1 min");
        assert_eq!(format_age(3_600_000 + 5 * 60_000), "1 h 05 min");
        assert_eq!(format_age(3 * 86_400_000), "3 d");
    }
}
