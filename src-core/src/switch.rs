//! The traffic switch, pure: the three ways a failover can move the devices, what each depends
//! on, the preflight's "switch path" check from what the adapters found when they asked, and
//! where the switch itself says the devices are pointed.
//!
//! Rules kept here:
//! - the record UPSERT and the health-check inversion are calls to Route 53's *control plane*,
//!   which AWS serves from us-east-1 only: the check warns when us-east-1 is unhealthy or is the
//!   region being left, and fails when the control plane did not answer;
//! - routing controls (ARC) are a *data plane* with one endpoint in each of five regions: the
//!   check passes when one of them answered, and fails when none did;
//! - a problem with the configuration itself (a routing control that does not exist, a region
//!   without one) fails the check whatever answered;
//! - the switch's state is the truth about where the devices go: [`Pointed`] is what it says.

use crate::{HealthStatus, RegionId};
use serde::{Deserialize, Serialize};

/// The region AWS serves Route 53's control plane from.
pub const ROUTE53_CONTROL_PLANE_REGION: &str = "us-east-1";

/// How a failover moves the devices' traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SwitchMethod {
    /// UPSERT the devices' CNAME to the target's data endpoint (Route 53 control plane).
    #[default]
    Record,
    /// Invert every other region's health check under failover records (Route 53 control
    /// plane).
    HealthCheck,
    /// Turn the target's ARC routing control On and the others Off (ARC data plane).
    RoutingControl,
}

impl SwitchMethod {
    pub const ALL: [SwitchMethod; 3] = [
        SwitchMethod::Record,
        SwitchMethod::HealthCheck,
        SwitchMethod::RoutingControl,
    ];

    /// The name used in the configuration and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchMethod::Record => "record",
            SwitchMethod::HealthCheck => "health_check",
            SwitchMethod::RoutingControl => "routing_control",
        }
    }

    /// The inverse of [`SwitchMethod::as_str`].
    pub fn parse(s: &str) -> Option<SwitchMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether switching needs Route 53's control plane (served from us-east-1 only).
    pub fn needs_route53_control_plane(self) -> bool {
        !matches!(self, SwitchMethod::RoutingControl)
    }
}

impl std::fmt::Display for SwitchMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the switch depends on, asked when the facts were gathered: Route 53's control
/// plane, or one ARC cluster endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SwitchProbe))]
pub struct Probe {
    /// What was asked: "Route 53 control plane", or an endpoint's region and URL.
    pub name: String,
    pub answered: bool,
    /// How long it took, or why it did not answer.
    pub detail: String,
}

/// What a failover's switch depends on, and how that answered when the facts were gathered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchPath {
    pub method: SwitchMethod,
    /// The region the devices would leave.
    pub leaving: RegionId,
    pub probes: Vec<Probe>,
    /// What is wrong with the switch's configuration, whatever answered (a routing control
    /// that does not exist, a region without one).
    #[serde(default)]
    pub problems: Vec<String>,
    /// us-east-1's health as the console sees it now, when it watches us-east-1; the engine's
    /// to fill in at each read.
    #[serde(default)]
    pub control_plane_region: Option<HealthStatus>,
}

/// Where the switch itself says the devices are pointed, read from it (the record's value,
/// the health checks' inversion, the routing controls' states).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pointed {
    /// The configured region the devices are sent to; `None` when the switch sends them to
    /// none of them, or to more than one.
    pub region: Option<RegionId>,
    /// What was read, in words ("routing controls: us-east-1 Off, us-west-2 On").
    pub detail: String,
}

/// What the console makes of a reading of the switch, given the region it believes active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The switch and the console agree.
    Agrees,
    /// The switch sends the devices to another region than the console believes: it was
    /// moved outside this console. The console takes the switch's word.
    MovedOutside {
        from: Option<RegionId>,
        to: RegionId,
        /// What to tell the operator (the alert, the audit log, the map).
        message: String,
    },
    /// The switch sends the devices to no configured region, or to more than one: nothing to
    /// follow, but worth saying.
    Unclear { message: String },
}

/// Compares the switch's word with the console's belief.
pub fn read(believed: Option<&str>, pointed: &Pointed) -> Reading {
    match &pointed.region {
        Some(r) if believed == Some(r.as_str()) => Reading::Agrees,
        Some(r) => Reading::MovedOutside {
            from: believed.map(str::to_string),
            to: r.clone(),
            message: format!(
                "device traffic was moved to {r} outside this console{}: {}",
                believed.map_or(String::new(), |b| format!(" (it had {b} active)")),
                pointed.detail
            ),
        },
        None => Reading::Unclear {
            message: format!(
                "the traffic switch sends the devices to no single configured region: {}",
                pointed.detail
            ),
        },
    }
}

/// The verdict and reasons of the "switch path" check.
pub fn path_verdict(p: &SwitchPath) -> (crate::failover::Verdict, Vec<String>) {
    use crate::failover::Verdict;
    let answered: Vec<&Probe> = p.probes.iter().filter(|x| x.answered).collect();
    let silent: Vec<String> = p
        .probes
        .iter()
        .filter(|x| !x.answered)
        .map(|x| format!("{}: {}", x.name, x.detail))
        .collect();
    let mut reasons = Vec::new();
    let mut verdict = match p.method {
        SwitchMethod::RoutingControl => {
            let n = p.probes.len();
            reasons.push(format!(
                "{}: needs one of {n} ARC cluster endpoint{}",
                p.method,
                if n == 1 { "" } else { "s" }
            ));
            if answered.is_empty() {
                reasons.push(format!("none answered ({})", silent.join("; ")));
                Verdict::Fail
            } else {
                reasons.push(format!(
                    "{} answered: {}",
                    answered.len(),
                    answered
                        .iter()
                        .map(|x| x.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                if !silent.is_empty() {
                    reasons.push(format!("not answering: {}", silent.join("; ")));
                }
                Verdict::Pass
            }
        }
        SwitchMethod::Record | SwitchMethod::HealthCheck => {
            reasons.push(format!(
                "{}: needs Route 53's control plane (served from {ROUTE53_CONTROL_PLANE_REGION})",
                p.method
            ));
            if !silent.is_empty() {
                reasons.push(format!(
                    "it does not answer: {}; routing controls (ARC) would not need it",
                    silent.join("; ")
                ));
                Verdict::Fail
            } else if p.leaving == ROUTE53_CONTROL_PLANE_REGION {
                reasons.push(format!(
                    "it answers now, but {ROUTE53_CONTROL_PLANE_REGION} is the region being left: \
                     the failure that takes it down may take the switch too"
                ));
                Verdict::Warn
            } else if matches!(
                p.control_plane_region,
                Some(HealthStatus::Unreachable | HealthStatus::Degraded)
            ) {
                reasons.push(format!(
                    "it answers now, but {ROUTE53_CONTROL_PLANE_REGION} is unhealthy"
                ));
                Verdict::Warn
            } else {
                reasons.push("it answers now".into());
                Verdict::Pass
            }
        }
    };
    if !p.problems.is_empty() {
        verdict = Verdict::Fail;
        reasons.extend(p.problems.iter().cloned());
    }
    (verdict, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::Verdict;

    fn probe(name: &str, answered: bool) -> Probe {
        Probe {
            name: name.into(),
            answered,
            detail: if answered {
                "12 ms"
            } else {
                "no answer within 1000 ms"
            }
            .into(),
        }
    }

    fn path(method: SwitchMethod, leaving: &str, probes: Vec<Probe>) -> SwitchPath {
        SwitchPath {
            method,
            leaving: leaving.into(),
            probes,
            problems: vec![],
            control_plane_region: Some(HealthStatus::Healthy),
        }
    }

    #[test]
    fn the_record_switch_warns_when_the_region_left_is_us_east_1() {
        let p = path(
            SwitchMethod::Record,
            "us-east-1",
            vec![probe("Route 53 control plane", true)],
        );
        let (v, reasons) = path_verdict(&p);
        assert_eq!(v, Verdict::Warn, "{reasons:?}");
        assert!(reasons[0].contains("served from us-east-1"), "{reasons:?}");
    }

    #[test]
    fn the_health_check_switch_warns_when_us_east_1_is_unhealthy_and_passes_when_it_is_not() {
        let mut p = path(
            SwitchMethod::HealthCheck,
            "eu-west-1",
            vec![probe("Route 53 control plane", true)],
        );
        assert_eq!(path_verdict(&p).0, Verdict::Pass);
        p.control_plane_region = Some(HealthStatus::Unreachable);
        assert_eq!(path_verdict(&p).0, Verdict::Warn);
    }

    #[test]
    fn a_control_plane_that_does_not_answer_fails_the_record_switch_naming_it() {
        let p = path(
            SwitchMethod::Record,
            "us-east-1",
            vec![probe("Route 53 control plane", false)],
        );
        let (v, reasons) = path_verdict(&p);
        assert_eq!(v, Verdict::Fail);
        assert!(
            reasons[1].contains("Route 53 control plane: no answer within 1000 ms"),
            "{reasons:?}"
        );
    }

    #[test]
    fn routing_controls_pass_with_one_endpoint_of_five_and_list_those_that_answered() {
        let mut probes: Vec<Probe> = (0..4).map(|i| probe(&format!("e{i}"), false)).collect();
        probes.push(probe("ap-southeast-2", true));
        let p = path(SwitchMethod::RoutingControl, "us-east-1", probes);
        let (v, reasons) = path_verdict(&p);
        assert_eq!(v, Verdict::Pass, "{reasons:?}");
        assert_eq!(
            reasons[0],
            "routing_control: needs one of 5 ARC cluster endpoints"
        );
        assert_eq!(reasons[1], "1 answered: ap-southeast-2");
        assert!(reasons[2].starts_with("not answering: e0:"), "{reasons:?}");
    }

    #[test]
    fn routing_controls_fail_when_no_endpoint_answers_or_a_control_is_missing() {
        let p = path(
            SwitchMethod::RoutingControl,
            "us-east-1",
            vec![probe("a", false), probe("b", false)],
        );
        assert_eq!(path_verdict(&p).0, Verdict::Fail);
        let mut p = path(
            SwitchMethod::RoutingControl,
            "us-east-1",
            vec![probe("a", true)],
        );
        p.problems
            .push("routing control arn:…/rc-x of us-west-2 does not exist".into());
        let (v, reasons) = path_verdict(&p);
        assert_eq!(v, Verdict::Fail);
        assert!(reasons.last().unwrap().contains("does not exist"));
    }

    #[test]
    fn a_switch_pointing_elsewhere_is_a_move_outside_the_console_in_words() {
        let p = Pointed {
            region: Some("eu-west-1".into()),
            detail: "routing controls: us-east-1 Off, eu-west-1 On".into(),
        };
        assert_eq!(read(Some("eu-west-1"), &p), Reading::Agrees);
        match read(Some("us-east-1"), &p) {
            Reading::MovedOutside { from, to, message } => {
                assert_eq!(
                    (from.as_deref(), to.as_str()),
                    (Some("us-east-1"), "eu-west-1")
                );
                assert_eq!(
                    message,
                    "device traffic was moved to eu-west-1 outside this console (it had us-east-1 \
                     active): routing controls: us-east-1 Off, eu-west-1 On"
                );
            }
            other => panic!("{other:?}"),
        }
        let none = Pointed {
            region: None,
            detail: "routing controls: us-east-1 On, eu-west-1 On".into(),
        };
        assert!(matches!(
            read(Some("us-east-1"), &none),
            Reading::Unclear { .. }
        ));
    }

    #[test]
    fn every_switch_method_reads_back_from_its_name() {
        for m in SwitchMethod::ALL {
            assert_eq!(SwitchMethod::parse(m.as_str()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
    }
}
