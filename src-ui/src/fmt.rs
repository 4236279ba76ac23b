//! How numbers read on screen.

/// 1234567 → "1 234 567" (narrow no-break spaces, readable from across a room).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// Bytes in decimal units: "999 B", "1.5 MB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A duration in seconds as a person says it: "45 s", "12 min", "3 h 05 min".
pub fn secs(s: u64) -> String {
    switchyard_core::freshness::format_age(s.saturating_mul(1_000))
}

/// Time left as a countdown reads: "42 s", "1 min", "1 min 05 s", "2 h 03 min".
pub fn countdown(s: u64) -> String {
    match (s / 3_600, s % 3_600 / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// A time of day, `HH:MM:SS` UTC, from ms since the epoch (0 shows as "—").
pub fn clock(ms: u64) -> String {
    if ms == 0 {
        return "—".into();
    }
    let s = (ms / 1_000) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3_600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_sized() {
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(5_000), "5\u{202f}000");
        assert_eq!(thousands(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(secs(3_900), "1 h 05 min");
        assert_eq!(countdown(42), "42 s");
        assert_eq!(countdown(60), "1 min");
        assert_eq!(countdown(65), "1 min 05 s");
        assert_eq!(countdown(7_380), "2 h 03 min");
    }
}
