//! Alert bookkeeping: the rules in `switchyard_core::alerts` say which conditions hold; this
//! keeps the open alerts, stores every raise and clear (each raise opening or joining an
//! incident, `incidents.rs`), and tells subscribers.

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
        let (raise, clear) = {
            let open = self
                .inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let keys: Vec<_> = open.iter().map(|(k, a)| (k.clone(), a.id)).collect();
            diff(keys.iter().map(|(k, id)| (k, id)), conditions, in_scope)
        };
        for c in raise {
            let at = self.now();
            let stored = c.clone();
            match self
                .inner
                .store
                .run(move |s| s.alert_raise(&stored, at))
                .await
            {
                Ok(raised) => {
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
                        self.publish_incident(incident).await;
                    }
                }
                Err(e) => tracing::error!("could not store an alert: {e}"),
            }
        }
        for id in clear {
            let at = self.now();
            match self.inner.store.run(move |s| s.alert_clear(id, at)).await {
                Ok(()) => {
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
                        let incident = alert.incident_id;
                        let _ = self.inner.events.send(FleetEvent::Alert(alert));
                        if let Some(incident) = incident {
                            self.publish_incident(incident).await;
                        }
                    }
                }
                Err(e) => tracing::error!("could not clear alert {id}: {e}"),
            }
        }
        self.review_incident().await;
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
