//! The local AWS lab: one moto server per region (and one for the global Route 53) on
//! loopback, seeded through the SDK with a small multi-region fleet, and a configuration file
//! that points Switchyard at it. Killing one server stands for a regional outage.
//!
//! Used by `switchyard lab` (the console on the lab) and by the adapter tests.

use super::{sdk_config, Timeouts};
use crate::settings::{CredentialSource, EdgeMetrics, EndpointSettings};
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_iot::types::{
    Action, CertificateStatus, RepublishAction, ThingConnectivityIndexingMode,
    ThingIndexingConfiguration, ThingIndexingMode, TopicRulePayload,
};
use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
use aws_smithy_types::DateTime;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

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
        let mut lab = Lab {
            dir: dir.to_path_buf(),
            plan,
            servers,
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

    /// Freezes a region's server (SIGSTOP): it accepts connections and never answers.
    pub fn freeze(&self, name: &str) -> Result<(), String> {
        signal(self.server(name).child.id(), "-STOP")
    }

    /// Thaws a frozen server.
    pub fn thaw(&self, name: &str) -> Result<(), String> {
        signal(self.server(name).child.id(), "-CONT")
    }

    /// Starts recording every request `name`'s server receives (moto's recorder), so that a
    /// test can read back what reached "AWS".
    pub async fn record(&self, name: &str) -> Result<(), String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let port = self.server(name).port;
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(
            format!(
                "POST /moto-api/recorder/start-recording HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
            Ok(())
        } else {
            Err(format!("moto did not start recording: {answer}"))
        }
    }

    /// The requests `name`'s server recorded: (method, URL, body).
    pub fn recorded(&self, name: &str) -> Vec<(String, String, Vec<u8>)> {
        use base64_lite::decode;
        let path = self.dir.join(format!("logs/recording-{name}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"] == true {
                    decode(body)
                } else {
                    body.as_bytes().to_vec()
                };
                (
                    v["method"].as_str().unwrap_or_default().to_string(),
                    v["url"].as_str().unwrap_or_default().to_string(),
                    body,
                )
            })
            .collect()
    }

    async fn conf(&self, name: &str, region: &str) -> aws_config::SdkConfig {
        sdk_config(
            region,
            &lab_endpoint(self.url(name)),
            Timeouts::for_poll(Duration::from_secs(20)),
        )
        .await
    }

    /// An IoT client on a region's server.
    pub async fn iot(&self, region: &str) -> aws_sdk_iot::Client {
        aws_sdk_iot::Client::new(&self.conf(region, region).await)
    }

    /// A CloudWatch client on a region's server.
    pub async fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.conf(region, region).await)
    }

    /// A data-plane client on a region's server.
    pub async fn dataplane(&self, region: &str) -> aws_sdk_iotdataplane::Client {
        let conf = self.conf(region, region).await;
        aws_sdk_iotdataplane::Client::from_conf(
            aws_sdk_iotdataplane::config::Builder::from(&conf)
                .endpoint_url(self.url(region))
                .build(),
        )
    }

    /// A Route 53 client on the lab's global server.
    pub async fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.conf("route53", "us-east-1").await)
    }

    pub fn device_names(&self) -> Vec<String> {
        (0..self.plan.devices)
            .map(|i| format!("lab-sensor-{i:03}"))
            .collect()
    }

    pub fn gateway_names(&self) -> Vec<String> {
        (0..self.plan.gateways)
            .map(|i| format!("lab-gw-{i:02}"))
            .collect()
    }

    async fn seed(&mut self) -> Result<(), String> {
        let err = |what: &str| {
            let what = what.to_string();
            move |e: aws_sdk_iot::Error| format!("seeding the lab: {what}: {e}")
        };
        let active = self.active().to_string();
        // Certificates are made in the active region and registered in every standby with the
        // same PEM, so their ids match, as in a real multi-region deployment.
        let mut pems = Vec::new();
        for (i, region) in self.plan.regions.clone().iter().enumerate() {
            let iot = self.iot(region).await;
            iot.update_indexing_configuration()
                .thing_indexing_configuration(
                    ThingIndexingConfiguration::builder()
                        .thing_indexing_mode(ThingIndexingMode::Registry)
                        .thing_connectivity_indexing_mode(ThingConnectivityIndexingMode::Status)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| err("UpdateIndexingConfiguration")(e.into()))?;
            for g in GROUPS {
                iot.create_thing_group()
                    .thing_group_name(g)
                    .send()
                    .await
                    .map_err(|e| err("CreateThingGroup")(e.into()))?;
            }
            let things = self
                .device_names()
                .into_iter()
                .map(|n| (n, "sensors"))
                .chain(self.gateway_names().into_iter().map(|n| (n, "gateways")));
            for (k, (name, group)) in things.enumerate() {
                iot.create_thing()
                    .thing_name(&name)
                    .send()
                    .await
                    .map_err(|e| err("CreateThing")(e.into()))?;
                iot.add_thing_to_thing_group()
                    .thing_group_name(group)
                    .thing_name(&name)
                    .send()
                    .await
                    .map_err(|e| err("AddThingToThingGroup")(e.into()))?;
                let arn = if i == 0 {
                    let c = iot
                        .create_keys_and_certificate()
                        .set_as_active(true)
                        .send()
                        .await
                        .map_err(|e| err("CreateKeysAndCertificate")(e.into()))?;
                    pems.push(c.certificate_pem().unwrap_or_default().to_string());
                    c.certificate_arn().unwrap_or_default().to_string()
                } else {
                    iot.register_certificate_without_ca()
                        .certificate_pem(&pems[k])
                        .status(CertificateStatus::Active)
                        .send()
                        .await
                        .map_err(|e| err("RegisterCertificateWithoutCA")(e.into()))?
                        .certificate_arn()
                        .unwrap_or_default()
                        .to_string()
                };
                iot.attach_thing_principal()
                    .thing_name(&name)
                    .principal(arn)
                    .send()
                    .await
                    .map_err(|e| err("AttachThingPrincipal")(e.into()))?;
            }
            for (name, sql) in RULES {
                iot.create_topic_rule()
                    .rule_name(name)
                    .topic_rule_payload(
                        TopicRulePayload::builder()
                            .sql(sql)
                            .rule_disabled(false)
                            .actions(
                                Action::builder()
                                    .republish(
                                        RepublishAction::builder()
                                            .role_arn(
                                                "arn:aws:iam::123456789012:role/lab-republish",
                                            )
                                            .topic("lab/out")
                                            .build()
                                            .map_err(|e| e.to_string())?,
                                    )
                                    .build(),
                            )
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .send()
                    .await
                    .map_err(|e| err("CreateTopicRule")(e.into()))?;
            }
            iot.create_domain_configuration()
                .domain_configuration_name(DOMAIN_CONFIGURATION)
                .send()
                .await
                .map_err(|e| err("CreateDomainConfiguration")(e.into()))?;
        }
        self.put_metrics(0).await?;
        // Route 53: the devices' record points at the active region.
        let r53 = self.route53().await;
        let r53err = |what: &'static str| {
            move |e: aws_sdk_route53::Error| format!("seeding the lab: {what}: {e}")
        };
        let zone = r53
            .create_hosted_zone()
            .name(ZONE)
            .caller_reference(format!("switchyard-lab-{}", std::process::id()))
            .send()
            .await
            .map_err(|e| r53err("CreateHostedZone")(e.into()))?;
        self.hosted_zone_id = zone
            .hosted_zone()
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
            .unwrap_or_default();
        for region in self.plan.regions.clone() {
            let hc = r53
                .create_health_check()
                .caller_reference(format!("switchyard-lab-{region}"))
                .health_check_config(
                    HealthCheckConfig::builder()
                        .r#type(HealthCheckType::Https)
                        .fully_qualified_domain_name(data_endpoint(&region))
                        .port(443)
                        .resource_path("/")
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| r53err("CreateHealthCheck")(e.into()))?;
            let id = hc
                .health_check()
                .map(|h| h.id().to_string())
                .unwrap_or_default();
            self.health_checks.push((region, id));
        }
        let dns = super::route53::Dns::new(
            &self.conf("route53", "us-east-1").await,
            crate::settings::Route53Settings {
                switch: crate::settings::SwitchMethod::Record,
                hosted_zone_id: self.hosted_zone_id.clone(),
                record_name: RECORD.into(),
                ttl_secs: 60,
                endpoint: lab_endpoint(self.url("route53")),
            },
        );
        dns.upsert(&data_endpoint(&active)).await?;
        Ok(())
    }

    /// Publishes the AWS/IoT and edge metrics of minute `tick` (the lab's gateways all home on
    /// the active region but the last, which homes on the first standby). Call it every
    /// minute or so to keep a live lab's figures fresh.
    pub async fn put_metrics(&self, tick: u64) -> Result<(), String> {
        let now = DateTime::from(SystemTime::now());
        let edge = EdgeMetrics::default();
        for (i, region) in self.plan.regions.iter().enumerate() {
            let cw = self.cloudwatch(region).await;
            let scale: f64 = if i == 0 { 1.0 } else { 0.05 };
            let mut iot = Vec::new();
            for (name, v) in [
                ("Connect.Success", 120.0),
                ("Connect.ClientError", 2.0),
                ("Connect.ServerError", 1.0),
                ("PublishIn.Success", 2_400.0),
                ("PublishIn.ServerError", 3.0),
            ] {
                iot.push(
                    MetricDatum::builder()
                        .metric_name(name)
                        .dimensions(Dimension::builder().name("Protocol").value("MQTT").build())
                        .value((v * scale).round())
                        .unit(StandardUnit::Count)
                        .timestamp(now)
                        .build(),
                );
            }
            cw.put_metric_data()
                .namespace("AWS/IoT")
                .set_metric_data(Some(iot))
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "seeding the lab: PutMetricData AWS/IoT: {}",
                        super::chain(&e)
                    )
                })?;
            let gateways = self.gateway_names();
            let homed: Vec<(usize, &String)> = gateways
                .iter()
                .enumerate()
                .filter(|(g, _)| {
                    let home = if *g + 1 == gateways.len() { 1 } else { 0 };
                    home == i
                })
                .collect();
            let mut data = Vec::new();
            for (g, id) in homed {
                let g = g as u64;
                let messages =
                    (g * 137 + tick * 11 * (g + 1)) % 9_000 + if g == 0 { 80_000 } else { 0 };
                for (name, v) in [
                    (&edge.backlog_messages, messages as f64),
                    (&edge.backlog_bytes, (messages * 180) as f64),
                    (&edge.oldest_age_seconds, (messages / 20) as f64),
                    (&edge.dropped, (g * 3) as f64),
                ] {
                    data.push(
                        MetricDatum::builder()
                            .metric_name(name)
                            .dimensions(
                                Dimension::builder().name(&edge.dimension).value(id).build(),
                            )
                            .value(v)
                            .timestamp(now)
                            .build(),
                    );
                }
            }
            for chunk in data.chunks(500) {
                cw.put_metric_data()
                    .namespace(&edge.namespace)
                    .set_metric_data(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| {
                        format!("seeding the lab: PutMetricData edge: {}", super::chain(&e))
                    })?;
            }
        }
        Ok(())
    }

    /// The configuration that points Switchyard at this lab.
    pub fn config_toml(&self) -> String {
        let mut s = format!(
            "# Written by `switchyard lab` for the local AWS lab (moto {MOTO_VERSION} on loopback).\n\
             # Every region has its own moto server; Route 53 has one of its own, as it is global.\n\n\
             [engine]\npoll_interval_secs = 5\npoll_timeout_ms = 2500\n\n\
             [recovery]\nrto_minutes = 30\nrpo_minutes = 5\n\n\
             [aws]\n\
             # moto has no fleet-index aggregation: count by reading the (small) search through.\n\
             connectivity_counts = \"search\"\n\
             thing_groups = [\"sensors\", \"gateways\"]\n\n\
             [aws.route53]\nhosted_zone_id = \"{}\"\nrecord_name = \"{RECORD}\"\nttl_secs = 60\n\
             endpoint_url = \"{}\"\nlab_credentials = true\n",
            self.hosted_zone_id,
            self.url("route53")
        );
        for (i, r) in self.plan.regions.iter().enumerate() {
            let hc = self
                .health_checks
                .iter()
                .find(|(c, _)| c == r)
                .map(|(_, id)| id.as_str())
                .unwrap_or_default();
            s.push_str(&format!(
                "\n[[aws.regions]]\ncode = \"{r}\"\nrole = \"{}\"\ndomain_configuration = \"{DOMAIN_CONFIGURATION}\"\n\
                 data_endpoint = \"{}\"\nprobe_address = \"127.0.0.1:{}\"\nhealth_check_id = \"{hc}\"\n\
                 endpoint_url = \"{}\"\nlab_credentials = true\n",
                if i == 0 { "active" } else { "standby" },
                data_endpoint(r),
                self.server(r).port,
                self.url(r),
            ));
        }
        s
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

/// Standard base64, decoding only (moto's recorder writes bodies that way).
mod base64_lite {
    pub fn decode(s: &str) -> Vec<u8> {
        let val = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32)
        };
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in s.bytes() {
            let Some(v) = val(c) else { continue };
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        out
    }

    #[cfg(test)]
    #[test]
    fn decodes() {
        assert_eq!(decode("eyJub25jZSI6ImEifQ=="), br#"{"nonce":"a"}"#.to_vec());
    }
}
