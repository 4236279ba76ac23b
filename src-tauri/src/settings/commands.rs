//! The `[commands]` section: how commands are sent to devices, and the catalogue of them.
//!
//! Rules kept here:
//! - 1..=1024 publishes in flight, 1..=100000 started a second, 1..=10 attempts a device, a
//!   confirmation past 1..=1000000 devices; the defaults are the engine's own
//!   ([`CommandConfig::default`]).
//! - Without a catalogue the built-in four ([`default_catalogue`]); every entry passes core's
//!   `check_def`, and no name is listed twice.

use super::error::{between, Fields, SettingsError};
use crate::engine::CommandConfig;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::commands::CommandDef;

/// Commands to devices: how they are sent, and the catalogue.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandsSection {
    /// Publishes in flight at once (default 16).
    pub concurrency: Option<usize>,
    /// Publishes started per second at most (default 200).
    pub rate_per_sec: Option<u32>,
    /// Attempts per device when AWS throttles (default 4).
    pub max_attempts: Option<u32>,
    /// Past this many seconds into a run, connectivity is re-checked before each send (30).
    pub recheck_after_secs: Option<u64>,
    /// A send to more devices than this asks to confirm the count (default 1000).
    pub confirm_above: Option<u64>,
    /// The commands operators may send; without it, the built-in four.
    pub catalogue: Option<Vec<CommandDef>>,
}

/// The catalogue used when the configuration has none.
pub fn default_catalogue() -> Vec<CommandDef> {
    use serde_json::json;
    let def = |name: &str, description: &str, schema, persist| CommandDef {
        name: name.into(),
        description: description.into(),
        topic: "cmd/{thingName}/{command}".into(),
        schema,
        persist_as_shadow: persist,
    };
    vec![
        def(
            "reconnect",
            "Disconnect and connect again (after a failover: reach the new region)",
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "jitter_secs": { "type": "integer", "minimum": 0, "maximum": 600, "default": 30 } } }),
            false,
        ),
        def(
            "flush-buffer",
            "Forward the edge buffer now",
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "max_messages": { "type": "integer", "minimum": 1 } } }),
            false,
        ),
        def(
            "set-report-interval",
            "Change how often the device reports",
            json!({ "type": "object", "additionalProperties": false, "required": ["seconds"],
                "properties": { "seconds": { "type": "integer", "minimum": 5, "maximum": 86400 } } }),
            true,
        ),
        def(
            "ping",
            "Answer on the device's reply topic",
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "nonce": { "type": "string", "maxLength": 64 } } }),
            false,
        ),
    ]
}

impl CommandsSection {
    pub(super) fn resolve(&self, fields: &Fields) -> Result<CommandConfig, SettingsError> {
        let d = CommandConfig::default();
        let concurrency = between(
            || fields.at("commands.concurrency"),
            self.concurrency.unwrap_or(d.concurrency),
            1,
            1_024,
            "",
        )?;
        let rate = between(
            || fields.at("commands.rate_per_sec"),
            self.rate_per_sec.unwrap_or(d.rate_per_sec),
            1,
            100_000,
            "",
        )?;
        let attempts = between(
            || fields.at("commands.max_attempts"),
            self.max_attempts.unwrap_or(d.max_attempts),
            1,
            10,
            "",
        )?;
        let confirm_above = between(
            || fields.at("commands.confirm_above"),
            self.confirm_above.unwrap_or(d.confirm_above),
            1,
            1_000_000,
            "",
        )?;
        let catalogue = self.catalogue.clone().unwrap_or_else(default_catalogue);
        for (i, def) in catalogue.iter().enumerate() {
            switchyard_core::commands::check_def(def)
                .map_err(|e| fields.at(&format!("commands.catalogue[{i}]")).invalid(e))?;
            if catalogue[..i].iter().any(|o| o.name == def.name) {
                return Err(fields
                    .at("commands.catalogue")
                    .invalid(format!("command {} is listed twice", def.name)));
            }
        }
        Ok(CommandConfig {
            catalogue,
            concurrency,
            rate_per_sec: rate,
            max_attempts: attempts,
            confirm_above,
            recheck_after: Duration::from_secs(
                self.recheck_after_secs.unwrap_or(d.recheck_after.as_secs()),
            ),
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::aws;

    #[test]
    fn a_bad_catalogue_entry_is_named() {
        let err = aws(
            "\n[[commands.catalogue]]\nname = \"x\"\ndescription = \"\"\ntopic = \"cmd/+/x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("commands.catalogue[0] (in site.toml or on the command line): command x: topic 'cmd/+/x' has a wildcard"),
            "{err}"
        );
    }
}
