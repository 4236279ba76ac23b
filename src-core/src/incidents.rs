//! Incidents: the alerts of one bad hour gathered into one thing that operators acknowledge,
//! annotate, follow and, afterwards, review.
//!
//! Rules kept here:
//! - an incident opens with the first *critical* alert raised while no incident is open; a
//!   warning alone opens none;
//! - while an incident is open, every alert raised joins it, whatever its severity;
//! - it closes when all its alerts have cleared and no failover is under way;
//! - its timeline is in time order and holds each recorded event once;
//! - every time in an export says UTC.

use crate::alerts::{Alert, AlertKind, Severity};
use crate::time::{duration, utc_datetime};
use crate::UnixMs;
use serde::{Deserialize, Serialize};

/// Who acknowledged an alert, when, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    pub by: String,
    pub at: UnixMs,
    pub note: String,
}

/// An incident as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: i64,
    /// From the alert that opened it: "us-east-1 unreachable".
    pub title: String,
    /// The highest severity among its alerts.
    pub severity: Severity,
    /// The regions its alerts name, in the order they first appeared.
    pub regions: Vec<String>,
    pub opened_at: UnixMs,
    pub closed_at: Option<UnixMs>,
    /// Its alerts still open, and all of them.
    pub alerts_open: u32,
    pub alerts_total: u32,
    /// Its open alerts nobody has acknowledged yet.
    pub unacknowledged: u32,
}

/// What joins a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Opened,
    AlertRaised,
    AlertCleared,
    Acknowledged,
    Note,
    /// A failover requested, approved, cancelled, or ended.
    Failover,
    /// One journalled step of a failover.
    FailoverStep,
    Command,
    /// Any other audited action (a fault injected in a drill, a setting changed).
    Action,
    Closed,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Opened => "opened",
            EntryKind::AlertRaised => "alert_raised",
            EntryKind::AlertCleared => "alert_cleared",
            EntryKind::Acknowledged => "acknowledged",
            EntryKind::Note => "note",
            EntryKind::Failover => "failover",
            EntryKind::FailoverStep => "failover_step",
            EntryKind::Command => "command",
            EntryKind::Action => "action",
            EntryKind::Closed => "closed",
        }
    }
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: UnixMs,
    pub kind: EntryKind,
    /// Who acted; `None` for what the console observed by itself.
    pub actor: Option<String>,
    pub text: String,
    /// Where the entry comes from ("alert:12", "audit:40", "failover:f-3:2"): one source
    /// record, one entry.
    pub source: String,
}

/// `GET /api/v1/incidents`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentsResponse {
    pub server_time: UnixMs,
    pub incidents: Vec<Incident>,
}

/// `GET /api/v1/incidents/{id}`: the incident, its alerts and its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentDetail {
    pub server_time: UnixMs,
    pub incident: Incident,
    /// Newest first.
    pub alerts: Vec<Alert>,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// `POST /api/v1/alerts/{id}/ack`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// Up to 2000 characters; may be empty.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub note: String,
}

/// `POST /api/v1/incidents/{id}/notes`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1 to 2000 characters, not only spaces.
    #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "\\S"))]
    pub text: String,
}

/// The longest acknowledgement note or incident note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// What a newly raised alert does to the incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// It opens a new incident (and is its first alert).
    Open,
    /// It joins the open incident.
    Join(i64),
    /// It belongs to none: a warning while no incident is open.
    Alone,
}

/// Where a raised alert of `severity` goes, given the incident open now.
pub fn on_raise(open_incident: Option<i64>, severity: Severity) -> Joining {
    match (open_incident, severity) {
        (Some(id), _) => Joining::Join(id),
        (None, Severity::Critical) => Joining::Open,
        (None, Severity::Warning) => Joining::Alone,
    }
}

/// Whether an incident with `alerts_open` of its alerts still open may close now.
pub fn may_close(alerts_open: u32, failover_under_way: bool) -> bool {
    alerts_open == 0 && !failover_under_way
}

/// An incident's title, from the alert that opens it.
pub fn title(kind: AlertKind, subject: &str) -> String {
    match kind {
        AlertKind::RegionUnreachable => format!("{subject} unreachable"),
        AlertKind::RegionDegraded => format!("{subject} degraded"),
        AlertKind::BacklogNearCapacity => format!("gateway {subject} near capacity"),
        AlertKind::DropsStarted => format!("gateway {subject} dropping messages"),
        AlertKind::TrafficMovedOutside => format!("traffic moved outside the console ({subject})"),
    }
}

/// Whether an alert's subject is a region (so the incident names it).
pub fn names_a_region(kind: AlertKind) -> bool {
    matches!(
        kind,
        AlertKind::RegionUnreachable | AlertKind::RegionDegraded | AlertKind::TrafficMovedOutside
    )
}

/// Puts entries in time order (ties keep their kinds' order) and keeps one per source.
pub fn ordered(mut entries: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    entries.sort_by(|a, b| (a.at, a.kind, &a.source).cmp(&(b.at, b.kind, &b.source)));
    let mut seen = std::collections::HashSet::new();
    entries.retain(|e| seen.insert(e.source.clone()));
    entries
}

/// The incident as Markdown, for the post-incident review.
pub fn markdown(d: &IncidentDetail) -> String {
    use std::fmt::Write;
    let i = &d.incident;
    let mut md = format!("# Incident {}: {}\n\n", i.id, i.title);
    let _ = writeln!(md, "- Severity: {:?}", i.severity);
    let _ = writeln!(md, "- Opened: {}", utc_datetime(i.opened_at));
    match i.closed_at {
        Some(at) => {
            let _ = writeln!(md, "- Closed: {}", utc_datetime(at));
            let _ = writeln!(
                md,
                "- Duration: {}",
                duration(at.saturating_sub(i.opened_at))
            );
        }
        None => {
            let _ = writeln!(
                md,
                "- Still open at {} ({} so far)",
                utc_datetime(d.server_time),
                duration(d.server_time.saturating_sub(i.opened_at))
            );
        }
    }
    if !i.regions.is_empty() {
        let _ = writeln!(md, "- Regions: {}", i.regions.join(", "));
    }
    let _ = writeln!(md, "- Alerts: {} ({} open)", i.alerts_total, i.alerts_open);
    md.push_str("\n## Timeline\n\n| Time (UTC) | What | Who | Detail |\n|---|---|---|---|\n");
    for e in &d.timeline {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            utc_datetime(e.at).trim_end_matches(" UTC"),
            e.kind.as_str(),
            e.actor.as_deref().unwrap_or("console"),
            e.text.replace('|', "\\|").replace('\n', " ")
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: UnixMs, kind: EntryKind, source: &str) -> TimelineEntry {
        TimelineEntry {
            at,
            kind,
            actor: None,
            text: format!("{} {source}", kind.as_str()),
            source: source.into(),
        }
    }

    #[test]
    fn a_critical_alert_opens_an_incident_and_a_lone_warning_does_not() {
        assert_eq!(on_raise(None, Severity::Critical), Joining::Open);
        assert_eq!(on_raise(None, Severity::Warning), Joining::Alone);
    }

    #[test]
    fn while_an_incident_is_open_every_alert_joins_it() {
        assert_eq!(on_raise(Some(4), Severity::Warning), Joining::Join(4));
        assert_eq!(on_raise(Some(4), Severity::Critical), Joining::Join(4));
    }

    #[test]
    fn an_incident_stays_open_while_an_alert_is_open_or_a_failover_runs() {
        assert!(!may_close(1, false));
        assert!(!may_close(0, true));
        assert!(may_close(0, false));
    }

    #[test]
    fn the_timeline_is_in_time_order_with_each_source_once() {
        let t = ordered(vec![
            entry(30, EntryKind::Note, "audit:3"),
            entry(10, EntryKind::AlertRaised, "alert:1:raised"),
            entry(20, EntryKind::FailoverStep, "failover:f:0"),
            entry(20, EntryKind::FailoverStep, "failover:f:0"),
        ]);
        let sources: Vec<_> = t.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["alert:1:raised", "failover:f:0", "audit:3"]);
    }

    #[test]
    fn the_markdown_export_says_utc_and_escapes_table_cells() {
        let d = IncidentDetail {
            server_time: 1_796_152_686_000,
            incident: Incident {
                id: 7,
                title: title(AlertKind::RegionUnreachable, "us-east-1"),
                severity: Severity::Critical,
                regions: vec!["us-east-1".into()],
                opened_at: 1_796_152_686_000 - 90_000,
                closed_at: None,
                alerts_open: 1,
                alerts_total: 1,
                unacknowledged: 0,
            },
            alerts: vec![],
            timeline: vec![TimelineEntry {
                at: 1_796_152_686_000 - 60_000,
                kind: EntryKind::Note,
                actor: Some("ana".into()),
                text: "checked | paged AWS".into(),
                source: "audit:1".into(),
            }],
        };
        let md = markdown(&d);
        assert!(
            md.starts_with("# Incident 7: us-east-1 unreachable\n"),
            "{md}"
        );
        assert!(md.contains("- Opened: 2026-12-01 19:16:36 UTC"), "{md}");
        assert!(md.contains("(1 min 30 s so far)"), "{md}");
        assert!(
            md.contains("| 2026-12-01 19:17:06 | note | ana | checked \\| paged AWS |"),
            "{md}"
        );
    }
}
