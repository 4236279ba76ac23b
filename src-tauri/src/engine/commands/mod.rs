//! Commands to devices: preview, then fan-out to online devices only, with bounded concurrency,
//! a rate limit, retries after throttling, a re-check of connectivity at send time for long
//! runs, cancel, and every result kept.
//!
//! The rooms: `plan` checks a request and works out who would get what (the preview);
//! `fanout` starts, runs and cancels a run. Here: the configuration, the catalogue, the runs
//! alive in this process and the reads of stored runs.
//!
//! Rules kept here:
//! - an offline device never gets a publish; its shadow gets the payload only when the operator
//!   chose that and the command allows it (`switchyard_core::commands::plan`);
//! - nothing is sent when the request is invalid: the command, the target, the payload and the
//!   topics are all checked before the run starts;
//! - the run is audited before and after, and its results are written in batches as they come.

mod fanout;
mod plan;

pub use plan::CommandPreview;

use super::{Engine, Error};
use crate::ports::DeviceChannel;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::commands::{CommandDef, CommandRun, DeviceResult};

/// Past this many devices a send asks to confirm the count (`[commands] confirm_above`).
pub const DEFAULT_CONFIRM_ABOVE: u64 = 1_000;

/// How commands are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandConfig {
    pub catalogue: Vec<CommandDef>,
    /// Publishes in flight at once.
    pub concurrency: usize,
    /// Publishes started per second, at most (well under AWS IoT's limits by default).
    pub rate_per_sec: u32,
    /// Attempts per device when the service throttles.
    pub max_attempts: u32,
    /// Past this time into a run, each device's connectivity is checked again before sending.
    pub recheck_after: Duration,
    /// The most devices one run may target.
    pub max_targets: u64,
    /// A run to more devices than this must carry the confirmed count.
    pub confirm_above: u64,
}

impl Default for CommandConfig {
    fn default() -> Self {
        CommandConfig {
            catalogue: Vec::new(),
            concurrency: 16,
            rate_per_sec: 200,
            max_attempts: 4,
            recheck_after: Duration::from_secs(30),
            max_targets: 1_000_000,
            confirm_above: DEFAULT_CONFIRM_ABOVE,
        }
    }
}

/// Cancel flags of the runs alive in this process.
#[derive(Default)]
pub(super) struct Runs {
    cancel: HashMap<String, Arc<AtomicBool>>,
}

impl Engine {
    fn channel(&self) -> Result<Arc<dyn DeviceChannel>, Error> {
        self.inner
            .channel
            .clone()
            .ok_or_else(|| Error::invalid("this fleet source cannot send commands to devices"))
    }

    /// The command catalogue.
    pub fn commands(&self) -> &[CommandDef] {
        &self.inner.cfg.commands.catalogue
    }

    fn command_def(&self, name: &str) -> Result<CommandDef, Error> {
        self.commands()
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .ok_or_else(|| {
                Error::invalid(format!(
                    "command: '{name}' is not in the catalogue ({})",
                    self.commands()
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    pub async fn command_run(
        &self,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Option<(CommandRun, Vec<DeviceResult>)>, Error> {
        let id = id.to_string();
        self.inner
            .store
            .run(move |s| {
                Ok(match s.command_run(&id)? {
                    Some(r) => Some((r, s.command_results(&id, offset, limit)?)),
                    None => None,
                })
            })
            .await
            .map_err(|e| Error::unavailable(e.to_string()))
    }

    pub async fn command_runs(&self, limit: u32) -> Result<Vec<CommandRun>, Error> {
        self.inner
            .store
            .run(move |s| s.command_runs_recent(limit))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))
    }
}
