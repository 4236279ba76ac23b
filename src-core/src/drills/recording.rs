//! What the recorder keeps of a drill: timestamped events, samples of the fleet, the command
//! probe, the failover's reconnection curve. Times are milliseconds since the drill started.
//!
//! Rules kept here: every time is milliseconds since the drill started (a curve point's `at`
//! too); a record kept before a field was added reads with that field empty.

use crate::moving::CurvePoint;
use crate::RegionId;
use serde::{Deserialize, Serialize};

/// What happened during a drill, in the order the recorder saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Started,
    /// The scenario's outage (or degradation) began.
    FaultInjected,
    /// The console saw the active region unhealthy.
    OutageDetected,
    RecommendationShown,
    FailoverConfirmed,
    /// A failover step ended (switch, reconnect, verify); the detail says which and how.
    Step,
    /// The failover failed (a step did not happen); the detail says why.
    FailoverFailed,
    /// The share of devices counted as "back" is online in the active region again.
    DevicesBack,
    /// The edge backlog is back to where it was before the disruption.
    BacklogDrained,
    FaultCleared,
    FailbackConfirmed,
    FailbackDone,
    /// A command sent to the whole fleet to see how much of it could be reached.
    CommandProbe,
    Ended,
    /// The drill was stopped before its end (by an operator, or because a step failed).
    Aborted,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Started => "drill started",
            EventKind::FaultInjected => "fault injected",
            EventKind::OutageDetected => "outage detected",
            EventKind::RecommendationShown => "recommendation shown",
            EventKind::FailoverConfirmed => "failover confirmed",
            EventKind::Step => "failover step",
            EventKind::FailoverFailed => "failover failed",
            EventKind::DevicesBack => "devices back",
            EventKind::BacklogDrained => "backlog drained",
            EventKind::FaultCleared => "fault cleared",
            EventKind::FailbackConfirmed => "failback confirmed",
            EventKind::FailbackDone => "failback done",
            EventKind::CommandProbe => "command probe",
            EventKind::Ended => "drill ended",
            EventKind::Aborted => "drill aborted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillEvent {
    /// Milliseconds since the drill started.
    pub t_ms: u64,
    pub kind: EventKind,
    pub detail: String,
}

/// The fleet at one moment of the drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillSample {
    pub t_ms: u64,
    /// The region the devices' domain pointed at.
    pub active: RegionId,
    /// Devices online, per region, in configured order.
    pub online: Vec<(RegionId, u64)>,
    /// Messages waiting at the edge, all gateways.
    pub backlog: u64,
    /// Messages the edge has dropped since the fleet started (a counter).
    pub dropped: u64,
}

impl DrillSample {
    pub fn online_in(&self, region: &str) -> u64 {
        self.online
            .iter()
            .find(|(r, _)| r == region)
            .map_or(0, |(_, n)| *n)
    }
    pub fn online_total(&self) -> u64 {
        self.online.iter().map(|(_, n)| n).sum()
    }
}

/// A command sent to every device during the drill: how many were targeted and reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DrillProbe))]
pub struct Probe {
    pub t_ms: u64,
    pub targeted: u64,
    pub reached: u64,
}

/// Everything the recorder kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recording {
    pub events: Vec<DrillEvent>,
    pub samples: Vec<DrillSample>,
    #[serde(default)]
    pub probe: Option<Probe>,
    /// The failover's reconnection curve: devices online in the region left and in the one
    /// moved to, from the switch until the failover ended, sampled like `samples`.
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
}

impl Recording {
    pub fn event(&mut self, t_ms: u64, kind: EventKind, detail: impl Into<String>) {
        self.events.push(DrillEvent {
            t_ms,
            kind,
            detail: detail.into(),
        });
    }

    pub fn first(&self, kind: EventKind) -> Option<&DrillEvent> {
        self.events.iter().find(|e| e.kind == kind)
    }

    pub(crate) fn first_after(&self, kind: EventKind, t_ms: u64) -> Option<&DrillEvent> {
        self.events
            .iter()
            .find(|e| e.kind == kind && e.t_ms >= t_ms)
    }
}
