//! The `[aws]` section: which regions to watch and how to reach them, where the edge backlog
//! metrics are, and the devices' DNS record. Checked here, before any client is built, so a
//! mistake is named with its file, line and field instead of surfacing as a failed call.
//! (Past 500 lines: the section and its subsections — regions, edge, route53, arc, budget —
//! are resolved in one pass that shares their error places; a room per subsection is the
//! split to make when the next one is added.)
//!
//! Rules kept here:
//! - 1..=32 regions, each a valid code listed once, exactly one of them active.
//! - Credentials: at most one of profile / assume_role_arn (a role ARN), or the lab's keys, and
//!   those only with an `endpoint_url`.
//! - The edge's figures are stale after 60..=86400 s; the record's TTL is 1..=86400 s; the
//!   defaults are [`EdgeMetrics::default`] and [`DEFAULT_TTL_SECS`].
//! - Background readers use 0.05..=1.0 of each API's quota (`[aws.budget] share`, default
//!   0.5); a full certificate listing starts every 10..=10080 minutes (default 360).

use super::error::{between, in_file, Origin, Place, SettingsError};
use super::MAX_REGIONS;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::{regions::is_valid_code, RegionRole};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    pub regions: Vec<Spanned<AwsRegionSection>>,
    /// Thing groups of interest; empty means every thing in the fleet index.
    pub thing_groups: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub connectivity_counts: CountMethod,
    pub edge: Option<Spanned<EdgeSection>>,
    pub route53: Option<Spanned<Route53Section>>,
    pub arc: Option<Spanned<ArcSection>>,
    pub budget: Option<Spanned<BudgetSection>>,
}

/// `[aws.budget]`: how much of each API's request-rate quota the background readers use.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSection {
    /// The share of each quota (0.05..=1.0).
    pub share: Option<f64>,
    /// Minutes from the start of one full certificate listing to the start of the next.
    pub full_sweep_every_mins: Option<u64>,
}

/// The background readers' budget, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSettings {
    /// The share of each quota, in basis points (5000 = 0.5).
    pub share_bp: u32,
    /// From the start of one full certificate listing to the start of the next.
    pub full_sweep_every: Duration,
}

impl BudgetSettings {
    /// The share of each quota, 0.05..=1.0.
    pub fn share(&self) -> f64 {
        f64::from(self.share_bp) / 10_000.0
    }
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            share_bp: 5_000,
            full_sweep_every: Duration::from_secs(DEFAULT_FULL_SWEEP_MINS * 60),
        }
    }
}

/// The share of each quota background readers use when the file gives none.
pub const DEFAULT_BUDGET_SHARE: f64 = 0.5;

/// Minutes between full certificate listings when the file gives none: 6 h.
pub const DEFAULT_FULL_SWEEP_MINS: u64 = 360;

/// How online/offline counts are taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountMethod {
    /// One fleet-index aggregation call a poll, whatever the fleet's size (AWS).
    #[default]
    Aggregation,
    /// Reading the search through: for endpoints without aggregation (the lab), small fleets.
    Search,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsRegionSection {
    pub code: String,
    pub role: RegionRole,
    /// The IoT domain configuration (configurable endpoint) that serves the devices' domain.
    pub domain_configuration: Option<String>,
    /// The device data endpoint host; default: `DescribeEndpoint` (`iot:Data-ATS`).
    pub data_endpoint: Option<String>,
    /// Where the reachability probe connects; default: the data endpoint on port 443.
    pub probe_address: Option<String>,
    /// The Route 53 health check of this region (for the health-check inversion switch).
    pub health_check_id: Option<String>,
    /// The ARC routing control whose On state sends the devices here (`routing_control`).
    pub routing_control_arn: Option<String>,
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub lab_credentials: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSection {
    pub namespace: Option<String>,
    pub dimension: Option<String>,
    pub backlog_messages: Option<String>,
    pub backlog_bytes: Option<String>,
    pub oldest_age_seconds: Option<String>,
    pub dropped: Option<String>,
    pub capacity_metric: Option<String>,
    pub capacity_messages: Option<u64>,
    pub stale_after_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route53Section {
    #[serde(default)]
    pub switch: SwitchMethod,
    pub hosted_zone_id: String,
    pub record_name: String,
    pub ttl_secs: Option<i64>,
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub lab_credentials: bool,
}

/// How a failover moves the devices (core's, read from `[aws.route53] switch`).
pub use switchyard_core::switch::SwitchMethod;

/// Where an SDK client's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// aws-config's default chain (environment, shared files, SSO, instance role…).
    DefaultChain,
    /// A named profile of the shared config files, SSO profiles included.
    Profile(String),
    /// A role assumed with the credentials of `profile` (or the default chain).
    AssumeRole {
        role_arn: String,
        profile: Option<String>,
    },
    /// The local lab's fixed keys; only with an endpoint override.
    Lab,
}

/// How to reach one AWS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSettings {
    pub credentials: CredentialSource,
    /// Overrides the SDK's endpoint (the lab).
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRegion {
    pub code: String,
    pub role: RegionRole,
    pub domain_configuration: Option<String>,
    pub data_endpoint: Option<String>,
    pub probe_address: Option<String>,
    pub health_check_id: Option<String>,
    pub routing_control_arn: Option<String>,
    pub endpoint: EndpointSettings,
}

impl AwsRegion {
    /// The data-plane URL: the lab's endpoint, else the configured data endpoint.
    pub fn data_plane_url(&self) -> Option<String> {
        self.endpoint
            .endpoint_url
            .clone()
            .or_else(|| self.data_endpoint.as_ref().map(|h| format!("https://{h}")))
    }
}

/// The edge gateways' custom CloudWatch metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeMetrics {
    pub namespace: String,
    /// The dimension whose value is the gateway's id.
    pub dimension: String,
    pub backlog_messages: String,
    pub backlog_bytes: String,
    pub oldest_age_seconds: String,
    /// Messages dropped since the gateway started (a running total).
    pub dropped: String,
    /// A metric with each gateway's buffer capacity in messages, if gateways publish one.
    pub capacity_metric: Option<String>,
    /// The capacity assumed for gateways that do not publish it.
    pub capacity_messages: u64,
    /// A gateway whose newest figures are older than this is shown disconnected.
    pub fresh_for: Duration,
}

impl Default for EdgeMetrics {
    fn default() -> Self {
        EdgeMetrics {
            namespace: "Switchyard/Edge".into(),
            dimension: "GatewayId".into(),
            backlog_messages: "BacklogMessages".into(),
            backlog_bytes: "BacklogBytes".into(),
            oldest_age_seconds: "OldestMessageAgeSeconds".into(),
            dropped: "DroppedMessages".into(),
            capacity_metric: None,
            capacity_messages: 100_000,
            fresh_for: Duration::from_secs(180),
        }
    }
}

/// `[aws.arc]`: the ARC cluster whose routing controls move the devices
/// (`switch = "routing_control"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcSection {
    /// The cluster's regional endpoints, as `DescribeCluster` lists them.
    #[serde(default)]
    pub endpoints: Vec<ArcEndpointSection>,
    /// The cluster, to discover its endpoints once (`DescribeCluster`) when none are written.
    pub cluster_arn: Option<String>,
    /// Each endpoint's own timeout, in ms (default 1000).
    pub endpoint_timeout_ms: Option<u64>,
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    /// The control-config API's endpoint (the lab; default AWS's, in us-west-2).
    pub control_config_url: Option<String>,
    #[serde(default)]
    pub lab_credentials: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcEndpointSection {
    pub region: String,
    pub url: String,
}

/// One ARC cluster endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ArcEndpoint {
    pub region: String,
    pub url: String,
}

/// The ARC cluster, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcSettings {
    /// Written in the file; empty when they are to be discovered from `cluster_arn`.
    pub endpoints: Vec<ArcEndpoint>,
    pub cluster_arn: Option<String>,
    pub endpoint_timeout: Duration,
    /// Credentials for both APIs; `endpoint_url` is the control-config API's (the lab).
    pub endpoint: EndpointSettings,
}

/// An ARC endpoint's own timeout when the file gives none.
pub const DEFAULT_ARC_ENDPOINT_TIMEOUT_MS: u64 = 1_000;

fn is_routing_control_arn(s: &str) -> bool {
    s.starts_with("arn:aws")
        && s.contains(":route53-recovery-control::")
        && s.contains("/routingcontrol/")
}

fn is_cluster_arn(s: &str) -> bool {
    s.starts_with("arn:aws") && s.contains(":route53-recovery-control::") && s.contains(":cluster/")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route53Settings {
    pub switch: SwitchMethod,
    pub hosted_zone_id: String,
    /// The devices' custom domain, such as `devices.example.com`.
    pub record_name: String,
    pub ttl_secs: i64,
    pub endpoint: EndpointSettings,
}

/// The AWS fleet to watch, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub regions: Vec<AwsRegion>,
    pub thing_groups: Vec<String>,
    pub counts: CountMethod,
    pub edge: EdgeMetrics,
    pub route53: Option<Route53Settings>,
    pub arc: Option<ArcSettings>,
    pub budget: BudgetSettings,
}

impl AwsSettings {
    /// How a failover moves the devices, when it can.
    pub fn switch_method(&self) -> Option<SwitchMethod> {
        self.route53.as_ref().map(|r| r.switch)
    }
}

/// The devices' record's TTL when the file gives none.
pub const DEFAULT_TTL_SECS: i64 = 60;

/// One endpoint's credentials and URL, checked (also an SNS topic's, in `alerts.rs`).
pub(super) fn endpoint(
    profile: Option<String>,
    role: Option<String>,
    url: Option<String>,
    lab: bool,
    at: &dyn Fn(&str) -> Place,
) -> Result<EndpointSettings, SettingsError> {
    if let Some(u) = &url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(
                at("endpoint_url").invalid(format!("'{u}' is not an http:// or https:// URL"))
            );
        }
    }
    let credentials = match (profile, role, lab) {
        (Some(_), _, true) | (_, Some(_), true) => {
            return Err(at("lab_credentials").invalid(
                "the lab's fixed keys cannot be combined with profile or assume_role_arn",
            ))
        }
        (None, None, true) if url.is_none() => {
            return Err(at("lab_credentials")
                .invalid("only with endpoint_url (AWS would refuse the lab's keys)"))
        }
        (None, None, true) => CredentialSource::Lab,
        (profile, Some(role_arn), false) => {
            let ok = role_arn.starts_with("arn:aws") && role_arn.contains(":role/");
            if !ok {
                return Err(at("assume_role_arn").invalid(format!(
                    "'{role_arn}' is not an IAM role ARN such as arn:aws:iam::123456789012:role/SwitchyardReadOnly"
                )));
            }
            CredentialSource::AssumeRole { role_arn, profile }
        }
        (Some(p), None, false) if p.trim().is_empty() => {
            return Err(at("profile").invalid("must not be empty"))
        }
        (Some(p), None, false) => CredentialSource::Profile(p),
        (None, None, false) => CredentialSource::DefaultChain,
    };
    Ok(EndpointSettings {
        credentials,
        endpoint_url: url,
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

impl AwsSection {
    /// The AWS fleet, checked; `origin` names the file's lines in errors.
    pub fn resolve(self, origin: Option<&Origin>) -> Result<AwsSettings, SettingsError> {
        let loc = |span: std::ops::Range<usize>, field: &str| in_file(origin, span, field);
        let mut regions: Vec<AwsRegion> = Vec::new();
        if self.regions.is_empty() || self.regions.len() > MAX_REGIONS {
            return Err(loc(0..0, "aws.regions")
                .invalid(format!("list between 1 and {MAX_REGIONS} [[aws.regions]]")));
        }
        let mut region_spans = Vec::new();
        for entry in self.regions {
            let span = entry.span();
            region_spans.push(span.clone());
            let r = entry.into_inner();
            let at = |f: &str| loc(span.clone(), &format!("aws.regions.{f}"));
            if !is_valid_code(&r.code) {
                return Err(at("code").invalid(format!(
                    "'{}' is not an AWS region code such as us-east-1",
                    r.code
                )));
            }
            if regions.iter().any(|x| x.code == r.code) {
                return Err(at("code").invalid(format!("{} is listed twice", r.code)));
            }
            if let Some(d) = &r.domain_configuration {
                if !is_name(d) {
                    return Err(at("domain_configuration").invalid(format!(
                        "'{d}' is not a domain configuration name (letters, digits, : _ -)"
                    )));
                }
            }
            if let Some(h) = &r.data_endpoint {
                if !is_host(h) {
                    return Err(at("data_endpoint").invalid(format!("'{h}' is not a host name")));
                }
            }
            if let Some(p) = &r.probe_address {
                let ok = p.rsplit_once(':').is_some_and(|(h, port)| {
                    is_host(h) && port.parse::<u16>().is_ok_and(|p| p > 0)
                });
                if !ok {
                    return Err(at("probe_address").invalid(format!("'{p}' is not HOST:PORT")));
                }
            }
            let endpoint = endpoint(
                r.profile,
                r.assume_role_arn,
                r.endpoint_url,
                r.lab_credentials,
                &at,
            )?;
            regions.push(AwsRegion {
                code: r.code,
                role: r.role,
                domain_configuration: r.domain_configuration,
                data_endpoint: r.data_endpoint,
                probe_address: r.probe_address,
                health_check_id: r.health_check_id,
                routing_control_arn: r.routing_control_arn,
                endpoint,
            });
            if let Some(arn) = &regions.last().and_then(|r| r.routing_control_arn.clone()) {
                if !is_routing_control_arn(arn) {
                    return Err(at("routing_control_arn").invalid(format!(
                        "'{arn}' is not a routing control ARN such as \
                         arn:aws:route53-recovery-control::123456789012:controlpanel/abc/routingcontrol/def"
                    )));
                }
            }
        }
        let active = regions
            .iter()
            .filter(|r| r.role == RegionRole::Active)
            .count();
        if active != 1 {
            return Err(loc(0..0, "aws.regions.role").invalid(format!(
                "exactly one region must have role = \"active\", not {active}"
            )));
        }
        let (groups_span, thing_groups) = self
            .thing_groups
            .map_or((0..0, Vec::new()), |g| (g.span(), g.into_inner()));
        if let Some(g) = thing_groups.iter().find(|g| !is_name(g)) {
            return Err(loc(groups_span, "aws.thing_groups").invalid(format!(
                "'{g}' is not a thing group name (letters, digits, : _ -)"
            )));
        }
        let (edge_span, e) = self.edge.map_or((0..0, EdgeSection::default()), |e| {
            (e.span(), e.into_inner())
        });
        let d = EdgeMetrics::default();
        let stale = between(
            || loc(edge_span.clone(), "aws.edge.stale_after_secs"),
            e.stale_after_secs.unwrap_or(d.fresh_for.as_secs()),
            60,
            86_400,
            "seconds",
        )?;
        let capacity = e.capacity_messages.unwrap_or(d.capacity_messages);
        if capacity == 0 {
            return Err(loc(edge_span, "aws.edge.capacity_messages").bound("must be at least 1"));
        }
        let edge = EdgeMetrics {
            namespace: e.namespace.unwrap_or(d.namespace),
            dimension: e.dimension.unwrap_or(d.dimension),
            backlog_messages: e.backlog_messages.unwrap_or(d.backlog_messages),
            backlog_bytes: e.backlog_bytes.unwrap_or(d.backlog_bytes),
            oldest_age_seconds: e.oldest_age_seconds.unwrap_or(d.oldest_age_seconds),
            dropped: e.dropped.unwrap_or(d.dropped),
            capacity_metric: e.capacity_metric,
            capacity_messages: capacity,
            fresh_for: Duration::from_secs(stale),
        };
        let route53_span = self.route53.as_ref().map_or(0..0, |s| s.span());
        let route53 = match self.route53 {
            None => None,
            Some(s) => {
                let span = s.span();
                let r = s.into_inner();
                let at = |f: &str| loc(span.clone(), &format!("aws.route53.{f}"));
                if r.hosted_zone_id.trim().is_empty() {
                    return Err(at("hosted_zone_id").invalid("must not be empty"));
                }
                if !is_host(r.record_name.trim_end_matches('.')) {
                    return Err(at("record_name")
                        .invalid(format!("'{}' is not a domain name", r.record_name)));
                }
                let ttl = between(
                    || at("ttl_secs"),
                    r.ttl_secs.unwrap_or(DEFAULT_TTL_SECS),
                    1,
                    86_400,
                    "seconds",
                )?;
                Some(Route53Settings {
                    switch: r.switch,
                    hosted_zone_id: r.hosted_zone_id,
                    record_name: r.record_name,
                    ttl_secs: ttl,
                    endpoint: endpoint(
                        r.profile,
                        r.assume_role_arn,
                        r.endpoint_url,
                        r.lab_credentials,
                        &at,
                    )?,
                })
            }
        };
        let arc = match self.arc {
            None => None,
            Some(s) => {
                let span = s.span();
                let a = s.into_inner();
                let at = |f: &str| loc(span.clone(), &format!("aws.arc.{f}"));
                let mut endpoints: Vec<ArcEndpoint> = Vec::new();
                for e in a.endpoints {
                    if !is_valid_code(&e.region) {
                        return Err(at("endpoints.region").invalid(format!(
                            "'{}' is not an AWS region code such as us-west-2",
                            e.region
                        )));
                    }
                    if !(e.url.starts_with("https://") || e.url.starts_with("http://")) {
                        return Err(at("endpoints.url").invalid(format!(
                            "'{}' is not an https:// URL (as DescribeCluster lists them)",
                            e.url
                        )));
                    }
                    if endpoints.iter().any(|x| x.url == e.url) {
                        return Err(
                            at("endpoints.url").invalid(format!("{} is listed twice", e.url))
                        );
                    }
                    endpoints.push(ArcEndpoint {
                        region: e.region,
                        url: e.url,
                    });
                }
                if let Some(c) = &a.cluster_arn {
                    if !is_cluster_arn(c) {
                        return Err(at("cluster_arn").invalid(format!(
                            "'{c}' is not a cluster ARN such as \
                             arn:aws:route53-recovery-control::123456789012:cluster/abc"
                        )));
                    }
                }
                if endpoints.is_empty() && a.cluster_arn.is_none() {
                    return Err(at("endpoints").invalid(
                        "list the cluster's endpoints, or give cluster_arn to discover them once",
                    ));
                }
                let timeout = between(
                    || at("endpoint_timeout_ms"),
                    a.endpoint_timeout_ms
                        .unwrap_or(DEFAULT_ARC_ENDPOINT_TIMEOUT_MS),
                    100,
                    10_000,
                    "ms",
                )?;
                Some(ArcSettings {
                    endpoints,
                    cluster_arn: a.cluster_arn,
                    endpoint_timeout: Duration::from_millis(timeout),
                    endpoint: endpoint(
                        a.profile,
                        a.assume_role_arn,
                        a.control_config_url,
                        a.lab_credentials,
                        &|f| {
                            at(if f == "endpoint_url" {
                                "control_config_url"
                            } else {
                                f
                            })
                        },
                    )?,
                })
            }
        };
        if route53.as_ref().map(|r| r.switch) == Some(SwitchMethod::RoutingControl) {
            if arc.is_none() {
                return Err(loc(route53_span.clone(), "aws.route53.switch").invalid(
                    "\"routing_control\" needs an [aws.arc] section (the cluster's endpoints)",
                ));
            }
            if let Some(i) = regions.iter().position(|r| r.routing_control_arn.is_none()) {
                let r = &regions[i];
                return Err(loc(region_spans[i].clone(), "aws.regions.routing_control_arn").invalid(format!(
                    "{} has no routing_control_arn: with switch = \"routing_control\" every region needs the control that sends the devices there",
                    r.code
                )));
            }
        }
        let (budget_span, b) = self.budget.map_or((0..0, BudgetSection::default()), |b| {
            (b.span(), b.into_inner())
        });
        let share = between(
            || loc(budget_span.clone(), "aws.budget.share"),
            b.share.unwrap_or(DEFAULT_BUDGET_SHARE),
            0.05,
            1.0,
            "of each quota",
        )?;
        let every = between(
            || loc(budget_span.clone(), "aws.budget.full_sweep_every_mins"),
            b.full_sweep_every_mins.unwrap_or(DEFAULT_FULL_SWEEP_MINS),
            10,
            10_080,
            "minutes",
        )?;
        Ok(AwsSettings {
            regions,
            thing_groups,
            counts: self.connectivity_counts,
            edge,
            route53,
            arc,
            budget: BudgetSettings {
                share_bp: (share * 10_000.0).round() as u32,
                full_sweep_every: Duration::from_secs(every * 60),
            },
        })
    }
}

#[cfg(test)]
mod tests;
