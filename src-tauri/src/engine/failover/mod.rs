//! Failover and failback: the preflight, the recommendation, the guarded request, and the run
//! that switches traffic, tells devices to reconnect and watches them come back.
//!
//! The rooms: `readiness` gathers the standbys' facts and reads the preflight, the overview and
//! the recommendation; `request` takes, approves and cancels a failover; `run` moves one through
//! its steps (and resumes it after a restart); `truth` reads where the switch sends the devices
//! and follows it. Here: the configuration, the state the engine keeps
//! between polls, and the helpers they share.
//!
//! Rules kept here:
//! - the console recommends, an operator decides: nothing here starts a failover by itself;
//! - one failover at a time: the store's lock, not a flag in memory;
//! - every step is journalled before it starts and after it ends, so a restart resumes from
//!   the journal (a step left unfinished is said so, and repeated only if it is idempotent);
//! - no step needs the region being left: it may be dead;
//! - the traffic switch's state, not this process's memory, says which region is active;
//! - the failover state's lock is never held across an await.

mod readiness;
mod request;
mod run;
mod stragglers;
mod truth;

pub use truth::MOVED_ALERT_HOLD;

use super::{Engine, Error};
use crate::ports::TrafficSwitch;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::api::FleetEvent;
use switchyard_core::failover::{Failover, ReadinessFacts, ReadinessPolicy};
use switchyard_core::moving::StragglerMethod;

/// Stragglers moved per second by default. AWS publishes no request-rate quota for IoT Core's
/// `DeleteConnection` (none in its quotas page as stored here): a conservative 50.
pub const DEFAULT_STRAGGLERS_RATE: f64 = 50.0;
use switchyard_core::UnixMs;

/// How failovers run.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverConfig {
    /// The active region must be unhealthy this long before a failover is recommended.
    pub recommend_after: Duration,
    /// The share of previously online devices back in the target that completes a failover.
    pub complete_share: f64,
    /// How long to watch devices come back before "completed with exceptions".
    pub verify_timeout: Duration,
    /// The devices' record's TTL: devices re-resolve the domain this long after the switch,
    /// and no straggler is moved before.
    pub dns_ttl: Duration,
    /// How the devices still connected to the old region are moved once the TTL has passed.
    pub stragglers: StragglerMethod,
    /// Stragglers moved per second (AWS publishes no quota for `DeleteConnection`: 50).
    pub stragglers_rate: f64,
    /// Whether a disconnection also removes the device's persistent session.
    pub stragglers_clean_session: bool,
    /// A second operator must approve each failover.
    pub two_person_rule: bool,
    /// How often the standby regions' preflight is refreshed.
    pub readiness_every: Duration,
    /// Upper bound on the traffic switch, retries included.
    pub switch_timeout: Duration,
    pub policy: ReadinessPolicy,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            recommend_after: Duration::from_secs(60),
            complete_share: 0.95,
            verify_timeout: Duration::from_secs(600),
            dns_ttl: Duration::from_secs(60),
            stragglers: StragglerMethod::Disconnect,
            stragglers_rate: DEFAULT_STRAGGLERS_RATE,
            stragglers_clean_session: false,
            two_person_rule: false,
            readiness_every: Duration::from_secs(30),
            switch_timeout: Duration::from_secs(20),
            policy: ReadinessPolicy::default(),
        }
    }
}

/// What the engine remembers between polls for failovers.
#[derive(Default)]
pub(super) struct FailoverState {
    /// The latest facts gathered about each non-active region (or why they could not be);
    /// the verdict is worked out anew from them with the current health at every read.
    readiness: BTreeMap<String, (UnixMs, Result<ReadinessFacts, String>)>,
    /// Since when the active region has been unhealthy.
    pub(super) unhealthy_since: Option<UnixMs>,
    /// The failover whose run task is alive in this process.
    running: Option<String>,
    /// Counts changes of the active region, so that a reading of the switch taken across one
    /// is dropped.
    epoch: u64,
    /// The last move of the traffic this console found rather than made, while its alert holds.
    moved_outside: Option<truth::MovedOutside>,
    /// The stop of the straggler step under way in this process, by failover id.
    stop: Option<(String, std::sync::Arc<stragglers::Stop>)>,
}

/// What a failover request came to when it was not refused.
pub use switchyard_core::failover::Requested;

const RECENT: u32 = 10;

impl Engine {
    pub(super) fn switch(&self) -> Result<Arc<dyn TrafficSwitch>, Error> {
        self.inner
            .switch
            .clone()
            .ok_or_else(|| Error::invalid("this fleet source cannot move traffic"))
    }

    fn failover_state(&self) -> std::sync::MutexGuard<'_, FailoverState> {
        self.inner
            .failover
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The active region now.
    pub fn active_region(&self) -> Option<String> {
        self.snapshot().active_region().map(|r| r.id.clone())
    }

    /// One failover by id.
    pub async fn failover(&self, id: &str) -> Result<Option<Failover>, Error> {
        let id = id.to_string();
        self.inner
            .store
            .run(move |s| s.failover(&id))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))
    }

    async fn load(&self, id: &str) -> Result<Failover, Error> {
        let key = id.to_string();
        self.inner
            .store
            .run(move |s| s.failover(&key))
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .ok_or_else(|| Error::not_found(format!("no failover {id}")))
    }

    fn publish_failover(&self, f: &Failover) {
        let _ = self
            .inner
            .events
            .send(FleetEvent::Failover(Box::new(f.clone())));
    }
}
