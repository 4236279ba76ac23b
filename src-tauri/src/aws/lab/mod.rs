//! The local AWS lab: one moto server per region (and one for the global Route 53) on
//! loopback, seeded through the SDK with a small multi-region fleet ([`seed`]), and a
//! configuration file that points Switchyard at it ([`config`]). Killing one server stands for
//! a regional outage. What reached "AWS" can be read back from moto's recorder ([`recorder`]).
//! ARC's data plane, which moto lacks, is the project's own stand-in ([`arc`]): five cluster
//! endpoints with one routing control per lab region.
//!
//! Used by `switchyard lab` (the console on the lab) and by the adapter tests.
//!
//! Rules kept here:
//! - a server is killed when its handle is dropped, so a failed test leaves no moto behind;
//! - the lab needs at least two regions; the first is active, and its routing control is the
//!   one On;
//! - "us-east-1 is dead" ([`Lab::kill_us_east_1`]) stops everything the lab serves from there:
//!   its moto, the Route 53 moto (Route 53's control plane is in us-east-1) and the ARC
//!   cluster's us-east-1 endpoint.

pub mod arc;
mod config;
mod recorder;
mod seed;

pub use arc::ArcStandIn;

use crate::settings::{CredentialSource, EndpointSettings};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The moto version the lab is built and tested with.
pub const MOTO_VERSION: &str = "5.2.5";

/// What to seed.
#[derive(Debug, Clone)]
pub struct LabPlan {
    /// Region codes; the first is active.
    pub regions: Vec<String>,
    pub devices: usize,
    pub gateways: usize,
}

impl Default for LabPlan {
    fn default() -> Self {
        LabPlan {
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            devices: 24,
            gateways: 6,
        }
    }
}

/// The topic rules seeded in every region (name, SQL).
pub const RULES: [(&str, &str); 2] = [
    ("telemetry_ingest", "SELECT * FROM 'fleet/+/telemetry'"),
    (
        "alarms_forward",
        "SELECT * FROM 'fleet/+/alarms' WHERE severity > 2",
    ),
];
pub const GROUPS: [&str; 2] = ["sensors", "gateways"];
pub const DOMAIN_CONFIGURATION: &str = "switchyard-devices";
pub const ZONE: &str = "lab.switchyard.internal";
pub const RECORD: &str = "devices.lab.switchyard.internal";

/// The ARN of the lab's routing control that sends the devices to `region`.
pub fn routing_control_arn(region: &str) -> String {
    format!(
        "arn:aws:route53-recovery-control::000000000000:controlpanel/lab/routingcontrol/{region}"
    )
}

/// One moto server process; killed when dropped.
struct MotoServer {
    name: String,
    port: u16,
    child: Child,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running, seeded lab.
pub struct Lab {
    pub dir: PathBuf,
    pub plan: LabPlan,
    servers: Vec<MotoServer>,
    /// The configuration file written for Switchyard.
    pub config_path: PathBuf,
    pub hosted_zone_id: String,
    /// Route 53 health check ids by region.
    pub health_checks: Vec<(String, String)>,
    /// ARC's data plane: the cluster's five endpoints.
    arc: ArcStandIn,
}

/// Where `moto_server` is: `$SWITCHYARD_MOTO_SERVER`, else the venv `cargo xtask setup` makes.
pub fn find_moto_server(given: Option<&Path>) -> Result<PathBuf, String> {
    let candidate = given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SWITCHYARD_MOTO_SERVER").map(PathBuf::from))
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/lab/venv/bin/moto_server"
            ))
        });
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(format!(
            "moto_server not found at {}: run `cargo xtask setup` (it installs moto[server]=={MOTO_VERSION} \
             in target/lab/venv) or pass --moto-server",
            candidate.display()
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn lab_endpoint(url: String) -> EndpointSettings {
    EndpointSettings {
        credentials: CredentialSource::Lab,
        endpoint_url: Some(url),
    }
}

/// The device data endpoint host the lab gives a region (what the DNS record points at).
pub fn data_endpoint(region: &str) -> String {
    format!("lab-ats.iot.{region}.{ZONE}")
}

fn signal(pid: u32, sig: &str) -> Result<(), String> {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map_err(|e| format!("kill {sig} {pid}: {e}"))?
        .success();
    if ok {
        Ok(())
    } else {
        Err(format!("kill {sig} {pid} failed"))
    }
}

impl Lab {
    /// Starts the servers, seeds them and writes `dir/switchyard-lab.toml`.
    pub async fn start(moto_server: &Path, dir: &Path, plan: LabPlan) -> Result<Lab, String> {
        if plan.regions.len() < 2 {
            return Err("the lab needs at least two regions".into());
        }
        std::fs::create_dir_all(dir.join("logs"))
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut servers = Vec::new();
        for name in plan.regions.iter().map(String::as_str).chain(["route53"]) {
            let port = free_port()?;
            let log = std::fs::File::create(dir.join(format!("logs/moto-{name}.log")))
                .map_err(|e| format!("cannot write the lab's logs: {e}"))?;
            let child = Command::new(moto_server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env(
                    "MOTO_RECORDER_FILEPATH",
                    dir.join(format!("logs/recording-{name}.jsonl")),
                )
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", moto_server.display()))?;
            servers.push(MotoServer {
                name: name.to_string(),
                port,
                child,
            });
        }
        let controls: Vec<(String, bool)> = plan
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| (routing_control_arn(r), i == 0))
            .collect();
        let arc = ArcStandIn::start(&controls).await?;
        let mut lab = Lab {
            dir: dir.to_path_buf(),
            plan,
            servers,
            arc,
            config_path: dir.join("switchyard-lab.toml"),
            hosted_zone_id: String::new(),
            health_checks: Vec::new(),
        };
        for s in &mut lab.servers {
            wait_ready(s).await?;
        }
        lab.seed().await?;
        std::fs::write(&lab.config_path, lab.config_toml())
            .map_err(|e| format!("cannot write {}: {e}", lab.config_path.display()))?;
        Ok(lab)
    }

    fn server(&self, name: &str) -> &MotoServer {
        self.servers
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no lab server for {name}"))
    }

    /// The endpoint URL of a region's server (or "route53").
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.server(name).port)
    }

    pub fn active(&self) -> &str {
        &self.plan.regions[0]
    }

    /// Kills a region's server: calls are refused from now on.
    pub fn kill(&mut self, name: &str) {
        self.servers.retain(|s| s.name != name);
    }

    /// "us-east-1 is dead": its moto, the Route 53 moto (whose control plane AWS serves from
    /// us-east-1) and the ARC cluster's us-east-1 endpoint stop; calls to them are refused.
    pub async fn kill_us_east_1(&mut self) {
        self.kill("us-east-1");
        self.kill("route53");
        if let Some(i) = self.arc.index_of("us-east-1") {
            self.arc.kill(i).await;
        }
    }

    /// ARC's data plane: the cluster's endpoints, killable one by one, and the states.
    pub fn arc(&self) -> &ArcStandIn {
        &self.arc
    }

    /// The ARN of the routing control that sends the devices to `region`.
    pub fn routing_control(&self, region: &str) -> String {
        routing_control_arn(region)
    }

    /// Whether `region`'s routing control is On now (None: the lab has no such region).
    pub fn routing_control_on(&self, region: &str) -> Option<bool> {
        self.arc.is_on(&routing_control_arn(region))
    }

    /// Freezes a region's server (SIGSTOP): it accepts connections and never answers.
    pub fn freeze(&self, name: &str) -> Result<(), String> {
        signal(self.server(name).child.id(), "-STOP")
    }

    /// Thaws a frozen server.
    pub fn thaw(&self, name: &str) -> Result<(), String> {
        signal(self.server(name).child.id(), "-CONT")
    }
}

async fn wait_ready(s: &mut MotoServer) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = s.child.try_wait() {
            return Err(format!(
                "moto_server for {} exited at start ({status}); see its log",
                s.name
            ));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", s.port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server for {} did not listen within 30 s",
                s.name
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
