//! Incidents: the engine's side. The store opens and joins them with each raised alert
//! (`store/incidents.rs`); this closes them, takes acknowledgements and notes through the one
//! audited path, assembles the timeline and exports it.
//!
//! Rules kept here:
//! - an incident closes only as `switchyard_core::incidents::may_close` says: all its alerts
//!   cleared and no failover under way (checked after every alert update and every failover
//!   end);
//! - an acknowledgement and a note are audited actions (`alert.ack`, `incident.note`), and each
//!   is published to every console (an `incident` event, and the alert for an ack);
//! - the timeline takes each record once: alerts from the alerts table, actions from the audit
//!   log (acknowledgements excepted: their alert says them), steps from the failover journal.

use super::{audit, Engine, Error};
use switchyard_core::api::{AuditEntry, FleetEvent};
use switchyard_core::failover::Failover;
use switchyard_core::incidents::{
    self, Acknowledgement, EntryKind, Incident, IncidentDetail, IncidentsResponse, TimelineEntry,
    MAX_NOTE_CHARS,
};
use switchyard_core::UnixMs;

/// The most audit entries one timeline reads.
const TIMELINE_ACTIONS: u32 = 5_000;
/// The failovers looked at for a timeline (the newest).
const TIMELINE_FAILOVERS: u32 = 20;

/// The format of an incident's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<ExportFormat, Error> {
        match s {
            "md" => Ok(ExportFormat::Markdown),
            "json" => Ok(ExportFormat::Json),
            other => Err(Error::malformed(format!(
                "format: must be md or json, not '{other}'"
            ))),
        }
    }
}

fn check_note(what: &str, text: &str, required: bool) -> Result<String, Error> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(Error::invalid(format!("{what}: must not be empty")));
    }
    let n = t.chars().count();
    if n > MAX_NOTE_CHARS {
        return Err(Error::invalid(format!(
            "{what}: at most {MAX_NOTE_CHARS} characters, not {n}"
        )));
    }
    Ok(t.to_string())
}

impl Engine {
    /// The newest incidents, open only or all.
    pub async fn incidents(&self, open_only: bool, limit: u32) -> Result<IncidentsResponse, Error> {
        let limit = super::check_limit(limit)?;
        let incidents = self
            .inner
            .store
            .run(move |s| s.incidents(open_only, limit))
            .await?;
        Ok(IncidentsResponse {
            server_time: self.now(),
            incidents,
        })
    }

    async fn incident_row(&self, id: i64) -> Result<Incident, Error> {
        self.inner
            .store
            .run(move |s| s.incident(id))
            .await?
            .ok_or_else(|| Error::not_found(format!("no incident {id}")))
    }

    /// An incident with its alerts and its timeline.
    pub async fn incident(&self, id: i64) -> Result<IncidentDetail, Error> {
        let incident = self.incident_row(id).await?;
        let now = self.now();
        let to = incident.closed_at.unwrap_or(now);
        let from = incident.opened_at;
        let (alerts, actions, failovers) = self
            .inner
            .store
            .run(move |s| {
                Ok((
                    s.incident_alerts(id)?,
                    s.audit_between(from, to, TIMELINE_ACTIONS)?,
                    s.failovers_recent(TIMELINE_FAILOVERS)?,
                ))
            })
            .await?;
        let mut t = vec![TimelineEntry {
            at: incident.opened_at,
            kind: EntryKind::Opened,
            actor: None,
            text: format!("incident opened: {}", incident.title),
            source: format!("incident:{id}:opened"),
        }];
        for a in &alerts {
            t.push(TimelineEntry {
                at: a.raised_at,
                kind: EntryKind::AlertRaised,
                actor: None,
                text: format!("{:?} alert: {}", a.severity, a.message).to_lowercase(),
                source: format!("alert:{}:raised", a.id),
            });
            if let Some(at) = a.cleared_at {
                t.push(TimelineEntry {
                    at,
                    kind: EntryKind::AlertCleared,
                    actor: None,
                    text: format!("cleared: {} ({})", a.kind.as_str(), a.subject),
                    source: format!("alert:{}:cleared", a.id),
                });
            }
            if let Some(ack) = &a.ack {
                let note = if ack.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", ack.note)
                };
                t.push(TimelineEntry {
                    at: ack.at,
                    kind: EntryKind::Acknowledged,
                    actor: Some(ack.by.clone()),
                    text: format!("acknowledged {} ({}){note}", a.kind.as_str(), a.subject),
                    source: format!("alert:{}:ack", a.id),
                });
            }
        }
        t.extend(actions.iter().filter_map(|e| action_entry(e, id)));
        for f in failovers.iter().filter(|f| overlaps(f, from, to)) {
            t.extend(step_entries(f));
        }
        if let Some(at) = incident.closed_at {
            t.push(TimelineEntry {
                at,
                kind: EntryKind::Closed,
                actor: None,
                text: "incident closed: every alert cleared, no failover under way".into(),
                source: format!("incident:{id}:closed"),
            });
        }
        Ok(IncidentDetail {
            server_time: now,
            incident,
            alerts,
            timeline: incidents::ordered(t),
        })
    }

    /// The incident as a file for the post-incident review: its text and content type.
    pub async fn incident_export(
        &self,
        id: i64,
        format: ExportFormat,
    ) -> Result<(String, &'static str), Error> {
        let d = self.incident(id).await?;
        Ok(match format {
            ExportFormat::Markdown => (incidents::markdown(&d), "text/markdown; charset=utf-8"),
            ExportFormat::Json => (
                serde_json::to_string_pretty(&d).expect("an incident serialises"),
                "application/json",
            ),
        })
    }

    /// Acknowledges alert `id` with `note`, as `operator`: audited, shown to every console.
    pub async fn ack_alert(
        &self,
        id: i64,
        note: &str,
        operator: &str,
    ) -> Result<switchyard_core::alerts::Alert, Error> {
        let note = check_note("note", note, false)?;
        let existing = self
            .inner
            .store
            .run(move |s| s.alert(id))
            .await?
            .ok_or_else(|| Error::not_found(format!("no alert {id}")))?;
        if let Some(first) = &existing.ack {
            return Err(Error::conflict(format!(
                "alert {id} was acknowledged already, by {} at {}",
                first.by,
                switchyard_core::time::utc_datetime(first.at)
            )));
        }
        let ack = Acknowledgement {
            by: operator.to_string(),
            at: self.now(),
            note: note.clone(),
        };
        let detail = serde_json::json!({
            "alert": id, "kind": existing.kind.as_str(), "subject": existing.subject,
            "incident": existing.incident_id,
        })
        .to_string();
        let act = audit::Act::new(operator, "alert.ack", note, detail);
        let clock = self.clock();
        let alert = self
            .inner
            .store
            .run(move |s| {
                audit::within(s, &*clock, &act, |s, _| {
                    let a = s.alert_ack(id, &ack)?;
                    Ok(audit::Done::new(a, "ok"))
                })
            })
            .await?
            .ok_or_else(|| Error::not_found(format!("no alert {id}")))?;
        {
            let mut open = self
                .inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(a) = open.values_mut().find(|a| a.id == id) {
                a.ack = alert.ack.clone();
            }
        }
        let _ = self.inner.events.send(FleetEvent::Alert(alert.clone()));
        if let Some(incident) = alert.incident_id {
            self.publish_incident(incident).await;
        }
        Ok(alert)
    }

    /// Adds a note to incident `id`, as `operator`: audited, shown to every console.
    pub async fn add_incident_note(
        &self,
        id: i64,
        text: &str,
        operator: &str,
    ) -> Result<TimelineEntry, Error> {
        let text = check_note("text", text, true)?;
        self.incident_row(id).await?;
        let detail = serde_json::json!({ "incident": id }).to_string();
        let act = audit::Act::new(operator, "incident.note", text.clone(), detail);
        let clock = self.clock();
        let (audit_id, at) = self
            .inner
            .store
            .run(move |s| {
                audit::within(s, &*clock, &act, |s, audit_id| {
                    let at = s.audit_entry(audit_id)?.map(|e| e.at).unwrap_or_default();
                    Ok(audit::Done::new((audit_id, at), "ok"))
                })
            })
            .await?;
        self.publish_incident(id).await;
        Ok(TimelineEntry {
            at,
            kind: EntryKind::Note,
            actor: Some(operator.to_string()),
            text,
            source: format!("audit:{audit_id}"),
        })
    }

    /// Tells every console how incident `id` stands now.
    pub(super) async fn publish_incident(&self, id: i64) {
        match self.inner.store.run(move |s| s.incident(id)).await {
            Ok(Some(i)) => {
                let _ = self.inner.events.send(FleetEvent::Incident(i));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(incident = id, "could not read an incident: {e}"),
        }
    }

    /// Closes the open incident when its alerts have all cleared and no failover is under way.
    pub(super) async fn review_incident(&self) {
        let now = self.now();
        let closed = self
            .inner
            .store
            .run(move |s| {
                let Some(id) = s.incident_open_id()? else {
                    return Ok(None);
                };
                let under_way = s.failover_current()?.is_some();
                Ok(s.incident_close_if_done(id, now, under_way)?.then_some(id))
            })
            .await;
        match closed {
            Ok(Some(id)) => {
                tracing::info!(incident = id, "the incident closed");
                self.publish_incident(id).await;
            }
            Ok(None) => {}
            Err(e) => tracing::error!("could not review the open incident: {e}"),
        }
    }
}

/// Whether failover `f` ran within `[from, to]`.
fn overlaps(f: &Failover, from: UnixMs, to: UnixMs) -> bool {
    f.requested_at <= to && f.ended_at.is_none_or(|e| e >= from)
}

/// The failover's journalled steps, one entry each.
fn step_entries(f: &Failover) -> Vec<TimelineEntry> {
    f.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let outcome = s
                .outcome
                .as_deref()
                .unwrap_or("under way")
                .replace('_', " ");
            let detail = if s.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", s.detail)
            };
            TimelineEntry {
                at: s.started_at,
                kind: EntryKind::FailoverStep,
                actor: None,
                text: format!(
                    "{} → {}: {} ({outcome}){detail}",
                    f.source, f.target, s.step
                ),
                source: format!("failover:{}:{i}", f.id),
            }
        })
        .collect()
}

/// An audit entry as a timeline entry, if it belongs in incident `incident`'s timeline.
fn action_entry(e: &AuditEntry, incident: i64) -> Option<TimelineEntry> {
    let kind = match e.action.as_str() {
        // The alert's own record says it, with its note.
        "alert.ack" => return None,
        "incident.note" => {
            let of: serde_json::Value = serde_json::from_str(&e.detail).ok()?;
            if of.get("incident").and_then(|v| v.as_i64()) != Some(incident) {
                return None;
            }
            EntryKind::Note
        }
        a if a.starts_with("failover.") || a.starts_with("switch.") => EntryKind::Failover,
        a if a.starts_with("command.") => EntryKind::Command,
        _ => EntryKind::Action,
    };
    let text = match kind {
        EntryKind::Note => e.reason.clone(),
        _ => {
            let result = e.result.as_deref().unwrap_or("under way");
            format!("{}: {} ({result})", e.action, e.reason)
        }
    };
    Some(TimelineEntry {
        at: e.at,
        kind,
        actor: Some(e.actor.clone()),
        text,
        source: format!("audit:{}", e.id),
    })
}
