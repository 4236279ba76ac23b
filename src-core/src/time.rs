//! Times as people read them: always UTC, with the zone said, never raw milliseconds.
//!
//! Rules kept here:
//! - every time shown or printed says "UTC" (the local time is only ever a hover hint);
//! - the calendar is the proleptic Gregorian one, computed here (no clock is read).

use crate::UnixMs;

/// The civil date (year, month 1–12, day 1–31) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil, written from its description.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The civil date and time of day (hours, minutes, seconds) of `at`, in UTC.
fn civil_time(at: UnixMs) -> ((i64, u32, u32), (i64, i64, i64)) {
    let secs = (at / 1_000) as i64;
    let s = secs.rem_euclid(86_400);
    (
        civil(secs.div_euclid(86_400)),
        (s / 3_600, s % 3_600 / 60, s % 60),
    )
}

/// "2026-12-01 14:02:31 UTC".
pub fn utc_datetime(at: UnixMs) -> String {
    let ((y, m, d), (h, mi, s)) = civil_time(at);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// "2026-12-01T14:02:31.123Z": RFC 3339 in UTC, for machines (Alertmanager's `startsAt`).
pub fn rfc3339(at: UnixMs) -> String {
    let ((y, m, d), (h, mi, s)) = civil_time(at);
    format!(
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        at % 1_000
    )
}

/// "14:02 UTC": for a time within the day being watched.
pub fn utc_hm(at: UnixMs) -> String {
    let s = (at / 1_000) % 86_400;
    format!("{:02}:{:02} UTC", s / 3_600, s % 3_600 / 60)
}

/// A duration as a person says it: "45 s", "12 min 05 s", "2 h 03 min".
pub fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3_599 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3_600, s % 3_600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_and_a_leap_day_read_as_their_dates() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00 UTC");
        // 2024-02-29 12:34:56 UTC
        assert_eq!(utc_datetime(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
        // 2026-12-01 19:18:06 UTC
        assert_eq!(utc_datetime(1_796_152_686_000), "2026-12-01 19:18:06 UTC");
    }

    #[test]
    fn rfc3339_keeps_the_milliseconds_and_says_zulu() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_152_686_042), "2026-12-01T19:18:06.042Z");
    }

    #[test]
    fn a_time_of_day_keeps_hours_and_minutes_and_says_utc() {
        assert_eq!(utc_hm(1_796_152_686_000), "19:18 UTC");
    }

    #[test]
    fn durations_read_like_a_person_says_them() {
        assert_eq!(duration(45_400), "45 s");
        assert_eq!(duration(725_000), "12 min 05 s");
        assert_eq!(duration(7_380_000), "2 h 03 min");
    }
}
