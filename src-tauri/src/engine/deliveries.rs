//! Alerts out: every raise and clear is put in the store's outbox, in the same transaction as
//! the alert itself, for each receiver whose filter takes it; one dispatcher task per receiver
//! sends what is due, in order, batched, and retries with backoff.
//!
//! Rules kept here:
//! - the poll loop never waits on a receiver: it writes the outbox and wakes the dispatcher;
//! - a notice is marked delivered only after its receiver said so; a restart resumes the
//!   outbox where it stopped;
//! - a clear is never sent before its raise is delivered or given up (`delivery::sendable`);
//! - a receiver's failures are shown as its health, never as a fleet alert.

use super::audit::{Act, Done};
use super::{Engine, Error};
use crate::ports::AlertReceiver;
use crate::store::{Mark, Outbound, OutboxRow};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::alerts::{Alert, AlertKind};
use switchyard_core::delivery::{
    next_attempt, sendable, test_alert, DeliveriesResponse, Delivery, DeliveryState, Event, Notice,
    Queued, ReceiverHealth, ReceiverView, RetryPolicy, Verdict,
};
use switchyard_core::UnixMs;

/// How alerts go out.
#[derive(Debug, Clone, Default)]
pub struct DeliveryConfig {
    pub retry: RetryPolicy,
    /// The console's address for the links in notices.
    pub console_url: Option<String>,
}

/// The most open rows one round of a dispatcher reads.
const ROUND: u32 = 2_000;
/// A send that outlives its receiver's own timeout by this much is abandoned (a defect in an
/// adapter must not stop its dispatcher).
const SEND_BOUND: Duration = Duration::from_secs(60);
/// A dispatcher with nothing due looks again at least this often.
const IDLE: Duration = Duration::from_secs(30);
/// A store that cannot be read is tried again after this.
const STORE_RETRY: Duration = Duration::from_secs(5);

/// The receivers and what the dispatcher knows of them.
pub(super) struct Dispatch {
    receivers: Vec<Arc<dyn AlertReceiver>>,
    /// Each receiver's health, by its place in `receivers`. Never held across an await.
    health: Mutex<Vec<ReceiverHealth>>,
    /// Wakes each receiver's dispatcher: its outbox has news.
    wake: Vec<tokio::sync::Notify>,
}

impl Dispatch {
    pub(super) fn new(receivers: Vec<Arc<dyn AlertReceiver>>) -> Dispatch {
        let health = Mutex::new(vec![ReceiverHealth::default(); receivers.len()]);
        let wake = receivers
            .iter()
            .map(|_| tokio::sync::Notify::new())
            .collect();
        Dispatch {
            receivers,
            health,
            wake,
        }
    }

    /// Wakes every dispatcher (a raise or a clear was queued).
    pub(super) fn wake_all(&self) {
        for w in &self.wake {
            w.notify_one();
        }
    }

    fn after(&self, i: usize, verdict: &Verdict, at: UnixMs) {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        h[i].after(verdict, at);
    }
}

impl Engine {
    /// Who is told of an alert of `kind` about `subject`: the receivers whose filter takes it,
    /// and its region.
    pub(super) fn outbound(&self, kind: AlertKind, subject: &str) -> Outbound {
        let region = self.region_of(kind, subject);
        let receivers = self
            .inner
            .deliveries
            .receivers
            .iter()
            .filter(|r| r.filter().accepts(kind, region.as_deref()))
            .map(|r| r.name().to_string())
            .collect();
        Outbound { receivers, region }
    }

    /// The region an alert is about: a region's own, or the one a gateway is connected to.
    fn region_of(&self, kind: AlertKind, subject: &str) -> Option<String> {
        match kind {
            AlertKind::RegionDegraded
            | AlertKind::RegionUnreachable
            | AlertKind::TrafficMovedOutside => Some(subject.to_string()),
            AlertKind::BacklogNearCapacity | AlertKind::DropsStarted => {
                self.gateway_region(subject)
            }
        }
    }

    /// Wakes the dispatchers after raises or clears.
    pub(super) fn deliveries_changed(&self) {
        self.inner.deliveries.wake_all();
    }

    /// Starts one dispatcher per receiver (from [`Engine::start`]).
    pub(super) fn start_deliveries(&self) {
        for i in 0..self.inner.deliveries.receivers.len() {
            let e = self.clone();
            tokio::spawn(async move { e.dispatch(i).await });
        }
    }

    /// Receiver `i`'s dispatcher: sends what is due, in order and batched, re-sends what fires
    /// to receivers that forget, and sleeps until the next due time or news.
    async fn dispatch(&self, i: usize) {
        let receiver = self.inner.deliveries.receivers[i].clone();
        let mut last_resend: Option<UnixMs> = None;
        loop {
            let name = receiver.name().to_string();
            let rows = match self.inner.store.run(move |s| s.outbox(&name, ROUND)).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(receiver = receiver.name(), "cannot read the outbox: {e}");
                    tokio::time::sleep(STORE_RETRY).await;
                    continue;
                }
            };
            let now = self.now();
            let queued: Vec<Queued> = rows
                .iter()
                .map(|r| Queued {
                    id: r.id,
                    alert_id: r.alert.as_ref().map(|a| a.id),
                    event: r.event,
                    due: r.next_at <= now,
                })
                .collect();
            let ids = sendable(&queued, receiver.batch().max(1));
            if !ids.is_empty() {
                let batch: Vec<&OutboxRow> = rows.iter().filter(|r| ids.contains(&r.id)).collect();
                self.send_batch(i, &*receiver, &batch).await;
                continue;
            }
            let mut wait = IDLE;
            if let Some(every) = receiver.resend_every() {
                let every_ms = every.as_millis() as u64;
                let due = last_resend.map_or(now, |t| t + every_ms);
                if due <= now {
                    self.resend(i, &*receiver).await;
                    last_resend = Some(now);
                    wait = wait.min(every);
                } else {
                    wait = wait.min(Duration::from_millis(due - now));
                }
            }
            if let Some(next) = rows.iter().map(|r| r.next_at).filter(|t| *t > now).min() {
                wait = wait.min(Duration::from_millis(next - now));
            }
            tokio::select! {
                () = self.inner.deliveries.wake[i].notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Sends one batch and marks its rows by the verdict.
    async fn send_batch(&self, i: usize, receiver: &dyn AlertReceiver, batch: &[&OutboxRow]) {
        let now = self.now();
        let notices: Vec<Notice> = batch
            .iter()
            .map(|r| self.notice(receiver.name(), r, now))
            .collect();
        let verdict = match tokio::time::timeout(SEND_BOUND, receiver.send(&notices, now)).await {
            Ok(v) => v,
            Err(_) => Verdict::Retry(format!("no answer within {} s", SEND_BOUND.as_secs())),
        };
        let at = self.now();
        self.inner.deliveries.after(i, &verdict, at);
        self.inner.metrics.delivery_requests(receiver.name());
        let policy = self.inner.cfg.deliveries.retry;
        let mut marks: Vec<(Vec<i64>, Mark)> = Vec::new();
        match &verdict {
            Verdict::Delivered => {
                marks.push((batch.iter().map(|r| r.id).collect(), Mark::Delivered))
            }
            Verdict::Refused(why) => {
                tracing::warn!(receiver = receiver.name(), "refused: {why}");
                marks.push((
                    batch.iter().map(|r| r.id).collect(),
                    Mark::Final {
                        state: DeliveryState::Refused,
                        error: why.clone(),
                    },
                ));
            }
            Verdict::Retry(why) => {
                tracing::warn!(receiver = receiver.name(), "will retry: {why}");
                for r in batch {
                    let mark = match next_attempt(&policy, r.created_at, r.attempts + 1, at) {
                        Some(next_at) => Mark::Retry {
                            error: why.clone(),
                            next_at,
                        },
                        None => Mark::Final {
                            state: DeliveryState::GaveUp,
                            error: why.clone(),
                        },
                    };
                    marks.push((vec![r.id], mark));
                }
            }
        }
        for (ids, mark) in &marks {
            let result = match mark {
                Mark::Delivered => DeliveryState::Delivered,
                Mark::Retry { .. } => DeliveryState::Retrying,
                Mark::Final { state, .. } => *state,
            };
            for _ in ids {
                self.inner
                    .metrics
                    .delivery(receiver.name(), result.as_str());
            }
        }
        let result = self
            .inner
            .store
            .run(move |s| {
                for (ids, mark) in &marks {
                    s.deliveries_mark(ids, mark, at)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::error!(receiver = receiver.name(), "cannot mark deliveries: {e}");
            tokio::time::sleep(STORE_RETRY).await;
        }
    }

    /// Tells `receiver` again of every raise it has that still fires (Alertmanager forgets
    /// alerts that are not re-sent). Only its health hears of the answer.
    async fn resend(&self, i: usize, receiver: &dyn AlertReceiver) {
        let name = receiver.name().to_string();
        let firing = match self
            .inner
            .store
            .run(move |s| s.firing_delivered(&name))
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(receiver = receiver.name(), "cannot read firing alerts: {e}");
                return;
            }
        };
        let now = self.now();
        let notices: Vec<Notice> = firing
            .into_iter()
            .map(|(id, region, alert)| self.make_notice(id, Event::Firing, alert, region))
            .collect();
        for chunk in notices.chunks(receiver.batch().max(1)) {
            let verdict = match tokio::time::timeout(SEND_BOUND, receiver.send(chunk, now)).await {
                Ok(v) => v,
                Err(_) => Verdict::Retry(format!("no answer within {} s", SEND_BOUND.as_secs())),
            };
            self.inner.deliveries.after(i, &verdict, self.now());
            self.inner.metrics.delivery_requests(receiver.name());
        }
    }

    fn notice(&self, receiver: &str, r: &OutboxRow, now: UnixMs) -> Notice {
        let alert = r.alert.clone().unwrap_or_else(|| {
            let by = r.requested_by.as_deref().unwrap_or("an administrator");
            test_alert(receiver, by, now)
        });
        self.make_notice(r.id, r.event, alert, r.region.clone())
    }

    fn make_notice(&self, id: i64, event: Event, alert: Alert, region: Option<String>) -> Notice {
        let link = self.inner.cfg.deliveries.console_url.as_ref().map(|base| {
            let base = base.trim_end_matches('/');
            match alert.incident_id {
                Some(incident) => format!("{base}/#/incidents/{incident}"),
                None => format!("{base}/#/alerts"),
            }
        });
        Notice {
            delivery_id: id,
            event,
            alert,
            region,
            link,
        }
    }

    /// The receivers with their health, and the newest `limit` rows of the delivery log.
    pub async fn deliveries(&self, limit: u32) -> Result<DeliveriesResponse, Error> {
        let limit = super::check_limit(limit)?;
        let names: Vec<String> = self
            .inner
            .deliveries
            .receivers
            .iter()
            .map(|r| r.name().to_string())
            .collect();
        let (log, queued) = self
            .inner
            .store
            .run(move |s| {
                let log = s.deliveries(limit)?;
                let queued = names
                    .iter()
                    .map(|n| s.deliveries_queued(n))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((log, queued))
            })
            .await?;
        let health = self
            .inner
            .deliveries
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let receivers = self
            .inner
            .deliveries
            .receivers
            .iter()
            .zip(health)
            .zip(queued)
            .map(|((r, mut health), queued)| {
                health.queued = queued;
                ReceiverView {
                    name: r.name().to_string(),
                    kind: r.kind(),
                    targets: r.targets(),
                    filter: r.filter().clone(),
                    health,
                }
            })
            .collect();
        Ok(DeliveriesResponse {
            server_time: self.now(),
            receivers,
            deliveries: log,
        })
    }

    /// Sends a test notice to receiver `name` through its outbox (the path real alerts take),
    /// audited as `receiver.test`; answers its log row once it is sent, or as it stands when the
    /// receiver has not answered within `wait`.
    pub async fn test_receiver(
        &self,
        name: &str,
        operator: &str,
        wait: Duration,
    ) -> Result<Delivery, Error> {
        let Some(i) = self
            .inner
            .deliveries
            .receivers
            .iter()
            .position(|r| r.name() == name)
        else {
            return Err(Error::not_found(format!(
                "no receiver named '{name}' in [[alerts.receivers]]"
            )));
        };
        let receiver = name.to_string();
        let by = operator.to_string();
        let detail = serde_json::json!({ "receiver": name }).to_string();
        let act = Act::new(operator, "receiver.test", "test alert", detail);
        let at = self.now();
        let (_, id) = self
            .audited(act, |_| async move {
                let id = self
                    .inner
                    .store
                    .run(move |s| s.delivery_test(&receiver, &by, at))
                    .await?;
                Ok(Done::new(id, format!("queued as delivery {id}")))
            })
            .await?;
        self.inner.deliveries.wake[i].notify_one();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let row = self.inner.store.run(move |s| s.delivery(id)).await?;
            let row = row.ok_or_else(|| Error::unavailable(format!("delivery {id} is gone")))?;
            if !row.state.is_open() || tokio::time::Instant::now() >= deadline {
                return Ok(row);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[cfg(test)]
mod tests;
