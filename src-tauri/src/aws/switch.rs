//! The AWS side of the engine's [`TrafficSwitch`] port: the facts a failover preflight needs
//! (certificates, topic rules, the domain configuration, the devices' DNS record, the switch
//! path), the switch itself (the Route 53 record UPSERT, inverting health checks, or ARC
//! routing controls), and where the switch sends the devices now.
//!
//! Rules kept here:
//! - nothing here needs the region being left: when the active region does not answer, the
//!   preflight compares with its certificate set as kept and the rules read while it
//!   answered, or says there is none;
//! - the certificate comparison costs the same at a million certificates as at ten thousand:
//!   each refresh reads only the newest end of both sets ([`super::certs`]) and the facts say
//!   how old the last full listing is;
//! - a switch that cannot answer is a failed "switch path" check, never a failed preflight:
//!   with routing controls the record is not read at all (Route 53's control plane may be
//!   down with us-east-1);
//! - switching twice is switching once (an UPSERT, inversions and states set, not toggled);
//! - what the switch says (`pointed_at`) is also what this adapter then takes as active.

use super::arc::ArcError;
use super::certs::SetAge;
use super::route53;
use super::source::{ActiveCopy, AwsSource};
use crate::clock::now_ms;
use crate::ports::{BoxFuture, SourceError, SwitchError, TrafficSwitch};
use crate::settings::SwitchMethod;
use std::time::Instant;
use switchyard_core::{
    failover::{ActiveSide, ReadinessFacts},
    switch::{Pointed, Probe, SwitchPath},
    HealthStatus,
};

impl AwsSource {
    /// What the adapters can find out about failing over to `target`: certificates, rules,
    /// the domain configuration and the DNS record. `target_health` is left `Unknown` for the
    /// engine to fill in from its own state.
    pub async fn readiness_facts(
        &self,
        active: &str,
        target: &str,
    ) -> Result<ReadinessFacts, SourceError> {
        let t = self.region(target)?;
        let a = self.region(active)?;
        let fleet = self.fleet_query();
        let counts = self.inner.settings.counts;
        let certs = &self.inner.certs;
        let active_side = async {
            let (age, rules, devices) = tokio::join!(
                certs.refresh(active, &a.iot),
                a.iot.topic_rules(),
                a.iot.count_things(&fleet, counts),
            );
            let age = age.map_err(|e| e.to_string())?;
            Ok::<_, String>((
                ActiveCopy {
                    at: now_ms(),
                    rules: rules?,
                    devices: devices?,
                },
                age,
            ))
        };
        let (live, t_age, t_rules, domain, endpoint, t_devices, dns) = tokio::join!(
            active_side,
            certs.refresh(target, &t.iot),
            t.iot.topic_rules(),
            async {
                match &t.settings.domain_configuration {
                    Some(name) => t.iot.domain_configuration_enabled(name).await,
                    None => Ok(None),
                }
            },
            self.data_endpoint(target),
            t.iot.count_things(&fleet, counts),
            self.switch_path_and_record(active, target),
        );
        let (switch_path, dns) = dns;
        let t_age = t_age.map_err(|e| SourceError(e.to_string()))?;
        let t_rules = t_rules.map_err(SourceError)?;
        // The active region may be the one that is down: then compare with its set as kept
        // and the rules read while it answered, or say that there is nothing to compare with.
        let (copy, side, a_age) = match live {
            Ok((copy, age)) => {
                self.inner
                    .active_copies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(active.to_string(), copy.clone());
                (Some(copy), ActiveSide::Live, Some(age))
            }
            Err(why) => {
                tracing::info!(
                    active,
                    "readiness: the active region does not answer: {why}"
                );
                let kept = self
                    .inner
                    .active_copies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(active)
                    .cloned();
                match kept {
                    Some(c) => {
                        let at = c.at;
                        let age = certs
                            .age(active)
                            .await
                            .map_err(|e| SourceError(e.to_string()))?;
                        (Some(c), ActiveSide::Copy { at }, Some(age))
                    }
                    None => (None, ActiveSide::Unknown, None),
                }
            }
        };
        // Answered from the store, and kept while neither set changed.
        let compared = certs
            .compare(active, target)
            .await
            .map_err(|e| SourceError(e.to_string()))?;
        let (devices, in_target, missing, active_rules) = match &copy {
            Some(c) => (
                c.devices,
                compared.in_target,
                compared.missing,
                c.rules.clone(),
            ),
            None => {
                let n = t_devices.map_err(SourceError)?;
                (n, compared.target_total.min(n), Vec::new(), t_rules.clone())
            }
        };
        let certificate_sweep = Some(SetAge::pair(a_age.unwrap_or(t_age), t_age));
        Ok(ReadinessFacts {
            target: target.to_string(),
            target_health: HealthStatus::Unknown,
            devices,
            certificates_in_target: in_target,
            missing_certificates: missing,
            active_rules,
            target_rules: t_rules,
            domain_configuration_enabled: domain.map_err(SourceError)?,
            dns_points_to: dns,
            target_endpoint: endpoint?,
            failover_in_progress: None,
            active_side: side,
            switch_path,
            certificate_sweep,
        })
    }

    /// The switch path (what the configured switch depends on, asked now) and the devices'
    /// record when the switch uses it. The record read is the cheap control-plane read that
    /// tells whether Route 53's control plane answers; with routing controls it is not made.
    async fn switch_path_and_record(
        &self,
        active: &str,
        target: &str,
    ) -> (Option<SwitchPath>, Option<String>) {
        let Some(dns) = &self.inner.dns else {
            return (None, None);
        };
        let method = dns.method();
        let path = |probes, problems| SwitchPath {
            method,
            leaving: active.to_string(),
            probes,
            problems,
            control_plane_region: None,
        };
        if method == SwitchMethod::RoutingControl {
            let (probes, problems) = match &self.inner.arc {
                Some(c) => c.probe(target).await,
                None => (
                    Vec::new(),
                    vec!["no [aws.arc] cluster is configured".into()],
                ),
            };
            return (Some(path(probes, problems)), None);
        }
        let t0 = Instant::now();
        let (probe, record) = match dns.current_target().await {
            Ok(record) => (
                Probe {
                    name: "Route 53 control plane".into(),
                    answered: true,
                    detail: format!("ListResourceRecordSets in {} ms", t0.elapsed().as_millis()),
                },
                record,
            ),
            Err(why) => (
                Probe {
                    name: "Route 53 control plane".into(),
                    answered: false,
                    detail: why,
                },
                None,
            ),
        };
        let mut problems = Vec::new();
        if method == SwitchMethod::HealthCheck {
            for r in &self.inner.regions {
                if r.settings.health_check_id.is_none() {
                    problems.push(format!(
                        "{} has no health_check_id in the configuration",
                        r.code
                    ));
                }
            }
        }
        (Some(path(vec![probe], problems)), record)
    }

    /// Points the devices' DNS record at `target`'s data endpoint (Route 53 UPSERT); returns
    /// the change id. Asks nothing of any region but the target (for its endpoint, once).
    pub async fn point_devices_at(&self, target: &str) -> Result<String, SourceError> {
        let dns = self.dns()?;
        let endpoint = self.data_endpoint(target).await?;
        let id = dns.upsert(&endpoint).await.map_err(SourceError)?;
        self.set_active(target);
        Ok(id)
    }

    /// The configured switch: the record UPSERT, inverting every other region's health check
    /// and restoring the target's, or the routing controls (the target On, the others Off).
    pub async fn switch_traffic(&self, target: &str) -> Result<String, SwitchError> {
        let dns = self.dns().map_err(|e| SwitchError::Refused(e.0))?;
        self.region(target).map_err(|e| SwitchError::Refused(e.0))?;
        match dns.method() {
            SwitchMethod::Record => {
                let id = self
                    .point_devices_at(target)
                    .await
                    .map_err(|e| SwitchError::Unanswered(e.0))?;
                Ok(format!(
                    "Route 53 change {id}: {} → {}",
                    dns.record_name(),
                    self.data_endpoint(target)
                        .await
                        .map_err(|e| SwitchError::Unanswered(e.0))?
                ))
            }
            SwitchMethod::HealthCheck => {
                let mut done = Vec::new();
                for r in &self.inner.regions {
                    let Some(id) = &r.settings.health_check_id else {
                        continue;
                    };
                    let invert = r.code != target;
                    dns.set_inverted(id, invert)
                        .await
                        .map_err(SwitchError::Unanswered)?;
                    done.push(format!(
                        "{} health check {}",
                        r.code,
                        if invert { "inverted" } else { "restored" }
                    ));
                }
                self.set_active(target);
                Ok(done.join(", "))
            }
            SwitchMethod::RoutingControl => {
                let cluster = self.cluster().map_err(|e| SwitchError::Refused(e.0))?;
                let done = cluster
                    .switch_to_from(target, None)
                    .await
                    .map_err(|e| match e {
                        ArcError::Refused { message, .. } => SwitchError::Refused(message),
                        e @ ArcError::Unanswered(_) => SwitchError::Unanswered(e.to_string()),
                    })?;
                self.set_active(target);
                Ok(done)
            }
        }
    }

    /// Where the configured switch sends the devices now, read from it: the record's value,
    /// the one region whose health check is not inverted, or the one routing control On.
    pub async fn pointed_at(&self) -> Result<Pointed, SourceError> {
        let dns = self.dns()?;
        let pointed = match dns.method() {
            SwitchMethod::Record => {
                let value = dns.current_target().await.map_err(SourceError)?;
                let region = match &value {
                    Some(v) => self.region_of_endpoint(v),
                    None => None,
                };
                Pointed {
                    region,
                    detail: match value {
                        Some(v) => format!("{} points to {v}", dns.record_name()),
                        None => format!("{} was not found", dns.record_name()),
                    },
                }
            }
            SwitchMethod::HealthCheck => {
                let mut restored = Vec::new();
                let mut words = Vec::new();
                for r in &self.inner.regions {
                    let Some(id) = &r.settings.health_check_id else {
                        continue;
                    };
                    let inverted = dns.is_inverted(id).await.map_err(SourceError)?;
                    if !inverted {
                        restored.push(r.code.clone());
                    }
                    words.push(format!(
                        "{} {}",
                        r.code,
                        if inverted { "inverted" } else { "not inverted" }
                    ));
                }
                Pointed {
                    region: (restored.len() == 1).then(|| restored[0].clone()),
                    detail: format!("health checks: {}", words.join(", ")),
                }
            }
            SwitchMethod::RoutingControl => {
                let states = self
                    .cluster()?
                    .states()
                    .await
                    .map_err(|e| SourceError(e.to_string()))?;
                let on: Vec<&String> = states
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(r, _)| r)
                    .collect();
                Pointed {
                    region: (on.len() == 1).then(|| on[0].clone()),
                    detail: format!(
                        "routing controls: {}",
                        states
                            .iter()
                            .map(|(r, on)| format!("{r} {}", if *on { "On" } else { "Off" }))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
        };
        if let Some(r) = &pointed.region {
            self.set_active(r);
        }
        Ok(pointed)
    }

    /// The configured region whose data endpoint is `endpoint`, among those known without a
    /// call (configured, or read earlier).
    fn region_of_endpoint(&self, endpoint: &str) -> Option<String> {
        self.inner
            .regions
            .iter()
            .find(|r| r.known_endpoint().as_deref() == Some(endpoint))
            .map(|r| r.code.clone())
    }

    /// The alternative switch: inverts (or restores) `region`'s Route 53 health check so that
    /// failover routing moves devices away from it.
    pub async fn invert_health_check(
        &self,
        region: &str,
        inverted: bool,
    ) -> Result<(), SourceError> {
        let dns = self.dns()?;
        let r = self.region(region)?;
        let id = r.settings.health_check_id.as_deref().ok_or_else(|| {
            SourceError(format!(
                "{region} has no health_check_id in the configuration"
            ))
        })?;
        dns.set_inverted(id, inverted).await.map_err(SourceError)
    }

    /// Where the devices' DNS record points now.
    pub async fn dns_target(&self) -> Result<Option<String>, SourceError> {
        self.dns()?.current_target().await.map_err(SourceError)
    }

    fn dns(&self) -> Result<&route53::Dns, SourceError> {
        self.inner
            .dns
            .as_ref()
            .ok_or_else(|| SourceError("no [aws.route53] section in the configuration".to_string()))
    }

    /// The ARC cluster of the routing controls.
    pub fn cluster(&self) -> Result<&super::arc::Cluster, SourceError> {
        self.inner
            .arc
            .as_ref()
            .ok_or_else(|| SourceError("no [aws.arc] cluster in the configuration".to_string()))
    }
}

impl TrafficSwitch for AwsSource {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>> {
        Box::pin(AwsSource::readiness_facts(self, active, target))
    }

    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SwitchError>> {
        Box::pin(self.switch_traffic(target))
    }

    fn pointed_at(&self) -> BoxFuture<'_, Result<Pointed, SourceError>> {
        Box::pin(AwsSource::pointed_at(self))
    }
}
