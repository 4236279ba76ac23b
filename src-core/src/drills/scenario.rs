//! The scenario an operator runs: what fails, when, who fails over, and the checks serde
//! cannot make.
//!
//! Rules kept here: every refusal names the field it is about; a scenario stays within
//! [`MAX_DURATION_SECS`] and the simulated fleet's bounds; failback is scripted only when the
//! failover is; Route 53's control plane fails in us-east-1 only; a switch method is chosen
//! only for a simulated drill (a live one uses the console's own).

use crate::switch::{SwitchMethod, ROUTE53_CONTROL_PLANE_REGION};
use crate::RegionId;
use serde::{Deserialize, Serialize};

/// How a drill runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrillMode {
    /// On a seeded copy of the simulated fleet of its own, stepped second by second as fast as
    /// it computes: the same health rules, recommendation and failover steps as the console,
    /// in simulated time. Repeatable: the same scenario gives the same report.
    Simulated,
    /// On the running console, in real time: the outage is injected into the live simulated
    /// fleet (or, on AWS, there is none: a practice failover and failback), and the failover is
    /// the console's own, with every guard.
    Live,
}

/// Who fails over (and back) during a drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The scenario does it, `decide_secs` after the recommendation (or after the start when
    /// there is no outage).
    Script,
    /// An operator does it with the failover button; the drill records when.
    Operator,
}

/// An outage, a degradation or Route 53's control plane failing, as the scenario injects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScenarioFault {
    /// The region that fails; by default the region active when the drill starts.
    #[serde(default)]
    pub region: Option<RegionId>,
    /// Seconds after the drill starts.
    #[serde(default)]
    pub at_secs: u64,
    pub duration_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScenarioFailover {
    pub by: DecidedBy,
    /// Where to; by default the console's recommendation (or the first standby).
    #[serde(default)]
    pub target: Option<RegionId>,
    /// With `by = "script"`: seconds from the recommendation (or the start, without an outage)
    /// to the confirmation, standing for the operator's decision.
    #[serde(default = "default_decide_secs")]
    pub decide_secs: u64,
}

fn default_decide_secs() -> u64 {
    30
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScenarioFailback {
    /// With a scripted failover: seconds from the end of the outage (or from the failover's
    /// end, without an outage) to the failback. With an operator, they fail back themselves.
    pub after_secs: u64,
}

/// Objectives given with one drill, replacing the configured ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObjectiveOverrides {
    pub rto_secs: Option<u64>,
    pub rpo_messages: Option<u64>,
    pub max_backlog: Option<u64>,
}

/// What a drill does. Read from a TOML file (`switchyard drill run --scenario FILE`) or a JSON
/// body (`POST /api/v1/drills`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// 1 to 120 characters, not only spaces.
    #[cfg_attr(feature = "openapi", schema(max_length = 120, pattern = "\\S"))]
    pub name: String,
    #[serde(default = "default_mode")]
    pub mode: DrillMode,
    /// Simulated drills: the fleet's seed and size.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated drills: 1 to 200,000.
    #[serde(default = "default_devices")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 200_000))]
    pub devices: usize,
    /// Simulated drills: at most 5,000.
    #[serde(default = "default_gateways")]
    #[cfg_attr(feature = "openapi", schema(maximum = 5_000))]
    pub gateways: usize,
    /// The drill ends this long after it starts, whatever has happened.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 21_600))]
    pub duration_secs: u64,
    #[serde(default)]
    pub outage: Option<ScenarioFault>,
    #[serde(default)]
    pub degradation: Option<ScenarioFault>,
    /// Route 53's control plane does not answer (its region, when given, must be us-east-1):
    /// the record and health-check switches fail, routing controls do not.
    #[serde(default)]
    pub route53_control_plane: Option<ScenarioFault>,
    /// Simulated drills: how the drill's failover moves the devices (by default `record`). A
    /// live drill fails over with the console's own switch.
    #[serde(default)]
    pub switch: Option<SwitchMethod>,
    pub failover: ScenarioFailover,
    #[serde(default)]
    pub failback: Option<ScenarioFailback>,
    #[serde(default)]
    pub objectives: ObjectiveOverrides,
}

fn default_mode() -> DrillMode {
    DrillMode::Simulated
}
fn default_seed() -> u64 {
    1
}
fn default_devices() -> usize {
    2_000
}
fn default_gateways() -> usize {
    20
}

/// Upper bounds a scenario must keep.
pub const MAX_DURATION_SECS: u64 = 6 * 3_600;
pub const MAX_SIM_DEVICES: usize = 200_000;
pub const MAX_SIM_GATEWAYS: usize = 5_000;

impl Scenario {
    /// Checks what serde cannot; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > 120 {
            return Err("name: must be 1 to 120 characters".into());
        }
        if !(1..=MAX_DURATION_SECS).contains(&self.duration_secs) {
            return Err(format!(
                "duration_secs: must be between 1 and {MAX_DURATION_SECS}, not {}",
                self.duration_secs
            ));
        }
        if self.mode == DrillMode::Simulated {
            if !(1..=MAX_SIM_DEVICES).contains(&self.devices) {
                return Err(format!(
                    "devices: must be between 1 and {MAX_SIM_DEVICES}, not {}",
                    self.devices
                ));
            }
            if self.gateways > MAX_SIM_GATEWAYS {
                return Err(format!(
                    "gateways: must be at most {MAX_SIM_GATEWAYS}, not {}",
                    self.gateways
                ));
            }
        }
        if let Some(r) = self
            .route53_control_plane
            .as_ref()
            .and_then(|f| f.region.as_ref())
            .filter(|r| *r != ROUTE53_CONTROL_PLANE_REGION)
        {
            return Err(format!(
                "route53_control_plane.region: Route 53's control plane is served from \
                 {ROUTE53_CONTROL_PLANE_REGION} only, not {r}; leave the region out"
            ));
        }
        if self.switch.is_some() && self.mode == DrillMode::Live {
            return Err(
                "switch: a live drill fails over with the console's own switch; leave it out"
                    .into(),
            );
        }
        for (field, fault) in [
            ("outage", &self.outage),
            ("degradation", &self.degradation),
            ("route53_control_plane", &self.route53_control_plane),
        ] {
            let Some(f) = fault else { continue };
            if let Some(r) = &f.region {
                if !crate::regions::is_valid_code(r) {
                    return Err(format!(
                        "{field}.region: '{r}' is not an AWS region code such as us-east-1"
                    ));
                }
            }
            if f.duration_secs == 0 {
                return Err(format!("{field}.duration_secs: must be more than 0"));
            }
            if f.at_secs >= self.duration_secs {
                return Err(format!(
                    "{field}.at_secs: {} is not before the drill's end ({} s)",
                    f.at_secs, self.duration_secs
                ));
            }
        }
        if let Some(t) = &self.failover.target {
            if !crate::regions::is_valid_code(t) {
                return Err(format!(
                    "failover.target: '{t}' is not an AWS region code such as us-east-1"
                ));
            }
        }
        if self.failback.is_some() && self.failover.by == DecidedBy::Operator {
            return Err(
                "failback: with failover.by = \"operator\" the operator fails back; leave it out"
                    .into(),
            );
        }
        let o = &self.objectives;
        if o.rto_secs == Some(0) {
            return Err("objectives.rto_secs: must be more than 0".into());
        }
        if o.max_backlog == Some(0) {
            return Err("objectives.max_backlog: must be more than 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_checked_field_by_field() {
        let base: Scenario = serde_json::from_value(serde_json::json!({
            "name": "eu outage",
            "duration_secs": 300,
            "outage": {"at_secs": 10, "duration_secs": 60},
            "failover": {"by": "script"},
            "failback": {"after_secs": 30}
        }))
        .unwrap();
        assert_eq!(base.check(), Ok(()));
        assert_eq!(base.mode, DrillMode::Simulated);
        assert_eq!(base.failover.decide_secs, 30);
        let bad = |f: &dyn Fn(&mut Scenario), field: &str| {
            let mut s = base.clone();
            f(&mut s);
            let e = s.check().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        };
        bad(&|s| s.name = " ".into(), "name");
        bad(&|s| s.duration_secs = 0, "duration_secs");
        bad(&|s| s.devices = 0, "devices");
        bad(
            &|s| s.outage.as_mut().unwrap().at_secs = 300,
            "outage.at_secs",
        );
        bad(
            &|s| s.outage.as_mut().unwrap().region = Some("Mars".into()),
            "outage.region",
        );
        bad(&|s| s.failover.by = DecidedBy::Operator, "failback");
        bad(&|s| s.objectives.rto_secs = Some(0), "objectives.rto_secs");
        bad(
            &|s| {
                s.route53_control_plane = Some(ScenarioFault {
                    region: Some("eu-west-1".into()),
                    at_secs: 0,
                    duration_secs: 60,
                })
            },
            "route53_control_plane.region",
        );
        bad(
            &|s| {
                s.route53_control_plane = Some(ScenarioFault {
                    region: None,
                    at_secs: 0,
                    duration_secs: 0,
                })
            },
            "route53_control_plane.duration_secs",
        );
        bad(
            &|s| {
                s.mode = DrillMode::Live;
                s.switch = Some(SwitchMethod::RoutingControl);
            },
            "switch",
        );
        let unknown = serde_json::from_value::<Scenario>(serde_json::json!({
            "name": "x", "duration_secs": 1, "failover": {"by": "script"}, "colour": 1
        }));
        assert!(unknown.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn a_scenario_can_fail_route53s_control_plane_and_choose_the_routing_controls() {
        let sc: Scenario = serde_json::from_value(serde_json::json!({
            "name": "us-east-1 and its control plane",
            "duration_secs": 300,
            "outage": {"at_secs": 10, "duration_secs": 200},
            "route53_control_plane": {"at_secs": 10, "duration_secs": 200},
            "switch": "routing_control",
            "failover": {"by": "script"}
        }))
        .unwrap();
        assert_eq!(sc.check(), Ok(()));
        assert_eq!(sc.switch, Some(SwitchMethod::RoutingControl));
        assert_eq!(sc.route53_control_plane.unwrap().duration_secs, 200);
    }
}
