//! Amazon Route 53 Application Recovery Controller (ARC): the routing controls that move the
//! devices through a *data plane* (aws-sdk-route53recoverycluster), and the one control-config
//! call (`DescribeCluster`, aws-sdk-route53recoverycontrolconfig) that finds a cluster's
//! endpoints, made once and kept in the store.
//!
//! Rules kept here:
//! - every data-plane call goes through [`Cluster::rotate`]: the cluster's endpoints in turn
//!   from a random one, each with its own short timeout and one attempt, until one answers;
//! - an answer that says no (a safety rule, a denied permission, a control that does not
//!   exist, a malformed request) ends the rotation with the service's own words: another
//!   endpoint would say the same;
//! - the switch is one `UpdateRoutingControlStates` call (the target On, every other region
//!   Off), all or nothing, and idempotent: a lost answer may be retried;
//! - nothing here calls the control-config API at failover time.

use super::config::{sdk_config, Timeouts};
use super::errors::{classify, describe, AwsErrorKind};
use crate::settings::{ArcEndpoint, ArcSettings, EndpointSettings};
use aws_sdk_route53recoverycluster as rc;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rc::types::{RoutingControlState, UpdateRoutingControlStateEntry};
use std::future::Future;
use std::time::{Duration, Instant};
use switchyard_core::switch::Probe;

/// Why a call to the cluster did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArcError {
    /// An endpoint answered no, in the service's words (not worth another endpoint).
    Refused { kind: AwsErrorKind, message: String },
    /// No endpoint answered: what each one did, in the order tried.
    Unanswered(Vec<String>),
}

impl std::fmt::Display for ArcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArcError::Refused { message, .. } => f.write_str(message),
            ArcError::Unanswered(tries) => {
                write!(f, "no ARC cluster endpoint answered ({})", tries.join("; "))
            }
        }
    }
}

/// One regional endpoint of the cluster and its client.
struct Endpoint {
    region: String,
    url: String,
    client: rc::Client,
}

impl Endpoint {
    fn name(&self) -> String {
        format!("{} {}", self.region, self.url)
    }
}

/// What an endpoint's answer means for the rotation.
enum Outcome<T> {
    Done(T),
    /// Say no and stop.
    Refused(AwsErrorKind, String),
    /// Try the next endpoint.
    Next(String),
}

fn outcome<T, E>(op: &str, r: Result<T, SdkError<E, HttpResponse>>) -> Outcome<T>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    match r {
        Ok(v) => Outcome::Done(v),
        Err(e) => {
            let kind = classify(&e);
            let message = describe(op, &e);
            match kind {
                AwsErrorKind::Timeout | AwsErrorKind::Unavailable | AwsErrorKind::Throttled => {
                    Outcome::Next(message)
                }
                // A service error without a known code, with a 5xx: the endpoint is unwell.
                AwsErrorKind::Other
                    if e.raw_response()
                        .is_some_and(|r| r.status().is_server_error()) =>
                {
                    Outcome::Next(message)
                }
                // Unreadable answers are lost answers.
                AwsErrorKind::Other if matches!(e, SdkError::ResponseError(_)) => {
                    Outcome::Next(message)
                }
                kind => Outcome::Refused(kind, message),
            }
        }
    }
}

/// The routing controls of one ARC cluster, reached through its regional endpoints.
pub struct Cluster {
    endpoints: Vec<Endpoint>,
    timeout: Duration,
    /// Each region's routing control, in the configured order of the regions.
    controls: Vec<(String, String)>,
}

impl Cluster {
    /// Builds one client per endpoint (no call is made). `controls` are (region, ARN).
    pub async fn new(
        endpoints: &[ArcEndpoint],
        credentials: &EndpointSettings,
        timeout: Duration,
        controls: Vec<(String, String)>,
    ) -> Cluster {
        let t = Timeouts {
            connect: timeout.min(Duration::from_secs(1)),
            read: timeout,
            attempt: timeout,
            operation: timeout,
            // The rotation is the retry: another endpoint, not the same one again.
            max_attempts: 1,
        };
        let mut out = Vec::new();
        for e in endpoints {
            let ep = EndpointSettings {
                credentials: credentials.credentials.clone(),
                endpoint_url: Some(e.url.clone()),
            };
            let conf = sdk_config(&e.region, &ep, t).await;
            out.push(Endpoint {
                region: e.region.clone(),
                url: e.url.clone(),
                client: rc::Client::new(&conf),
            });
        }
        Cluster {
            endpoints: out,
            timeout,
            controls,
        }
    }

    /// The routing control of `region`, if it has one.
    pub fn control_of(&self, region: &str) -> Option<&str> {
        self.controls
            .iter()
            .find(|(r, _)| r == region)
            .map(|(_, a)| a.as_str())
    }

    /// A start for the rotation that differs from call to call (spreading load, and not
    /// always trying a dead endpoint first).
    fn random_start(&self) -> usize {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        let mut rng = switchyard_core::rng::Rng::new(nanos);
        (rng.next_u64() % self.endpoints.len().max(1) as u64) as usize
    }

    /// Runs `call` on the endpoints in turn from `start` until one answers; each try is
    /// bounded by the endpoint timeout. Returns the answer and the endpoint that gave it.
    pub async fn rotate_from<T, E, F, Fut>(
        &self,
        op: &str,
        start: usize,
        call: F,
    ) -> Result<(T, String), ArcError>
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        F: Fn(&rc::Client) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let n = self.endpoints.len();
        if n == 0 {
            return Err(ArcError::Unanswered(vec![
                "the cluster has no endpoints".into()
            ]));
        }
        let mut tries = Vec::new();
        for i in 0..n {
            let e = &self.endpoints[(start + i) % n];
            // The SDK's own timeouts bound the call; this bounds whatever they miss.
            let bound = self.timeout + Duration::from_millis(200);
            match tokio::time::timeout(bound, call(&e.client)).await {
                Err(_) => tries.push(format!(
                    "{}: no answer within {} ms",
                    e.name(),
                    self.timeout.as_millis()
                )),
                Ok(r) => match outcome(op, r) {
                    Outcome::Done(v) => return Ok((v, e.name())),
                    Outcome::Refused(kind, message) => {
                        return Err(ArcError::Refused {
                            kind,
                            message: format!("{message} (answered by {})", e.name()),
                        })
                    }
                    Outcome::Next(why) => tries.push(format!("{}: {why}", e.name())),
                },
            }
        }
        Err(ArcError::Unanswered(tries))
    }

    /// [`Cluster::rotate_from`] a random endpoint.
    pub async fn rotate<T, E, F, Fut>(&self, op: &str, call: F) -> Result<(T, String), ArcError>
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        F: Fn(&rc::Client) -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        self.rotate_from(op, self.random_start(), call).await
    }

    /// The one batch that sends the devices to `target`: its control On, every other Off.
    fn entries(&self, target: &str) -> Vec<UpdateRoutingControlStateEntry> {
        self.controls
            .iter()
            .filter_map(|(region, arn)| {
                UpdateRoutingControlStateEntry::builder()
                    .routing_control_arn(arn)
                    .routing_control_state(if region == target {
                        RoutingControlState::On
                    } else {
                        RoutingControlState::Off
                    })
                    .build()
                    .ok()
            })
            .collect()
    }

    /// Turns `target`'s routing control On and every other region's Off in one
    /// `UpdateRoutingControlStates` call (all or nothing), starting the rotation at `start`
    /// (`None`: a random endpoint). Says which endpoint did it.
    pub async fn switch_to_from(
        &self,
        target: &str,
        start: Option<usize>,
    ) -> Result<String, ArcError> {
        if self.control_of(target).is_none() {
            return Err(ArcError::Refused {
                kind: AwsErrorKind::Other,
                message: format!("{target} has no routing control in the configuration"),
            });
        }
        let entries = self.entries(target);
        let start = start.unwrap_or_else(|| self.random_start());
        let t0 = Instant::now();
        let ((), by) = self
            .rotate_from("UpdateRoutingControlStates", start, |c| {
                let (c, entries) = (c.clone(), entries.clone());
                async move {
                    c.update_routing_control_states()
                        .set_update_routing_control_state_entries(Some(entries))
                        .send()
                        .await
                        .map(|_| ())
                }
            })
            .await?;
        let summary = self
            .controls
            .iter()
            .map(|(r, _)| format!("{r} {}", if r == target { "On" } else { "Off" }))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(format!(
            "routing controls {summary} (UpdateRoutingControlStates through {by}, {} ms)",
            t0.elapsed().as_millis()
        ))
    }

    /// Every region's routing control state, read through the rotation: `ListRoutingControls`
    /// (one call for the whole cluster, paged), so the cost does not grow with the regions. A
    /// configured control the cluster does not list is an error naming it.
    pub async fn states(&self) -> Result<Vec<(String, bool)>, ArcError> {
        let mut on: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
        let mut token: Option<String> = None;
        // A cluster holds at most a few thousand controls: 20 pages of 500 is plenty.
        for _ in 0..20 {
            let (page, _) = self
                .rotate("ListRoutingControls", |c| {
                    c.list_routing_controls()
                        .set_next_token(token.clone())
                        .max_results(500)
                        .send()
                })
                .await?;
            for rc in page.routing_controls() {
                if let Some(arn) = rc.routing_control_arn() {
                    on.insert(
                        arn.to_string(),
                        rc.routing_control_state() == Some(&RoutingControlState::On),
                    );
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        self.controls
            .iter()
            .map(|(region, arn)| match on.get(arn) {
                Some(state) => Ok((region.clone(), *state)),
                None => Err(ArcError::Refused {
                    kind: AwsErrorKind::NotFound,
                    message: format!(
                        "ListRoutingControls: the cluster has no routing control {arn} (of {region})"
                    ),
                }),
            })
            .collect()
    }

    /// Asks every endpoint at once for `target`'s control state: which answered (and how
    /// fast), which did not (and why), and what is wrong with the configuration if an answer
    /// says so (the control does not exist).
    pub async fn probe(&self, target: &str) -> (Vec<Probe>, Vec<String>) {
        let Some(arn) = self.control_of(target).map(str::to_string) else {
            return (
                Vec::new(),
                vec![format!(
                    "{target} has no routing_control_arn in the configuration"
                )],
            );
        };
        let asks = self.endpoints.iter().map(|e| {
            let arn = arn.clone();
            async move {
                let t0 = Instant::now();
                let r = tokio::time::timeout(
                    self.timeout + Duration::from_millis(200),
                    e.client
                        .get_routing_control_state()
                        .routing_control_arn(&arn)
                        .send(),
                )
                .await;
                match r {
                    Err(_) => (
                        Probe {
                            name: e.region.clone(),
                            answered: false,
                            detail: format!(
                                "{}: no answer within {} ms",
                                e.url,
                                self.timeout.as_millis()
                            ),
                        },
                        None,
                    ),
                    Ok(r) => match outcome("GetRoutingControlState", r) {
                        Outcome::Done(_) => (
                            Probe {
                                name: e.region.clone(),
                                answered: true,
                                detail: format!("{}: {} ms", e.url, t0.elapsed().as_millis()),
                            },
                            None,
                        ),
                        Outcome::Refused(kind, message) => (
                            Probe {
                                name: e.region.clone(),
                                answered: true,
                                detail: format!("{}: {message}", e.url),
                            },
                            Some(if kind == AwsErrorKind::NotFound {
                                format!("the routing control {arn} of {target} does not exist ({message})")
                            } else {
                                message
                            }),
                        ),
                        Outcome::Next(why) => (
                            Probe {
                                name: e.region.clone(),
                                answered: false,
                                detail: format!("{}: {why}", e.url),
                            },
                            None,
                        ),
                    },
                }
            }
        });
        let results = futures_util::future::join_all(asks).await;
        let mut problems: Vec<String> = Vec::new();
        let mut probes = Vec::new();
        for (p, problem) in results {
            probes.push(p);
            if let Some(x) = problem {
                if !problems.contains(&x) {
                    problems.push(x);
                }
            }
        }
        (probes, problems)
    }
}

/// The cluster's endpoints: those in the file, else those kept in the store from an earlier
/// discovery, else found now with `DescribeCluster` (the control-config API, in us-west-2)
/// and kept. `kept` reads and `keep` writes the store's copy.
pub async fn endpoints(
    settings: &ArcSettings,
    kept: Option<String>,
    keep: impl FnOnce(&str),
    timeout: Duration,
) -> Result<Vec<ArcEndpoint>, String> {
    if !settings.endpoints.is_empty() {
        return Ok(settings.endpoints.clone());
    }
    let Some(cluster) = &settings.cluster_arn else {
        return Err("aws.arc: no endpoints and no cluster_arn".into());
    };
    if let Some(json) = kept {
        if let Ok(list) = serde_json::from_str::<Vec<ArcEndpoint>>(&json) {
            if !list.is_empty() {
                return Ok(list);
            }
        }
    }
    let conf = sdk_config("us-west-2", &settings.endpoint, Timeouts::for_poll(timeout)).await;
    let found = describe_cluster(
        &aws_sdk_route53recoverycontrolconfig::Client::new(&conf),
        cluster,
    )
    .await?;
    if let Ok(json) = serde_json::to_string(&found) {
        keep(&json);
    }
    Ok(found)
}

/// `DescribeCluster`: the cluster's endpoints, or why not.
pub async fn describe_cluster(
    client: &aws_sdk_route53recoverycontrolconfig::Client,
    cluster_arn: &str,
) -> Result<Vec<ArcEndpoint>, String> {
    let out = client
        .describe_cluster()
        .cluster_arn(cluster_arn)
        .send()
        .await
        .map_err(|e| describe("DescribeCluster", &e))?;
    let list: Vec<ArcEndpoint> = out
        .cluster()
        .map(|c| {
            c.cluster_endpoints()
                .iter()
                .filter_map(|e| {
                    Some(ArcEndpoint {
                        region: e.region()?.to_string(),
                        url: e.endpoint()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if list.is_empty() {
        return Err(format!(
            "DescribeCluster: the cluster {cluster_arn} lists no endpoints (is it still being created?)"
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
