//! Is this region healthy? The rule is a pure function of what one poll observed.

use crate::{Health, HealthStatus, RegionObservation};
use serde::{Deserialize, Serialize};

/// The limits past which a reachable region counts as degraded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// Share of failed connection attempts (0..1).
    pub connect_error_rate: f64,
    /// Share of failed inbound publishes (0..1).
    pub publish_error_rate: f64,
    /// Response time of the region's endpoints, in milliseconds.
    pub latency_ms: u64,
    /// Below this many attempts in an interval an error rate says too little to act on.
    pub min_samples: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            connect_error_rate: 0.05,
            publish_error_rate: 0.05,
            latency_ms: 2_000,
            min_samples: 20,
        }
    }
}

/// Decides the health of a region from its latest poll.
///
/// `obs` is `Err(reason)` when the poll itself failed (timeout, refused connection): the
/// region is then unreachable, whatever it said before.
pub fn assess(obs: Result<&RegionObservation, &str>, t: &Thresholds) -> Health {
    let obs = match obs {
        Ok(obs) => obs,
        Err(why) => {
            return Health {
                status: HealthStatus::Unreachable,
                reasons: vec![format!("region did not answer: {why}")],
            }
        }
    };
    let mut reasons = Vec::new();
    let rate = |errors: u64, total: u64| -> Option<f64> {
        (total >= t.min_samples && total > 0).then(|| errors as f64 / total as f64)
    };
    if let Some(r) = rate(obs.connect_errors, obs.connect_attempts) {
        if r > t.connect_error_rate {
            reasons.push(format!(
                "connect error rate {:.1}% (limit {:.1}%)",
                r * 100.0,
                t.connect_error_rate * 100.0
            ));
        }
    }
    if let Some(r) = rate(obs.publish_errors, obs.publish_in) {
        if r > t.publish_error_rate {
            reasons.push(format!(
                "publish error rate {:.1}% (limit {:.1}%)",
                r * 100.0,
                t.publish_error_rate * 100.0
            ));
        }
    }
    if obs.latency_ms > t.latency_ms {
        reasons.push(format!(
            "endpoint latency {} ms (limit {} ms)",
            obs.latency_ms, t.latency_ms
        ));
    }
    reasons.extend(obs.problems.iter().cloned());
    if reasons.is_empty() {
        Health {
            status: HealthStatus::Healthy,
            reasons: vec![],
        }
    } else {
        Health {
            status: HealthStatus::Degraded,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BacklogTotals;

    fn obs() -> RegionObservation {
        RegionObservation {
            region: "us-east-1".into(),
            observed_at: 1_000,
            online: 100,
            offline: 0,
            connect_attempts: 100,
            connect_errors: 0,
            publish_in: 1_000,
            publish_errors: 0,
            backlog: BacklogTotals::default(),
            latency_ms: 40,
            problems: Vec::new(),
        }
    }

    #[test]
    fn clean_observation_is_healthy() {
        let h = assess(Ok(&obs()), &Thresholds::default());
        assert_eq!(h.status, HealthStatus::Healthy);
        assert!(h.reasons.is_empty());
    }

    #[test]
    fn failed_poll_is_unreachable_with_reason() {
        let h = assess(Err("timed out after 2.5 s"), &Thresholds::default());
        assert_eq!(h.status, HealthStatus::Unreachable);
        assert_eq!(
            h.reasons,
            vec!["region did not answer: timed out after 2.5 s"]
        );
    }

    #[test]
    fn connect_errors_past_the_limit_degrade() {
        let mut o = obs();
        o.connect_errors = 6; // 6 %
        let h = assess(Ok(&o), &Thresholds::default());
        assert_eq!(h.status, HealthStatus::Degraded);
        assert_eq!(h.reasons, vec!["connect error rate 6.0% (limit 5.0%)"]);
    }

    #[test]
    fn rate_exactly_at_the_limit_is_still_healthy() {
        let mut o = obs();
        o.connect_errors = 5; // 5 %
        assert_eq!(
            assess(Ok(&o), &Thresholds::default()).status,
            HealthStatus::Healthy
        );
    }

    #[test]
    fn too_few_samples_say_nothing() {
        let mut o = obs();
        o.connect_attempts = 10;
        o.connect_errors = 10;
        assert_eq!(
            assess(Ok(&o), &Thresholds::default()).status,
            HealthStatus::Healthy
        );
    }

    #[test]
    fn every_breach_is_listed() {
        let mut o = obs();
        o.connect_errors = 50;
        o.publish_errors = 900;
        o.latency_ms = 3_000;
        let h = assess(Ok(&o), &Thresholds::default());
        assert_eq!(h.status, HealthStatus::Degraded);
        assert_eq!(h.reasons.len(), 3, "{:?}", h.reasons);
        assert!(h.reasons[2].contains("3000 ms"));
    }
}
