//! The AWS side of the engine's [`TrafficSwitch`] port: the facts a failover preflight needs
//! (certificates, topic rules, the domain configuration, the devices' DNS record) and the
//! switch itself (the Route 53 record UPSERT, or inverting health checks).
//!
//! Rules kept here:
//! - nothing here needs the region being left: when the active region does not answer, the
//!   preflight compares with the copy read while it answered, or says there is none;
//! - switching twice is switching once (an UPSERT, and inversions set rather than toggled).

use super::route53;
use super::source::{ActiveCopy, AwsSource};
use crate::clock::now_ms;
use crate::ports::{BoxFuture, SourceError, TrafficSwitch};
use switchyard_core::{
    failover::{ActiveSide, ReadinessFacts},
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
        let active_side = async {
            let (certs, rules, devices) = tokio::join!(
                a.iot.certificate_ids(),
                a.iot.topic_rules(),
                a.iot.count_things(&fleet, counts),
            );
            Ok::<_, String>(ActiveCopy {
                at: now_ms(),
                certificates: certs?,
                rules: rules?,
                devices: devices?,
            })
        };
        let (live, t_certs, t_rules, domain, endpoint, t_devices, dns) = tokio::join!(
            active_side,
            t.iot.certificate_ids(),
            t.iot.topic_rules(),
            async {
                match &t.settings.domain_configuration {
                    Some(name) => t.iot.domain_configuration_enabled(name).await,
                    None => Ok(None),
                }
            },
            self.data_endpoint(target),
            t.iot.count_things(&fleet, counts),
            async {
                match &self.inner.dns {
                    Some(d) => d.current_target().await,
                    None => Ok(None),
                }
            },
        );
        let t_certs = t_certs.map_err(SourceError)?;
        let t_rules = t_rules.map_err(SourceError)?;
        // The active region may be the one that is down: then compare with the copy read
        // while it answered, or say that there is nothing to compare with.
        let (copy, side) = match live {
            Ok(copy) => {
                self.inner
                    .active_copies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(active.to_string(), copy.clone());
                (Some(copy), ActiveSide::Live)
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
                        (Some(c), ActiveSide::Copy { at })
                    }
                    None => (None, ActiveSide::Unknown),
                }
            }
        };
        let (devices, in_target, missing, active_rules) = match &copy {
            Some(c) => (
                c.devices,
                c.certificates
                    .iter()
                    .filter(|x| t_certs.contains(*x))
                    .count() as u64,
                c.certificates
                    .iter()
                    .filter(|x| !t_certs.contains(*x))
                    .take(20)
                    .cloned()
                    .collect(),
                c.rules.clone(),
            ),
            None => {
                let n = t_devices.map_err(SourceError)?;
                (
                    n,
                    (t_certs.len() as u64).min(n),
                    Vec::new(),
                    t_rules.clone(),
                )
            }
        };
        Ok(ReadinessFacts {
            target: target.to_string(),
            target_health: HealthStatus::Unknown,
            devices,
            certificates_in_target: in_target,
            missing_certificates: missing,
            active_rules,
            target_rules: t_rules,
            domain_configuration_enabled: domain.map_err(SourceError)?,
            dns_points_to: dns.map_err(SourceError)?,
            target_endpoint: endpoint?,
            failover_in_progress: None,
            active_side: side,
        })
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

    /// The configured switch: the record UPSERT, or inverting every other region's health
    /// check and restoring the target's.
    pub async fn switch_traffic(&self, target: &str) -> Result<String, SourceError> {
        let dns = self.dns()?;
        match dns.method() {
            crate::settings::SwitchMethod::Record => {
                let id = self.point_devices_at(target).await?;
                Ok(format!(
                    "Route 53 change {id}: {} → {}",
                    dns.record_name(),
                    self.data_endpoint(target).await?
                ))
            }
            crate::settings::SwitchMethod::HealthCheck => {
                let mut done = Vec::new();
                for r in &self.inner.regions {
                    let Some(id) = &r.settings.health_check_id else {
                        continue;
                    };
                    let invert = r.code != target;
                    dns.set_inverted(id, invert).await.map_err(SourceError)?;
                    done.push(format!(
                        "{} health check {}",
                        r.code,
                        if invert { "inverted" } else { "restored" }
                    ));
                }
                self.set_active(target);
                Ok(done.join(", "))
            }
        }
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
}

impl TrafficSwitch for AwsSource {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>> {
        Box::pin(AwsSource::readiness_facts(self, active, target))
    }

    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SourceError>> {
        Box::pin(self.switch_traffic(target))
    }

    fn reconnect<'a>(
        &'a self,
        _from: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, SourceError>> {
        // Commands to devices arrive with the command catalogue; until then devices follow
        // the record when their connection to the old region drops.
        Box::pin(async { Ok(None) })
    }
}
