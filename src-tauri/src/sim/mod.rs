//! The simulated fleet: the default source when no AWS configuration is given, and the lab for
//! drills and training.
//!
//! A discrete-time model, stepped one simulated second at a time, seeded so that a run replays
//! exactly:
//! - devices connect to the active region; a lost connection is retried with exponential
//!   backoff and full jitter; devices left on a region that is no longer active move over as
//!   their connections recycle;
//! - an edge gateway forwards its messages while connected, buffers them while not, drains the
//!   buffer at a multiple of its production rate once back, and drops new messages while full;
//! - faults (outage, degradation) are scheduled on a timeline.
//!
//! [`SimFleet`] is the pure model; [`SimSource`] shares it with the engine as a
//! [`FleetSource`] and a [`FaultInjector`], and [`SimSource::run_clock`] steps it in real time.

mod buffer;
pub mod drill;

use crate::ports::{
    BoxFuture, DeviceListing, EdgeObservation, FaultInjector, FleetSource, SourceError,
    TrafficSwitch,
};
use buffer::Buffer;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::rng::Rng;
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    failover::{ReadinessFacts, TopicRule},
    fault::{FaultKind, FaultSpec},
    Backlog, BacklogTotals, Connectivity, ConnectivityChange, Device, DisconnectReason, RegionId,
    RegionObservation, RegionRole, SourceKind, UnixMs,
};

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

// Behaviour constants, per simulated second.
/// Chance that a healthy connection drops by itself (keep-alive timeouts, client restarts).
const CHURN: f64 = 0.000_2;
/// Chance that a device still on a non-active region recycles its connection (DNS TTL).
const FOLLOW_ACTIVE: f64 = 0.05;
/// Under degradation: chance a connection drops, and share of connects and publishes that fail.
const DEGRADED_DROP: f64 = 0.01;
const DEGRADED_FAIL: f64 = 0.3;
/// Each device publishes once every this many seconds.
const DEVICE_PUBLISH_EVERY_S: u64 = 10;
/// Reconnect backoff: base and cap, in seconds.
const BACKOFF_BASE_S: u64 = 1;
const BACKOFF_CAP_S: u64 = 60;
/// A gateway drains its buffer at this multiple of its production rate.
const DRAIN_FACTOR: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum DeviceState {
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
struct Gateway {
    connected: Option<u8>,
    /// Last region it forwarded to: its backlog counts there.
    home: u8,
    rate: u64,
    msg_bytes: u64,
    capacity: u64,
    buffer: Buffer,
    dropped: u64,
    retry_at_s: u64,
    attempt: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    connect_attempts: u64,
    connect_errors: u64,
    publish_in: u64,
    publish_errors: u64,
}

/// The model. Pure: time moves only through [`SimFleet::step`].
#[derive(Debug, Clone)]
pub struct SimFleet {
    cfg: SimConfig,
    rng: Rng,
    /// Seconds since the start.
    t: u64,
    start_ms: UnixMs,
    active: u8,
    devices: Vec<DeviceState>,
    gateways: Vec<Gateway>,
    /// Faults with start times absolute in simulated seconds.
    faults: Vec<FaultSpec>,
    /// Counters since each region was last observed.
    counters: Vec<Counters>,
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
}

/// A device went online or offline: what the console would see from lifecycle events.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Change {
    device: u32,
    t: u64,
    region: u8,
    /// `None`: connected; `Some(reason)`: disconnected.
    reason: Option<DisconnectReason>,
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

    fn region_index(&self, region: &str) -> Option<u8> {
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

    /// What a "reconnect" command does: every device online in `from` disconnects and connects
    /// again within a few seconds (to the active region). Returns how many were told.
    pub fn tell_reconnect(&mut self, from: &str) -> Result<usize, String> {
        let from = self
            .region_index(from)
            .ok_or_else(|| format!("region {from} is not part of the simulated fleet"))?;
        let mut told = 0;
        for i in 0..self.devices.len() {
            if let DeviceState::Online { region, .. } = self.devices[i] {
                if region != from {
                    continue;
                }
                let retry_at_s = self.t + 1 + self.rng.range(0, 5);
                self.devices[i] = DeviceState::Offline {
                    region,
                    since_s: self.t,
                    reason: DisconnectReason::ClientInitiatedDisconnect,
                    retry_at_s,
                    attempt: 0,
                };
                if self.changes.len() == CHANGES_KEPT {
                    self.changes.pop_front();
                }
                self.changes.push_back(Change {
                    device: i as u32,
                    t: self.t,
                    region,
                    reason: Some(DisconnectReason::ClientInitiatedDisconnect),
                });
                told += 1;
            }
        }
        Ok(told)
    }

    /// Schedules a fault whose start counts from now.
    pub fn inject(&mut self, mut fault: FaultSpec) -> Result<(), String> {
        fault.validate()?;
        if self.region_index(&fault.region).is_none() {
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

    /// The fault in force in a region now, the worse one if several overlap.
    pub fn fault_in(&self, region: u8) -> Option<FaultKind> {
        let name = &self.cfg.regions[region as usize];
        self.faults
            .iter()
            .filter(|f| &f.region == name && f.active_at(self.t))
            .map(|f| f.kind)
            .max_by_key(|k| matches!(k, FaultKind::Outage))
    }

    fn backoff(&mut self, attempt: u8) -> u64 {
        let ceiling = (BACKOFF_BASE_S << attempt.min(16)).min(BACKOFF_CAP_S);
        // Full jitter, but at least one second.
        1 + self.rng.range(0, ceiling.max(1))
    }

    /// Tries to connect to the active region; returns the new state.
    fn try_connect(&mut self, from_region: u8, attempt: u8, since_s: u64) -> DeviceState {
        let target = self.active;
        let fault = self.fault_in(target);
        self.counters[target as usize].connect_attempts += 1;
        let ok = match fault {
            Some(FaultKind::Outage) => false,
            Some(FaultKind::Degraded) => !self.rng.chance(DEGRADED_FAIL),
            None => true,
        };
        if ok {
            DeviceState::Online {
                region: target,
                since_s: self.t,
            }
        } else {
            self.counters[target as usize].connect_errors += 1;
            let attempt = attempt.saturating_add(1);
            let retry_at_s = self.t + self.backoff(attempt);
            let reason = match fault {
                Some(FaultKind::Degraded) => DisconnectReason::ServerError,
                _ => DisconnectReason::ConnectionLost,
            };
            DeviceState::Offline {
                region: from_region,
                since_s,
                reason,
                retry_at_s,
                attempt,
            }
        }
    }

    /// Advances the simulation by one second.
    pub fn step(&mut self) {
        self.t += 1;
        let faults: Vec<Option<FaultKind>> = (0..self.cfg.regions.len() as u8)
            .map(|r| self.fault_in(r))
            .collect();
        for i in 0..self.devices.len() {
            let next = match self.devices[i] {
                DeviceState::Online { region, since_s } => {
                    let drop = match faults[region as usize] {
                        Some(FaultKind::Outage) => Some(DisconnectReason::ConnectionLost),
                        Some(FaultKind::Degraded) if self.rng.chance(DEGRADED_DROP) => {
                            Some(DisconnectReason::ServerInitiatedDisconnect)
                        }
                        _ if region != self.active && self.rng.chance(FOLLOW_ACTIVE) => {
                            Some(DisconnectReason::ClientInitiatedDisconnect)
                        }
                        _ if self.rng.chance(CHURN) => Some(DisconnectReason::MqttKeepAliveTimeout),
                        _ => None,
                    };
                    match drop {
                        Some(reason) => {
                            let retry_at_s = self.t + self.backoff(0);
                            DeviceState::Offline {
                                region,
                                since_s: self.t,
                                reason,
                                retry_at_s,
                                attempt: 0,
                            }
                        }
                        None => {
                            if (i as u64 + self.t) % DEVICE_PUBLISH_EVERY_S == 0 {
                                let c = &mut self.counters[region as usize];
                                c.publish_in += 1;
                                if faults[region as usize] == Some(FaultKind::Degraded)
                                    && self.rng.chance(DEGRADED_FAIL)
                                {
                                    self.counters[region as usize].publish_errors += 1;
                                }
                            }
                            DeviceState::Online { region, since_s }
                        }
                    }
                }
                DeviceState::Offline {
                    region,
                    since_s,
                    retry_at_s,
                    attempt,
                    ..
                } if retry_at_s <= self.t => self.try_connect(region, attempt, since_s),
                waiting @ DeviceState::Offline { .. } => waiting,
            };
            let change = match (self.devices[i], next) {
                (DeviceState::Online { .. }, DeviceState::Offline { region, reason, .. }) => {
                    Some((region, Some(reason)))
                }
                (DeviceState::Offline { .. }, DeviceState::Online { region, .. }) => {
                    Some((region, None))
                }
                _ => None,
            };
            if let Some((region, reason)) = change {
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
            self.devices[i] = next;
        }
        self.step_gateways(&faults);
    }

    fn step_gateways(&mut self, faults: &[Option<FaultKind>]) {
        let t = self.t;
        for g in 0..self.gateways.len() {
            // Connection changes first.
            match self.gateways[g].connected {
                Some(r) if faults[r as usize] == Some(FaultKind::Outage) || r != self.active => {
                    let gw = &mut self.gateways[g];
                    gw.connected = None;
                    gw.attempt = 0;
                    gw.retry_at_s = t + 1;
                }
                None if self.gateways[g].retry_at_s <= t => {
                    let target = self.active;
                    let up = faults[target as usize] != Some(FaultKind::Outage);
                    self.counters[target as usize].connect_attempts += 1;
                    if up {
                        let gw = &mut self.gateways[g];
                        gw.connected = Some(target);
                        gw.home = target;
                        gw.attempt = 0;
                    } else {
                        self.counters[target as usize].connect_errors += 1;
                        let attempt = self.gateways[g].attempt.saturating_add(1);
                        let wait = self.backoff(attempt);
                        let gw = &mut self.gateways[g];
                        gw.attempt = attempt;
                        gw.retry_at_s = t + wait;
                    }
                }
                _ => {}
            }
            let gw = &mut self.gateways[g];
            // This second's production joins the queue (dropping what does not fit) ...
            let room = gw.capacity - gw.buffer.len();
            let kept = gw.rate.min(room);
            gw.dropped += gw.rate - kept;
            gw.buffer.push(t, kept);
            // ... and a connected gateway forwards from the front.
            if let Some(r) = gw.connected {
                let sent = gw.buffer.drain(gw.rate * DRAIN_FACTOR);
                self.counters[r as usize].publish_in += sent;
            }
        }
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

    /// The thing name of device `i`.
    pub fn device_id(i: usize) -> String {
        format!("dev-{i:07}")
    }

    /// Device `i` as the fleet index would describe it.
    fn device_at(&self, i: usize) -> Device {
        let (region, connectivity) = match self.devices[i] {
            DeviceState::Online { region, since_s } => (
                region,
                Connectivity::Online {
                    since: self.at(since_s),
                },
            ),
            DeviceState::Offline {
                region,
                since_s,
                reason,
                ..
            } => (
                region,
                Connectivity::Offline {
                    since: self.at(since_s),
                    reason,
                },
            ),
        };
        Device {
            id: Self::device_id(i),
            region: self.cfg.regions[region as usize].clone(),
            thing_groups: vec![DEVICE_TYPES[i % DEVICE_TYPES.len()].to_string(), site_of(i)],
            connectivity,
        }
    }

    fn at(&self, s: u64) -> UnixMs {
        self.start_ms + s * 1_000
    }

    /// One device by thing name.
    /// A device's recent connectivity changes, newest first.
    pub fn device_history(&self, id: &str) -> Vec<ConnectivityChange> {
        let Some(i) = Self::index_of(id) else {
            return vec![];
        };
        self.changes
            .iter()
            .rev()
            .filter(|c| c.device as usize == i)
            .map(|c| ConnectivityChange {
                at: self.at(c.t),
                region: self.cfg.regions[c.region as usize].clone(),
                online: c.reason.is_none(),
                reason: c.reason,
            })
            .collect()
    }

    /// A publish reaching the device channel: received if `thing` is connected to `region`.
    pub fn deliver(
        &mut self,
        region: &str,
        thing: &str,
    ) -> Result<(), crate::ports::DeliveryError> {
        if self.deliveries.throttle_next > 0 {
            self.deliveries.throttle_next -= 1;
            return Err(crate::ports::DeliveryError::Throttled(
                "ThrottlingException: rate exceeded (simulated)".into(),
            ));
        }
        let r = self
            .region_index(region)
            .ok_or_else(|| crate::ports::DeliveryError::Failed(format!("no region {region}")))?;
        if self.fault_in(r) == Some(FaultKind::Outage) {
            return Err(crate::ports::DeliveryError::Failed(format!(
                "{region} did not answer"
            )));
        }
        let online = Self::index_of(thing)
            .and_then(|i| self.devices.get(i))
            .is_some_and(|d| matches!(d, DeviceState::Online { region, .. } if *region == r));
        if online {
            self.deliveries.received += 1;
        } else {
            self.deliveries.lost += 1;
        }
        Ok(())
    }

    fn index_of(id: &str) -> Option<usize> {
        id.strip_prefix("dev-")
            .filter(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    }

    pub fn device(&self, id: &str) -> Option<Device> {
        let i: usize = id
            .strip_prefix("dev-")
            .filter(|n| n.len() == 7)?
            .parse()
            .ok()?;
        (i < self.devices.len()).then(|| self.device_at(i))
    }

    /// The devices matching `q` (its page) and how many match in all. Filters on the compact
    /// state first and builds a [`Device`] only for the page, so a query over a million
    /// devices allocates one page, not a million devices.
    pub fn query_devices(&self, q: &DeviceQuery) -> (u64, Vec<Device>) {
        let region = match &q.region {
            Some(r) => match self.region_index(r) {
                Some(i) => Some(i),
                None => return (0, vec![]),
            },
            None => None,
        };
        // A thing group is either a device type or a site.
        let (group_type, group_site) = match q.thing_group.as_deref() {
            None => (None, None),
            Some(g) => match (
                DEVICE_TYPES.iter().position(|t| *t == g),
                g.strip_prefix("site-")
                    .and_then(|n| n.parse::<usize>().ok()),
            ) {
                (Some(t), _) => (Some(t), None),
                (None, Some(n)) if site_name(n) == g => (None, Some(n)),
                _ => return (0, vec![]),
            },
        };
        let (offset, limit) = (q.offset, q.limit() as usize);
        let mut total = 0u64;
        let mut items = Vec::new();
        let mut id = String::with_capacity(16);
        for (i, d) in self.devices.iter().enumerate() {
            let (r, online, reason) = match *d {
                DeviceState::Online { region, .. } => (region, true, None),
                DeviceState::Offline { region, reason, .. } => (region, false, Some(reason)),
            };
            if region.is_some_and(|want| want != r)
                || q.connected.is_some_and(|c| c != online)
                || q.reason.is_some_and(|want| reason != Some(want))
                || group_type.is_some_and(|t| i % DEVICE_TYPES.len() != t)
                || group_site.is_some_and(|n| site_number(i) != n)
            {
                continue;
            }
            if let Some(text) = &q.q {
                use std::fmt::Write;
                id.clear();
                let _ = write!(id, "dev-{i:07}");
                if !id.contains(text.as_str()) {
                    continue;
                }
            }
            if total >= offset && items.len() < limit {
                items.push(self.device_at(i));
            }
            total += 1;
        }
        (total, items)
    }
}

/// Simulated devices come in four types, one thing group each, and sit at 25 sites of 100.
const DEVICE_TYPES: [&str; 4] = ["sensors", "meters", "cameras", "locks"];
const SITES: usize = 25;

fn site_number(i: usize) -> usize {
    (i / 100) % SITES
}

fn site_name(n: usize) -> String {
    format!("site-{n:02}")
}

fn site_of(i: usize) -> String {
    site_name(site_number(i))
}

/// The simulated fleet shared with the engine. Stepping and observing lock it briefly; no lock
/// is held across an await.
#[derive(Clone)]
pub struct SimSource {
    fleet: Arc<Mutex<SimFleet>>,
    /// When set, a poll of a region in outage hangs instead of failing at once, as a real
    /// unreachable endpoint does; the engine's timeout must catch it.
    hang_on_outage: bool,
}

impl SimSource {
    /// The simulated fleet as the engine's adapters: it is observed, switched, commanded and
    /// faulted through the same handle.
    pub fn adapters(&self) -> crate::ports::Adapters {
        crate::ports::Adapters {
            source: Arc::new(self.clone()),
            switch: Some(Arc::new(self.clone())),
            channel: Some(Arc::new(self.clone())),
            injector: Some(Arc::new(self.clone())),
        }
    }

    pub fn new(fleet: SimFleet) -> Self {
        SimSource {
            fleet: Arc::new(Mutex::new(fleet)),
            hang_on_outage: true,
        }
    }

    /// Fail polls of a region in outage at once rather than hanging.
    pub fn fail_fast(mut self) -> Self {
        self.hang_on_outage = false;
        self
    }

    /// Runs `f` on the model under its lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut SimFleet) -> R) -> R {
        f(&mut self.fleet.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Steps the model once per `tick` of real time, forever. Spawn it on the runtime.
    pub async fn run_clock(self, tick: Duration) {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            self.with(SimFleet::step);
        }
    }
}

fn f_active_known(active: &str) -> Result<(), SourceError> {
    if switchyard_core::regions::is_valid_code(active) {
        Ok(())
    } else {
        Err(SourceError(format!("'{active}' is not a region code")))
    }
}

/// The simulated fleet's data endpoint in `region` (what its DNS record points at).
pub fn sim_endpoint(region: &str) -> String {
    format!("sim-ats.iot.{region}.switchyard.internal")
}

impl TrafficSwitch for SimSource {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>> {
        Box::pin(async move {
            let rules = vec![
                TopicRule {
                    name: "alarms_forward".into(),
                    sql: "SELECT * FROM 'fleet/+/alarms' WHERE severity > 2".into(),
                    enabled: true,
                },
                TopicRule {
                    name: "telemetry_ingest".into(),
                    sql: "SELECT * FROM 'fleet/+/telemetry'".into(),
                    enabled: true,
                },
            ];
            self.with(|f| {
                let t = f
                    .region_index(target)
                    .ok_or_else(|| SourceError(format!("{target} is not a simulated region")))?;
                if f.fault_in(t) == Some(FaultKind::Outage) {
                    return Err(SourceError(format!("{target} did not answer")));
                }
                let devices = f.devices.len() as u64;
                Ok(ReadinessFacts {
                    target: target.to_string(),
                    target_health: switchyard_core::HealthStatus::Unknown,
                    devices,
                    certificates_in_target: devices,
                    missing_certificates: vec![],
                    active_rules: rules.clone(),
                    target_rules: rules,
                    domain_configuration_enabled: Some(true),
                    dns_points_to: Some(sim_endpoint(f.active_region())),
                    target_endpoint: sim_endpoint(target),
                    failover_in_progress: None,
                    active_side: Default::default(),
                })
            })
            .and_then(|facts| {
                // The facts compare the target with the active region's configuration,
                // which in the simulation is the same everywhere.
                f_active_known(active).map(|()| facts)
            })
        })
    }

    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SourceError>> {
        Box::pin(async move {
            self.with(|f| f.set_active(target)).map_err(SourceError)?;
            Ok(format!(
                "the devices' domain now points at {} (simulated DNS)",
                sim_endpoint(target)
            ))
        })
    }

    fn reconnect<'a>(
        &'a self,
        from: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, SourceError>> {
        Box::pin(async move {
            let told = self.with(|f| f.tell_reconnect(from)).map_err(SourceError)?;
            Ok(Some(format!(
                "told {told} devices still on {from} to reconnect"
            )))
        })
    }
}

impl crate::ports::DeviceChannel for SimSource {
    fn publish<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        _topic: &'a str,
        _payload: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move { self.with(|f| f.deliver(region, thing)) })
    }

    fn write_shadow<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        document: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move {
            self.with(|f| {
                let r = f.region_index(region).ok_or_else(|| {
                    crate::ports::DeliveryError::Failed(format!("no region {region}"))
                })?;
                if f.fault_in(r) == Some(FaultKind::Outage) {
                    return Err(crate::ports::DeliveryError::Failed(format!(
                        "{region} did not answer"
                    )));
                }
                f.deliveries
                    .shadows
                    .insert(thing.to_string(), document.to_vec());
                Ok(())
            })
        })
    }
}

impl FleetSource for SimSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Simulated
    }

    fn regions(&self) -> Vec<(RegionId, RegionRole)> {
        self.with(|f| {
            let active = f.active_region().to_string();
            f.config()
                .regions
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        if *r == active {
                            RegionRole::Active
                        } else {
                            RegionRole::Standby
                        },
                    )
                })
                .collect()
        })
    }

    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>> {
        Box::pin(async move {
            let result = self.with(|f| f.observe(region));
            if self.hang_on_outage
                && result.is_err()
                && self.with(|f| f.region_index(region).is_some())
            {
                // A dead region does not say so: it just never answers.
                std::future::pending::<()>().await;
            }
            result
        })
    }

    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| EdgeObservation {
                observed_at: f.now_ms(),
                gateways: f.gateways(),
            }))
        })
    }

    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| {
                let (total, items) = f.query_devices(query);
                DeviceListing {
                    observed_at: f.now_ms(),
                    total,
                    items,
                }
            }))
        })
    }

    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| {
                f.device(id).map(|device| DeviceDetail {
                    device,
                    history: f.device_history(id),
                })
            }))
        })
    }
}

impl FaultInjector for SimSource {
    fn inject(&self, fault: FaultSpec) -> Result<(), String> {
        self.with(|f| f.inject(fault))
    }

    fn clear(&self) -> usize {
        self.with(SimFleet::clear_faults)
    }
}

#[cfg(test)]
mod tests;
