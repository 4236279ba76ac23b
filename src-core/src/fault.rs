//! Faults that can be injected into the simulated fleet: an outage or a degradation of a region,
//! at an offset from the start, for a duration.
//!
//! Written on the command line as `REGION:KIND[@START][+DURATION]`, e.g. `eu-west-1:outage@30s+2m`
//! (start defaults to now, duration to "until cleared").

use crate::regions::is_valid_code;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The region's endpoints stop answering; every connection to it is lost.
    Outage,
    /// The region answers, but a share of connects and publishes fail.
    Degraded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub region: String,
    pub kind: FaultKind,
    /// Seconds after the simulation starts (or, through the API, after the request).
    #[serde(default)]
    pub start_secs: u64,
    /// How long it lasts; `None` means until cleared.
    #[serde(default)]
    pub duration_secs: Option<u64>,
}

impl FaultSpec {
    /// Whether the fault is in force `t_secs` after the start.
    pub fn active_at(&self, t_secs: u64) -> bool {
        t_secs >= self.start_secs
            && self
                .duration_secs
                .is_none_or(|d| t_secs < self.start_secs + d)
    }

    /// Checks what serde cannot: the region code's shape and a non-zero duration.
    pub fn validate(&self) -> Result<(), String> {
        if !is_valid_code(&self.region) {
            return Err(format!(
                "'{}' is not an AWS region code such as us-east-1",
                self.region
            ));
        }
        if self.duration_secs == Some(0) {
            return Err("a fault's duration must be more than 0 s".into());
        }
        Ok(())
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultKind::Outage => "outage",
            FaultKind::Degraded => "degraded",
        })
    }
}

/// Parses a duration such as `90`, `90s`, `2m`, `1h`.
pub fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3_600),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{s}' is not a duration such as 90s, 2m or 1h"))
}

impl std::str::FromStr for FaultSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let shape = "expected REGION:KIND[@START][+DURATION], e.g. eu-west-1:outage@30s+2m";
        let (region, rest) = s.split_once(':').ok_or_else(|| format!("'{s}': {shape}"))?;
        let (rest, duration) = match rest.split_once('+') {
            Some((r, d)) => (r, Some(parse_duration_secs(d)?)),
            None => (rest, None),
        };
        let (kind, start) = match rest.split_once('@') {
            Some((k, st)) => (k, parse_duration_secs(st)?),
            None => (rest, 0),
        };
        let kind = match kind {
            "outage" => FaultKind::Outage,
            "degraded" => FaultKind::Degraded,
            other => {
                return Err(format!(
                    "'{other}' is not a fault kind (outage or degraded)"
                ))
            }
        };
        let spec = FaultSpec {
            region: region.to_string(),
            kind,
            start_secs: start,
            duration_secs: duration,
        };
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_full_form() {
        let f: FaultSpec = "eu-west-1:outage@30s+2m".parse().unwrap();
        assert_eq!(
            f,
            FaultSpec {
                region: "eu-west-1".into(),
                kind: FaultKind::Outage,
                start_secs: 30,
                duration_secs: Some(120)
            }
        );
        assert!(!f.active_at(29));
        assert!(f.active_at(30));
        assert!(f.active_at(149));
        assert!(!f.active_at(150));
    }

    #[test]
    fn start_and_duration_are_optional() {
        let f: FaultSpec = "us-east-1:degraded".parse().unwrap();
        assert_eq!(f.start_secs, 0);
        assert_eq!(f.duration_secs, None);
        assert!(f.active_at(0) && f.active_at(u64::MAX));
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let e = |s: &str| s.parse::<FaultSpec>().unwrap_err();
        assert!(e("eu-west-1").contains("expected REGION:KIND"));
        assert!(e("eu-west-1:flood").contains("'flood' is not a fault kind"));
        assert!(e("Ireland:outage").contains("'Ireland' is not an AWS region code"));
        assert!(e("eu-west-1:outage+soon").contains("'soon' is not a duration"));
        assert!(e("eu-west-1:outage+0").contains("more than 0 s"));
    }
}
