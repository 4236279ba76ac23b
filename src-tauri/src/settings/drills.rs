//! The `[drills]` section: how often drills are due.
//!
//! Rules kept here:
//! - A drill is due every 1..=3650 days; the default is the engine's ([`DrillConfig::default`]).

use super::error::{between, Fields, SettingsError};
use crate::engine::drills::DrillConfig;
use serde::Deserialize;

/// How often drills are due.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillsSection {
    /// A warning shows when the last drill is older than this many days (default 90).
    pub period_days: Option<u32>,
}

impl DrillsSection {
    /// The days after which the last drill is overdue, checked.
    pub(super) fn period_days(&self, fields: &Fields) -> Result<u32, SettingsError> {
        between(
            || fields.at("drills.period_days"),
            self.period_days
                .unwrap_or(DrillConfig::default().period_days),
            1,
            3_650,
            "days",
        )
    }
}
