//! [`AwsSource`]: the fleet as the AWS APIs report it, behind the engine's [`FleetSource`]
//! port. It owns one set of clients per region (built by [`AwsSource::connect`]) and what it
//! remembers between polls; the switch ([`super::switch`]) and the device channel
//! ([`super::channel`]) are the other ports it implements.
//!
//! Rules kept here:
//! - building the clients makes no call: a region that is down at start shows as unreachable
//!   at its first poll instead of stopping the console;
//! - the number of calls one poll makes does not grow with the fleet: region figures come from
//!   fleet-index aggregation and CloudWatch, device lists are paged on demand only;
//! - a region where nothing answered is unreachable, not degraded; the adapters' own failed
//!   calls since the last poll are a problem of the region;
//! - a gateway stays listed when its region stops answering (its last figures are kept);
//! - background readers (the readiness certificate listings, device listings) take from one
//!   request-rate [`Budget`] per API and region; the poll's own calls never do.

use super::budget::{Api, Bucket, Budget};
use super::certs::Certificates;
use super::config::{sdk_config, Interceptors, Timeouts};
use super::{calls, cloudwatch, dataplane, iot, probe, route53};
use crate::clock::{now_ms, SystemClock};
use crate::ports::{BoxFuture, DeviceListing, EdgeObservation, FleetSource, SourceError};
use crate::settings::{AwsRegion, AwsSettings, CountMethod};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    BacklogTotals, EdgeGateway, RegionObservation, RegionRole, SourceKind,
};

/// One region's clients and what the adapters remember about it between polls.
pub(super) struct RegionClient {
    pub(super) calls: calls::CallLog,
    /// The call counts at the previous poll, to tell this poll's error rate.
    calls_at_last_poll: Mutex<calls::CallCounts>,
    pub(super) code: String,
    role: RegionRole,
    pub(super) settings: AwsRegion,
    pub(super) iot: iot::Iot,
    metrics: cloudwatch::Metrics,
    pub(super) data: dataplane::DataPlane,
    /// Whether connectivity indexing is on, and when that was last asked.
    indexing: Mutex<Option<(Instant, bool)>>,
    /// The device data endpoint, once known.
    endpoint: Mutex<Option<String>>,
}

impl RegionClient {
    /// The data endpoint when it is known without a call (configured, or read earlier).
    pub(super) fn known_endpoint(&self) -> Option<String> {
        self.endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How often to ask again whether connectivity indexing is on.
const INDEXING_RECHECK: Duration = Duration::from_secs(60);

/// The fleet as the AWS APIs report it.
#[derive(Clone)]
pub struct AwsSource {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) settings: AwsSettings,
    pub(super) regions: Vec<RegionClient>,
    pub(super) dns: Option<route53::Dns>,
    /// The ARC cluster, when the switch is routing controls.
    pub(super) arc: Option<super::arc::Cluster>,
    /// The region the devices' record points at, as far as this process knows.
    active: Mutex<String>,
    /// The last rules and device count read from each region while it was active, for a
    /// preflight when it no longer answers (its certificates are kept in `certs`).
    pub(super) active_copies: Mutex<HashMap<String, ActiveCopy>>,
    /// The request-rate budget of every background reader.
    pub(super) budget: Arc<Budget>,
    /// Each region's certificate set, kept in the store.
    pub(super) certs: Certificates,
    /// Edge gateways from the last gateway poll, by id (kept so a region that stops answering
    /// does not make its gateways vanish), and the backlog totals by region derived from them.
    edge: Mutex<EdgeMemory>,
}

#[derive(Debug, Clone)]
pub(super) struct ActiveCopy {
    pub(super) at: switchyard_core::UnixMs,
    pub(super) rules: Vec<switchyard_core::failover::TopicRule>,
    pub(super) devices: u64,
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
    /// The certificate sets are kept in memory only: see [`AwsSource::connect_stored`].
    pub async fn connect(settings: AwsSettings, poll_timeout: Duration) -> AwsSource {
        Self::connect_with(settings, poll_timeout, Vec::new()).await
    }

    /// [`AwsSource::connect`], with `extra` interceptors on every client.
    pub async fn connect_with(
        settings: AwsSettings,
        poll_timeout: Duration,
        extra: Interceptors,
    ) -> AwsSource {
        Self::connect_stored(settings, poll_timeout, extra, Store::in_memory()).await
    }

    /// [`AwsSource::connect_with`], keeping the certificate sets in the console's `store`, so
    /// that a restart does not list every certificate again.
    pub async fn connect_stored(
        settings: AwsSettings,
        poll_timeout: Duration,
        extra: Interceptors,
        store: Store,
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
        let arc = match &settings.arc {
            Some(a) if !a.endpoints.is_empty() => Some(
                super::arc::Cluster::new(
                    &a.endpoints,
                    &a.endpoint,
                    a.endpoint_timeout,
                    settings
                        .regions
                        .iter()
                        .filter_map(|r| Some((r.code.clone(), r.routing_control_arn.clone()?)))
                        .collect(),
                )
                .await,
            ),
            _ => None,
        };
        let active = settings
            .regions
            .iter()
            .find(|r| r.role == RegionRole::Active)
            .map_or_else(|| settings.regions[0].code.clone(), |r| r.code.clone());
        let budget = Arc::new(Budget::new(settings.budget.share()));
        let certs = Certificates::new(
            store,
            budget.clone(),
            Arc::new(SystemClock),
            settings.budget.full_sweep_every,
        );
        AwsSource {
            inner: Arc::new(Inner {
                active: Mutex::new(active),
                active_copies: Mutex::new(HashMap::new()),
                budget,
                certs,
                settings,
                regions,
                dns,
                arc,
                edge: Mutex::new(EdgeMemory::default()),
            }),
        }
    }

    /// The request-rate bucket of `api` in `region`, shared by every background reader:
    /// `budget(api, region).acquire().await` before each call, `.throttled()` on a
    /// throttling answer. The poll's own calls never take from it.
    pub fn budget(&self, api: Api, region: &str) -> Arc<Bucket> {
        self.inner.budget.bucket(api, region)
    }

    /// Each region's kept certificate set.
    pub fn certificates(&self) -> &Certificates {
        &self.inner.certs
    }

    /// The AWS API calls made to `region` since the start, by operation.
    pub fn calls(&self, region: &str) -> Result<calls::CallCounts, SourceError> {
        Ok(self.region(region)?.calls.counts())
    }

    pub(super) fn region(&self, code: &str) -> Result<&RegionClient, SourceError> {
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
    pub(super) fn fleet_query(&self) -> String {
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
            let pace = self.budget(Api::SearchIndex, &r.code);
            let page = r
                .iot
                .search(&q, query.offset, limit, &r.code, Some(&pace))
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

    fn api_calls(&self) -> Vec<crate::ports::ApiCalls> {
        self.inner
            .regions
            .iter()
            .flat_map(|r| r.calls.counts().by_operation(&r.code))
            .collect()
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
