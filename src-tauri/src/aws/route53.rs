//! Amazon Route 53 (aws-sdk-route53): the devices' DNS record (the custom domain of the IoT
//! configurable endpoint), and the health checks whose inversion is the alternative switch.

use super::describe;
use crate::settings::Route53Settings;
use aws_config::SdkConfig;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;

pub struct Dns {
    client: Client,
    settings: Route53Settings,
}

/// Route 53 writes names fully qualified.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

impl Dns {
    pub fn new(conf: &SdkConfig, settings: Route53Settings) -> Dns {
        Dns {
            client: Client::new(conf),
            settings,
        }
    }

    pub fn method(&self) -> crate::settings::SwitchMethod {
        self.settings.switch
    }

    pub fn record_name(&self) -> &str {
        &self.settings.record_name
    }

    /// The value of the devices' CNAME record, `None` when there is no such record.
    pub async fn current_target(&self) -> Result<Option<String>, String> {
        let name = fqdn(&self.settings.record_name);
        let out = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(&self.settings.hosted_zone_id)
            .start_record_name(&name)
            .start_record_type(RrType::Cname)
            .max_items(1)
            .send()
            .await
            .map_err(|e| describe("ListResourceRecordSets", &e))?;
        Ok(out
            .resource_record_sets()
            .iter()
            .find(|r| r.name() == name && r.r#type() == &RrType::Cname)
            .and_then(|r| r.resource_records().first())
            .map(|r| r.value().trim_end_matches('.').to_string()))
    }

    /// Points the devices' record at `endpoint` (UPSERT); returns Route 53's change id.
    pub async fn upsert(&self, endpoint: &str) -> Result<String, String> {
        let build = |e: aws_smithy_types::error::operation::BuildError| e.to_string();
        let record = ResourceRecordSet::builder()
            .name(fqdn(&self.settings.record_name))
            .r#type(RrType::Cname)
            .ttl(self.settings.ttl_secs)
            .resource_records(
                ResourceRecord::builder()
                    .value(endpoint)
                    .build()
                    .map_err(build)?,
            )
            .build()
            .map_err(build)?;
        let batch = ChangeBatch::builder()
            .comment(format!("Switchyard: devices to {endpoint}"))
            .changes(
                Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(record)
                    .build()
                    .map_err(build)?,
            )
            .build()
            .map_err(build)?;
        let out = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(&self.settings.hosted_zone_id)
            .change_batch(batch)
            .send()
            .await
            .map_err(|e| describe("ChangeResourceRecordSets", &e))?;
        Ok(out
            .change_info()
            .map(|c| c.id().to_string())
            .unwrap_or_default())
    }

    /// Inverts (or restores) a health check.
    pub async fn set_inverted(&self, health_check_id: &str, inverted: bool) -> Result<(), String> {
        self.client
            .update_health_check()
            .health_check_id(health_check_id)
            .inverted(inverted)
            .send()
            .await
            .map_err(|e| describe("UpdateHealthCheck", &e))?;
        Ok(())
    }

    /// Whether a health check is inverted now.
    pub async fn is_inverted(&self, health_check_id: &str) -> Result<bool, String> {
        let out = self
            .client
            .get_health_check()
            .health_check_id(health_check_id)
            .send()
            .await
            .map_err(|e| describe("GetHealthCheck", &e))?;
        Ok(out
            .health_check()
            .and_then(|h| h.health_check_config())
            .and_then(|c| c.inverted())
            == Some(true))
    }
}
