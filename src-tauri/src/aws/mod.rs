//! The AWS adapters: the only module that names the AWS SDK. One file per service
//! ([`iot`], [`cloudwatch`], [`route53`], [`dataplane`]), the endpoint [`probe`], and
//! [`AwsSource`], which puts them behind the engine's [`FleetSource`] port.
//!
//! Rules kept here:
//! - every SDK client has connect, read, attempt and operation timeouts derived from the engine's
//!   poll timeout, and at most two attempts, so a hung region fails its poll in time and never
//!   holds up another region (each region has its own clients and is polled on its own task);
//! - the number of calls one poll makes does not grow with the fleet: region figures come from
//!   fleet-index aggregation and CloudWatch, device lists are paged on demand only;
//! - errors are turned into one line an operator can act on ([`describe`]).

pub mod calls;
pub mod cloudwatch;
pub mod dataplane;
pub mod iot;
pub mod lab;
pub mod probe;
pub mod route53;

use crate::clock::now_ms;
use crate::ports::{BoxFuture, DeviceListing, EdgeObservation, FleetSource, SourceError};
use crate::settings::{AwsRegion, AwsSettings, CountMethod, CredentialSource, EndpointSettings};
use aws_config::{timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_types::retry::RetryConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    failover::{ActiveSide, ReadinessFacts},
    BacklogTotals, EdgeGateway, HealthStatus, RegionObservation, RegionRole, SourceKind,
};

/// The timeouts every SDK client gets. The operation timeout is the engine's poll timeout, so
/// a call never outlives the poll that made it.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
}

impl Timeouts {
    pub fn for_poll(poll_timeout: Duration) -> Timeouts {
        let attempt = poll_timeout.mul_f64(0.45);
        Timeouts {
            connect: attempt.min(Duration::from_secs(1)),
            read: attempt,
            attempt,
            operation: poll_timeout,
            max_attempts: 2,
        }
    }
}

/// The lab's fixed credentials (moto accepts any).
pub const LAB_ACCESS_KEY: &str = "testing";

/// Builds the SDK configuration for one endpoint: region, credentials, timeouts, retries.
pub async fn sdk_config(region: &str, ep: &EndpointSettings, t: Timeouts) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .read_timeout(t.read)
        .operation_attempt_timeout(t.attempt)
        .operation_timeout(t.operation)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(t.max_attempts));
    if let Some(url) = &ep.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    match &ep.credentials {
        CredentialSource::DefaultChain => loader.load().await,
        CredentialSource::Profile(p) => loader.profile_name(p).load().await,
        CredentialSource::Lab => {
            loader
                .credentials_provider(Credentials::new(
                    LAB_ACCESS_KEY,
                    LAB_ACCESS_KEY,
                    None,
                    None,
                    "switchyard-lab",
                ))
                .load()
                .await
        }
        CredentialSource::AssumeRole { role_arn, profile } => {
            if let Some(p) = profile {
                loader = loader.profile_name(p);
            }
            let base = loader.load().await;
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("switchyard")
                .configure(&base)
                .build()
                .await;
            base.into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build()
        }
    }
}

/// One line that says what went wrong with an SDK call, with the cause chain flattened:
/// "GetMetricData: dispatch failure: io error: Connection refused".
pub fn describe<E, R>(
    op: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> String
where
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let what = match err {
        SdkError::TimeoutError(_) => "no answer in time".to_string(),
        SdkError::DispatchFailure(d) => {
            // The innermost cause says it all ("Connection refused (os error 111)"); the
            // layers above it only repeat that a connection failed.
            let mut innermost = None;
            let mut src = d.as_connector_error().map(|c| c as &dyn std::error::Error);
            while let Some(e) = src {
                innermost = Some(e.to_string());
                src = e.source();
            }
            format!(
                "could not reach the endpoint: {}",
                innermost.unwrap_or_else(|| "connection failed".into())
            )
        }
        SdkError::ServiceError(s) => {
            let e = s.err();
            match (e.code(), e.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => format!("service error: {e}"),
            }
        }
        SdkError::ResponseError(_) => "the answer could not be read".to_string(),
        other => other.to_string(),
    };
    format!("{op}: {what}")
}

/// True when an error means "the service does not know this operation" rather than a failure
/// of the region: the lab answers operations it lacks with HTTP 500 and HTML.
pub fn is_unsupported<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match err {
        SdkError::ServiceError(s) => s.err().code().is_none(),
        _ => false,
    }
}

/// Extra interceptors for every client (tests mix mocked answers into the lab this way).
pub type Interceptors = Vec<aws_smithy_runtime_api::client::interceptors::SharedInterceptor>;

/// One region's clients and what the adapters remember about it between polls.
struct RegionClient {
    calls: calls::CallLog,
    /// The call counts at the previous poll, to tell this poll's error rate.
    calls_at_last_poll: Mutex<calls::CallCounts>,
    code: String,
    role: RegionRole,
    settings: AwsRegion,
    iot: iot::Iot,
    metrics: cloudwatch::Metrics,
    data: dataplane::DataPlane,
    /// Whether connectivity indexing is on, and when that was last asked.
    indexing: Mutex<Option<(Instant, bool)>>,
    /// The device data endpoint, once known.
    endpoint: Mutex<Option<String>>,
}

/// How often to ask again whether connectivity indexing is on.
const INDEXING_RECHECK: Duration = Duration::from_secs(60);

/// The fleet as the AWS APIs report it.
#[derive(Clone)]
pub struct AwsSource {
    inner: Arc<Inner>,
}

struct Inner {
    settings: AwsSettings,
    regions: Vec<RegionClient>,
    dns: Option<route53::Dns>,
    /// The region the devices' record points at, as far as this process knows.
    active: Mutex<String>,
    /// The last certificates, rules and device count read from each region while it was
    /// active, for a preflight when it no longer answers.
    active_copies: Mutex<HashMap<String, ActiveCopy>>,
    /// Edge gateways from the last gateway poll, by id (kept so a region that stops answering
    /// does not make its gateways vanish), and the backlog totals by region derived from them.
    edge: Mutex<EdgeMemory>,
}

#[derive(Debug, Clone)]
struct ActiveCopy {
    at: switchyard_core::UnixMs,
    certificates: std::collections::BTreeSet<String>,
    rules: Vec<switchyard_core::failover::TopicRule>,
    devices: u64,
}

#[derive(Default)]
struct EdgeMemory {
    gateways: HashMap<String, EdgeGateway>,
    totals: HashMap<String, BacklogTotals>,
    /// Gateway ids by region, and when they were last listed.
    known: HashMap<String, (Instant, Vec<String>)>,
}

/// How often the gateway list is refreshed from `ListMetrics`.
const GATEWAY_RELIST: Duration = Duration::from_secs(300);

impl AwsSource {
    /// Builds the clients for every configured region. Makes no call: a region that is down at
    /// start shows as unreachable at its first poll instead of stopping the console.
    pub async fn connect(settings: AwsSettings, poll_timeout: Duration) -> AwsSource {
        Self::connect_with(settings, poll_timeout, Vec::new()).await
    }

    /// [`AwsSource::connect`], with `extra` interceptors on every client.
    pub async fn connect_with(
        settings: AwsSettings,
        poll_timeout: Duration,
        extra: Interceptors,
    ) -> AwsSource {
        let t = Timeouts::for_poll(poll_timeout);
        let mut regions = Vec::new();
        for r in &settings.regions {
            let conf = sdk_config(&r.code, &r.endpoint, t).await;
            let log = calls::CallLog::default();
            let mut all = extra.clone();
            all.push(
                aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(log.clone()),
            );
            regions.push(RegionClient {
                calls: log,
                calls_at_last_poll: Mutex::new(calls::CallCounts::default()),
                code: r.code.clone(),
                role: r.role,
                settings: r.clone(),
                iot: iot::Iot::new(&conf, &all),
                metrics: cloudwatch::Metrics::new(&conf, &all),
                data: dataplane::DataPlane::new(&conf, r.data_plane_url().as_deref(), &all),
                indexing: Mutex::new(None),
                endpoint: Mutex::new(r.data_endpoint.clone()),
            });
        }
        let dns = match &settings.route53 {
            Some(r) => {
                let conf = sdk_config("us-east-1", &r.endpoint, t).await;
                Some(route53::Dns::new(&conf, r.clone()))
            }
            None => None,
        };
        let active = settings
            .regions
            .iter()
            .find(|r| r.role == RegionRole::Active)
            .map_or_else(|| settings.regions[0].code.clone(), |r| r.code.clone());
        AwsSource {
            inner: Arc::new(Inner {
                active: Mutex::new(active),
                active_copies: Mutex::new(HashMap::new()),
                settings,
                regions,
                dns,
                edge: Mutex::new(EdgeMemory::default()),
            }),
        }
    }

    /// The AWS API calls made to `region` since the start, by operation.
    pub fn calls(&self, region: &str) -> Result<calls::CallCounts, SourceError> {
        Ok(self.region(region)?.calls.counts())
    }

    fn region(&self, code: &str) -> Result<&RegionClient, SourceError> {
        self.inner
            .regions
            .iter()
            .find(|r| r.code == code)
            .ok_or_else(|| SourceError(format!("{code} is not a configured region")))
    }

    fn active(&self) -> &RegionClient {
        let code = self
            .inner
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.inner
            .regions
            .iter()
            .find(|r| r.code == code)
            .unwrap_or(&self.inner.regions[0])
    }

    /// Tells the source which region is active (at start, from the engine's memory).
    pub fn set_active(&self, region: &str) {
        if self.inner.regions.iter().any(|r| r.code == region) {
            *self.inner.active.lock().unwrap_or_else(|p| p.into_inner()) = region.to_string();
        }
    }

    /// The fleet-index query for the configured thing groups (all things when none).
    fn fleet_query(&self) -> String {
        iot::fleet_query(&self.inner.settings.thing_groups)
    }

    /// Whether connectivity indexing is on in `r`, asked at most once a minute.
    async fn connectivity_indexing(&self, r: &RegionClient) -> Result<bool, String> {
        if let Some((at, on)) = *r.indexing.lock().unwrap_or_else(|p| p.into_inner()) {
            if at.elapsed() < INDEXING_RECHECK {
                return Ok(on);
            }
        }
        let on = r.iot.connectivity_indexing_on().await?;
        *r.indexing.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), on));
        Ok(on)
    }

    /// The host devices connect to in `r`: configured, or asked of `DescribeEndpoint` once.
    pub async fn data_endpoint(&self, region: &str) -> Result<String, SourceError> {
        let r = self.region(region)?;
        if let Some(e) = r.endpoint.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(e);
        }
        let e = r.iot.data_endpoint().await.map_err(SourceError)?;
        *r.endpoint.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
        Ok(e)
    }

    async fn observe_region(&self, r: &RegionClient) -> Result<RegionObservation, SourceError> {
        let started = Instant::now();
        let counts = async {
            match self.connectivity_indexing(r).await {
                Ok(false) => Err(format!(
                    "connectivity indexing is off in {0}, so online/offline counts are unknown: turn it on with \
                     `aws iot update-indexing-configuration --region {0} --thing-indexing-configuration \
                     thingIndexingMode=REGISTRY,thingConnectivityIndexingMode=STATUS`",
                    r.code
                )),
                Ok(true) | Err(_) => match self.inner.settings.counts {
                    CountMethod::Aggregation => r.iot.connectivity_counts(&self.fleet_query()).await,
                    CountMethod::Search => r.iot.count_by_search(&self.fleet_query()).await,
                },
            }
        };
        let metrics = r.metrics.iot_figures();
        let probe = async {
            let target = match &r.settings.probe_address {
                Some(a) => a.clone(),
                None => format!(
                    "{}:443",
                    self.data_endpoint(&r.code).await.map_err(|e| e.0)?
                ),
            };
            probe::reach(
                &target,
                Timeouts::for_poll(Duration::from_secs(2)).connect * 2,
            )
            .await
        };
        let (counts, metrics, probe) = tokio::join!(counts, metrics, probe);
        if let (Err(c), Err(_), Err(p)) = (&counts, &metrics, &probe) {
            // Nothing in the region answered: that is an unreachable region, not a degraded one.
            return Err(SourceError(format!("{c}; {p}")));
        }
        let mut problems = Vec::new();
        let (online, offline) = counts.unwrap_or_else(|e| {
            problems.push(e);
            (0, 0)
        });
        let figures = metrics.unwrap_or_else(|e| {
            problems.push(e);
            cloudwatch::IotFigures::default()
        });
        if let Err(e) = probe {
            problems.push(e);
        }
        // The adapters' own error rate against this region since the last poll (device and
        // gateway reads included).
        let counts = r.calls.counts();
        let delta = {
            let mut last = r
                .calls_at_last_poll
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let d = counts.since(&last);
            *last = counts;
            d
        };
        if delta.failed() > 0 {
            problems.push(format!(
                "{} of {} AWS API calls to {} failed since the last poll ({})",
                delta.failed(),
                delta.total(),
                r.code,
                delta
                    .failures
                    .iter()
                    .map(|(op, n)| format!("{op} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if figures.rule_messages_throttled > 0 {
            problems.push(format!(
                "{} rule messages throttled in the last minute",
                figures.rule_messages_throttled
            ));
        }
        let backlog = self
            .inner
            .edge
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .totals
            .get(&r.code)
            .copied()
            .unwrap_or_default();
        Ok(RegionObservation {
            region: r.code.clone(),
            observed_at: now_ms(),
            online,
            offline,
            connect_attempts: figures.connect_attempts,
            connect_errors: figures.connect_errors,
            publish_in: figures.publish_in,
            publish_errors: figures.publish_errors,
            backlog,
            latency_ms: started.elapsed().as_millis() as u64,
            problems,
        })
    }

    async fn observe_gateways(&self) -> Result<EdgeObservation, SourceError> {
        let edge = &self.inner.settings.edge;
        let per_region = futures_util::future::join_all(self.inner.regions.iter().map(|r| async {
            let known = {
                let mem = self.inner.edge.lock().unwrap_or_else(|p| p.into_inner());
                mem.known
                    .get(&r.code)
                    .filter(|(at, _)| at.elapsed() < GATEWAY_RELIST)
                    .map(|(_, ids)| ids.clone())
            };
            let ids = match known {
                Some(ids) => ids,
                None => {
                    let ids = r.metrics.gateway_ids(edge).await?;
                    self.inner
                        .edge
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .known
                        .insert(r.code.clone(), (Instant::now(), ids.clone()));
                    ids
                }
            };
            r.metrics.gateway_backlogs(edge, &ids).await
        }))
        .await;
        let now = now_ms();
        let mut mem = self.inner.edge.lock().unwrap_or_else(|p| p.into_inner());
        let mut errors = Vec::new();
        // The region whose metrics a gateway published most recently is the one it is connected
        // to; a gateway whose newest figures are too old is disconnected.
        let mut newest: HashMap<String, (u64, &str, cloudwatch::GatewayFigures)> = HashMap::new();
        for (r, res) in self.inner.regions.iter().zip(per_region) {
            match res {
                Ok(list) => {
                    for (id, f) in list {
                        if newest.get(&id).is_none_or(|(at, _, _)| f.at > *at) {
                            newest.insert(id, (f.at, r.code.as_str(), f));
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.len() == self.inner.regions.len() {
            return Err(SourceError(errors.join("; ")));
        }
        for (id, (at, region, f)) in newest {
            let connected = now.saturating_sub(at) <= edge.fresh_for.as_millis() as u64;
            mem.gateways.insert(
                id.clone(),
                EdgeGateway {
                    id,
                    connected_region: connected.then(|| region.to_string()),
                    backlog: f.backlog,
                    capacity_messages: f.capacity.unwrap_or(edge.capacity_messages),
                },
            );
        }
        let mut gateways: Vec<EdgeGateway> = mem.gateways.values().cloned().collect();
        gateways.sort_by(|a, b| a.id.cmp(&b.id));
        let mut totals: HashMap<String, BacklogTotals> = HashMap::new();
        for g in &gateways {
            if let Some(r) = &g.connected_region {
                totals.entry(r.clone()).or_default().add(&g.backlog);
            }
        }
        mem.totals = totals;
        Ok(EdgeObservation {
            observed_at: now,
            gateways,
        })
    }

    /// The region a device query reads: the one it names, else the active region.
    fn query_region(&self, q: &DeviceQuery) -> Result<&RegionClient, SourceError> {
        match &q.region {
            Some(r) => self.region(r),
            None => Ok(self.active()),
        }
    }

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

    /// Publishes to a device topic through `region`'s data plane.
    pub async fn publish(
        &self,
        region: &str,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), SourceError> {
        self.region(region)?
            .data
            .publish(topic, payload)
            .await
            .map_err(SourceError)
    }

    /// Writes a desired state to a device's shadow (classic when `shadow` is `None`); returns
    /// the shadow document the service answered with.
    pub async fn update_shadow(
        &self,
        region: &str,
        thing: &str,
        shadow: Option<&str>,
        document: Vec<u8>,
    ) -> Result<Vec<u8>, SourceError> {
        self.region(region)?
            .data
            .update_shadow(thing, shadow, document)
            .await
            .map_err(SourceError)
    }
}

impl crate::ports::DeviceChannel for AwsSource {
    fn publish<'a>(
        &'a self,
        region: &'a str,
        _thing: &'a str,
        topic: &'a str,
        payload: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move {
            let r = self
                .region(region)
                .map_err(|e| crate::ports::DeliveryError::Failed(e.0))?;
            r.data
                .publish(topic, payload.to_vec())
                .await
                .map_err(delivery)
        })
    }

    fn write_shadow<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        document: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move {
            let r = self
                .region(region)
                .map_err(|e| crate::ports::DeliveryError::Failed(e.0))?;
            r.data
                .update_shadow(thing, None, document.to_vec())
                .await
                .map(|_| ())
                .map_err(delivery)
        })
    }
}

/// Throttling answers are worth a retry; the rest are failures.
fn delivery(e: String) -> crate::ports::DeliveryError {
    if e.contains("Throttling") || e.contains("TooManyRequests") || e.contains("Rate exceeded") {
        crate::ports::DeliveryError::Throttled(e)
    } else {
        crate::ports::DeliveryError::Failed(e)
    }
}

impl crate::ports::TrafficSwitch for AwsSource {
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

impl FleetSource for AwsSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Aws
    }

    fn regions(&self) -> Vec<(String, RegionRole)> {
        self.inner
            .regions
            .iter()
            .map(|r| (r.code.clone(), r.role))
            .collect()
    }

    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>> {
        Box::pin(async move { self.observe_region(self.region(region)?).await })
    }

    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>> {
        Box::pin(self.observe_gateways())
    }

    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>> {
        Box::pin(async move {
            let r = self.query_region(query)?;
            let q = iot::device_query(query, &self.inner.settings.thing_groups);
            let limit = query.limit.unwrap_or(200) as u64;
            let page = r
                .iot
                .search(&q, query.offset, limit, &r.code)
                .await
                .map_err(SourceError)?;
            let total = match self.inner.settings.counts {
                CountMethod::Aggregation => r.iot.count(&q).await.map_err(SourceError)?,
                CountMethod::Search => page.seen,
            };
            Ok(DeviceListing {
                observed_at: now_ms(),
                total,
                items: page.items,
            })
        })
    }

    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>> {
        Box::pin(async move {
            if !iot::is_thing_name(id) {
                return Ok(None);
            }
            // Ask every region at once: the device is where it is connected, else where it
            // was seen last.
            let answers = futures_util::future::join_all(
                self.inner
                    .regions
                    .iter()
                    .map(|r| async { (r.code.as_str(), r.iot.device(id, &r.code).await) }),
            )
            .await;
            let mut best: Option<switchyard_core::Device> = None;
            let mut errors = Vec::new();
            for (_, a) in answers {
                match a {
                    Ok(Some(d)) => {
                        let better = match &best {
                            None => true,
                            Some(b) => {
                                (d.connectivity.is_online() && !b.connectivity.is_online())
                                    || (d.connectivity.is_online() == b.connectivity.is_online()
                                        && d.connectivity.since() > b.connectivity.since())
                            }
                        };
                        if better {
                            best = Some(d);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => errors.push(e),
                }
            }
            match best {
                Some(device) => Ok(Some(DeviceDetail {
                    device,
                    history: Vec::new(),
                })),
                None if errors.len() == self.inner.regions.len() => {
                    Err(SourceError(errors.join("; ")))
                }
                None => Ok(None),
            }
        })
    }
}

/// Turns an error chain into one line (for errors that are not SDK errors).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}
