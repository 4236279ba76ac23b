//! The switch's own state as the truth about the active region. Every poll interval the
//! engine reads where the traffic switch sends the devices (the record's value, which health
//! checks are inverted, the routing controls' states); when that is not the region the console
//! believes active, the console takes the switch's word: it makes that region active, says so
//! in the audit log, raises a "moved outside this console" alert, and the preflights and the
//! recommendation follow. A confirmation reads the switch again before anything is written.
//!
//! Rules kept here:
//! - the switch, not this process's memory, says where the devices are: two consoles on one
//!   fleet cannot fail over in opposite directions unseen;
//! - while this console's own failover runs, its run owns the switch: readings are not
//!   followed, and a reading taken across a change of the active region is dropped;
//! - a reading that does not answer changes nothing (the last belief stands) and is bounded by
//!   the poll timeout;
//! - following is audited (actor "switchyard", action "switch.follow") and alerted; the alert
//!   clears after [`MOVED_ALERT_HOLD`] or when this console next fails over.

use crate::engine::audit;
use crate::engine::{Engine, Error};
use std::time::Duration;
use switchyard_core::alerts::{AlertKind, Condition};
use switchyard_core::switch::{read, Pointed, Reading};
use switchyard_core::UnixMs;

/// How long the "moved outside this console" alert stays open.
pub const MOVED_ALERT_HOLD: Duration = Duration::from_secs(15 * 60);

/// A move of the devices' traffic that this console found rather than made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::engine) struct MovedOutside {
    pub(in crate::engine) to: String,
    pub(in crate::engine) at: UnixMs,
    pub(in crate::engine) message: String,
}

impl Engine {
    /// Reads the switch and follows it (the poller's job). Returns the reading's verdict, or
    /// `None` when there is nothing to read or the reading was dropped.
    pub(in crate::engine) async fn watch_switch(&self) -> Option<Reading> {
        let switch = self.switch().ok()?;
        let epoch = {
            let st = self.failover_state();
            if st.running.is_some() {
                return None;
            }
            st.epoch
        };
        let pointed =
            match tokio::time::timeout(self.inner.cfg.poll_timeout, switch.pointed_at()).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    tracing::debug!("the traffic switch could not be read: {e}");
                    self.hold_moved_alert().await;
                    return None;
                }
                Err(_) => {
                    tracing::debug!("the traffic switch did not answer in time");
                    self.hold_moved_alert().await;
                    return None;
                }
            };
        {
            // This console changed the active region while the reading was under way: the
            // reading may predate the change.
            let st = self.failover_state();
            if st.running.is_some() || st.epoch != epoch {
                return None;
            }
        }
        let reading = self.follow_switch(&pointed).await;
        Some(reading)
    }

    /// Takes the switch's word: when it sends the devices elsewhere than the console believes,
    /// that region becomes active, audited and alerted.
    pub(in crate::engine) async fn follow_switch(&self, pointed: &Pointed) -> Reading {
        let believed = self.active_region();
        let reading = read(believed.as_deref(), pointed);
        match &reading {
            Reading::Agrees => {}
            Reading::Unclear { message } => {
                tracing::warn!("{message}");
            }
            Reading::MovedOutside { from, to, message } => {
                tracing::warn!("{message}");
                let detail = serde_json::json!({
                    "from": from, "to": to, "switch": pointed.detail,
                })
                .to_string();
                let act = audit::Act::new("switchyard", "switch.follow", message.clone(), detail);
                let to = to.clone();
                let done = self
                    .audited(act, |_| async {
                        Ok::<_, Error>(audit::Done::new(
                            (),
                            format!("followed: {to} is the active region"),
                        ))
                    })
                    .await;
                if let Err(e) = done {
                    tracing::error!("could not audit following the switch: {e}");
                }
                self.set_active(&to);
                self.failover_state().moved_outside = Some(MovedOutside {
                    to: to.clone(),
                    at: self.now(),
                    message: message.clone(),
                });
            }
        }
        self.hold_moved_alert().await;
        reading
    }

    /// Raises the "moved outside" alert while its move is recent, and clears it after.
    async fn hold_moved_alert(&self) {
        let now = self.now();
        let hold = MOVED_ALERT_HOLD.as_millis() as u64;
        let conditions: Vec<Condition> = {
            let mut st = self.failover_state();
            if st
                .moved_outside
                .as_ref()
                .is_some_and(|m| now.saturating_sub(m.at) >= hold)
            {
                st.moved_outside = None;
            }
            st.moved_outside
                .iter()
                .map(|m| Condition {
                    kind: AlertKind::TrafficMovedOutside,
                    subject: m.to.clone(),
                    message: m.message.clone(),
                })
                .collect()
        };
        self.update_alerts(&conditions, |k, _| k == AlertKind::TrafficMovedOutside)
            .await;
    }

    /// The switch's word right before a confirmation is accepted: a conflict naming where the
    /// devices are when they were moved since the operator's preflight (which is followed at
    /// once). A switch that cannot be read does not block: the preflight's switch path check
    /// says how it answered, and the audit detail says it was not read.
    pub(super) async fn confirm_switch_unmoved(
        &self,
        source: &str,
    ) -> Result<Option<String>, Error> {
        let switch = self.switch()?;
        let pointed =
            match tokio::time::timeout(self.inner.cfg.poll_timeout, switch.pointed_at()).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return Ok(Some(format!("the switch was not read: {e}"))),
                Err(_) => {
                    return Ok(Some(format!(
                        "the switch was not read: no answer within {} ms",
                        self.inner.cfg.poll_timeout.as_millis()
                    )))
                }
            };
        match self.follow_switch(&pointed).await {
            Reading::MovedOutside { to, .. } => Err(Error::conflict(format!(
                "the devices were moved since this preflight: the switch sends them to {to} now, \
                 not {source} ({}). Look at the new preflight before failing over",
                pointed.detail
            ))),
            Reading::Agrees | Reading::Unclear { .. } => Ok(None),
        }
    }
}
