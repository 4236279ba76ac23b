//! The simulated fleet's configuration: its seed, its regions, its sizes, its scheduled faults
//! and its traffic switch, with the defaults written once here.
//!
//! Rules kept here:
//! - the configuration is the whole input of a run: the same `SimConfig` (seed included) and
//!   the same calls give the same fleet, second by second;
//! - the first region is the active one at start;
//! - faults listed here count from the start of the simulation (t = 0);
//! - by default the switch is the record UPSERT, and an outage of us-east-1 leaves Route 53's
//!   control plane answering (only a `route53_control_plane` fault stops it), as before the
//!   switch methods were simulated.

use switchyard_core::{fault::FaultSpec, switch::SwitchMethod, RegionId};

/// Sizes and seed of a simulated fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    /// Region codes; the first is active at start.
    pub regions: Vec<RegionId>,
    pub devices: usize,
    pub gateways: usize,
    /// Faults on the timeline, counted from the start of the simulation.
    pub faults: Vec<FaultSpec>,
    /// How a failover moves the devices (what the simulated switch stands for).
    pub switch: SwitchMethod,
    /// When set (the default), an outage of us-east-1 (a simulated region) also takes Route
    /// 53's control plane down, as it may in a real one.
    pub control_plane_follows_us_east_1: bool,
    /// The devices' record's TTL: a device re-resolves the domain (and learns of a switch)
    /// only once its resolver's cached answer is this old.
    pub dns_ttl_secs: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            regions: vec![
                "us-east-1".into(),
                "eu-west-1".into(),
                "ap-southeast-2".into(),
            ],
            devices: 5_000,
            gateways: 40,
            faults: vec![],
            // The recommended method: with `record` every failover away from us-east-1 (the
            // default active region) warns, as Route 53's control plane is served from there.
            switch: SwitchMethod::RoutingControl,
            control_plane_follows_us_east_1: true,
            dns_ttl_secs: 60,
        }
    }
}
