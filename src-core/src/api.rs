//! The HTTP API's request and response types, shared by the server and the UI.
//!
//! Every response that carries observed figures also carries `server_time`, so a client can
//! compute data ages against the server's clock rather than its own.

use crate::{fault::FaultSpec, FleetSnapshot, RegionSummary, SourceKind, UnixMs};
use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";

/// `GET /healthz`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthzResponse {
    pub status: String,
    pub version: String,
}

/// `GET /api/v1/regions`, and the payload of the `regions` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
            regions: s.regions.clone(),
        }
    }
}

/// One stored observation of a region, for its charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct RegionHistory {
    pub region: String,
    pub server_time: UnixMs,
    pub since: UnixMs,
    pub samples: Vec<RegionSample>,
}

/// A state change pushed on `GET /api/v1/events` (server-sent events; the SSE event name is the
/// variant's `type`) and, in the desktop app, on the `fleet` Tauri event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl FleetEvent {
    pub fn name(&self) -> &'static str {
        match self {
            FleetEvent::Regions(_) => "regions",
            FleetEvent::Alert(_) => "alert",
            FleetEvent::Failover(_) => "failover",
            FleetEvent::Command(_) => "command",
        }
    }
}

/// `POST /api/v1/sim/faults`: inject a fault into the simulated fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectFaultRequest {
    pub fault: FaultSpec,
    /// Why, for the audit log.
    pub reason: String,
}

/// The answer to a state-changing request: what was recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditedResponse {
    pub audit_id: i64,
    pub message: String,
}

/// Every error the API returns has this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    #[test]
    fn unknown_fields_in_a_fault_request_are_refused() {
        let err = serde_json::from_str::<InjectFaultRequest>(
            r#"{"fault":{"region":"us-east-1","kind":"outage"},"reason":"x","force":true}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `force`"), "{err}");
    }
}
