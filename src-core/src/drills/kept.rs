//! Drills as kept and listed: their status, notes and action items, and whether drilling is
//! overdue.
//!
//! Rules kept here: drilling is overdue when no drill has finished or the newest finished one
//! is older than the period; notes and action items stay within their bounds.

use super::metrics::{DrillMetrics, Objectives};
use super::recording::Recording;
use super::scenario::{DrillMode, Scenario};
use crate::UnixMs;
use serde::{Deserialize, Serialize};

/// Where a drill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrillStatus {
    Running,
    Passed,
    Failed,
    /// Stopped before its end, or broken by an error: no verdict.
    Aborted,
}

impl DrillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DrillStatus::Running => "running",
            DrillStatus::Passed => "passed",
            DrillStatus::Failed => "failed",
            DrillStatus::Aborted => "aborted",
        }
    }
    pub fn parse(s: &str) -> Option<DrillStatus> {
        [
            DrillStatus::Running,
            DrillStatus::Passed,
            DrillStatus::Failed,
            DrillStatus::Aborted,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A line on an action list, added after the drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionItem {
    /// 1 to 500 characters, not only spaces.
    #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "\\S"))]
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub done: bool,
}

/// A drill as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillSummary {
    pub id: String,
    pub name: String,
    pub mode: DrillMode,
    pub status: DrillStatus,
    pub started_by: String,
    pub started_at: UnixMs,
    pub ended_at: Option<UnixMs>,
    pub recovery_ms: Option<u64>,
    pub messages_lost: Option<u64>,
    /// The source the drill ran on ("simulated" or "aws").
    pub source: String,
}

/// A drill with everything kept of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drill {
    pub summary: DrillSummary,
    pub scenario: Scenario,
    pub objectives: Objectives,
    pub recording: Recording,
    /// Present once the drill has ended.
    pub metrics: Option<DrillMetrics>,
    /// Why it was aborted, when it was.
    pub error: Option<String>,
    pub notes: String,
    pub action_items: Vec<ActionItem>,
}

/// The drills page's list and its warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillsResponse {
    pub drills: Vec<DrillSummary>,
    /// Set when the newest completed drill is older than the configured period (or there is
    /// none): what to say on screen.
    pub overdue: Option<String>,
    pub period_days: u32,
    /// The objectives a new drill is judged by unless it overrides them.
    pub objectives: Objectives,
}

/// Whether drilling is overdue: no finished drill, or the newest one older than `period_days`.
pub fn overdue(last_finished: Option<UnixMs>, now: UnixMs, period_days: u32) -> Option<String> {
    let period_ms = period_days as u64 * 86_400_000;
    match last_finished {
        None => Some(format!(
            "No drill has been run yet: run one at least every {period_days} days."
        )),
        Some(at) if now.saturating_sub(at) > period_ms => Some(format!(
            "The last drill ended {} days ago; drills are due every {period_days} days.",
            now.saturating_sub(at) / 86_400_000
        )),
        Some(_) => None,
    }
}

/// What a new drill is started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    pub scenario: Scenario,
}

/// Notes and action items added after a drill (replaces both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DrillNotes {
    /// At most 32,768 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 32_768))]
    pub notes: String,
    /// At most 100.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub action_items: Vec<ActionItem>,
}

/// The longest notes, in characters (as the API's document counts them).
pub const MAX_NOTES_CHARS: usize = 32 * 1024;
pub const MAX_ACTION_ITEMS: usize = 100;

impl DrillNotes {
    pub fn check(&self) -> Result<(), String> {
        if self.notes.chars().count() > MAX_NOTES_CHARS {
            return Err(format!("notes: at most {MAX_NOTES_CHARS} characters"));
        }
        if self.action_items.len() > MAX_ACTION_ITEMS {
            return Err(format!("action_items: at most {MAX_ACTION_ITEMS}"));
        }
        for (i, a) in self.action_items.iter().enumerate() {
            if a.text.trim().is_empty() || a.text.chars().count() > 500 {
                return Err(format!(
                    "action_items[{i}].text: must be 1 to 500 characters"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drilling_is_overdue_after_the_period() {
        let day = 86_400_000;
        assert!(overdue(None, 100 * day, 90).unwrap().contains("No drill"));
        assert_eq!(overdue(Some(10 * day), 100 * day, 90), None);
        assert!(overdue(Some(9 * day), 100 * day, 90)
            .unwrap()
            .contains("91 days ago"));
    }
}
