//! Settings: the configuration file, then command-line flags over it.
//!
//! One room per section of the file, each owning the section's raw (serde) type, its defaults
//! and its checks: `engine`, `simulation`, `aws`, `recovery`, `failover`, `commands`, `drills`,
//! `auth`, `tls`, `alerts`, `metrics`; the errors and the one bounds check are in `error`. This file reads the file
//! and calls each section's resolver in turn.
//!
//! Rules kept here:
//! - Errors are one line and name the file, the line and the field ([`SettingsError`]), so an
//!   operator can fix the file without reading a stack of messages.
//! - Every field is optional; unknown fields are errors.
//! - A flag, when given, wins over the file.
//! - A file watches AWS (`[aws]`) or simulates (`[simulation]`), never both; the simulation's
//!   flags are refused for an AWS fleet.
//! - The sections are checked in one order (engine, recovery, auth, drills, failover, commands,
//!   alerts, metrics, aws, simulation): the first mistake is the one reported.

mod alerts;
mod auth;
mod aws;
mod commands;
mod drills;
mod engine;
mod error;
mod failover;
mod metrics;
mod recovery;
mod simulation;
#[cfg(test)]
mod tests;
mod tls;

pub use alerts::{
    AlertsSection, AlertsSettings, ReceiverSettings, ReceiverTarget, Secret, SnsTopic,
};
pub use auth::AuthSection;
pub use aws::{
    ArcEndpoint, ArcSettings, AwsRegion, AwsRegionSection, AwsSection, AwsSettings, BudgetSection,
    BudgetSettings, CountMethod, CredentialSource, EdgeMetrics, EdgeSection, EndpointSettings,
    Route53Section, Route53Settings, SwitchMethod,
};
pub use commands::{default_catalogue, CommandsSection};
pub use drills::DrillsSection;
pub use engine::EngineSection;
pub use error::{Place, Problem, SettingsError};
pub use failover::FailoverSection;
pub use metrics::{MetricsSection, MetricsSettings};
pub use recovery::{Recovery, RecoverySection};
pub use simulation::{SimulationSection, MAX_DEVICES, MAX_GATEWAYS};
pub use tls::TlsSection;

use crate::engine::drills::DrillConfig;
use crate::engine::{EngineConfig, FailoverConfig};
use crate::sim::SimConfig;
use error::{Fields, Origin};
use serde::Deserialize;
use simulation::SimFlags;
use std::path::{Path, PathBuf};
use switchyard_core::fault::FaultSpec;

/// The most regions a fleet may have, simulated or on AWS.
const MAX_REGIONS: usize = 32;

/// The configuration file, as written. Every field is optional; unknown fields are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub engine: EngineSection,
    pub simulation: Option<SimulationSection>,
    /// The AWS fleet to watch; without it the fleet is simulated.
    pub aws: Option<AwsSection>,
    #[serde(default)]
    pub recovery: RecoverySection,
    #[serde(default)]
    pub failover: FailoverSection,
    #[serde(default)]
    pub commands: CommandsSection,
    #[serde(default)]
    pub drills: DrillsSection,
    #[serde(default)]
    pub auth: AuthSection,
    /// HTTPS for the server: both paths, or neither.
    pub tls: Option<TlsSection>,
    /// Where alerts go out.
    #[serde(default)]
    pub alerts: AlertsSection,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: MetricsSection,
    /// The file's name and text, for error messages that name a line.
    #[serde(skip)]
    origin: Option<Origin>,
}

/// Everything the engine and its faces need to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub engine: EngineConfig,
    pub sim: SimConfig,
    /// When set, the fleet is watched on AWS and `sim` is unused.
    pub aws: Option<AwsSettings>,
    pub recovery: Recovery,
    pub data_dir: PathBuf,
    pub auth: crate::auth::AuthConfig,
    /// The certificate chain and key when the server speaks HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub alerts: AlertsSettings,
    pub metrics: MetricsSettings,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Place::Unreadable {
                path: path.display().to_string(),
            }
            .invalid(e.to_string())
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses `text`; `name` is the file's name in error messages.
    pub fn parse(text: &str, name: &str) -> Result<ConfigFile, SettingsError> {
        let mut file: ConfigFile =
            toml::from_str(text).map_err(|e| error::unparsable(&e, text, name))?;
        file.origin = Some(Origin::new(name, text));
        Ok(file)
    }
}

/// Values given on the command line; each one, when present, wins over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub poll_interval_secs: Option<u64>,
    pub poll_timeout_ms: Option<u64>,
    pub seed: Option<u64>,
    pub devices: Option<usize>,
    pub gateways: Option<usize>,
    pub regions: Option<Vec<String>>,
    pub faults: Vec<FaultSpec>,
}

/// Where Switchyard keeps its data when not told: `$XDG_DATA_HOME/switchyard`, else
/// `~/.local/share/switchyard`, else `./switchyard-data`.
pub fn default_data_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/share")))
        .map_or_else(
            || PathBuf::from("switchyard-data"),
            |d| d.join("switchyard"),
        )
}

impl Settings {
    /// Combines the file (if any) and the overrides, and checks the result.
    pub fn resolve(
        mut file: ConfigFile,
        file_name: Option<&str>,
        o: Overrides,
    ) -> Result<Settings, SettingsError> {
        // Named one by one, so that a new flag cannot be forgotten here.
        let Overrides {
            data_dir,
            poll_interval_secs,
            poll_timeout_ms,
            seed,
            devices,
            gateways,
            regions,
            faults,
        } = o;
        let sim_flags = SimFlags {
            seed,
            devices,
            gateways,
            regions,
            faults,
        };
        let fields = Fields::new(file_name);
        let engine = file
            .engine
            .resolve(poll_interval_secs, poll_timeout_ms, &fields)?;
        let recovery = file.recovery.resolve(&fields)?;
        let auth = file.auth.resolve(file.tls.is_some(), &fields)?;
        let period_days = file.drills.period_days(&fields)?;
        let objectives = file.recovery.drill_objectives(&recovery, &fields)?;
        let failover = file.failover.resolve(&fields)?;
        let commands = file.commands.resolve(&fields)?;
        let alerts = std::mem::take(&mut file.alerts).resolve(file.origin.as_ref())?;
        let metrics = std::mem::take(&mut file.metrics).resolve(file.origin.as_ref())?;
        let auth = crate::auth::AuthConfig {
            scrape_token: metrics.token.clone(),
            ..auth
        };
        let aws = match file.aws.take() {
            None => None,
            Some(section) => {
                let whole = Place::Configuration {
                    file: file_name.map(str::to_string),
                };
                if file.simulation.is_some() {
                    return Err(
                        whole.invalid("[aws] and [simulation] cannot both be given; remove one")
                    );
                }
                if let Some(flag) = sim_flags.first_given() {
                    return Err(Place::Nowhere.invalid(format!(
                        "{flag} applies to the simulated fleet, but {whole} watches AWS"
                    )));
                }
                Some(section.resolve(file.origin.as_ref())?)
            }
        };
        let sim = file
            .simulation
            .take()
            .unwrap_or_default()
            .resolve(sim_flags, &fields)?;
        // The TTL the devices cache is the record's (AWS) or the simulated fleet's.
        let dns_ttl_secs = match &aws {
            Some(a) => a
                .route53
                .as_ref()
                .map_or(aws::DEFAULT_TTL_SECS, |r| r.ttl_secs) as u64,
            None => sim.dns_ttl_secs,
        };
        let failover = FailoverConfig {
            dns_ttl: std::time::Duration::from_secs(dns_ttl_secs),
            ..failover
        };
        Ok(Settings {
            engine: EngineConfig {
                drills: DrillConfig {
                    period_days,
                    // A drill's devices are back by the failover's own measure.
                    objectives: switchyard_core::drills::Objectives {
                        recovered_share: failover.complete_share,
                        ..objectives
                    },
                },
                failover,
                commands,
                deliveries: crate::engine::DeliveryConfig {
                    retry: alerts.retry,
                    console_url: alerts.console_url.clone(),
                },
                ..engine
            },
            sim,
            aws,
            recovery,
            data_dir: data_dir.unwrap_or_else(default_data_dir),
            auth,
            tls: file.tls.map(TlsSection::paths),
            alerts,
            metrics,
        })
    }
}
