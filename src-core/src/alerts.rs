//! Alert rules: which conditions deserve an operator's attention. Pure: the engine feeds in
//! the current state and gets back the conditions that hold; comparing them with the alerts
//! already open tells it what to raise and what to clear.

use crate::edge::GatewayView;
use crate::{HealthStatus, RegionSummary, UnixMs};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    RegionDegraded,
    RegionUnreachable,
    BacklogNearCapacity,
    DropsStarted,
    /// The traffic switch sends the devices somewhere this console did not send them.
    TrafficMovedOutside,
}

impl AlertKind {
    /// Every kind, in the order the API documents them.
    pub const ALL: [AlertKind; 5] = [
        AlertKind::RegionDegraded,
        AlertKind::RegionUnreachable,
        AlertKind::BacklogNearCapacity,
        AlertKind::DropsStarted,
        AlertKind::TrafficMovedOutside,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::RegionDegraded => "region_degraded",
            AlertKind::RegionUnreachable => "region_unreachable",
            AlertKind::BacklogNearCapacity => "backlog_near_capacity",
            AlertKind::DropsStarted => "drops_started",
            AlertKind::TrafficMovedOutside => "traffic_moved_outside",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::RegionUnreachable | AlertKind::DropsStarted => Severity::Critical,
            AlertKind::RegionDegraded
            | AlertKind::BacklogNearCapacity
            | AlertKind::TrafficMovedOutside => Severity::Warning,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 2] = [Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A condition that holds now: what, about whom, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub kind: AlertKind,
    /// A region code or a gateway id.
    pub subject: String,
    pub message: String,
}

/// An alert as stored and shown: raised when its condition began, cleared when it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    pub severity: Severity,
    pub subject: String,
    pub message: String,
    pub raised_at: UnixMs,
    pub cleared_at: Option<UnixMs>,
    /// The incident it belongs to (`None`: a warning raised while no incident was open).
    #[serde(default)]
    pub incident_id: Option<i64>,
    /// Who acknowledged it, when, with what note.
    #[serde(default)]
    pub ack: Option<crate::incidents::Acknowledgement>,
}

/// `GET /api/v1/alerts`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertsResponse {
    pub server_time: UnixMs,
    /// Newest first.
    pub alerts: Vec<Alert>,
}

/// Thresholds of the gateway rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRules {
    /// Share of a buffer in use past which it is near capacity.
    pub near_capacity: f64,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules { near_capacity: 0.8 }
    }
}

/// The conditions a region's summary shows.
pub fn region_conditions(r: &RegionSummary) -> Vec<Condition> {
    let why = r.health.reasons.join("; ");
    match r.health.status {
        HealthStatus::Unreachable => vec![Condition {
            kind: AlertKind::RegionUnreachable,
            subject: r.id.clone(),
            message: format!("{} is unreachable: {why}", r.id),
        }],
        HealthStatus::Degraded => vec![Condition {
            kind: AlertKind::RegionDegraded,
            subject: r.id.clone(),
            message: format!("{} is degraded: {why}", r.id),
        }],
        HealthStatus::Healthy | HealthStatus::Unknown => vec![],
    }
}

/// The conditions a gateway's view shows.
pub fn gateway_conditions(g: &GatewayView, rules: &AlertRules) -> Vec<Condition> {
    let mut out = Vec::new();
    if g.dropping {
        out.push(Condition {
            kind: AlertKind::DropsStarted,
            subject: g.id.clone(),
            message: format!(
                "{} is dropping messages: buffer full ({} messages)",
                g.id, g.backlog.messages
            ),
        });
    } else if g.fill >= rules.near_capacity {
        let eta = g.time_to_overflow_s.map_or(String::new(), |s| {
            format!(", full in {s} s at the current rate")
        });
        out.push(Condition {
            kind: AlertKind::BacklogNearCapacity,
            subject: g.id.clone(),
            message: format!("{} buffer {:.0}% full{eta}", g.id, g.fill * 100.0),
        });
    }
    out
}

/// What changes: conditions with no open alert are raised; open alerts (of the kinds and
/// subjects `in_scope` covers) whose condition no longer holds are cleared.
pub fn diff<'a>(
    open: impl IntoIterator<Item = (&'a (AlertKind, String), &'a i64)>,
    now: &[Condition],
    in_scope: impl Fn(AlertKind, &str) -> bool,
) -> (Vec<Condition>, Vec<i64>) {
    let open: Vec<_> = open.into_iter().collect();
    let raise = now
        .iter()
        .filter(|c| {
            !open
                .iter()
                .any(|((k, s), _)| *k == c.kind && *s == c.subject)
        })
        .cloned()
        .collect();
    let clear = open
        .iter()
        .filter(|((k, s), _)| {
            in_scope(*k, s) && !now.iter().any(|c| c.kind == *k && c.subject == *s)
        })
        .map(|(_, id)| **id)
        .collect();
    (raise, clear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{edge, Backlog, BacklogTotals, EdgeGateway, Health, RegionRole};
    use std::collections::BTreeMap;

    fn region(status: HealthStatus, reasons: &[&str]) -> RegionSummary {
        RegionSummary {
            id: "us-east-1".into(),
            name: "US East".into(),
            role: RegionRole::Active,
            health: Health {
                status,
                reasons: reasons.iter().map(|s| s.to_string()).collect(),
            },
            online: 0,
            offline: 0,
            backlog: BacklogTotals::default(),
            observed_at: None,
            last_attempt_at: None,
            poll_interval_ms: 5_000,
            figures: Default::default(),
        }
    }

    #[test]
    fn every_alert_kind_reads_back_from_its_name_and_serializes_as_it() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(AlertKind::TrafficMovedOutside.severity(), Severity::Warning);
    }

    #[test]
    fn region_health_maps_to_alerts() {
        assert!(region_conditions(&region(HealthStatus::Healthy, &[])).is_empty());
        let c = region_conditions(&region(
            HealthStatus::Unreachable,
            &["region did not answer: timeout"],
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, AlertKind::RegionUnreachable);
        assert_eq!(
            c[0].message,
            "us-east-1 is unreachable: region did not answer: timeout"
        );
        assert_eq!(AlertKind::RegionUnreachable.severity(), Severity::Critical);
    }

    #[test]
    fn gateways_near_capacity_then_dropping() {
        let g = |messages, dropped| EdgeGateway {
            id: "gw-7".into(),
            connected_region: None,
            backlog: Backlog {
                messages,
                bytes: 0,
                oldest_age_ms: 0,
                dropped,
            },
            capacity_messages: 1_000,
        };
        let rules = AlertRules::default();
        assert!(gateway_conditions(&edge::assess(None, &g(700, 0)), &rules).is_empty());
        let near = gateway_conditions(&edge::assess(Some((&g(700, 0), 1_000)), &g(850, 0)), &rules);
        assert_eq!(near[0].kind, AlertKind::BacklogNearCapacity);
        assert_eq!(
            near[0].message,
            "gw-7 buffer 85% full, full in 1 s at the current rate"
        );
        let drop = gateway_conditions(
            &edge::assess(Some((&g(1_000, 0), 1_000)), &g(1_000, 10)),
            &rules,
        );
        assert_eq!(drop.len(), 1, "dropping replaces near-capacity");
        assert_eq!(drop[0].kind, AlertKind::DropsStarted);
    }

    #[test]
    fn diff_raises_new_clears_ended_and_leaves_other_scopes_alone() {
        let mut open = BTreeMap::new();
        open.insert((AlertKind::RegionDegraded, "us-east-1".to_string()), 1);
        open.insert((AlertKind::RegionUnreachable, "eu-west-1".to_string()), 2);
        let now = vec![Condition {
            kind: AlertKind::RegionUnreachable,
            subject: "us-east-1".into(),
            message: "down".into(),
        }];
        // Only us-east-1 was just evaluated.
        let (raise, clear) = diff(&open, &now, |_, s| s == "us-east-1");
        assert_eq!(raise, now);
        assert_eq!(
            clear,
            vec![1],
            "degraded ends as unreachable begins; eu-west-1 untouched"
        );
        let (raise, clear) = diff(&open, &[], |_, _| true);
        assert!(raise.is_empty());
        assert_eq!(clear, vec![1, 2]);
    }
}
