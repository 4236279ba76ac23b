//! The `switchyard` command line.
//!
//! Rules kept here:
//! - a mistake on the command line is one line and exit 2, before anything is read or sent;
//! - every runbook command (`status`, `preflight`, `failover`, `command`) takes the console as
//!   `--server`, else `SWITCHYARD_SERVER`, and `--json`; its exit codes are in its help.

use crate::settings::{ConfigFile, Overrides, Settings};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use switchyard_core::fault::FaultSpec;

/// Switchyard: the console a NOC uses to keep an IoT fleet on AWS alive through a regional
/// disaster.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console: the engine, the HTTP API and the web UI.
    Serve(ServeArgs),
    /// Start the local AWS lab (one moto server per region, one for Route 53), seed it with a
    /// small multi-region fleet, write its configuration, and run the console on it.
    Lab(LabArgs),
    /// What is happening, from a running console: the regions and their figures, the open
    /// incident, the failover under way or its summary, the next step, the edge backlog.
    /// Exits 0 when no incident is open, 2 when one is, 1 when the console could not be asked
    /// (a mistake on the command line also exits 2, before the console is asked).
    Status(StatusArgs),
    /// What a failover to a region would do, and whether it would start: the preflight's
    /// checks, the switch, the devices to move, the stragglers, the TTL. Starts nothing.
    /// Exits 0 when it would start, 3 when it would be refused or the preflight fails, 1 when
    /// the console could not be asked.
    Preflight(PreflightArgs),
    /// Fail the devices over to another region through a running console (for runbooks):
    /// requests it, prints its progress, exits 0 when complete (or nothing to do), 3 when
    /// complete with exceptions (or still running when --wait ends), 1 when refused or
    /// failed. With --dry-run it only prints the plan of the same request and starts
    /// nothing: exits 0 when it would start, 3 when it would be refused.
    Failover(FailoverArgs),
    /// Send a catalogue command to the online devices of a target through a running console:
    /// previews it, runs it, prints the tallies; exits 0 when all were sent, 3 when some
    /// failed or were cancelled, 1 when refused.
    Command(CommandArgs),
    /// Disaster-recovery drills.
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Accounts of the server (in its database).
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. The password is read from standard input (one line; pipe it in).
    Add(UserAddArgs),
    /// List the accounts.
    List(UserListArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user name (letters, digits, . _ - @).
    pub name: String,
    /// viewer (sees everything), operator (failover, commands, drills) or admin (accounts).
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub struct UserListArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Run a drill headless on the configured fleet, keep it in the database and write its
    /// report (report.html, report.json, charts as PNG); exits 0 when every objective was
    /// met, 3 when one was missed, 1 when the drill was refused or aborted.
    Run(DrillRunArgs),
}

#[derive(Debug, Args)]
pub struct DrillRunArgs {
    /// The scenario (TOML); see assets/drill.example.toml.
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Where to write the report [default: ./DRILL-ID]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Who runs it, for the audit log [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

impl DrillRunArgs {
    /// Reads and checks the scenario file; errors name the file and the field.
    pub fn scenario(&self) -> Result<switchyard_core::drills::Scenario, String> {
        let name = self.scenario.display();
        let text = std::fs::read_to_string(&self.scenario)
            .map_err(|e| format!("cannot read the scenario {name}: {e}"))?;
        let sc: switchyard_core::drills::Scenario =
            toml::from_str(&text).map_err(|e| format!("{name}: {}", e.to_string().trim_end()))?;
        sc.check().map_err(|e| format!("{name}: {e}"))?;
        Ok(sc)
    }
}

#[derive(Debug, Args)]
pub struct CommandArgs {
    /// The catalogue command (GET /api/v1/commands lists them).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Who: group:NAME, region:CODE, devices:ID[,ID…] or query:QUERY, a fleet-index query of
    /// thingName:, thingGroupNames:, connectivity.connected: and
    /// connectivity.disconnectReason: terms joined with AND.
    #[arg(long, value_name = "KIND:VALUE")]
    pub target: String,
    /// The payload, JSON checked against the command's schema.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub payload: String,
    /// Write the payload to offline devices' desired shadow state instead of skipping them
    /// (commands that allow it).
    #[arg(long)]
    pub shadow_offline: bool,
    /// Why; kept in the audit log (required unless --preview).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub reason: String,
    /// Only say who would get it.
    #[arg(long)]
    pub preview: bool,
    /// The number of devices the preview counts, confirmed: needed to send to more devices
    /// than the console's `[commands] confirm_above`.
    #[arg(long, value_name = "N")]
    pub confirm_count: Option<u64>,
    /// Print the console's JSON answers instead of text, one document a line: the preview,
    /// then the run as started, then the run (GET /api/v1/commands/ID) each time it changes.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

/// Which running console a runbook command talks to, and whom it trusts for https.
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// The console's address, http:// or https:// (required: the flag, or the variable).
    #[arg(long, value_name = "URL", env = "SWITCHYARD_SERVER")]
    pub server: Option<String>,
    /// For an https console whose certificate a private CA signed: trust the CA certificates in
    /// this PEM file instead of the system's.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
}

/// The console a runbook command talks to, and who it acts as there.
#[derive(Debug, Clone, Args)]
pub struct CallerArgs {
    #[command(flatten)]
    pub console: ConsoleArgs,
    /// Who runs it, for the audit log [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Sign in as this account (a console with logins); the password is read from the
    /// SWITCHYARD_PASSWORD environment variable.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the console's answer (GET /api/v1/status, a StatusResponse) as one JSON document
    /// instead of text; the exit code is the same.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The region a failover would move the devices to.
    #[arg(long, value_name = "REGION")]
    pub to: String,
    /// Print the console's answer (GET /api/v1/failover/plan, a FailoverPlan) as one JSON
    /// document instead of text; the exit code is the same.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// The region to move the devices to (the deliberate confirmation: the runbook names it).
    #[arg(long, value_name = "REGION")]
    pub to: String,
    /// Why (incident, ticket); kept in the audit log.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Proceed although the preflight warns (a failing preflight always refuses).
    #[arg(long)]
    pub override_warnings: bool,
    /// Stop following the progress after this many seconds (the failover goes on).
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub wait: u64,
    /// Only ask the console what this very request would do (POST /api/v1/failovers/plan),
    /// print the plan and exit: 0 when it would start, 3 when it would be refused. Nothing is
    /// started.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the console's JSON answers instead of text, one document a line: the request's
    /// answer (the Failover, or {"nothing_to_do": …}), then the failover
    /// (GET /api/v1/failovers/ID) each time it changes; with --dry-run, the FailoverPlan.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub caller: CallerArgs,
}

impl FailoverArgs {
    /// The request as the console takes it: the target named twice (the runbook's deliberate
    /// confirmation), the reason, the override.
    pub fn request(&self) -> switchyard_core::failover::FailoverRequest {
        switchyard_core::failover::FailoverRequest {
            target: self.to.clone(),
            confirm: self.to.clone(),
            reason: self.reason.clone(),
            override_warnings: self.override_warnings,
        }
    }
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// Address to listen on; port 0 picks a free port (the one chosen is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8740")]
    pub listen: SocketAddr,
    /// Serve the web UI from this directory instead of the one built in [default: as for serve]
    #[arg(long, value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,
    /// The moto_server program [default: $SWITCHYARD_MOTO_SERVER, else
    /// target/lab/venv/bin/moto_server, which `cargo xtask setup` installs]
    #[arg(long, value_name = "FILE")]
    pub moto_server: Option<PathBuf>,
    /// Where the lab writes its configuration, logs and database [default: target/lab/run]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Comma-separated region codes, the first active [default: us-east-1,us-west-2]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub regions: Option<Vec<String>>,
    /// Devices to register in every region
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..=2000))]
    pub devices: u16,
    /// Edge gateways
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub gateways: u16,
    /// No logins (loopback only): the lab is a workbench.
    #[arg(long)]
    pub no_auth: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the one chosen is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8740")]
    pub listen: SocketAddr,
    /// Serve the web UI from this directory (a `cargo xtask build`'s dist/) instead of the one
    /// built into the binary, e.g. while working on the UI
    #[arg(long, value_name = "DIR")]
    pub ui_dir: Option<PathBuf>,
    /// No logins: anyone who can reach the port may do anything. Refused unless --listen is a
    /// loopback address.
    #[arg(long)]
    pub no_auth: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// The accounts the server signs in with, or none: `--no-auth` only on loopback.
pub fn auth_config(
    settings: &Settings,
    no_auth: bool,
    listen: SocketAddr,
) -> Result<crate::auth::AuthConfig, String> {
    if !no_auth {
        return Ok(settings.auth.clone());
    }
    if !listen.ip().is_loopback() {
        return Err(format!(
            "--no-auth: refused on {listen}: without logins the console listens on loopback only \
             (127.0.0.1 or ::1); put it behind a proxy, or sign in"
        ));
    }
    Ok(crate::auth::AuthConfig {
        mode: crate::auth::AuthMode::None,
        ..settings.auth.clone()
    })
}

/// What the engine watches and where it keeps its data: shared by `serve` and the desktop app.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// Where the database lives [default: $XDG_DATA_HOME/switchyard or ~/.local/share/switchyard]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (TOML); see assets/switchyard.example.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds between two polls of a region [default: 5]
    #[arg(long, value_name = "SECS")]
    pub poll_interval: Option<u64>,
    /// Upper bound on one poll of a region, in milliseconds [default: 2500]
    #[arg(long, value_name = "MS")]
    pub poll_timeout: Option<u64>,
    /// Simulated fleet: number of devices [default: 5000]
    #[arg(long, value_name = "N")]
    pub devices: Option<usize>,
    /// Simulated fleet: number of edge gateways [default: 40]
    #[arg(long, value_name = "N")]
    pub gateways: Option<usize>,
    /// Simulated fleet: seed; the same seed replays the same fleet [default: 1]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Simulated fleet: comma-separated region codes, the first active
    /// [default: us-east-1,eu-west-1,ap-southeast-2]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub regions: Option<Vec<String>>,
    /// Simulated fleet: a fault on the timeline, REGION:KIND[@START][+DURATION]
    /// (e.g. eu-west-1:outage@30s+2m); repeatable.
    #[arg(long = "fault", value_name = "SPEC", value_parser = parse_fault)]
    pub faults: Vec<FaultSpec>,
}

fn parse_fault(s: &str) -> Result<FaultSpec, String> {
    s.parse()
}

impl FleetArgs {
    /// Reads the configuration file, if any, and lays the flags over it.
    pub fn settings(&self) -> Result<Settings, String> {
        let (file, name) = match &self.config {
            Some(path) => (ConfigFile::load(path)?, Some(path.display().to_string())),
            None => (ConfigFile::default(), None),
        };
        let overrides = Overrides {
            data_dir: self.data_dir.clone(),
            poll_interval_secs: self.poll_interval,
            poll_timeout_ms: self.poll_timeout,
            seed: self.seed,
            devices: self.devices,
            gateways: self.gateways,
            regions: self.regions.clone(),
            faults: self.faults.clone(),
        };
        Settings::resolve(file, name.as_deref(), overrides).map_err(String::from)
    }
}

impl ServeArgs {
    /// Where the web UI comes from.
    pub fn ui(&self) -> Result<crate::api::Ui, String> {
        choose_ui(self.ui_dir.as_ref())
    }
}

impl LabArgs {
    /// Where the web UI comes from.
    pub fn ui(&self) -> Result<crate::api::Ui, String> {
        choose_ui(self.ui_dir.as_ref())
    }

    /// The lab's plan, checked.
    pub fn plan(&self) -> Result<crate::aws::lab::LabPlan, String> {
        let mut plan = crate::aws::lab::LabPlan {
            devices: self.devices.into(),
            gateways: self.gateways.into(),
            ..Default::default()
        };
        if let Some(r) = &self.regions {
            if r.len() < 2 {
                return Err("--regions: the lab needs at least two regions".into());
            }
            if let Some(bad) = r
                .iter()
                .find(|c| !switchyard_core::regions::is_valid_code(c))
            {
                return Err(format!(
                    "--regions: '{bad}' is not an AWS region code such as us-east-1"
                ));
            }
            plan.regions = r.clone();
        }
        Ok(plan)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/lab/run"))
        })
    }
}

/// The UI directory given (checked), else the UI built into the binary.
fn choose_ui(given: Option<&PathBuf>) -> Result<crate::api::Ui, String> {
    match given {
        Some(dir) if !dir.join("index.html").is_file() => Err(format!(
            "--ui-dir {}: there is no index.html in it",
            dir.display()
        )),
        given => Ok(crate::api::Ui::choose(given.cloned())),
    }
}

/// Parses the command line. On an error, returns the one line to print and the exit code;
/// help and version go to stdout with code 0.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, (String, i32)> {
    Cli::try_parse_from(args).map_err(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => (e.render().to_string(), 0),
            _ => {
                let text = e.render().to_string();
                let first = text
                    .lines()
                    .next()
                    .unwrap_or("error: invalid command line")
                    .trim_end();
                (format!("{first} (see switchyard --help)"), 2)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<std::ffi::OsString> {
        s.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn serve_flags_parse() {
        let cli = parse(args("switchyard serve --listen 127.0.0.1:0 --devices 10 --regions us-east-1,eu-west-1 --fault eu-west-1:outage+1m")).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not serve")
        };
        let s = a.fleet.settings().unwrap();
        assert_eq!(
            (s.sim.devices, s.sim.regions.len(), s.sim.faults.len()),
            (10, 2, 1)
        );
        assert_eq!(a.listen.port(), 0);
    }

    #[test]
    fn errors_are_one_line_and_name_the_problem() {
        let (msg, code) = parse(args("switchyard serve --bogus")).unwrap_err();
        assert_eq!(code, 2);
        assert!(!msg.contains('\n'));
        assert!(msg.contains("'--bogus'"), "{msg}");
        let (msg, _) = parse(args("switchyard serve --listen localhost")).unwrap_err();
        assert!(
            msg.contains("'localhost'") && msg.contains("--listen"),
            "{msg}"
        );
        let (msg, _) = parse(args("switchyard serve --fault eu-west-1:flood")).unwrap_err();
        assert!(msg.contains("'flood' is not a fault kind"), "{msg}");
    }

    #[test]
    fn a_missing_config_file_is_named() {
        let Command::Serve(a) = parse(args("switchyard serve --config /nonexistent/sy.toml"))
            .unwrap()
            .command
        else {
            panic!("not serve")
        };
        let err = a.fleet.settings().unwrap_err();
        assert!(
            err.starts_with("cannot read config file /nonexistent/sy.toml"),
            "{err}"
        );
    }
}
