//! Settings: the configuration file, then command-line flags over it.
//!
//! Errors are one line and name the file, the line and the field, so an operator can fix the
//! file without reading a stack of messages.

mod aws;

pub use aws::{
    AwsRegion, AwsSettings, CountMethod, CredentialSource, EdgeMetrics, EndpointSettings,
    Route53Settings, SwitchMethod,
};

use crate::engine::EngineConfig;
use crate::sim::SimConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::{fault::FaultSpec, regions::is_valid_code};

/// The configuration file, as written. Every field is optional; unknown fields are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub engine: EngineSection,
    pub simulation: Option<SimulationSection>,
    /// The AWS fleet to watch; without it the fleet is simulated.
    pub aws: Option<aws::AwsSection>,
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
    /// The file's name and text, for error messages that name a line.
    #[serde(skip)]
    origin: Option<(String, String)>,
}

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

/// Who may use the server (`switchyard serve`; the desktop app in standalone mode has no login).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// "local" (accounts made with `switchyard user add` or by an admin; the default) or
    /// "trusted_header" (an SSO proxy in front names the user).
    pub mode: Option<String>,
    /// trusted_header: the header the proxy sets to the user name (e.g. "X-Forwarded-User").
    pub header: Option<String>,
    /// trusted_header: the proxy's addresses; the header from anywhere else is ignored.
    pub proxies: Option<Vec<String>>,
    /// How long a session lasts, in hours (default 12).
    pub session_hours: Option<u64>,
    /// Failed sign-ins allowed per user name and per client address in a minute (default 5).
    pub login_attempts: Option<usize>,
}

/// The server's certificate chain and private key, PEM files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How often drills are due.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillsSection {
    /// A warning shows when the last drill is older than this many days (default 90).
    pub period_days: Option<u32>,
}

/// How failovers are recommended, run and judged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverSection {
    /// Seconds the active region must be unhealthy before a failover is recommended (default 60).
    pub recommend_after_secs: Option<u64>,
    /// Share of the devices online before that must be back in the target (default 0.95).
    pub complete_share: Option<f64>,
    /// Seconds to watch devices come back before "completed with exceptions" (default 600).
    pub verify_timeout_secs: Option<u64>,
    /// Tell devices still on the old region to reconnect after the switch (default true).
    pub reconnect_devices: Option<bool>,
    /// A second operator must approve every failover (default false).
    pub two_person_rule: Option<bool>,
}

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
    /// The commands operators may send; without it, the built-in four.
    pub catalogue: Option<Vec<switchyard_core::commands::CommandDef>>,
}

/// The catalogue used when the configuration has none.
pub fn default_catalogue() -> Vec<switchyard_core::commands::CommandDef> {
    use serde_json::json;
    use switchyard_core::commands::CommandDef;
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
                "jitter_secs": { "type": "integer", "minimum": 0, "maximum": 600 } } }),
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

impl aws::Locate for ConfigFile {
    fn at(&self, span: std::ops::Range<usize>, field: &str) -> String {
        match &self.origin {
            Some((name, text)) if span.end > 0 => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("config file {name}, line {line}, field {field}")
            }
            Some((name, _)) => format!("config file {name}, field {field}"),
            None => field.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// Seconds between two polls of a region (default 5).
    pub poll_interval_secs: Option<u64>,
    /// Upper bound on one poll, in milliseconds (default 2500).
    pub poll_timeout_ms: Option<u64>,
    /// Days of history (samples, cleared alerts) to keep (default 30).
    pub retention_days: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    pub seed: Option<u64>,
    pub devices: Option<usize>,
    pub gateways: Option<usize>,
    /// Region codes; the first is active at start.
    pub regions: Option<Vec<String>>,
    /// Faults on the timeline, as `REGION:KIND[@START][+DURATION]`.
    pub faults: Option<Vec<String>>,
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
}

/// Limits that keep a typo from asking for something absurd.
pub const MAX_DEVICES: usize = 10_000_000;
pub const MAX_GATEWAYS: usize = 100_000;

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses `text`; `name` is the file's name in error messages.
    pub fn parse(text: &str, name: &str) -> Result<ConfigFile, String> {
        let mut file: ConfigFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    // Name the key written on that line, when there is one.
                    let key = text
                        .lines()
                        .nth(line - 1)
                        .and_then(|l| l.split_once('='))
                        .map(|(k, _)| k.trim())
                        .filter(|k| !k.is_empty() && !msg.contains(k));
                    match key {
                        Some(k) => format!("config file {name}, line {line}, field {k}: {msg}"),
                        None => format!("config file {name}, line {line}: {msg}"),
                    }
                }
                None => format!("config file {name}: {msg}"),
            }
        })?;
        file.origin = Some((name.to_string(), text.to_string()));
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
    ) -> Result<Settings, String> {
        let at = |field: &str| match file_name {
            Some(f) => format!("{field} (in {f} or on the command line)"),
            None => field.to_string(),
        };
        let poll_secs = o
            .poll_interval_secs
            .or(file.engine.poll_interval_secs)
            .unwrap_or(5);
        if !(1..=3_600).contains(&poll_secs) {
            return Err(format!(
                "{} must be between 1 and 3600 seconds, not {poll_secs}",
                at("poll interval")
            ));
        }
        let timeout_ms = o
            .poll_timeout_ms
            .or(file.engine.poll_timeout_ms)
            .unwrap_or(2_500);
        if !(100..=60_000).contains(&timeout_ms) {
            return Err(format!(
                "{} must be between 100 and 60000 ms, not {timeout_ms}",
                at("engine.poll_timeout_ms")
            ));
        }
        let retention_days = file.engine.retention_days.unwrap_or(30);
        if !(1..=3_650).contains(&retention_days) {
            return Err(format!(
                "{} must be between 1 and 3650 days, not {retention_days}",
                at("engine.retention_days")
            ));
        }
        let recovery = {
            let d = Recovery::default();
            let r = &file.recovery;
            let rto = r.rto_minutes.unwrap_or(d.rto.as_secs() / 60);
            let rpo = r.rpo_minutes.unwrap_or(d.rpo.as_secs() / 60);
            for (v, f) in [(rto, "recovery.rto_minutes"), (rpo, "recovery.rpo_minutes")] {
                if !(1..=10_080).contains(&v) {
                    return Err(format!(
                        "{} must be between 1 and 10080 minutes (a week), not {v}",
                        at(f)
                    ));
                }
            }
            Recovery {
                rto: Duration::from_secs(rto * 60),
                rpo: Duration::from_secs(rpo * 60),
            }
        };
        let auth = {
            use crate::auth::{AuthConfig, AuthMode};
            let a = &file.auth;
            let d = AuthConfig::default();
            let mode = match a.mode.as_deref().unwrap_or("local") {
                "local" => {
                    if a.header.is_some() || a.proxies.is_some() {
                        return Err(format!(
                            "{}: header and proxies are for mode = \"trusted_header\"",
                            at("auth.mode")
                        ));
                    }
                    AuthMode::Local
                }
                "trusted_header" => {
                    let header = a.header.clone().ok_or_else(|| {
                        format!("{}: the header the proxy sets is required", at("auth.header"))
                    })?;
                    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                    if header.is_empty() || !header.bytes().all(token) {
                        return Err(format!("{}: '{header}' is not a header name", at("auth.header")));
                    }
                    let proxies = a
                        .proxies
                        .as_deref()
                        .filter(|p| !p.is_empty())
                        .ok_or_else(|| {
                            format!("{}: the proxy's addresses are required", at("auth.proxies"))
                        })?
                        .iter()
                        .map(|p| {
                            p.parse().map_err(|_| {
                                format!("{}: '{p}' is not an IP address", at("auth.proxies"))
                            })
                        })
                        .collect::<Result<Vec<std::net::IpAddr>, String>>()?;
                    AuthMode::TrustedHeader {
                        header: header.to_ascii_lowercase(),
                        proxies,
                    }
                }
                other => {
                    return Err(format!(
                        "{}: '{other}' is not \"local\" or \"trusted_header\" (turn logins off with --no-auth, on loopback only)",
                        at("auth.mode")
                    ))
                }
            };
            let hours = a.session_hours.unwrap_or(d.session_ttl.as_secs() / 3_600);
            if !(1..=720).contains(&hours) {
                return Err(format!(
                    "{} must be between 1 and 720 hours, not {hours}",
                    at("auth.session_hours")
                ));
            }
            let attempts = a.login_attempts.unwrap_or(d.rate.attempts);
            if !(1..=100).contains(&attempts) {
                return Err(format!(
                    "{} must be between 1 and 100, not {attempts}",
                    at("auth.login_attempts")
                ));
            }
            AuthConfig {
                mode,
                session_ttl: Duration::from_secs(hours * 3_600),
                rate: switchyard_core::auth::RateLimit { attempts, ..d.rate },
                ..d
            }
        };
        let drills = {
            let d = crate::engine::drills::DrillConfig::default();
            let period_days = file.drills.period_days.unwrap_or(d.period_days);
            if !(1..=3_650).contains(&period_days) {
                return Err(format!(
                    "{} must be between 1 and 3650 days, not {period_days}",
                    at("drills.period_days")
                ));
            }
            let max_backlog = file
                .recovery
                .max_backlog_messages
                .unwrap_or(d.objectives.max_backlog);
            if max_backlog == 0 {
                return Err(format!(
                    "{} must be more than 0",
                    at("recovery.max_backlog_messages")
                ));
            }
            crate::engine::drills::DrillConfig {
                period_days,
                objectives: switchyard_core::drills::Objectives {
                    rto_secs: recovery.rto.as_secs(),
                    rpo_messages: file
                        .recovery
                        .rpo_messages
                        .unwrap_or(d.objectives.rpo_messages),
                    max_backlog,
                    recovered_share: d.objectives.recovered_share,
                },
            }
        };
        let failover = {
            let d = crate::engine::FailoverConfig::default();
            let f = &file.failover;
            let after = f
                .recommend_after_secs
                .unwrap_or(d.recommend_after.as_secs());
            if !(5..=86_400).contains(&after) {
                return Err(format!(
                    "{} must be between 5 and 86400 seconds, not {after}",
                    at("failover.recommend_after_secs")
                ));
            }
            let share = f.complete_share.unwrap_or(d.complete_share);
            if !(share > 0.0 && share <= 1.0) {
                return Err(format!(
                    "{} must be more than 0 and at most 1, not {share}",
                    at("failover.complete_share")
                ));
            }
            let verify = f.verify_timeout_secs.unwrap_or(d.verify_timeout.as_secs());
            if !(10..=86_400).contains(&verify) {
                return Err(format!(
                    "{} must be between 10 and 86400 seconds, not {verify}",
                    at("failover.verify_timeout_secs")
                ));
            }
            crate::engine::FailoverConfig {
                recommend_after: Duration::from_secs(after),
                complete_share: share,
                verify_timeout: Duration::from_secs(verify),
                reconnect_devices: f.reconnect_devices.unwrap_or(d.reconnect_devices),
                two_person_rule: f.two_person_rule.unwrap_or(d.two_person_rule),
                ..d
            }
        };
        let commands = {
            let d = crate::engine::CommandConfig::default();
            let c = &file.commands;
            let concurrency = c.concurrency.unwrap_or(d.concurrency);
            if !(1..=1_024).contains(&concurrency) {
                return Err(format!(
                    "{} must be between 1 and 1024, not {concurrency}",
                    at("commands.concurrency")
                ));
            }
            let rate = c.rate_per_sec.unwrap_or(d.rate_per_sec);
            if !(1..=100_000).contains(&rate) {
                return Err(format!(
                    "{} must be between 1 and 100000, not {rate}",
                    at("commands.rate_per_sec")
                ));
            }
            let attempts = c.max_attempts.unwrap_or(d.max_attempts);
            if !(1..=10).contains(&attempts) {
                return Err(format!(
                    "{} must be between 1 and 10, not {attempts}",
                    at("commands.max_attempts")
                ));
            }
            let catalogue = c.catalogue.clone().unwrap_or_else(default_catalogue);
            for (i, def) in catalogue.iter().enumerate() {
                switchyard_core::commands::check_def(def)
                    .map_err(|e| format!("{}: {e}", at(&format!("commands.catalogue[{i}]"))))?;
                if catalogue[..i].iter().any(|o| o.name == def.name) {
                    return Err(format!(
                        "{}: command {} is listed twice",
                        at("commands.catalogue"),
                        def.name
                    ));
                }
            }
            crate::engine::CommandConfig {
                catalogue,
                concurrency,
                rate_per_sec: rate,
                max_attempts: attempts,
                recheck_after: Duration::from_secs(
                    c.recheck_after_secs.unwrap_or(d.recheck_after.as_secs()),
                ),
                ..d
            }
        };
        let aws = match file.aws.take() {
            None => None,
            Some(section) => {
                if file.simulation.is_some() {
                    return Err(format!(
                        "{}: [aws] and [simulation] cannot both be given; remove one",
                        file_name.unwrap_or("the configuration")
                    ));
                }
                let sim_flag = [
                    (o.seed.is_some(), "--seed"),
                    (o.devices.is_some(), "--devices"),
                    (o.gateways.is_some(), "--gateways"),
                    (o.regions.is_some(), "--regions"),
                    (!o.faults.is_empty(), "--fault"),
                ]
                .into_iter()
                .find(|(given, _)| *given);
                if let Some((_, flag)) = sim_flag {
                    return Err(format!(
                        "{flag} applies to the simulated fleet, but {} watches AWS",
                        file_name.unwrap_or("the configuration")
                    ));
                }
                Some(section.resolve(&file)?)
            }
        };
        let defaults = SimConfig::default();
        let s = file.simulation.unwrap_or_default();
        let devices = o.devices.or(s.devices).unwrap_or(defaults.devices);
        if devices == 0 || devices > MAX_DEVICES {
            return Err(format!(
                "{} must be between 1 and {MAX_DEVICES}, not {devices}",
                at("devices")
            ));
        }
        let gateways = o.gateways.or(s.gateways).unwrap_or(defaults.gateways);
        if gateways > MAX_GATEWAYS {
            return Err(format!(
                "{} must be at most {MAX_GATEWAYS}, not {gateways}",
                at("gateways")
            ));
        }
        let regions = o.regions.or(s.regions).unwrap_or(defaults.regions);
        if regions.is_empty() || regions.len() > 32 {
            return Err(format!(
                "{} must name between 1 and 32 regions",
                at("regions")
            ));
        }
        for (i, r) in regions.iter().enumerate() {
            if !is_valid_code(r) {
                return Err(format!(
                    "{}: '{r}' is not an AWS region code such as us-east-1",
                    at("regions")
                ));
            }
            if regions[..i].contains(r) {
                return Err(format!("{}: {r} is listed twice", at("regions")));
            }
        }
        let mut faults = Vec::new();
        for f in s.faults.unwrap_or_default() {
            faults.push(
                f.parse::<FaultSpec>()
                    .map_err(|e| format!("{}: {e}", at("simulation.faults")))?,
            );
        }
        faults.extend(o.faults);
        if let Some(f) = faults.iter().find(|f| !regions.contains(&f.region)) {
            return Err(format!(
                "fault in {}: that region is not one of the simulated regions ({})",
                f.region,
                regions.join(", ")
            ));
        }
        Ok(Settings {
            engine: EngineConfig {
                poll_interval: Duration::from_secs(poll_secs),
                poll_timeout: Duration::from_millis(timeout_ms),
                retention: Duration::from_secs(retention_days * 86_400),
                drills: crate::engine::drills::DrillConfig {
                    objectives: switchyard_core::drills::Objectives {
                        recovered_share: failover.complete_share,
                        ..drills.objectives
                    },
                    ..drills
                },
                failover,
                commands,
                ..EngineConfig::default()
            },
            sim: SimConfig {
                seed: o.seed.or(s.seed).unwrap_or(defaults.seed),
                regions,
                devices,
                gateways,
                faults,
            },
            aws,
            recovery,
            data_dir: o.data_dir.unwrap_or_else(default_data_dir),
            auth: crate::auth::AuthConfig {
                // Cookies are Secure when the server itself speaks HTTPS.
                secure_cookies: file.tls.is_some(),
                ..auth
            },
            tls: file.tls.map(|t| (t.cert, t.key)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let s = Settings::resolve(
            ConfigFile::parse("", "x.toml").unwrap(),
            Some("x.toml"),
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.engine.poll_interval, Duration::from_secs(5));
        assert_eq!(
            (s.sim.devices, s.sim.gateways, s.sim.regions.len()),
            (5_000, 40, 3)
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = ConfigFile::parse(
            "[simulation]\ndevices = 10\nseed = 4\n[engine]\npoll_interval_secs = 2\n",
            "x",
        )
        .unwrap();
        let o = Overrides {
            devices: Some(20),
            ..Overrides::default()
        };
        let s = Settings::resolve(file, Some("x"), o).unwrap();
        assert_eq!((s.sim.devices, s.sim.seed), (20, 4));
        assert_eq!(s.engine.poll_interval, Duration::from_secs(2));
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = ConfigFile::parse("[engine]\npoll_interval_secs = 5\nfoo =\n", "site.toml")
            .unwrap_err();
        assert!(
            err.starts_with("config file site.toml, line 3, field foo:"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn unknown_fields_and_wrong_types_name_the_field() {
        let err = ConfigFile::parse("[engine]\npoll_intervall_secs = 5\n", "a.toml").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("poll_intervall_secs"),
            "{err}"
        );
        let err = ConfigFile::parse("[simulation]\n\ndevices = \"many\"\n", "a.toml").unwrap_err();
        assert!(err.contains("line 3") && err.contains("devices"), "{err}");
    }

    #[test]
    fn values_out_of_range_are_refused() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                Some("c"),
                Overrides::default(),
            )
        };
        assert!(resolve("[engine]\npoll_interval_secs = 0")
            .unwrap_err()
            .contains("poll interval"));
        let err = resolve("[simulation]\ndevices = 0").unwrap_err();
        assert!(
            err.starts_with("devices (in c or on the command line) must be between 1"),
            "{err}"
        );
        assert!(
            resolve("[simulation]\nregions = [\"us-east-1\", \"us-east-1\"]")
                .unwrap_err()
                .contains("listed twice")
        );
        assert!(resolve("[simulation]\nregions = [\"moon\"]")
            .unwrap_err()
            .contains("'moon' is not an AWS region code"));
        assert!(resolve("[simulation]\nfaults = [\"us-west-2:outage\"]")
            .unwrap_err()
            .contains("not one of the simulated regions"));
        assert!(resolve("[simulation]\nfaults = [\"us-east-1:meteor\"]")
            .unwrap_err()
            .contains("simulation.faults"));
    }

    #[test]
    fn retention_is_in_days_and_bounded() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                None,
                Overrides::default(),
            )
        };
        assert_eq!(
            resolve("").unwrap().engine.retention,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            resolve("[engine]\nretention_days = 7")
                .unwrap()
                .engine
                .retention,
            Duration::from_secs(7 * 86_400)
        );
        let err = resolve("[engine]\nretention_days = 0").unwrap_err();
        assert!(
            err.starts_with("engine.retention_days must be between 1 and 3650"),
            "{err}"
        );
    }

    fn assets(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets")
            .join(name)
    }

    #[test]
    fn auth_settings_are_checked_naming_the_field() {
        let parse = |t: &str| {
            Settings::resolve(
                ConfigFile::parse(t, "sy.toml").unwrap(),
                Some("sy.toml"),
                Overrides::default(),
            )
        };
        let s = parse("[auth]\nmode = \"trusted_header\"\nheader = \"X-Forwarded-User\"\nproxies = [\"10.0.0.5\"]\n").unwrap();
        assert_eq!(
            s.auth.mode,
            crate::auth::AuthMode::TrustedHeader {
                header: "x-forwarded-user".into(),
                proxies: vec!["10.0.0.5".parse().unwrap()]
            }
        );
        for (text, needle) in [
            ("[auth]\nmode = \"open\"\n", "auth.mode"),
            ("[auth]\nmode = \"trusted_header\"\nproxies = [\"10.0.0.5\"]\n", "auth.header"),
            ("[auth]\nmode = \"trusted_header\"\nheader = \"X-User\"\n", "auth.proxies"),
            ("[auth]\nmode = \"trusted_header\"\nheader = \"X-User\"\nproxies = [\"proxy.corp\"]\n", "'proxy.corp' is not an IP address"),
            ("[auth]\nheader = \"X-User\"\n", "are for mode = \"trusted_header\""),
            ("[auth]\nsession_hours = 0\n", "auth.session_hours"),
            ("[auth]\nlogin_attempts = 0\n", "auth.login_attempts"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn the_example_configs_are_valid() {
        let file = ConfigFile::load(&assets("switchyard.simulated.toml")).unwrap();
        let s = Settings::resolve(file, Some("simulated"), Overrides::default()).unwrap();
        assert!(s.aws.is_none());
        let file = ConfigFile::load(&assets("deploy/switchyard.toml")).unwrap();
        let s = Settings::resolve(file, Some("server"), Overrides::default()).unwrap();
        assert_eq!(s.auth.mode, crate::auth::AuthMode::Local);
        assert_eq!(s.auth.rate.attempts, 5);
        let file = ConfigFile::load(&assets("switchyard.example.toml")).unwrap();
        let s = Settings::resolve(file, Some("example"), Overrides::default()).unwrap();
        let aws = s.aws.unwrap();
        assert_eq!(aws.regions.len(), 2);
        assert_eq!(aws.regions[0].role, switchyard_core::RegionRole::Active);
        assert_eq!(
            aws.regions[1].endpoint.credentials,
            CredentialSource::AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/SwitchyardReadOnly".into(),
                profile: Some("noc-readonly".into())
            }
        );
        assert_eq!(aws.counts, CountMethod::Aggregation);
        assert_eq!(aws.edge, EdgeMetrics::default());
        assert_eq!(aws.route53.unwrap().record_name, "devices.example.com");
        assert_eq!(s.recovery, Recovery::default());
        // The example's catalogue is the built-in one, written out.
        assert_eq!(s.engine.commands.catalogue, default_catalogue());
    }

    #[test]
    fn a_bad_catalogue_entry_is_named() {
        let err = aws(
            "\n[[commands.catalogue]]\nname = \"x\"\ndescription = \"\"\ntopic = \"cmd/+/x\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("commands.catalogue[0] (in site.toml or on the command line): command x: topic 'cmd/+/x' has a wildcard"),
            "{err}"
        );
    }

    const AWS: &str = r#"
[aws]
thing_groups = ["sensors"]

[[aws.regions]]
code = "us-east-1"
role = "active"

[[aws.regions]]
code = "eu-west-1"
role = "standby"
"#;

    fn aws(extra: &str) -> Result<Settings, String> {
        let text = format!("{AWS}{extra}");
        Settings::resolve(
            ConfigFile::parse(&text, "site.toml")?,
            Some("site.toml"),
            Overrides::default(),
        )
    }

    #[test]
    fn an_aws_section_resolves_with_defaults() {
        let s = aws("").unwrap();
        let a = s.aws.unwrap();
        assert_eq!(a.thing_groups, vec!["sensors".to_string()]);
        assert_eq!(
            a.regions[1].endpoint.credentials,
            CredentialSource::DefaultChain
        );
        assert!(a.route53.is_none());
        assert_eq!(a.edge.fresh_for, Duration::from_secs(180));
    }

    #[test]
    fn aws_mistakes_name_the_line_and_field() {
        // The third region entry starts on line 13 of the combined text (its [[aws.regions]]).
        let err = aws("\n[[aws.regions]]\ncode = \"eu-west-1\"\nrole = \"standby\"\n").unwrap_err();
        assert_eq!(
            err,
            "config file site.toml, line 13, field aws.regions.code: eu-west-1 is listed twice"
        );
        let err = aws("\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"active\"\n").unwrap_err();
        assert!(
            err.contains("exactly one region must have role = \"active\", not 2"),
            "{err}"
        );
        let err =
            aws("\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"primary\"\n").unwrap_err();
        assert!(
            err.starts_with("config file site.toml, line 15, field role:"),
            "{err}"
        );
        let err = aws(
            "\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"standby\"\nassume_role_arn = \"SwitchyardRole\"\n",
        )
        .unwrap_err();
        assert!(
            err.starts_with("config file site.toml, line 13, field aws.regions.assume_role_arn: 'SwitchyardRole' is not an IAM role ARN"),
            "{err}"
        );
        let err = aws(
            "\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"standby\"\nlab_credentials = true\n",
        )
        .unwrap_err();
        assert!(
            err.contains("aws.regions.lab_credentials: only with endpoint_url"),
            "{err}"
        );
        let err = aws("\n[aws.route53]\nhosted_zone_id = \"Z1\"\nrecord_name = \"bad name\"\n")
            .unwrap_err();
        assert!(
            err.starts_with("config file site.toml, line 13, field aws.route53.record_name: 'bad name' is not a domain name"),
            "{err}"
        );
        let err = aws("\n[aws.edge]\nstale_after_secs = 5\n").unwrap_err();
        assert!(
            err.contains("field aws.edge.stale_after_secs: must be between 60"),
            "{err}"
        );
    }

    #[test]
    fn aws_and_simulation_do_not_mix() {
        let err = aws("\n[simulation]\ndevices = 5\n").unwrap_err();
        assert!(
            err.contains("[aws] and [simulation] cannot both be given"),
            "{err}"
        );
        let err = Settings::resolve(
            ConfigFile::parse(AWS, "site.toml").unwrap(),
            Some("site.toml"),
            Overrides {
                devices: Some(10),
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            "--devices applies to the simulated fleet, but site.toml watches AWS"
        );
    }

    #[test]
    fn recovery_objectives_are_bounded() {
        let s = aws("\n[recovery]\nrto_minutes = 45\nrpo_minutes = 1\n").unwrap();
        assert_eq!(s.recovery.rto, Duration::from_secs(45 * 60));
        let err = aws("\n[recovery]\nrto_minutes = 0\n").unwrap_err();
        assert!(
            err.starts_with("recovery.rto_minutes (in site.toml"),
            "{err}"
        );
    }
}
