//! Seeding the lab through the SDK: things, groups, certificates (the same in every region),
//! topic rules, the domain configuration, CloudWatch figures and the Route 53 zone, record and
//! health checks; and the SDK clients on the lab's servers that seeding and the tests use.

use super::{data_endpoint, lab_endpoint, Lab, DOMAIN_CONFIGURATION, GROUPS, RECORD, RULES, ZONE};
use crate::aws::{sdk_config, Timeouts};
use crate::settings::EdgeMetrics;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_iot::types::{
    Action, CertificateStatus, RepublishAction, ThingConnectivityIndexingMode,
    ThingIndexingConfiguration, ThingIndexingMode, TopicRulePayload,
};
use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
use aws_smithy_types::DateTime;
use std::time::{Duration, SystemTime};

impl Lab {
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

    pub(super) async fn seed(&mut self) -> Result<(), String> {
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
        let dns = crate::aws::route53::Dns::new(
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
                        crate::aws::chain(&e)
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
                        format!(
                            "seeding the lab: PutMetricData edge: {}",
                            crate::aws::chain(&e)
                        )
                    })?;
            }
        }
        Ok(())
    }
}
