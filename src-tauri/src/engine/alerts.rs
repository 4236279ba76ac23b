//! Alert bookkeeping: the rules in `switchyard_core::alerts` say which conditions hold; this
//! keeps the open alerts, stores every raise and clear (each raise opening or joining an
//! incident, `incidents.rs`, and queued for the receivers that take it, `deliveries.rs`), and
//! tells subscribers.

use super::{Engine, Error};
use switchyard_core::alerts::{diff, Alert, AlertKind, AlertsResponse, Condition};
use switchyard_core::api::FleetEvent;

impl Engine {
    /// Raises alerts for `conditions` that are not open yet, and clears open alerts within
    /// `in_scope` whose condition no longer holds.
    pub(super) async fn update_alerts(
        &self,
        conditions: &[Condition],
        in_scope: impl Fn(AlertKind, &str) -> bool,
    ) {
        let _one_at_a_time = self.inner.alert_updates.lock().await;
        let (raise, clear) = {
            let open = self
                .inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let keys: Vec<_> = open.iter().map(|(k, a)| (k.clone(), a.id)).collect();
            diff(keys.iter().map(|(k, id)| (k, id)), conditions, in_scope)
        };
        if !raise.is_empty() {
            self.raise_all(raise).await;
        }
        if !clear.is_empty() {
            self.clear_all(clear).await;
        }
        self.deliveries_changed();
        self.review_incident().await;
    }

    /// Stores `raise` in one transaction (each queued for its receivers), then keeps them open
    /// and tells subscribers.
    async fn raise_all(&self, raise: Vec<Condition>) {
        let at = self.now();
        let items: Vec<_> = raise
            .iter()
            .map(|c| (c.clone(), self.outbound(c.kind, &c.subject)))
            .collect();
        let raised = match self
            .inner
            .store
            .run(move |s| s.alerts_raise_out(&items, at))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("could not store {} alert(s): {e}", raise.len());
                return;
            }
        };
        let mut incidents = Vec::new();
        for (c, raised) in raise.into_iter().zip(raised) {
            let alert = Alert {
                id: raised.alert,
                kind: c.kind,
                severity: c.kind.severity(),
                subject: c.subject.clone(),
                message: c.message,
                raised_at: at,
                cleared_at: None,
                incident_id: raised.incident,
                ack: None,
            };
            tracing::warn!(
                alert = alert.kind.as_str(),
                subject = alert.subject,
                "{}",
                alert.message
            );
            self.inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((c.kind, c.subject), alert.clone());
            let _ = self.inner.events.send(FleetEvent::Alert(alert));
            if let Some(incident) = raised.incident {
                if raised.opened {
                    tracing::warn!(incident, "an incident opened");
                }
                if !incidents.contains(&incident) {
                    incidents.push(incident);
                }
            }
        }
        for incident in incidents {
            self.publish_incident(incident).await;
        }
    }

    /// Clears `ids` in one transaction (each clear queued for the receivers told of its raise),
    /// then forgets them and tells subscribers.
    async fn clear_all(&self, ids: Vec<i64>) {
        let at = self.now();
        let stored = ids.clone();
        if let Err(e) = self
            .inner
            .store
            .run(move |s| s.alerts_clear(&stored, at))
            .await
        {
            tracing::error!("could not clear {} alert(s): {e}", ids.len());
            return;
        }
        let mut incidents = Vec::new();
        for id in ids {
            let cleared = {
                let mut open = self
                    .inner
                    .open_alerts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let key = open
                    .iter()
                    .find(|(_, a)| a.id == id)
                    .map(|(k, _)| k.clone());
                key.and_then(|k| open.remove(&k))
            };
            if let Some(mut alert) = cleared {
                alert.cleared_at = Some(at);
                tracing::info!(
                    alert = alert.kind.as_str(),
                    subject = alert.subject,
                    "cleared"
                );
                if let Some(incident) = alert.incident_id {
                    if !incidents.contains(&incident) {
                        incidents.push(incident);
                    }
                }
                let _ = self.inner.events.send(FleetEvent::Alert(alert));
            }
        }
        for incident in incidents {
            self.publish_incident(incident).await;
        }
    }

    /// The newest alerts from the store, open only or all.
    pub async fn alerts(&self, open_only: bool, limit: u32) -> Result<AlertsResponse, Error> {
        let limit = super::check_limit(limit)?;
        let alerts = self
            .inner
            .store
            .run(move |s| s.alerts(open_only, limit))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))?;
        Ok(AlertsResponse {
            server_time: self.now(),
            alerts,
        })
    }
}
