//! Faults that can be injected into the simulated fleet: an outage or a degradation of a region,
//! or Route 53's control plane not answering, at an offset from the start, for a duration.
//!
//! Written on the command line as `REGION:KIND[@START][+DURATION]`, e.g. `eu-west-1:outage@30s+2m`
//! or `us-east-1:route53_control_plane+10m` (start defaults to now, duration to "until
//! cleared").
//!
//! Rules kept here:
//! - every kind has one name, used by the command line, the configuration, serde and display
//!   alike ([`FaultKind::ALL`], [`FaultKind::as_str`], [`FaultKind::parse`]);
//! - a `route53_control_plane` fault is in us-east-1, the region AWS serves Route 53's control
//!   plane from, and nowhere else;
//! - a fault lasts more than 0 s, and its region is written as an AWS region code.

use crate::regions::is_valid_code;
use crate::switch::ROUTE53_CONTROL_PLANE_REGION;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The region's endpoints stop answering; every connection to it is lost.
    Outage,
    /// The region answers, but a share of connects and publishes fail.
    Degraded,
    /// Route 53's control plane (served from us-east-1 only) does not answer: the devices'
    /// record cannot be changed nor health checks inverted; DNS itself still answers, and so
    /// do ARC's routing controls.
    Route53ControlPlane,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [
        FaultKind::Outage,
        FaultKind::Degraded,
        FaultKind::Route53ControlPlane,
    ];

    /// The name used on the command line, in the configuration and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Outage => "outage",
            FaultKind::Degraded => "degraded",
            FaultKind::Route53ControlPlane => "route53_control_plane",
        }
    }

    /// The inverse of [`FaultKind::as_str`].
    pub fn parse(s: &str) -> Option<FaultKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the fault is of the region's own endpoints (an outage or a degradation), rather
    /// than of a service the region serves to all of them (Route 53's control plane).
    pub fn is_regional(self) -> bool {
        !matches!(self, FaultKind::Route53ControlPlane)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaultSpec {
    /// A region code; Route 53's control plane fails in us-east-1 only.
    #[cfg_attr(feature = "openapi", schema(format = "aws-region"))]
    pub region: String,
    pub kind: FaultKind,
    /// Seconds after the simulation starts (or, through the API, after the request).
    #[serde(default)]
    pub start_secs: u64,
    /// How long it lasts; `None` means until cleared.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
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

    /// Checks what serde cannot: the region code's shape, the control plane's region and a
    /// non-zero duration.
    pub fn validate(&self) -> Result<(), String> {
        if !is_valid_code(&self.region) {
            return Err(format!(
                "'{}' is not an AWS region code such as us-east-1",
                self.region
            ));
        }
        if self.kind == FaultKind::Route53ControlPlane
            && self.region != ROUTE53_CONTROL_PLANE_REGION
        {
            return Err(format!(
                "{}:{}: Route 53's control plane is served from {r} only; write \
                 {r}:{}",
                self.region,
                self.kind,
                self.kind,
                r = ROUTE53_CONTROL_PLANE_REGION
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
        f.write_str(self.as_str())
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
        let kind = FaultKind::parse(kind).ok_or_else(|| {
            format!("'{kind}' is not a fault kind (outage, degraded or route53_control_plane)")
        })?;
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

    #[test]
    fn every_fault_kind_reads_back_from_its_name_on_the_command_line_and_in_json() {
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<FaultKind>(&json).unwrap(), kind);
            let spec: FaultSpec = format!("us-east-1:{kind}@1m+2m").parse().unwrap();
            assert_eq!((spec.kind, spec.start_secs), (kind, 60));
        }
    }

    #[test]
    fn route53s_control_plane_fails_in_us_east_1_with_a_start_and_a_duration() {
        let f: FaultSpec = "us-east-1:route53_control_plane@30s+10m".parse().unwrap();
        assert_eq!(
            f,
            FaultSpec {
                region: "us-east-1".into(),
                kind: FaultKind::Route53ControlPlane,
                start_secs: 30,
                duration_secs: Some(600)
            }
        );
        assert!(!f.kind.is_regional());
        assert!(FaultKind::Outage.is_regional() && FaultKind::Degraded.is_regional());
    }

    #[test]
    fn a_route53_control_plane_fault_outside_us_east_1_is_refused_saying_where_it_is_served() {
        let e = "eu-west-1:route53_control_plane"
            .parse::<FaultSpec>()
            .unwrap_err();
        assert!(
            e.contains("Route 53's control plane is served from us-east-1 only"),
            "{e}"
        );
        assert!(e.contains("write us-east-1:route53_control_plane"), "{e}");
        let through_the_api = FaultSpec {
            region: "ap-southeast-2".into(),
            kind: FaultKind::Route53ControlPlane,
            start_secs: 0,
            duration_secs: None,
        };
        assert!(through_the_api.validate().is_err());
    }
}
