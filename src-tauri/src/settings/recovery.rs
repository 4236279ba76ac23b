//! The `[recovery]` section: the recovery objectives the fleet is held to (failovers and drills
//! are measured against them).
//!
//! Rules kept here:
//! - The RTO and RPO are 1..=10080 minutes (a week); the defaults are [`Recovery::default`].
//! - The edge may hold at least one message (`max_backlog_messages` > 0); the drill defaults
//!   are the engine's ([`DrillConfig::default`]).

use super::error::{between, Fields, SettingsError};
use crate::engine::drills::DrillConfig;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::drills::Objectives;

/// The recovery objectives the fleet is held to (failover and drills are measured against them).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySection {
    /// Recovery time objective: the longest the devices may be without a working region.
    pub rto_minutes: Option<u64>,
    /// Recovery point objective: the most data (in time) that may be lost.
    pub rpo_minutes: Option<u64>,
    /// The recovery point objective drills measure: messages the edge may drop (default 0).
    pub rpo_messages: Option<u64>,
    /// The most messages the edge may hold at once during a disruption (default 100000).
    pub max_backlog_messages: Option<u64>,
}

/// The recovery objectives, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    pub rto: Duration,
    pub rpo: Duration,
}

impl Default for Recovery {
    fn default() -> Self {
        Recovery {
            rto: Duration::from_secs(30 * 60),
            rpo: Duration::from_secs(5 * 60),
        }
    }
}

impl RecoverySection {
    /// The RTO and RPO, checked.
    pub(super) fn resolve(&self, fields: &Fields) -> Result<Recovery, SettingsError> {
        let d = Recovery::default();
        let minutes = |v: Option<u64>, default: Duration, field: &str| {
            between(
                || fields.at(field),
                v.unwrap_or(default.as_secs() / 60),
                1,
                10_080,
                "minutes (a week)",
            )
        };
        let rto = minutes(self.rto_minutes, d.rto, "recovery.rto_minutes")?;
        let rpo = minutes(self.rpo_minutes, d.rpo, "recovery.rpo_minutes")?;
        Ok(Recovery {
            rto: Duration::from_secs(rto * 60),
            rpo: Duration::from_secs(rpo * 60),
        })
    }

    /// What drills are judged by: the RTO of `recovery`, and the edge's message objectives.
    /// The recovered share is the drill default here; the failover section sets it.
    pub(super) fn drill_objectives(
        &self,
        recovery: &Recovery,
        fields: &Fields,
    ) -> Result<Objectives, SettingsError> {
        let d = DrillConfig::default().objectives;
        let max_backlog = self.max_backlog_messages.unwrap_or(d.max_backlog);
        if max_backlog == 0 {
            return Err(fields
                .at("recovery.max_backlog_messages")
                .bound("must be more than 0"));
        }
        Ok(Objectives {
            rto_secs: recovery.rto.as_secs(),
            rpo_messages: self.rpo_messages.unwrap_or(d.rpo_messages),
            max_backlog,
            recovered_share: d.recovered_share,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::aws;
    use std::time::Duration;

    #[test]
    fn recovery_objectives_are_bounded() {
        let s = aws("\n[recovery]\nrto_minutes = 45\nrpo_minutes = 1\n").unwrap();
        assert_eq!(s.recovery.rto, Duration::from_secs(45 * 60));
        let err = aws("\n[recovery]\nrto_minutes = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("recovery.rto_minutes (in site.toml"),
            "{err}"
        );
    }
}
