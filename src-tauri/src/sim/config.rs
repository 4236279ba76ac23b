//! The simulated fleet's configuration: its seed, its regions, its sizes and its scheduled
//! faults, with the defaults written once here.
//!
//! Rules kept here:
//! - the configuration is the whole input of a run: the same `SimConfig` (seed included) and
//!   the same calls give the same fleet, second by second;
//! - the first region is the active one at start;
//! - faults listed here count from the start of the simulation (t = 0).

use switchyard_core::{fault::FaultSpec, RegionId};

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
        }
    }
}
