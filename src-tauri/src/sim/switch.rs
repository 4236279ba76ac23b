//! The simulated traffic switch: the three methods AWS has (the record UPSERT, the health-check
//! inversion, ARC's routing controls), what each depends on, and the one decision whether it
//! answers given the faults in force. The live source ([`super::SimSource`]) and the drill
//! runner ([`super::drill`]) both switch through [`SimFleet::switch_traffic`].
//!
//! Rules kept here:
//! - Route 53's control plane does not answer while a `route53_control_plane` fault is in
//!   force, or (when [`super::SimConfig::control_plane_follows_us_east_1`] is set) while
//!   us-east-1 is a simulated region in outage; the record and health-check switches need it;
//! - routing controls need one of [`ARC_ENDPOINT_REGIONS`]' five cluster endpoints; one whose
//!   region is a simulated region in outage does not answer; Route 53's control plane does not
//!   matter to them;
//! - a switch that does not answer changes nothing and says so ([`SwitchError::Unanswered`]);
//!   an unknown region is refused ([`SwitchError::Refused`]);
//! - pure: nothing here draws from the fleet's random sequence, so switching never reorders
//!   the seeded draws.

use super::{sim_endpoint, SimFleet};
use crate::ports::SwitchError;
use switchyard_core::fault::FaultKind;
use switchyard_core::switch::{
    Pointed, Probe, SwitchMethod, SwitchPath, ROUTE53_CONTROL_PLANE_REGION,
};
use switchyard_core::RegionId;

/// The regions of the simulated ARC cluster's five endpoints (as a real cluster has).
pub const ARC_ENDPOINT_REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "ap-southeast-2",
];

/// The name of the probe of Route 53's control plane.
pub const CONTROL_PLANE_PROBE: &str = "Route 53 control plane";

/// The simulated ARC cluster endpoint in `region`.
pub fn arc_endpoint(region: &str) -> String {
    format!("https://sim-arc.{region}.switchyard.internal")
}

/// What the switch depends on, now: for each part, `None` when it answers, else why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependencies {
    /// Route 53's control plane.
    pub control_plane: Option<String>,
    /// The ARC cluster's endpoints, by region, in [`ARC_ENDPOINT_REGIONS`]' order.
    pub endpoints: Vec<(&'static str, Option<String>)>,
}

/// What answers, from the faults in force: the regions in outage (simulated ones only) and
/// whether a `route53_control_plane` fault is in force.
pub fn dependencies(
    in_outage: &[&str],
    control_plane_fault: bool,
    control_plane_follows_us_east_1: bool,
) -> Dependencies {
    let down = |r: &str| in_outage.contains(&r);
    let control_plane = if control_plane_fault {
        Some(format!("a {} fault", FaultKind::Route53ControlPlane))
    } else if control_plane_follows_us_east_1 && down(ROUTE53_CONTROL_PLANE_REGION) {
        Some(format!("{ROUTE53_CONTROL_PLANE_REGION} is in outage"))
    } else {
        None
    };
    let endpoints = ARC_ENDPOINT_REGIONS
        .into_iter()
        .map(|r| (r, down(r).then(|| format!("{r} is in outage"))))
        .collect();
    Dependencies {
        control_plane,
        endpoints,
    }
}

/// The one decision: whether `method`'s switch answers, given what it depends on; `Ok` names
/// the ARC endpoint that answered (routing controls) or nothing (Route 53's control plane).
pub fn switch_answers(
    method: SwitchMethod,
    deps: &Dependencies,
) -> Result<Option<&'static str>, SwitchError> {
    if method.needs_route53_control_plane() {
        return match &deps.control_plane {
            None => Ok(None),
            Some(why) => Err(SwitchError::Unanswered(format!(
                "Route 53's control plane (served from {ROUTE53_CONTROL_PLANE_REGION}) does not \
                 answer (simulated: {why}); the {method} switch needs it, routing controls \
                 would not"
            ))),
        };
    }
    if let Some((r, _)) = deps.endpoints.iter().find(|(_, down)| down.is_none()) {
        return Ok(Some(r));
    }
    let silent: Vec<String> = deps
        .endpoints
        .iter()
        .map(|(r, why)| format!("{}: {}", arc_endpoint(r), why.as_deref().unwrap_or("")))
        .collect();
    Err(SwitchError::Unanswered(format!(
        "none of the {} ARC cluster endpoints answers (simulated): {}",
        deps.endpoints.len(),
        silent.join("; ")
    )))
}

fn probe(name: String, down: &Option<String>) -> Probe {
    Probe {
        name,
        answered: down.is_none(),
        detail: match down {
            None => "answered (simulated)".into(),
            Some(why) => format!("does not answer ({why}, simulated)"),
        },
    }
}

/// What `method`'s switch depends on and how it answers now, for a failover leaving `leaving`.
pub fn switch_path(method: SwitchMethod, leaving: &str, deps: &Dependencies) -> SwitchPath {
    let probes = if method.needs_route53_control_plane() {
        vec![probe(CONTROL_PLANE_PROBE.into(), &deps.control_plane)]
    } else {
        deps.endpoints
            .iter()
            .map(|(r, down)| {
                let mut p = probe(r.to_string(), down);
                p.detail = format!("{} {}", arc_endpoint(r), p.detail);
                p
            })
            .collect()
    };
    SwitchPath {
        method,
        leaving: leaving.to_string(),
        probes,
        problems: vec![],
        control_plane_region: None,
    }
}

/// The regions but `active`, joined.
fn others(regions: &[RegionId], active: &str) -> String {
    let o: Vec<&str> = regions
        .iter()
        .map(String::as_str)
        .filter(|r| *r != active)
        .collect();
    if o.is_empty() {
        "none".into()
    } else {
        o.join(", ")
    }
}

/// Each region's routing control, On for `active`.
fn controls(regions: &[RegionId], active: &str) -> String {
    regions
        .iter()
        .map(|r| format!("{r} {}", if r == active { "On" } else { "Off" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where `method`'s switch says the devices are pointed, in its own words.
pub fn pointed(method: SwitchMethod, regions: &[RegionId], active: &str) -> Pointed {
    let detail = match method {
        SwitchMethod::Record => format!(
            "the devices' domain points at {} (simulated DNS)",
            sim_endpoint(active)
        ),
        SwitchMethod::HealthCheck => format!(
            "health checks inverted: {}; {active}'s answers healthy (simulated)",
            others(regions, active)
        ),
        SwitchMethod::RoutingControl => {
            format!(
                "routing controls: {} (simulated)",
                controls(regions, active)
            )
        }
    };
    Pointed {
        region: Some(active.to_string()),
        detail,
    }
}

/// What a switch to `target` did, in `method`'s words (`through`: the ARC endpoint used).
fn switched(
    method: SwitchMethod,
    regions: &[RegionId],
    target: &str,
    through: Option<&str>,
) -> String {
    match method {
        SwitchMethod::Record => format!(
            "the devices' domain now points at {} (simulated DNS)",
            sim_endpoint(target)
        ),
        SwitchMethod::HealthCheck => format!(
            "inverted the health checks of {}; {target}'s answers healthy (simulated)",
            others(regions, target)
        ),
        SwitchMethod::RoutingControl => format!(
            "routing controls now {}, through {} (simulated)",
            controls(regions, target),
            arc_endpoint(through.unwrap_or_default())
        ),
    }
}

impl SimFleet {
    /// What the fleet's switch depends on, and what of it answers now.
    pub fn switch_dependencies(&self) -> Dependencies {
        let in_outage: Vec<&str> = (0..self.cfg.regions.len() as u8)
            .filter(|r| self.fault_in(*r) == Some(FaultKind::Outage))
            .map(|r| self.cfg.regions[r as usize].as_str())
            .collect();
        dependencies(
            &in_outage,
            self.control_plane_fault_in_force(),
            self.cfg.control_plane_follows_us_east_1,
        )
    }

    /// The fleet's switch path for a failover leaving `leaving`.
    pub fn switch_path(&self, leaving: &str) -> SwitchPath {
        switch_path(self.cfg.switch, leaving, &self.switch_dependencies())
    }

    /// Whether the devices' record can be read now (the record and health-check methods read it
    /// through Route 53's control plane; routing controls leave it alone).
    pub fn record_readable(&self) -> bool {
        !self.cfg.switch.needs_route53_control_plane()
            || self.switch_dependencies().control_plane.is_none()
    }

    /// Where the fleet's switch says the devices are pointed.
    pub fn pointed(&self) -> Pointed {
        pointed(self.cfg.switch, &self.cfg.regions, self.active_region())
    }

    /// A failover's switch: points the devices at `target` through the fleet's method when it
    /// answers; says what was done. A switch that does not answer changes nothing.
    pub fn switch_traffic(&mut self, target: &str) -> Result<String, SwitchError> {
        if self.region_index(target).is_none() {
            return Err(SwitchError::Refused(format!(
                "region {target} is not part of the simulated fleet"
            )));
        }
        let through = switch_answers(self.cfg.switch, &self.switch_dependencies())?;
        self.set_active(target).map_err(SwitchError::Refused)?;
        Ok(switched(
            self.cfg.switch,
            &self.cfg.regions,
            target,
            through,
        ))
    }
}

#[cfg(test)]
mod tests;
