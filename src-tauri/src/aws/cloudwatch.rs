//! Amazon CloudWatch (aws-sdk-cloudwatch): the AWS/IoT metrics that say how a region is doing,
//! and the edge gateways' backlog metrics, always through batched `GetMetricData` calls.

use super::describe;
use crate::settings::EdgeMetrics;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use switchyard_core::{Backlog, UnixMs};

/// `GetMetricData` takes at most this many queries a call.
pub const MAX_QUERIES: usize = 500;
/// AWS IoT publishes its metrics per minute.
const PERIOD_SECS: i32 = 60;

pub struct Metrics {
    client: Client,
}

/// The AWS/IoT figures of the last complete minute.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IotFigures {
    pub connect_attempts: u64,
    pub connect_errors: u64,
    pub publish_in: u64,
    pub publish_errors: u64,
    pub rule_messages_throttled: u64,
}

/// One gateway's newest figures in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayFigures {
    /// When the newest backlog figure was published.
    pub at: UnixMs,
    pub backlog: Backlog,
    pub capacity: Option<u64>,
}

/// The AWS/IoT metrics read each poll: (query id, metric name, with the protocol dimension).
const IOT_METRICS: [(&str, &str, bool); 7] = [
    ("cs", "Connect.Success", true),
    ("cce", "Connect.ClientError", true),
    ("cse", "Connect.ServerError", true),
    ("ct", "Connect.Throttle", true),
    ("ps", "PublishIn.Success", true),
    ("pse", "PublishIn.ServerError", true),
    ("rmt", "RuleMessageThrottled", false),
];

fn query(
    id: String,
    namespace: &str,
    name: &str,
    dims: Vec<Dimension>,
    stat: &str,
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .return_data(true)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(name)
                        .set_dimensions(Some(dims))
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .build()
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// From `back` ago to a minute ahead: the end is sent in whole seconds, and a figure published
/// a moment ago must not fall past it.
fn window(back: Duration) -> (DateTime, DateTime) {
    let now = SystemTime::now();
    (
        DateTime::from(now - back),
        DateTime::from(now + Duration::from_secs(60)),
    )
}

impl Metrics {
    pub fn new(conf: &SdkConfig, interceptors: &super::Interceptors) -> Metrics {
        let mut b = aws_sdk_cloudwatch::config::Builder::from(conf);
        for i in interceptors {
            b.push_interceptor(i.clone());
        }
        Metrics {
            client: Client::from_conf(b.build()),
        }
    }

    pub fn from_client(client: Client) -> Metrics {
        Metrics { client }
    }

    /// Runs `queries` in batches of [`MAX_QUERIES`]; returns the newest (timestamp, value) of
    /// each query id that has data.
    async fn newest(
        &self,
        queries: Vec<MetricDataQuery>,
        back: Duration,
    ) -> Result<HashMap<String, (UnixMs, f64)>, String> {
        let (start, end) = window(back);
        let mut newest = HashMap::new();
        for batch in queries.chunks(MAX_QUERIES) {
            let mut token = None::<String>;
            loop {
                let out = self
                    .client
                    .get_metric_data()
                    .start_time(start)
                    .end_time(end)
                    .set_metric_data_queries(Some(batch.to_vec()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| describe("GetMetricData", &e))?;
                for r in out.metric_data_results() {
                    let Some(id) = r.id() else { continue };
                    let points = r.timestamps().iter().zip(r.values());
                    for (t, v) in points {
                        let t = t.to_millis().map_or(0, |t| t.max(0) as u64);
                        let e = newest.entry(id.to_string()).or_insert((t, *v));
                        if t > e.0 {
                            *e = (t, *v);
                        }
                    }
                }
                token = out
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(newest)
    }

    /// The region's AWS/IoT figures: one `GetMetricData` call.
    pub async fn iot_figures(&self) -> Result<IotFigures, String> {
        let queries = IOT_METRICS
            .iter()
            .map(|(id, name, proto)| {
                let dims = if *proto {
                    vec![dim("Protocol", "MQTT")]
                } else {
                    vec![]
                };
                query(id.to_string(), "AWS/IoT", name, dims, "Sum")
            })
            .collect();
        let got = self.newest(queries, Duration::from_secs(300)).await?;
        let v = |id: &str| got.get(id).map_or(0, |(_, v)| v.max(0.0) as u64);
        Ok(IotFigures {
            connect_attempts: v("cs") + v("cce") + v("cse") + v("ct"),
            connect_errors: v("cse") + v("ct"),
            publish_in: v("ps") + v("pse"),
            publish_errors: v("pse"),
            rule_messages_throttled: v("rmt"),
        })
    }

    /// The gateways that publish backlog metrics in this region (`ListMetrics`, paged).
    pub async fn gateway_ids(&self, m: &EdgeMetrics) -> Result<Vec<String>, String> {
        let mut ids = std::collections::BTreeSet::new();
        let mut token = None::<String>;
        loop {
            let out = self
                .client
                .list_metrics()
                .namespace(&m.namespace)
                .metric_name(&m.backlog_messages)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| describe("ListMetrics", &e))?;
            for metric in out.metrics() {
                for d in metric.dimensions() {
                    if d.name() == Some(m.dimension.as_str()) {
                        if let Some(v) = d.value() {
                            ids.insert(v.to_string());
                        }
                    }
                }
            }
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                return Ok(ids.into_iter().collect());
            }
        }
    }

    /// The newest backlog figures of each of `ids`: one `GetMetricData` call per
    /// [`MAX_QUERIES`] queries (four or five a gateway). Gateways with no recent figures are
    /// left out.
    pub async fn gateway_backlogs(
        &self,
        m: &EdgeMetrics,
        ids: &[String],
    ) -> Result<Vec<(String, GatewayFigures)>, String> {
        let mut names = vec![
            ("m", &m.backlog_messages),
            ("b", &m.backlog_bytes),
            ("a", &m.oldest_age_seconds),
            ("d", &m.dropped),
        ];
        if let Some(c) = &m.capacity_metric {
            names.push(("c", c));
        }
        let mut queries = Vec::with_capacity(ids.len() * names.len());
        for (i, id) in ids.iter().enumerate() {
            for (k, name) in &names {
                queries.push(query(
                    format!("{k}{i}"),
                    &m.namespace,
                    name,
                    vec![dim(&m.dimension, id)],
                    "Maximum",
                ));
            }
        }
        let got = self.newest(queries, Duration::from_secs(600)).await?;
        let v = |k: &str, i: usize| got.get(&format!("{k}{i}")).map(|(_, v)| v.max(0.0) as u64);
        Ok(ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| {
                let at = got.get(&format!("m{i}"))?.0;
                Some((
                    id.clone(),
                    GatewayFigures {
                        at,
                        backlog: Backlog {
                            messages: v("m", i).unwrap_or(0),
                            bytes: v("b", i).unwrap_or(0),
                            oldest_age_ms: v("a", i).unwrap_or(0) * 1_000,
                            dropped: v("d", i).unwrap_or(0),
                        },
                        capacity: v("c", i),
                    },
                ))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use aws_smithy_mocks::{mock, mock_client};

    fn edge() -> EdgeMetrics {
        crate::settings::EdgeMetrics::default()
    }

    #[tokio::test]
    async fn gateway_queries_go_in_batches_of_500() {
        // 300 gateways × 4 metrics = 1,200 queries: three calls, none over the limit.
        let answer = || {
            mock!(Client::get_metric_data)
                .match_requests(|r| r.metric_data_queries().len() <= MAX_QUERIES)
                .then_compute_output(|r| {
                    let mut out = GetMetricDataOutput::builder();
                    for q in r.metric_data_queries() {
                        let id = q.id().unwrap().to_string();
                        out = out.metric_data_results(
                            MetricDataResult::builder()
                                .id(&id)
                                .timestamps(DateTime::from_secs(1_000))
                                .values(if id.starts_with('a') { 2.0 } else { 7.0 })
                                .build(),
                        );
                    }
                    out.build()
                })
        };
        let rules = [answer(), answer(), answer()];
        let metrics = Metrics::from_client(mock_client!(
            aws_sdk_cloudwatch,
            [&rules[0], &rules[1], &rules[2]]
        ));
        let ids: Vec<String> = (0..300).map(|i| format!("gw-{i}")).collect();
        let got = metrics.gateway_backlogs(&edge(), &ids).await.unwrap();
        assert_eq!(rules.iter().map(|r| r.num_calls()).sum::<usize>(), 3);
        assert_eq!(got.len(), 300);
        assert_eq!(got[299].0, "gw-299");
        assert_eq!(got[299].1.backlog.messages, 7);
        assert_eq!(got[299].1.backlog.oldest_age_ms, 2_000);
        assert_eq!(got[299].1.at, 1_000_000);
    }

    #[tokio::test]
    async fn iot_figures_take_the_newest_minute_and_sum_errors() {
        let rule = mock!(Client::get_metric_data).then_compute_output(|r| {
            let mut out = GetMetricDataOutput::builder();
            for q in r.metric_data_queries() {
                let id = q.id().unwrap();
                let newest = match id {
                    "cs" => 90.0,
                    "cse" => 6.0,
                    "ct" => 4.0,
                    "ps" => 1_000.0,
                    "pse" => 10.0,
                    _ => 0.0,
                };
                out = out.metric_data_results(
                    MetricDataResult::builder()
                        .id(id)
                        .timestamps(DateTime::from_secs(120))
                        .values(newest)
                        .timestamps(DateTime::from_secs(60))
                        .values(999_999.0)
                        .build(),
                );
            }
            out.build()
        });
        let metrics = Metrics::from_client(mock_client!(aws_sdk_cloudwatch, [&rule]));
        let f = metrics.iot_figures().await.unwrap();
        assert_eq!(
            f,
            IotFigures {
                connect_attempts: 100,
                connect_errors: 10,
                publish_in: 1_010,
                publish_errors: 10,
                rule_messages_throttled: 0
            }
        );
        assert_eq!(rule.num_calls(), 1);
    }
}
