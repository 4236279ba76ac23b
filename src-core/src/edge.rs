//! Edge gateways at risk: how fast each buffer grows or drains, when it overflows, when it is
//! empty again, and the order an operator should look at them in.

use crate::{Backlog, EdgeGateway, RegionId, UnixMs};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One gateway as the edge view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GatewayView {
    pub id: String,
    /// The region it is connected to, or `None` while disconnected.
    pub connected_region: Option<RegionId>,
    pub backlog: Backlog,
    pub capacity_messages: u64,
    /// Share of the buffer in use, 0..=1.
    pub fill: f64,
    /// Messages per second the backlog grows by (negative while draining); `None` until two
    /// observations exist.
    pub rate_per_s: Option<f64>,
    /// Seconds until the buffer is full at the current rate (0 when already full).
    pub time_to_overflow_s: Option<u64>,
    /// Seconds until the buffer is empty at the current rate.
    pub time_to_drain_s: Option<u64>,
    /// Messages were dropped since the previous observation.
    pub dropping: bool,
}

/// Builds the view of `cur` from the previous observation of the same gateway, `dt_ms` earlier.
pub fn assess(prev: Option<(&EdgeGateway, u64)>, cur: &EdgeGateway) -> GatewayView {
    let b = cur.backlog;
    let fill = if cur.capacity_messages == 0 {
        0.0
    } else {
        (b.messages as f64 / cur.capacity_messages as f64).min(1.0)
    };
    let (rate, dropping) = match prev {
        Some((p, dt_ms)) if dt_ms > 0 => (
            Some((b.messages as f64 - p.backlog.messages as f64) * 1_000.0 / dt_ms as f64),
            b.dropped > p.backlog.dropped,
        ),
        _ => (None, false),
    };
    let full = b.messages >= cur.capacity_messages;
    let time_to_overflow_s = match rate {
        _ if full => Some(0),
        Some(r) if r > 0.0 => Some(((cur.capacity_messages - b.messages) as f64 / r).ceil() as u64),
        _ => None,
    };
    let time_to_drain_s = match rate {
        Some(r) if r < 0.0 && b.messages > 0 => Some((b.messages as f64 / -r).ceil() as u64),
        _ => None,
    };
    GatewayView {
        id: cur.id.clone(),
        connected_region: cur.connected_region.clone(),
        backlog: b,
        capacity_messages: cur.capacity_messages,
        fill,
        rate_per_s: rate,
        time_to_overflow_s,
        time_to_drain_s,
        dropping,
    }
}

/// Riskiest first: dropping now, then soonest to overflow, then fullest, then oldest data.
pub fn by_risk(a: &GatewayView, b: &GatewayView) -> Ordering {
    b.dropping
        .cmp(&a.dropping)
        .then_with(|| match (a.time_to_overflow_s, b.time_to_overflow_s) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| b.fill.total_cmp(&a.fill))
        .then_with(|| b.backlog.oldest_age_ms.cmp(&a.backlog.oldest_age_ms))
        .then_with(|| a.id.cmp(&b.id))
}

/// `GET /api/v1/edge/gateways`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GatewaysResponse {
    pub server_time: UnixMs,
    /// When the gateways were observed (`None` before the first poll).
    pub observed_at: Option<UnixMs>,
    pub poll_interval_ms: u64,
    /// All gateways, summed.
    pub totals: crate::BacklogTotals,
    /// How many gateways exist; `gateways` holds the riskiest `limit` of them.
    pub total_gateways: u64,
    pub gateways: Vec<GatewayView>,
    /// The fleet's totals over the last hour, oldest first.
    pub totals_history: Vec<TotalsSample>,
}

/// The fleet's edge backlog at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotalsSample {
    pub at: UnixMs,
    pub messages: u64,
    pub dropped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(messages: u64, dropped: u64) -> EdgeGateway {
        EdgeGateway {
            id: "gw-1".into(),
            connected_region: None,
            backlog: Backlog {
                messages,
                bytes: messages * 100,
                oldest_age_ms: 0,
                dropped,
            },
            capacity_messages: 1_000,
        }
    }

    #[test]
    fn growing_buffer_overflows_at_the_current_rate() {
        let v = assess(Some((&gw(100, 0), 5_000)), &gw(200, 0));
        assert_eq!(v.rate_per_s, Some(20.0));
        assert_eq!(v.time_to_overflow_s, Some(40)); // 800 left at 20/s
        assert_eq!(v.time_to_drain_s, None);
        assert!((v.fill - 0.2).abs() < 1e-9);
        assert!(!v.dropping);
    }

    #[test]
    fn draining_buffer_says_when_it_is_empty() {
        let v = assess(Some((&gw(600, 0), 10_000)), &gw(300, 0));
        assert_eq!(v.rate_per_s, Some(-30.0));
        assert_eq!((v.time_to_overflow_s, v.time_to_drain_s), (None, Some(10)));
    }

    #[test]
    fn a_full_buffer_has_overflowed_and_drops() {
        let v = assess(Some((&gw(1_000, 5), 1_000)), &gw(1_000, 25));
        assert_eq!(v.time_to_overflow_s, Some(0));
        assert!(v.dropping);
        assert_eq!(v.fill, 1.0);
    }

    #[test]
    fn the_first_observation_has_no_rate() {
        let v = assess(None, &gw(10, 0));
        assert_eq!(
            (v.rate_per_s, v.time_to_overflow_s, v.time_to_drain_s),
            (None, None, None)
        );
    }

    #[test]
    fn riskiest_first() {
        let mut views = [
            GatewayView {
                id: "calm".into(),
                ..assess(None, &gw(10, 0))
            },
            GatewayView {
                id: "slow".into(),
                ..assess(Some((&gw(100, 0), 1_000)), &gw(101, 0))
            },
            GatewayView {
                id: "fast".into(),
                ..assess(Some((&gw(100, 0), 1_000)), &gw(200, 0))
            },
            GatewayView {
                id: "dropping".into(),
                ..assess(Some((&gw(1_000, 0), 1_000)), &gw(1_000, 9))
            },
            GatewayView {
                id: "fuller".into(),
                ..assess(None, &gw(500, 0))
            },
        ];
        views.sort_by(by_risk);
        let order: Vec<&str> = views.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(order, ["dropping", "fast", "slow", "fuller", "calm"]);
    }
}
