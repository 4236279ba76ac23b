//! Time series as charts draw them: where a line may run, and where it must break because
//! data is missing.
//!
//! Rules kept here:
//! - a gap between two consecutive samples longer than `max_gap` breaks the line: the chart
//!   never draws a straight line across an outage;
//! - every sample belongs to exactly one segment, in order; a lone sample is a segment of one.

use std::ops::Range;

/// The runs of `times` (oldest first) in which no two consecutive samples are more than
/// `max_gap` apart, as index ranges into `times`.
pub fn segments(times: &[u64], max_gap: u64) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..times.len() {
        if times[i].saturating_sub(times[i - 1]) > max_gap {
            out.push(start..i);
            start = i;
        }
    }
    if !times.is_empty() {
        out.push(start..times.len());
    }
    out
}

/// The largest gap a chart of samples taken every `poll_interval_ms` bridges: three intervals
/// (one late poll, or two, is not an outage).
pub fn max_gap(poll_interval_ms: u64) -> u64 {
    poll_interval_ms.max(1).saturating_mul(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_samples_make_one_line() {
        assert_eq!(segments(&[0, 5, 10, 15], 15), vec![0..4]);
    }

    #[test]
    fn a_gap_longer_than_the_limit_breaks_the_line_there() {
        // An outage between 10 and 40: two runs, nothing drawn across it.
        let times = [0, 5, 10, 40, 45];
        assert_eq!(segments(&times, 15), vec![0..3, 3..5]);
        // A gap of exactly the limit is bridged.
        assert_eq!(segments(&[0, 15, 30], 15), vec![0..3]);
    }

    #[test]
    fn lone_samples_and_no_samples_are_kept_as_they_are() {
        assert_eq!(segments(&[], 15), Vec::<Range<usize>>::new());
        assert_eq!(segments(&[7], 15), vec![0..1]);
        assert_eq!(segments(&[0, 100, 200], 15), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn three_poll_intervals_are_bridged_and_no_interval_is_zero() {
        assert_eq!(max_gap(5_000), 15_000);
        assert_eq!(max_gap(0), 3);
    }
}
