//! Domain types: regions and their roles, health, devices and connectivity, edge gateways and
//! their backlog, and the fleet snapshot.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch. Every observation carries one, so its age can be shown.
pub type UnixMs = u64;

/// An AWS region code such as `us-east-1`.
pub type RegionId = String;

/// What a region does for the fleet. Exactly one region is active at a time: the device
/// domain resolves to it. Standby regions are ready to take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegionRole {
    Active,
    Standby,
}

impl RegionRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionRole::Active => "active",
            RegionRole::Standby => "standby",
        }
    }
}

/// How a region is doing, as decided by [`crate::health::assess`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Nothing observed yet.
    Unknown,
    Healthy,
    /// Reachable, but an error rate or latency is past its threshold.
    Degraded,
    /// The region's endpoints did not answer within their timeouts.
    Unreachable,
}

/// A health verdict with the reasons that led to it, written for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: HealthStatus,
    pub reasons: Vec<String>,
}

impl HealthStatus {
    /// The name used in the API, the store and the UI's classes.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "unknown",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unreachable => "unreachable",
        }
    }

    /// The inverse of [`HealthStatus::as_str`].
    pub fn parse(s: &str) -> Option<HealthStatus> {
        [
            Self::Unknown,
            Self::Healthy,
            Self::Degraded,
            Self::Unreachable,
        ]
        .into_iter()
        .find(|h| h.as_str() == s)
    }
}

impl Health {
    pub fn unknown() -> Self {
        Health {
            status: HealthStatus::Unknown,
            reasons: vec!["no observation yet".to_string()],
        }
    }
}

/// Why a device is offline, in AWS IoT's vocabulary (fleet indexing `connectivity.disconnectReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisconnectReason {
    ClientInitiatedDisconnect,
    ServerInitiatedDisconnect,
    ConnectionLost,
    MqttKeepAliveTimeout,
    ServerError,
    Throttled,
    Unknown,
}

impl DisconnectReason {
    pub const ALL: [DisconnectReason; 7] = [
        DisconnectReason::ConnectionLost,
        DisconnectReason::MqttKeepAliveTimeout,
        DisconnectReason::ClientInitiatedDisconnect,
        DisconnectReason::ServerInitiatedDisconnect,
        DisconnectReason::ServerError,
        DisconnectReason::Throttled,
        DisconnectReason::Unknown,
    ];

    /// AWS IoT's name for it, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientInitiatedDisconnect => "CLIENT_INITIATED_DISCONNECT",
            DisconnectReason::ServerInitiatedDisconnect => "SERVER_INITIATED_DISCONNECT",
            DisconnectReason::ConnectionLost => "CONNECTION_LOST",
            DisconnectReason::MqttKeepAliveTimeout => "MQTT_KEEP_ALIVE_TIMEOUT",
            DisconnectReason::ServerError => "SERVER_ERROR",
            DisconnectReason::Throttled => "THROTTLED",
            DisconnectReason::Unknown => "UNKNOWN",
        }
    }
}

/// A device's connectivity as the fleet index reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connectivity {
    Online {
        since: UnixMs,
    },
    Offline {
        since: UnixMs,
        reason: DisconnectReason,
    },
}

impl Connectivity {
    /// When the device connected (online) or disconnected (offline).
    pub fn since(&self) -> UnixMs {
        match self {
            Connectivity::Online { since } | Connectivity::Offline { since, .. } => *since,
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self, Connectivity::Online { .. })
    }
}

/// One IoT thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    pub id: String,
    /// The region it is connected to or, while offline, last connected to.
    pub region: RegionId,
    pub thing_groups: Vec<String>,
    pub connectivity: Connectivity,
}

/// A device connected or disconnected, as seen by the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectivityChange {
    pub at: UnixMs,
    pub region: RegionId,
    pub online: bool,
    /// Why it disconnected (offline changes only).
    pub reason: Option<DisconnectReason>,
}

/// An edge gateway's store-and-forward buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backlog {
    /// Messages waiting to be forwarded.
    pub messages: u64,
    /// Bytes waiting to be forwarded.
    pub bytes: u64,
    /// Age of the oldest waiting message, in milliseconds (0 when empty).
    pub oldest_age_ms: u64,
    /// Messages dropped because the buffer was full, since the gateway started.
    pub dropped: u64,
}

/// An edge gateway (for example a Greengrass core) that buffers while it cannot reach AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EdgeGateway {
    pub id: String,
    /// The region it is connected to, or `None` while disconnected.
    pub connected_region: Option<RegionId>,
    pub backlog: Backlog,
    /// Buffer capacity in messages; past it, new messages are dropped.
    pub capacity_messages: u64,
}

/// Backlog summed over the edge gateways that home on one region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BacklogTotals {
    pub gateways: u32,
    pub messages: u64,
    pub bytes: u64,
    pub dropped: u64,
    /// The oldest waiting message among these gateways, in milliseconds.
    pub oldest_age_ms: u64,
}

impl BacklogTotals {
    pub fn add(&mut self, b: &Backlog) {
        self.gateways += 1;
        self.messages += b.messages;
        self.bytes += b.bytes;
        self.dropped += b.dropped;
        self.oldest_age_ms = self.oldest_age_ms.max(b.oldest_age_ms);
    }
}

/// The raw figures one poll of one region returns, before any decision is made about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionObservation {
    pub region: RegionId,
    pub observed_at: UnixMs,
    /// Devices connected to this region.
    pub online: u64,
    /// Devices registered to this region that are not connected.
    pub offline: u64,
    /// Connection attempts in the last interval, and how many failed.
    pub connect_attempts: u64,
    pub connect_errors: u64,
    /// Inbound publishes in the last interval, and how many failed on the server.
    pub publish_in: u64,
    pub publish_errors: u64,
    /// Backlog of the edge gateways homed on this region.
    pub backlog: BacklogTotals,
    /// How long the source took to answer, in milliseconds.
    pub latency_ms: u64,
    /// What the source could not find out although the region answered (a metric call that
    /// failed, connectivity indexing turned off): each one makes the region degraded.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// What the console knows about one region right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionSummary {
    pub id: RegionId,
    /// Human name such as "US East (N. Virginia)".
    pub name: String,
    pub role: RegionRole,
    pub health: Health,
    pub online: u64,
    pub offline: u64,
    pub backlog: BacklogTotals,
    /// When the figures above were observed (`None` before the first successful poll).
    pub observed_at: Option<UnixMs>,
    /// When the last poll was attempted, successful or not.
    pub last_attempt_at: Option<UnixMs>,
    /// How often the region is polled, so a reader can tell stale data from fresh.
    pub poll_interval_ms: u64,
    /// Whether the figures above are current or the last known, at the answer's
    /// `server_time` (set by [`crate::api::RegionsResponse::from_snapshot`]).
    #[serde(default)]
    pub figures: crate::cockpit::Figures,
}

/// Where the fleet data comes from. A simulated fleet is always labelled as such on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Simulated,
    Aws,
}

/// Fleet-wide online and offline devices, from the regions whose figures are current.
///
/// A simulated fleet partitions its devices among the regions, so the sums are the totals. On
/// AWS every device is registered in every region (that is what lets it fail over), so the
/// registries overlap: a device is online where it is connected, and offline only when it is
/// connected nowhere, that is the largest registry less the devices online.
pub fn fleet_totals<'a>(
    source: SourceKind,
    current: impl IntoIterator<Item = &'a RegionSummary>,
) -> (u64, u64) {
    let (mut online, mut offline, mut largest) = (0u64, 0u64, 0u64);
    for r in current {
        online += r.online;
        offline += r.offline;
        largest = largest.max(r.online + r.offline);
    }
    match source {
        SourceKind::Simulated => (online, offline),
        SourceKind::Aws => (online, largest.saturating_sub(online)),
    }
}

/// The whole fleet state at one version. The version increases with every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FleetSnapshot {
    pub version: u64,
    pub source: SourceKind,
    pub regions: Vec<RegionSummary>,
}

impl FleetSnapshot {
    pub fn active_region(&self) -> Option<&RegionSummary> {
        self.regions.iter().find(|r| r.role == RegionRole::Active)
    }

    pub fn total_online(&self) -> u64 {
        self.regions.iter().map(|r| r.online).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialised_ones_and_parse_back() {
        for h in [
            HealthStatus::Unknown,
            HealthStatus::Healthy,
            HealthStatus::Degraded,
            HealthStatus::Unreachable,
        ] {
            assert_eq!(serde_json::to_value(h).unwrap(), h.as_str());
            assert_eq!(HealthStatus::parse(h.as_str()), Some(h));
        }
        assert_eq!(HealthStatus::parse("fine"), None);
        for r in DisconnectReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    fn region(online: u64, offline: u64) -> RegionSummary {
        RegionSummary {
            id: "r".into(),
            name: "R".into(),
            role: RegionRole::Standby,
            health: Health {
                status: HealthStatus::Healthy,
                reasons: vec![],
            },
            online,
            offline,
            backlog: BacklogTotals::default(),
            observed_at: Some(1),
            last_attempt_at: Some(1),
            poll_interval_ms: 5_000,
            figures: Default::default(),
        }
    }

    #[test]
    fn fleet_totals_add_partitions_but_not_replicated_registries() {
        // 1,000 devices registered in both regions: 900 connected to the active, 40 to the
        // standby after a partial failover, 60 nowhere.
        let regions = [region(900, 100), region(40, 960)];
        assert_eq!(fleet_totals(SourceKind::Aws, &regions), (940, 60));
        // A simulated fleet's regions hold different devices.
        assert_eq!(fleet_totals(SourceKind::Simulated, &regions), (940, 1_060));
        assert_eq!(fleet_totals(SourceKind::Aws, []), (0, 0));
    }
}
