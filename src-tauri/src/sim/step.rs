//! How one simulated second passes: devices reconnecting (through their resolver cache) with
//! backoff, churn and degradation; gateways buffering, draining and dropping.
//!
//! Rules kept here:
//! - one [`SimFleet::step`] is one simulated second, and nothing else moves time;
//! - a device connects where its resolver sends it (`SimFleet::resolve`: its cached answer
//!   until that expires, then the region the switch points at now, cached for the TTL); a
//!   region in outage refuses every attempt, a degraded one [`DEGRADED_FAIL`] of them;
//! - a live connection stays where it is, whatever the switch says (real MQTT connections stay
//!   up): it drops only by churn, degradation, outage, or when told to (a disconnection, a
//!   reconnect command);
//! - a failed or lost connection is retried with exponential backoff (1 s base, 60 s cap) and
//!   full jitter, never sooner than one second;
//! - gateways have no resolver cache: they follow the active region at once (edge software
//!   that watches the switch; the fleet index's pages list devices only, so nothing else could
//!   move them);
//! - a gateway forwards while connected, buffers while not, drains at [`DRAIN_FACTOR`] times
//!   its production once back, and drops new messages while full;
//! - the order of the random draws is part of the seeded sequence: keep it.

use super::fleet::{DeviceState, SimFleet};
use switchyard_core::{fault::FaultKind, DisconnectReason};

// Behaviour constants, per simulated second.
/// Chance that a healthy connection drops by itself (keep-alive timeouts, client restarts).
const CHURN: f64 = 0.000_2;
/// Under degradation: chance a connection drops, and share of connects and publishes that fail.
/// A degraded region still answers and keeps most of its connections: at 0.05 % a second
/// (with churn) about two thirds of them are still up after ten minutes.
const DEGRADED_DROP: f64 = 0.000_5;
const DEGRADED_FAIL: f64 = 0.3;
/// Each device publishes once every this many seconds.
const DEVICE_PUBLISH_EVERY_S: u64 = 10;
/// Reconnect backoff: base and cap, in seconds.
const BACKOFF_BASE_S: u64 = 1;
const BACKOFF_CAP_S: u64 = 60;
/// A gateway drains its buffer at this multiple of its production rate.
const DRAIN_FACTOR: u64 = 3;

impl SimFleet {
    fn backoff(&mut self, attempt: u8) -> u64 {
        let ceiling = (BACKOFF_BASE_S << attempt.min(16)).min(BACKOFF_CAP_S);
        // Full jitter, but at least one second.
        1 + self.rng.range(0, ceiling.max(1))
    }

    /// Device `i` tries to connect where its resolver sends it; returns the new state.
    fn try_connect(&mut self, i: usize, from_region: u8, attempt: u8, since_s: u64) -> DeviceState {
        let target = self.resolve(i);
        let fault = self.fault_in(target);
        self.counters[target as usize].connect_attempts += 1;
        let ok = match fault {
            Some(FaultKind::Outage) => false,
            Some(FaultKind::Degraded) => !self.rng.chance(DEGRADED_FAIL),
            // Not a region's fault (`fault_in` never names it): the endpoints answer.
            None | Some(FaultKind::Route53ControlPlane) => true,
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
                } if retry_at_s <= self.t => self.try_connect(i, region, attempt, since_s),
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
                self.remember(i, region, reason);
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
}
