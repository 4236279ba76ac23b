//! Answering for single devices from the compact state: their names and groups, a page of a
//! device query, one device, its recent history, a publish reaching it, and the connection
//! control (the pages of connected things, dropping one connection).
//!
//! Rules kept here:
//! - a device is built only when it is asked for: a query filters on the compact state and
//!   builds a [`Device`] only for its page (a query over a million devices allocates one page);
//! - names are fixed by position: `dev-` and seven digits, four device types in turn, 25 sites
//!   of 100 devices; anything else names no device;
//! - the fast query agrees with `DeviceQuery::matches` (a test holds it to that);
//! - a publish to a device that is not connected to that region is lost, never received; a
//!   region in outage does not answer;
//! - a publish received on a topic whose last segment is `reconnect` (the catalogue's
//!   `cmd/{thingName}/reconnect`) makes the device reconnect, client-initiated, within one to
//!   five seconds, where its resolver sends it;
//! - the connected pages hold at most [`CONNECTED_PAGE`] thing names, in device order; the
//!   token is the index of the next device to list, so pages cover each device online in the
//!   region once (a device that moves between pages may be missed or listed once more, as a
//!   real fleet index's may);
//! - a disconnection drops the device's connection only if it is online in that region (the
//!   reason a server-initiated disconnect, retried within one to five seconds); anything else
//!   is "not found"; the persistent session is not modelled, so `clean_session` changes
//!   nothing here.

use super::fleet::{DeviceState, Disconnects, SimFleet};
use crate::ports::{ConnectedPage, DeliveryError, Disconnected};
use switchyard_core::{
    devices::DeviceQuery, fault::FaultKind, Connectivity, ConnectivityChange, Device,
    DisconnectReason, UnixMs,
};

/// The most thing names one connected page holds.
pub const CONNECTED_PAGE: usize = 100;

impl SimFleet {
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

    /// A device's recent connectivity changes, newest first.
    pub fn device_history(&self, id: &str) -> Vec<ConnectivityChange> {
        let Some(i) = Self::index_of(id) else {
            return vec![];
        };
        self.changes()
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

    /// A publish on `topic` reaching the device channel: received if `thing` is connected to
    /// `region`; a received `…/reconnect` command makes it reconnect.
    pub fn deliver(&mut self, region: &str, thing: &str, topic: &str) -> Result<(), DeliveryError> {
        if self.deliveries.throttle_next > 0 {
            self.deliveries.throttle_next -= 1;
            return Err(DeliveryError::Throttled(
                "ThrottlingException: rate exceeded (simulated)".into(),
            ));
        }
        let r = self.answering(region)?;
        match Self::index_of(thing).filter(|i| self.online_in_at(*i, r)) {
            Some(i) => {
                self.deliveries.received += 1;
                if topic.rsplit('/').next() == Some("reconnect") {
                    self.reconnect_soon(i, DisconnectReason::ClientInitiatedDisconnect);
                }
            }
            None => self.deliveries.lost += 1,
        }
        Ok(())
    }

    /// The region's index if it is simulated and answers (not in outage).
    fn answering(&self, region: &str) -> Result<u8, DeliveryError> {
        let r = self
            .region_index(region)
            .ok_or_else(|| DeliveryError::Failed(format!("no region {region}")))?;
        if self.fault_in(r) == Some(FaultKind::Outage) {
            return Err(DeliveryError::Failed(format!("{region} did not answer")));
        }
        Ok(r)
    }

    /// Whether device `i` exists and is online in region `r`.
    pub(super) fn online_in_at(&self, i: usize, r: u8) -> bool {
        self.devices
            .get(i)
            .is_some_and(|d| matches!(d, DeviceState::Online { region, .. } if *region == r))
    }

    /// One page of the things online in `region`, from `next` (a previous page's token).
    pub fn connected_page(
        &self,
        region: &str,
        next: Option<&str>,
    ) -> Result<ConnectedPage, DeliveryError> {
        let r = self.answering(region)?;
        let from: usize = match next {
            None => 0,
            Some(token) => token.parse().map_err(|_| {
                DeliveryError::Failed(format!("'{token}' is not a page token of this fleet"))
            })?,
        };
        let mut online = (from..self.devices.len()).filter(|i| self.online_in_at(*i, r));
        let things = online
            .by_ref()
            .take(CONNECTED_PAGE)
            .map(Self::device_id)
            .collect();
        Ok(ConnectedPage {
            things,
            next: online.next().map(|i| i.to_string()),
        })
    }

    /// Drops `thing`'s connection in `region` (what `DeleteConnection` does).
    pub fn disconnect(&mut self, region: &str, thing: &str) -> Result<Disconnected, DeliveryError> {
        if self.deliveries.throttle_disconnects_next > 0 {
            self.deliveries.throttle_disconnects_next -= 1;
            return Err(DeliveryError::Throttled(
                "ThrottlingException: rate exceeded (simulated)".into(),
            ));
        }
        let r = self.answering(region)?;
        let Some(i) = Self::index_of(thing).filter(|i| self.online_in_at(*i, r)) else {
            return Ok(Disconnected::NotFound);
        };
        self.reconnect_soon(i, DisconnectReason::ServerInitiatedDisconnect);
        let t = self.t;
        self.deliveries
            .disconnects
            .entry(i as u32)
            .and_modify(|d| {
                d.count += 1;
                d.last_s = t;
            })
            .or_insert(Disconnects {
                count: 1,
                first_s: t,
                last_s: t,
            });
        Ok(Disconnected::Dropped)
    }

    fn index_of(id: &str) -> Option<usize> {
        id.strip_prefix("dev-")
            .filter(|n| n.len() == 7 && n.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()
    }

    /// One device by thing name.
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
