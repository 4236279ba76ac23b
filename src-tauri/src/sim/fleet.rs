//! The pure model of the simulated fleet: its compact state, the controls a console uses on it
//! (switching the active region, making a device reconnect, scheduling and clearing faults)
//! and what a poll of a region sees. How a second passes is in `step.rs`; answering for single
//! devices is in `devices.rs`.
//!
//! Rules kept here:
//! - pure: no clock, no lock, no I/O; time moves only through [`SimFleet::step`], and
//!   `start_ms` only names the wall-clock time that t = 0 stands for;
//! - seeded and replayable: every random draw comes from the one `Rng` seeded by
//!   [`SimConfig::seed`], in a fixed order (tests assert exact figures: do not reorder draws);
//! - memory does not grow with the length of a run or an outage: one compact state per device
//!   and gateway, the last [`CHANGES_KEPT`] connectivity changes, and run-length encoded
//!   gateway buffers (`buffer.rs`);
//! - each device has a resolver cache (the region its cached answer points at and when it
//!   expires, [`SimConfig::dns_ttl_secs`] after it was resolved); the first expiries are drawn
//!   uniformly in [0, TTL) at construction, after the gateways' draws;
//! - a region in outage does not answer a poll; a poll resets that region's interval counters;
//! - a region that is not part of the fleet is refused by name ("... is not part of the
//!   simulated fleet");
//! - an injected fault counts from now; where faults overlap, an outage wins over a
//!   degradation;
//! - a `route53_control_plane` fault is not a region's fault ([`SimFleet::fault_in`] never
//!   names it): it stops the simulated switch's control plane (`switch.rs`) and nothing else,
//!   and may be injected whether or not us-east-1 is a simulated region.

use super::buffer::Buffer;
use super::SimConfig;
use crate::ports::SourceError;
use switchyard_core::rng::Rng;
use switchyard_core::{
    fault::{FaultKind, FaultSpec},
    Backlog, BacklogTotals, DisconnectReason, RegionObservation, UnixMs,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DeviceState {
    Online {
        region: u8,
        since_s: u64,
    },
    Offline {
        region: u8,
        since_s: u64,
        reason: DisconnectReason,
        retry_at_s: u64,
        attempt: u8,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Gateway {
    pub(super) connected: Option<u8>,
    /// Last region it forwarded to: its backlog counts there.
    pub(super) home: u8,
    pub(super) rate: u64,
    pub(super) msg_bytes: u64,
    pub(super) capacity: u64,
    pub(super) buffer: Buffer,
    pub(super) dropped: u64,
    pub(super) retry_at_s: u64,
    pub(super) attempt: u8,
}

/// A device's resolver cache: where its cached answer for the devices' domain points, and the
/// simulated second it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cached {
    pub(super) region: u8,
    pub(super) expires_s: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counters {
    pub(super) connect_attempts: u64,
    pub(super) connect_errors: u64,
    pub(super) publish_in: u64,
    pub(super) publish_errors: u64,
}

/// The model. Pure: time moves only through [`SimFleet::step`].
#[derive(Debug, Clone)]
pub struct SimFleet {
    pub(super) cfg: SimConfig,
    pub(super) rng: Rng,
    /// Seconds since the start.
    pub(super) t: u64,
    pub(super) start_ms: UnixMs,
    pub(super) active: u8,
    pub(super) devices: Vec<DeviceState>,
    /// Each device's resolver cache, by device.
    pub(super) resolver: Vec<Cached>,
    pub(super) gateways: Vec<Gateway>,
    /// Faults with start times absolute in simulated seconds.
    faults: Vec<FaultSpec>,
    /// Counters since each region was last observed.
    pub(super) counters: Vec<Counters>,
    /// The most recent connectivity changes, fleet-wide, oldest first.
    changes: std::collections::VecDeque<Change>,
    /// What the device channel delivered.
    pub deliveries: Deliveries,
}

/// The simulated device channel's tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    /// Publishes received by a connected device.
    pub received: u64,
    /// Publishes to a device that was not connected: nobody received them.
    pub lost: u64,
    /// Desired shadow documents written, by device.
    pub shadows: std::collections::HashMap<String, Vec<u8>>,
    /// The next this many publishes answer "throttled" (tests of the retries).
    pub throttle_next: u64,
    /// The next this many disconnections answer "throttled" (tests of the straggler step).
    pub throttle_disconnects_next: u64,
    /// Connections dropped through the connection control, by device: how many times and the
    /// simulated seconds of the first and the last (one entry per device at most).
    pub disconnects: std::collections::HashMap<u32, Disconnects>,
}

/// One device's connections dropped through the connection control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnects {
    pub count: u32,
    pub first_s: u64,
    pub last_s: u64,
}

/// A device went online or offline: what the console would see from lifecycle events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Change {
    pub(super) device: u32,
    pub(super) t: u64,
    pub(super) region: u8,
    /// `None`: connected; `Some(reason)`: disconnected.
    pub(super) reason: Option<DisconnectReason>,
}

/// How many recent changes the simulated fleet remembers (about 2.4 MB).
pub const CHANGES_KEPT: usize = 100_000;

impl SimFleet {
    /// Builds the fleet at t = 0, every device online in the active region. `start_ms` is the
    /// wall-clock time that t = 0 stands for.
    pub fn new(cfg: SimConfig, start_ms: UnixMs) -> Self {
        assert!(!cfg.regions.is_empty() && cfg.regions.len() <= u8::MAX as usize);
        let mut rng = Rng::new(cfg.seed);
        let devices = vec![
            DeviceState::Online {
                region: 0,
                since_s: 0
            };
            cfg.devices
        ];
        let gateways = (0..cfg.gateways)
            .map(|_| {
                let rate = rng.range(5, 50);
                Gateway {
                    connected: Some(0),
                    home: 0,
                    rate,
                    msg_bytes: rng.range(200, 2_000),
                    // Between two and thirty minutes of production.
                    capacity: rate * rng.range(120, 1_800),
                    buffer: Buffer::default(),
                    dropped: 0,
                    retry_at_s: 0,
                    attempt: 0,
                }
            })
            .collect();
        // After the gateways' draws, so that their sizes are what they were before resolvers.
        let ttl = cfg.dns_ttl_secs.max(1);
        let resolver = (0..cfg.devices)
            .map(|_| Cached {
                region: 0,
                expires_s: rng.range(0, ttl),
            })
            .collect();
        let counters = vec![Counters::default(); cfg.regions.len()];
        let faults = cfg.faults.clone();
        SimFleet {
            cfg,
            rng,
            t: 0,
            start_ms,
            active: 0,
            deliveries: Deliveries::default(),
            devices,
            resolver,
            gateways,
            faults,
            counters,
            changes: std::collections::VecDeque::new(),
        }
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    pub fn elapsed_secs(&self) -> u64 {
        self.t
    }

    pub fn now_ms(&self) -> UnixMs {
        self.start_ms + self.t * 1_000
    }

    pub fn active_region(&self) -> &str {
        &self.cfg.regions[self.active as usize]
    }

    pub(super) fn region_index(&self, region: &str) -> Option<u8> {
        self.cfg
            .regions
            .iter()
            .position(|r| r == region)
            .map(|i| i as u8)
    }

    /// Points the device domain at `region` (what a failover's traffic switch does).
    pub fn set_active(&mut self, region: &str) -> Result<(), String> {
        self.active = self
            .region_index(region)
            .ok_or_else(|| format!("region {region} is not part of the simulated fleet"))?;
        Ok(())
    }

    /// Where device `i` connects now: its cached answer while it holds, else where the switch
    /// points now, cached for the TTL. Draws nothing.
    pub(super) fn resolve(&mut self, i: usize) -> u8 {
        let (t, active, ttl) = (self.t, self.active, self.cfg.dns_ttl_secs.max(1));
        let c = &mut self.resolver[i];
        if c.expires_s <= t {
            *c = Cached {
                region: active,
                expires_s: t + ttl,
            };
        }
        c.region
    }

    /// Device `i`, if online, drops its connection (for `reason`) and tries again within one to
    /// five seconds (one draw); returns whether it was online.
    pub(super) fn reconnect_soon(&mut self, i: usize, reason: DisconnectReason) -> bool {
        let DeviceState::Online { region, .. } = self.devices[i] else {
            return false;
        };
        let retry_at_s = self.t + 1 + self.rng.range(0, 5);
        self.devices[i] = DeviceState::Offline {
            region,
            since_s: self.t,
            reason,
            retry_at_s,
            attempt: 0,
        };
        self.remember(i, region, Some(reason));
        true
    }

    /// Records that device `i` went online (`reason` `None`) or offline in `region` now,
    /// forgetting the oldest change once [`CHANGES_KEPT`] are kept.
    pub(super) fn remember(&mut self, i: usize, region: u8, reason: Option<DisconnectReason>) {
        if self.changes.len() == CHANGES_KEPT {
            self.changes.pop_front();
        }
        self.changes.push_back(Change {
            device: i as u32,
            t: self.t,
            region,
            reason,
        });
    }

    /// The recent connectivity changes, fleet-wide, oldest first.
    pub(super) fn changes(&self) -> &std::collections::VecDeque<Change> {
        &self.changes
    }

    /// Schedules a fault whose start counts from now.
    pub fn inject(&mut self, mut fault: FaultSpec) -> Result<(), String> {
        fault.validate()?;
        if fault.kind.is_regional() && self.region_index(&fault.region).is_none() {
            return Err(format!(
                "region {} is not part of the simulated fleet",
                fault.region
            ));
        }
        fault.start_secs += self.t;
        self.faults.push(fault);
        Ok(())
    }

    /// Ends all faults, in force or pending; returns how many there were.
    pub fn clear_faults(&mut self) -> usize {
        let n = self
            .faults
            .iter()
            .filter(|f| f.duration_secs.is_none_or(|d| f.start_secs + d > self.t))
            .count();
        self.faults.clear();
        n
    }

    /// The region's own fault in force now (an outage or a degradation), the worse one if
    /// several overlap.
    pub fn fault_in(&self, region: u8) -> Option<FaultKind> {
        let name = &self.cfg.regions[region as usize];
        self.faults
            .iter()
            .filter(|f| f.kind.is_regional() && &f.region == name && f.active_at(self.t))
            .map(|f| f.kind)
            .max_by_key(|k| matches!(k, FaultKind::Outage))
    }

    /// Whether a `route53_control_plane` fault is in force now.
    pub fn control_plane_fault_in_force(&self) -> bool {
        self.faults
            .iter()
            .any(|f| f.kind == FaultKind::Route53ControlPlane && f.active_at(self.t))
    }

    /// Backlog of one gateway now.
    fn backlog_of(&self, g: &Gateway) -> Backlog {
        Backlog {
            messages: g.buffer.len(),
            bytes: g.buffer.len() * g.msg_bytes,
            oldest_age_ms: g.buffer.oldest().map_or(0, |at| (self.t - at) * 1_000),
            dropped: g.dropped,
        }
    }

    /// What a poll of `region` sees now; resets that region's interval counters.
    pub fn observe(&mut self, region: &str) -> Result<RegionObservation, SourceError> {
        let r = self.region_index(region).ok_or_else(|| {
            SourceError(format!(
                "region {region} is not part of the simulated fleet"
            ))
        })?;
        if self.fault_in(r) == Some(FaultKind::Outage) {
            return Err(SourceError(format!(
                "{region} endpoints are not answering (simulated outage)"
            )));
        }
        let (mut online, mut offline) = (0, 0);
        for d in &self.devices {
            match *d {
                DeviceState::Online { region, .. } if region == r => online += 1,
                DeviceState::Offline { region, .. } if region == r => offline += 1,
                _ => {}
            }
        }
        let mut backlog = BacklogTotals::default();
        for g in self.gateways.iter().filter(|g| g.home == r) {
            backlog.add(&self.backlog_of(g));
        }
        let c = std::mem::take(&mut self.counters[r as usize]);
        let latency_ms = match self.fault_in(r) {
            Some(FaultKind::Degraded) => 2_500 + self.rng.range(0, 1_000),
            _ => 20 + self.rng.range(0, 40),
        };
        Ok(RegionObservation {
            region: region.to_string(),
            observed_at: self.now_ms(),
            online,
            offline,
            connect_attempts: c.connect_attempts,
            connect_errors: c.connect_errors,
            publish_in: c.publish_in,
            publish_errors: c.publish_errors,
            backlog,
            latency_ms,
            problems: Vec::new(),
        })
    }

    /// Each gateway's state now (for the edge views and tests).
    pub fn gateways(&self) -> Vec<switchyard_core::EdgeGateway> {
        self.gateways
            .iter()
            .enumerate()
            .map(|(i, g)| switchyard_core::EdgeGateway {
                id: format!("gw-{i:04}"),
                connected_region: g.connected.map(|r| self.cfg.regions[r as usize].clone()),
                backlog: self.backlog_of(g),
                capacity_messages: g.capacity,
            })
            .collect()
    }

    /// How many devices are online, in any region.
    pub fn online_total(&self) -> usize {
        self.devices
            .iter()
            .filter(|d| matches!(d, DeviceState::Online { .. }))
            .count()
    }

    /// How many devices are online in `region`.
    pub fn online_in(&self, region: &str) -> usize {
        let Some(r) = self.region_index(region) else {
            return 0;
        };
        self.devices
            .iter()
            .filter(|d| matches!(d, DeviceState::Online { region, .. } if *region == r))
            .count()
    }
}
