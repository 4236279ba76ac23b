//! The HTTP API's request and response types, shared by the server and the UI.
//!
//! Every response that carries observed figures also carries `server_time`, so a client can
//! compute data ages against the server's clock rather than its own.

use crate::{fault::FaultSpec, FleetSnapshot, RegionSummary, SourceKind, UnixMs};
use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";

/// `GET /healthz`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthzResponse {
    pub status: String,
    pub version: String,
}

/// `GET /api/v1/regions`, and the payload of the `regions` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionsResponse {
    /// The fleet state version these figures belong to.
    pub version: u64,
    pub source: SourceKind,
    pub server_time: UnixMs,
    pub regions: Vec<RegionSummary>,
}

impl RegionsResponse {
    pub fn from_snapshot(s: &FleetSnapshot, server_time: UnixMs) -> Self {
        RegionsResponse {
            version: s.version,
            source: s.source,
            server_time,
            regions: s
                .regions
                .iter()
                .map(|r| RegionSummary {
                    figures: crate::cockpit::figures(r, server_time),
                    ..r.clone()
                })
                .collect(),
        }
    }
}

/// One stored observation of a region, for its charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionSample {
    pub observed_at: UnixMs,
    pub health: crate::HealthStatus,
    pub online: u64,
    pub offline: u64,
    pub connect_attempts: u64,
    pub connect_errors: u64,
    pub backlog_messages: u64,
}

/// `GET /api/v1/regions/{id}/history?minutes=N`: the region's samples, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionHistory {
    pub region: String,
    pub server_time: UnixMs,
    pub since: UnixMs,
    pub samples: Vec<RegionSample>,
}

/// A state change pushed on `GET /api/v1/events` (server-sent events; the SSE event name is the
/// variant's `type`) and, in the desktop app, on the `fleet` Tauri event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FleetEvent {
    /// The regions changed; carries them whole.
    Regions(RegionsResponse),
    /// An alert was raised, or cleared (then `cleared_at` is set).
    Alert(crate::alerts::Alert),
    /// A failover was requested or moved on.
    Failover(Box<crate::failover::Failover>),
    /// A command run progressed (tallies) or ended.
    Command(Box<crate::commands::CommandRun>),
    /// An incident opened, changed (an alert joined, cleared or was acknowledged, a note) or
    /// closed.
    Incident(crate::incidents::Incident),
}

impl FleetEvent {
    pub fn name(&self) -> &'static str {
        match self {
            FleetEvent::Regions(_) => "regions",
            FleetEvent::Alert(_) => "alert",
            FleetEvent::Failover(_) => "failover",
            FleetEvent::Incident(_) => "incident",
            FleetEvent::Command(_) => "command",
        }
    }

    /// Every event's name, as [`FleetEvent::name`] says it.
    pub const NAMES: [&'static str; 5] = ["regions", "alert", "failover", "command", "incident"];

    /// Reads an event from its name (the SSE event's name, or its `type`) and its JSON, straight
    /// into that variant's type: the same event the tagged `Deserialize` reads (a test keeps the
    /// two equal), without serde first buffering the whole event to find its tag. In the UI's
    /// wasm that buffering costs a second decoder for every type an event carries.
    pub fn from_named(name: &str, json: &str) -> Result<FleetEvent, serde_json::Error> {
        use serde::de::Error as _;
        Ok(match name {
            "regions" => FleetEvent::Regions(serde_json::from_str(json)?),
            "alert" => FleetEvent::Alert(serde_json::from_str(json)?),
            "failover" => FleetEvent::Failover(serde_json::from_str(json)?),
            "command" => FleetEvent::Command(serde_json::from_str(json)?),
            "incident" => FleetEvent::Incident(serde_json::from_str(json)?),
            other => return Err(serde_json::Error::unknown_variant(other, &Self::NAMES)),
        })
    }
}

/// `POST /api/v1/sim/faults`: inject a fault into the simulated fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InjectFaultRequest {
    pub fault: FaultSpec,
    /// Why, for the audit log.
    #[cfg_attr(feature = "openapi", schema(pattern = "\\S"))]
    pub reason: String,
}

/// The answer to a state-changing request: what was recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditedResponse {
    pub audit_id: i64,
    pub message: String,
}

/// `POST /api/v1/failovers` when the target is already active: a success (200) that did
/// nothing, saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NothingToDo {
    pub nothing_to_do: String,
}

/// One entry of the audit log: who did what, why, and how it ended (`result` and
/// `finished_at` stay empty while the action runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: UnixMs,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub detail: String,
    pub result: Option<String>,
    pub finished_at: Option<UnixMs>,
}

/// `GET /api/v1/audit?limit=N`: the newest entries first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/v1/commands?limit=N`: the catalogue and the recent runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandsOverview {
    pub catalogue: Vec<crate::commands::CommandDef>,
    pub runs: Vec<crate::commands::CommandRun>,
}

/// `GET /api/v1/commands/{id}?offset=N&limit=N`: a run and one page of its devices' results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandRunDetail {
    pub run: crate::commands::CommandRun,
    pub results: Vec<crate::commands::DeviceResult>,
}

/// `POST /api/v1/commands/{id}/cancel`: the run asked to stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cancelling {
    pub cancelling: String,
}

/// An answer that is only a sentence (`POST /api/v1/drills/{id}/abort`,
/// `DELETE /api/v1/session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    pub message: String,
}

/// `GET /api/v1/setup`: whether the first admin is still to be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    pub needed: bool,
}

/// Every error the API returns has this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BacklogTotals, Health, RegionRole};

    #[test]
    fn events_are_tagged_with_their_name() {
        let ev = FleetEvent::Regions(RegionsResponse {
            version: 7,
            source: SourceKind::Simulated,
            server_time: 1,
            regions: vec![RegionSummary {
                id: "us-east-1".into(),
                name: "US East (N. Virginia)".into(),
                role: RegionRole::Active,
                health: Health::unknown(),
                online: 1,
                offline: 2,
                backlog: BacklogTotals::default(),
                observed_at: None,
                last_attempt_at: None,
                poll_interval_ms: 5_000,
                figures: Default::default(),
            }],
        });
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["type"], ev.name());
        assert_eq!(json["source"], "simulated");
        assert_eq!(json["regions"][0]["role"], "active");
        assert_eq!(json["regions"][0]["health"]["status"], "unknown");
        let back: FleetEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, ev);
    }

    /// One event of every kind, as the server sends them.
    fn one_of_each() -> Vec<FleetEvent> {
        use crate::alerts::{Alert, AlertKind, Severity};
        use crate::commands::{CommandRun, OfflinePolicy, RunStatus, Target};
        use crate::failover::{Failover, Phase, Readiness, Verdict};
        use crate::incidents::Incident;
        let regions = RegionsResponse {
            version: 7,
            source: SourceKind::Simulated,
            server_time: 1,
            regions: vec![],
        };
        let alert = Alert {
            id: 7,
            kind: AlertKind::RegionUnreachable,
            severity: Severity::Critical,
            subject: "us-east-1".into(),
            message: "us-east-1 is unreachable: no answer".into(),
            raised_at: 10,
            cleared_at: None,
            incident_id: Some(1),
            ack: None,
        };
        let failover = Failover {
            id: "fo-1".into(),
            source: "us-east-1".into(),
            target: "eu-west-1".into(),
            reason: "outage".into(),
            requested_by: "ada".into(),
            approved_by: None,
            phase: Phase::Verifying,
            preflight: Readiness {
                target: "eu-west-1".into(),
                overall: Verdict::Pass,
                checks: vec![],
            },
            online_before: 900,
            back: 450,
            complete_share: 0.95,
            requested_at: 20,
            updated_at: 21,
            ended_at: None,
            outcome: None,
            steps: vec![],
            switched_at: Some(21),
            dns_ttl_secs: 60,
            stragglers: None,
            curve: vec![],
            complete_eta: None,
        };
        let run = CommandRun {
            id: "cmd-1".into(),
            command: "ping".into(),
            target: Target::Region {
                code: "eu-west-1".into(),
            },
            payload: serde_json::json!({}),
            offline: OfflinePolicy::Skip,
            reason: "probe".into(),
            requested_by: "ada".into(),
            requested_at: 30,
            status: RunStatus::Running,
            total: 3,
            sent: 1,
            shadowed: 0,
            skipped: 1,
            failed: 0,
            cancelled: 0,
            ended_at: None,
        };
        let incident = Incident {
            id: 1,
            title: "us-east-1 unreachable".into(),
            severity: Severity::Critical,
            regions: vec!["us-east-1".into()],
            opened_at: 10,
            closed_at: None,
            alerts_open: 1,
            alerts_total: 1,
            unacknowledged: 1,
        };
        vec![
            FleetEvent::Regions(regions),
            FleetEvent::Alert(alert),
            FleetEvent::Failover(Box::new(failover)),
            FleetEvent::Command(Box::new(run)),
            FleetEvent::Incident(incident),
        ]
    }

    #[test]
    fn an_event_read_by_its_name_is_the_event_the_tagged_decoder_reads() {
        let events = one_of_each();
        let names: Vec<&str> = events.iter().map(FleetEvent::name).collect();
        assert_eq!(names, FleetEvent::NAMES, "one of each, in NAMES's order");
        for ev in events {
            let json = serde_json::to_string(&ev).unwrap();
            let tagged: FleetEvent = serde_json::from_str(&json).unwrap();
            assert_eq!(FleetEvent::from_named(ev.name(), &json).unwrap(), tagged);
            assert_eq!(tagged, ev);
        }
    }

    #[test]
    fn an_event_of_an_unknown_name_is_refused_naming_it_and_the_known_ones() {
        let e = FleetEvent::from_named("weather", "{}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`weather`"), "{e}");
        assert!(e.contains("`regions`") && e.contains("`incident`"), "{e}");
        let e = FleetEvent::from_named("alert", "{\"id\": \"x\"}").unwrap_err();
        assert!(e.is_data(), "{e}");
    }

    #[test]
    fn the_small_answers_keep_the_field_names_clients_read() {
        let cases = [
            (
                serde_json::to_value(NothingToDo {
                    nothing_to_do: "eu-west-1 is already active".into(),
                }),
                serde_json::json!({ "nothing_to_do": "eu-west-1 is already active" }),
            ),
            (
                serde_json::to_value(Cancelling {
                    cancelling: "cmd-1".into(),
                }),
                serde_json::json!({ "cancelling": "cmd-1" }),
            ),
            (
                serde_json::to_value(MessageResponse {
                    message: "signed out".into(),
                }),
                serde_json::json!({ "message": "signed out" }),
            ),
            (
                serde_json::to_value(SetupStatus { needed: true }),
                serde_json::json!({ "needed": true }),
            ),
            (
                serde_json::to_value(AuditLog {
                    entries: vec![AuditEntry {
                        id: 1,
                        at: 2,
                        actor: "ada".into(),
                        action: "failover.request".into(),
                        reason: "drill".into(),
                        detail: "{}".into(),
                        result: None,
                        finished_at: None,
                    }],
                }),
                serde_json::json!({ "entries": [{ "id": 1, "at": 2, "actor": "ada",
                    "action": "failover.request", "reason": "drill", "detail": "{}",
                    "result": null, "finished_at": null }] }),
            ),
            (
                serde_json::to_value(CommandsOverview {
                    catalogue: vec![],
                    runs: vec![],
                }),
                serde_json::json!({ "catalogue": [], "runs": [] }),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap(), want);
        }
    }

    #[test]
    fn unknown_fields_in_a_fault_request_are_refused() {
        let err = serde_json::from_str::<InjectFaultRequest>(
            r#"{"fault":{"region":"us-east-1","kind":"outage"},"reason":"x","force":true}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `force`"), "{err}");
    }
}
