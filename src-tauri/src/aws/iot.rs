//! AWS IoT Core (aws-sdk-iot): fleet-index connectivity counts and searches, one device's
//! connectivity, the data endpoint, and the readiness facts (certificate pages, topic rules,
//! domain configurations).
//!
//! Rules kept here:
//! - the poll's calls (aggregation, statistics, the lab's search count) take from no budget;
//!   a device listing's pages take from the `SearchIndex` bucket it is given;
//! - certificates are read one page at a time, newest or oldest first: the caller
//!   ([`super::certs`]) decides how far to read and paces the pages.
//!
//! (Past 500 lines only with its tests: the adapter is ~450, the rest are mocked answers for
//! the calls the lab lacks.)

use super::budget::Bucket;
use super::{classify, describe, is_unsupported, AwsError, AwsErrorKind};
use crate::store::CertificateRow;
use aws_config::SdkConfig;
use aws_sdk_iot::types::{
    BucketsAggregationType, DomainConfigurationStatus, TermsAggregation,
    ThingConnectivityIndexingMode,
};
use aws_sdk_iot::Client;
use switchyard_core::{
    devices::DeviceQuery, failover::TopicRule, Connectivity, Device, DisconnectReason,
};

/// The fleet index every account has.
const INDEX: &str = "AWS_Things";
/// `SearchIndex` answers at most this many things a page.
const PAGE: u64 = 100;
/// Device pages deeper than this are refused: narrow the filter instead.
pub const MAX_DEPTH: u64 = 10_000;

#[derive(Clone)]
pub struct Iot {
    client: Client,
}

/// `ListCertificates` answers at most this many a page.
pub const CERTIFICATE_PAGE: i32 = 250;

/// One page of `ListCertificates`.
#[derive(Debug, Clone, Default)]
pub struct CertificatePage {
    pub certificates: Vec<CertificateRow>,
    /// The marker of the next page; `None` on the last.
    pub next: Option<String>,
}

/// One page of a search, and how many matching things were seen while reading it.
pub struct SearchPage {
    pub items: Vec<Device>,
    /// Things seen up to the end of the read (all of them when the search was read to its end).
    pub seen: u64,
}

/// The query that selects the fleet: the configured thing groups, or every thing.
pub fn fleet_query(groups: &[String]) -> String {
    match groups {
        [] => "thingName:*".to_string(),
        [g] => format!("thingGroupNames:{g}"),
        gs => format!(
            "({})",
            gs.iter()
                .map(|g| format!("thingGroupNames:{g}"))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
    }
}

/// Thing names: 1 to 128 of `[a-zA-Z0-9:_-]`. Anything else cannot match, and must not reach
/// a query string.
pub fn is_thing_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

/// The fleet-index query for a device filter.
pub fn device_query(q: &DeviceQuery, groups: &[String]) -> String {
    let mut parts = Vec::new();
    match &q.thing_group {
        Some(g) if is_thing_name(g) => parts.push(format!("thingGroupNames:{g}")),
        // A name that cannot exist matches nothing.
        Some(_) => return "thingName:__switchyard_no_such_thing__".to_string(),
        None if !groups.is_empty() => parts.push(fleet_query(groups)),
        None => {}
    }
    if let Some(c) = q.connected {
        parts.push(format!("connectivity.connected:{c}"));
    }
    if let Some(r) = q.reason {
        parts.push(format!("connectivity.disconnectReason:{}", r.as_str()));
    }
    match q.q.as_deref() {
        Some(s) if is_thing_name(s) => parts.push(format!("thingName:*{s}*")),
        Some("") | None => {}
        Some(_) => return "thingName:__switchyard_no_such_thing__".to_string(),
    }
    if parts.is_empty() {
        "thingName:*".to_string()
    } else {
        parts.join(" AND ")
    }
}

/// AWS IoT's disconnect reason names; the ones the console does not tell apart are `Unknown`.
pub fn disconnect_reason(s: &str) -> DisconnectReason {
    DisconnectReason::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .unwrap_or(DisconnectReason::Unknown)
}

impl Iot {
    pub fn new(conf: &SdkConfig, interceptors: &super::Interceptors) -> Iot {
        let mut b = aws_sdk_iot::config::Builder::from(conf);
        for i in interceptors {
            b.push_interceptor(i.clone());
        }
        Iot {
            client: Client::from_conf(b.build()),
        }
    }

    /// Wraps an already built client (tests with mocked responses).
    pub fn from_client(client: Client) -> Iot {
        Iot { client }
    }

    /// Online and offline things matching `query`: one `GetBucketsAggregation` call on
    /// `connectivity.connected`, whatever the size of the fleet.
    pub async fn connectivity_counts(&self, query: &str) -> Result<(u64, u64), String> {
        let out = self
            .client
            .get_buckets_aggregation()
            .index_name(INDEX)
            .query_string(query)
            .aggregation_field("connectivity.connected")
            .buckets_aggregation_type(
                BucketsAggregationType::builder()
                    .terms_aggregation(TermsAggregation::builder().max_buckets(2).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                if is_unsupported(&e) {
                    "GetBucketsAggregation: this endpoint does not implement fleet-index \
                     aggregation (set connectivity_counts = \"search\" for a lab)"
                        .to_string()
                } else {
                    describe("GetBucketsAggregation", &e)
                }
            })?;
        let (mut online, mut offline) = (0, 0);
        for b in out.buckets() {
            let n = b.count().max(0) as u64;
            match b.key_value() {
                Some("true") => online += n,
                Some("false") => offline += n,
                _ => {}
            }
        }
        Ok((online, offline))
    }

    /// How many things match `query`: one `GetStatistics` call.
    pub async fn count(&self, query: &str) -> Result<u64, String> {
        let out = self
            .client
            .get_statistics()
            .index_name(INDEX)
            .query_string(query)
            .send()
            .await
            .map_err(|e| describe("GetStatistics", &e))?;
        Ok(out.statistics().map_or(0, |s| s.count().max(0) as u64))
    }

    /// The number of things in the fleet, by aggregation or by reading the search through.
    pub async fn count_things(
        &self,
        query: &str,
        method: crate::settings::CountMethod,
    ) -> Result<u64, String> {
        match method {
            crate::settings::CountMethod::Aggregation => self.count(query).await,
            crate::settings::CountMethod::Search => {
                let (on, off) = self.count_by_search(query).await?;
                Ok(on + off)
            }
        }
    }

    /// Reads the search for `query` page by page, handing each page to `visit` until it says
    /// stop (`false`) or the search ends.
    async fn scan(
        &self,
        query: &str,
        pace: Option<&Bucket>,
        mut visit: impl FnMut(&[aws_sdk_iot::types::ThingDocument]) -> bool,
    ) -> Result<(), String> {
        let mut token = None::<String>;
        loop {
            if let Some(b) = pace {
                b.acquire().await;
            }
            let out = self
                .client
                .search_index()
                .index_name(INDEX)
                .query_string(query)
                .max_results(PAGE as i32)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    if let Some(b) = pace.filter(|_| classify(&e) == AwsErrorKind::Throttled) {
                        b.throttled();
                    }
                    describe("SearchIndex", &e)
                })?;
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if !visit(out.things()) || token.is_none() {
                return Ok(());
            }
        }
    }

    /// One page of the things `query` finds, by name, and the next page's token.
    pub async fn names_page(
        &self,
        query: &str,
        token: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), AwsError> {
        let out = self
            .client
            .search_index()
            .index_name(INDEX)
            .query_string(query)
            .max_results(PAGE as i32)
            .set_next_token(token.map(str::to_string))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("SearchIndex", &e))?;
        let names = out
            .things()
            .iter()
            .filter_map(|t| t.thing_name().map(str::to_string))
            .collect();
        let next = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok((names, next))
    }

    /// Online and offline counts by reading the search to its end (up to [`MAX_DEPTH`] things).
    /// For endpoints without aggregation (the lab): the calls grow with the fleet.
    pub async fn count_by_search(&self, query: &str) -> Result<(u64, u64), String> {
        let (mut online, mut offline) = (0u64, 0u64);
        self.scan(query, None, |things| {
            for t in things {
                if t.connectivity().and_then(|c| c.connected()) == Some(true) {
                    online += 1;
                } else {
                    offline += 1;
                }
            }
            online + offline < MAX_DEPTH
        })
        .await?;
        Ok((online, offline))
    }

    /// Things matching `query` from `offset`, at most `limit` of them, as devices of `region`;
    /// each page taken from `pace` when given.
    pub async fn search(
        &self,
        query: &str,
        offset: u64,
        limit: u64,
        region: &str,
        pace: Option<&Bucket>,
    ) -> Result<SearchPage, String> {
        if offset + limit > MAX_DEPTH {
            return Err(format!(
                "the fleet index is read at most {MAX_DEPTH} things deep; narrow the filter"
            ));
        }
        let (mut seen, mut items) = (0u64, Vec::new());
        self.scan(query, pace, |things| {
            for t in things {
                if seen >= offset && (items.len() as u64) < limit {
                    if let Some(d) = document_device(t, region) {
                        items.push(d);
                    }
                }
                seen += 1;
            }
            seen < offset + limit
        })
        .await?;
        Ok(SearchPage { items, seen })
    }

    /// One thing as a device of `region`, `None` when this region does not know it. Reads
    /// `GetThingConnectivityData` for the precise state, and the fleet index for its groups;
    /// where the endpoint lacks the former (the lab), the index's connectivity is used.
    pub async fn device(&self, id: &str, region: &str) -> Result<Option<Device>, String> {
        let by_name = format!("thingName:{id}");
        let (doc, conn) = tokio::join!(
            self.search(&by_name, 0, 1, region, None),
            self.client
                .get_thing_connectivity_data()
                .thing_name(id)
                .send(),
        );
        let Some(mut device) = doc?.items.into_iter().find(|d| d.id == id) else {
            return Ok(None);
        };
        match conn {
            Ok(c) => {
                let since = c
                    .timestamp()
                    .and_then(|t| t.to_millis().ok())
                    .map_or(0, |t| t.max(0) as u64);
                device.connectivity = if c.connected() == Some(true) {
                    Connectivity::Online { since }
                } else {
                    Connectivity::Offline {
                        since,
                        reason: c
                            .disconnect_reason()
                            .map_or(DisconnectReason::Unknown, |r| disconnect_reason(r.as_str())),
                    }
                };
            }
            Err(e) if is_unsupported(&e) => {}
            Err(e) => return Err(describe("GetThingConnectivityData", &e)),
        }
        Ok(Some(device))
    }

    /// Whether the fleet index keeps connectivity (`thingConnectivityIndexingMode = STATUS`).
    pub async fn connectivity_indexing_on(&self) -> Result<bool, String> {
        let out = self
            .client
            .get_indexing_configuration()
            .send()
            .await
            .map_err(|e| describe("GetIndexingConfiguration", &e))?;
        Ok(out
            .thing_indexing_configuration()
            .and_then(|c| c.thing_connectivity_indexing_mode())
            == Some(&ThingConnectivityIndexingMode::Status))
    }

    /// The ATS data endpoint devices connect to.
    pub async fn data_endpoint(&self) -> Result<String, String> {
        let out = self
            .client
            .describe_endpoint()
            .endpoint_type("iot:Data-ATS")
            .send()
            .await
            .map_err(|e| describe("DescribeEndpoint", &e))?;
        out.endpoint_address()
            .map(str::to_string)
            .ok_or_else(|| "DescribeEndpoint: the answer had no address".to_string())
    }

    /// One page of the region's certificates (every status), newest first or oldest first,
    /// from `marker`.
    pub async fn certificate_page(
        &self,
        newest_first: bool,
        marker: Option<String>,
    ) -> Result<CertificatePage, AwsError> {
        let out = self
            .client
            .list_certificates()
            .page_size(CERTIFICATE_PAGE)
            .ascending_order(!newest_first)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListCertificates", &e))?;
        let certificates = out
            .certificates()
            .iter()
            .filter_map(|c| {
                Some(CertificateRow {
                    id: c.certificate_id()?.to_string(),
                    status: c.status().map_or("UNKNOWN", |s| s.as_str()).to_string(),
                    created_at: c
                        .creation_date()
                        .and_then(|t| t.to_millis().ok())
                        .map_or(0, |t| t.max(0) as u64),
                })
            })
            .collect();
        Ok(CertificatePage {
            certificates,
            next: out
                .next_marker()
                .filter(|m| !m.is_empty())
                .map(str::to_string),
        })
    }

    /// Every topic rule with its SQL, sorted by name.
    pub async fn topic_rules(&self) -> Result<Vec<TopicRule>, String> {
        let mut names = Vec::new();
        let mut token = None::<String>;
        loop {
            let out = self
                .client
                .list_topic_rules()
                .max_results(250)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| describe("ListTopicRules", &e))?;
            names.extend(
                out.rules()
                    .iter()
                    .filter_map(|r| r.rule_name().map(str::to_string)),
            );
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let rules = futures_util::future::join_all(names.iter().map(|n| async move {
            let out = self
                .client
                .get_topic_rule()
                .rule_name(n)
                .send()
                .await
                .map_err(|e| describe(&format!("GetTopicRule {n}"), &e))?;
            let rule = out.rule();
            Ok::<_, String>(TopicRule {
                name: n.clone(),
                sql: rule.and_then(|r| r.sql()).unwrap_or_default().to_string(),
                enabled: rule.and_then(|r| r.rule_disabled()) != Some(true),
            })
        }))
        .await;
        let mut rules = rules.into_iter().collect::<Result<Vec<_>, _>>()?;
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rules)
    }

    /// Whether the named domain configuration is enabled; `None` when it does not exist.
    pub async fn domain_configuration_enabled(&self, name: &str) -> Result<Option<bool>, String> {
        match self
            .client
            .describe_domain_configuration()
            .domain_configuration_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.domain_configuration_status() == Some(&DomainConfigurationStatus::Enabled),
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(describe("DescribeDomainConfiguration", &e)),
        }
    }
}

/// The fleet index gives epoch milliseconds; the lab gives seconds. No device connected before
/// 1973, so a value under 10^11 is seconds.
fn epoch_ms(t: i64) -> u64 {
    let t = t.max(0) as u64;
    if t < 100_000_000_000 {
        t * 1_000
    } else {
        t
    }
}

/// A fleet-index document as a device of `region`.
fn document_device(t: &aws_sdk_iot::types::ThingDocument, region: &str) -> Option<Device> {
    let id = t.thing_name()?.to_string();
    let c = t.connectivity();
    let since = c.and_then(|c| c.timestamp()).map_or(0, epoch_ms);
    let connectivity = if c.and_then(|c| c.connected()) == Some(true) {
        Connectivity::Online { since }
    } else {
        Connectivity::Offline {
            since,
            reason: c
                .and_then(|c| c.disconnect_reason())
                .map_or(DisconnectReason::Unknown, disconnect_reason),
        }
    };
    Some(Device {
        id,
        region: region.to_string(),
        thing_groups: t.thing_group_names().to_vec(),
        connectivity,
    })
}

#[cfg(test)]
mod tests {
    //! The calls the lab lacks (aggregation, statistics, per-thing connectivity), against
    //! mocked responses.
    use super::*;
    use aws_sdk_iot::operation::get_buckets_aggregation::GetBucketsAggregationOutput;
    use aws_sdk_iot::operation::get_statistics::GetStatisticsOutput;
    use aws_sdk_iot::operation::get_thing_connectivity_data::GetThingConnectivityDataOutput;
    use aws_sdk_iot::operation::search_index::SearchIndexOutput;
    use aws_sdk_iot::types::{
        Bucket, DisconnectReasonValue, Statistics, ThingConnectivity, ThingDocument,
    };
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[tokio::test]
    async fn counts_come_from_one_aggregation_call() {
        let rule = mock!(Client::get_buckets_aggregation)
            .match_requests(|r| {
                r.aggregation_field() == Some("connectivity.connected")
                    && r.query_string() == Some("thingGroupNames:sensors")
            })
            .then_output(|| {
                GetBucketsAggregationOutput::builder()
                    .total_count(1_234_567)
                    .buckets(Bucket::builder().key_value("true").count(1_200_000).build())
                    .buckets(Bucket::builder().key_value("false").count(34_567).build())
                    .build()
            });
        let iot = Iot::from_client(mock_client!(aws_sdk_iot, [&rule]));
        let counts = iot
            .connectivity_counts(&fleet_query(&["sensors".into()]))
            .await
            .unwrap();
        assert_eq!(counts, (1_200_000, 34_567));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_endpoint_without_aggregation_is_named() {
        let rule = mock!(Client::get_buckets_aggregation).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
                aws_smithy_types::body::SdkBody::from("<html>Internal Server Error</html>"),
            )
        });
        let iot = Iot::from_client(mock_client!(
            aws_sdk_iot,
            RuleMode::MatchAny,
            [&rule],
            |c| c.retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        ));
        let err = iot.connectivity_counts("thingName:*").await.unwrap_err();
        assert!(
            err.contains("does not implement fleet-index aggregation"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn statistics_count_the_matching_things() {
        let rule = mock!(Client::get_statistics)
            .match_requests(|r| r.query_string() == Some("connectivity.connected:false"))
            .then_output(|| {
                GetStatisticsOutput::builder()
                    .statistics(Statistics::builder().count(42).build())
                    .build()
            });
        let iot = Iot::from_client(mock_client!(aws_sdk_iot, [&rule]));
        assert_eq!(iot.count("connectivity.connected:false").await.unwrap(), 42);
    }

    #[tokio::test]
    async fn one_device_takes_its_state_from_get_thing_connectivity_data() {
        let search = mock!(Client::search_index).then_output(|| {
            SearchIndexOutput::builder()
                .things(
                    ThingDocument::builder()
                        .thing_name("dev-7")
                        .thing_group_names("sensors")
                        .connectivity(
                            ThingConnectivity::builder()
                                .connected(true)
                                .timestamp(1)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let conn = mock!(Client::get_thing_connectivity_data)
            .match_requests(|r| r.thing_name() == Some("dev-7"))
            .then_output(|| {
                GetThingConnectivityDataOutput::builder()
                    .thing_name("dev-7")
                    .connected(false)
                    .timestamp(aws_smithy_types::DateTime::from_millis(1_700_000_000_123))
                    .disconnect_reason(DisconnectReasonValue::MqttKeepAliveTimeout)
                    .build()
            });
        let iot = Iot::from_client(mock_client!(
            aws_sdk_iot,
            RuleMode::MatchAny,
            [&search, &conn]
        ));
        let d = iot.device("dev-7", "eu-west-1").await.unwrap().unwrap();
        assert_eq!(d.region, "eu-west-1");
        assert_eq!(d.thing_groups, vec!["sensors".to_string()]);
        assert_eq!(
            d.connectivity,
            Connectivity::Offline {
                since: 1_700_000_000_123,
                reason: DisconnectReason::MqttKeepAliveTimeout
            }
        );
        assert_eq!(conn.num_calls(), 1);
    }

    #[test]
    fn queries_are_built_from_filters_and_refuse_injection() {
        let q = DeviceQuery {
            connected: Some(false),
            reason: Some(DisconnectReason::ConnectionLost),
            q: Some("sensor-1".into()),
            ..DeviceQuery::default()
        };
        assert_eq!(
            device_query(&q, &["a".into(), "b".into()]),
            "(thingGroupNames:a OR thingGroupNames:b) AND connectivity.connected:false AND \
             connectivity.disconnectReason:CONNECTION_LOST AND thingName:*sensor-1*"
        );
        let evil = DeviceQuery {
            q: Some("x OR thingName:*".into()),
            ..DeviceQuery::default()
        };
        assert_eq!(
            device_query(&evil, &[]),
            "thingName:__switchyard_no_such_thing__"
        );
        assert_eq!(device_query(&DeviceQuery::default(), &[]), "thingName:*");
        assert_eq!(
            disconnect_reason("DUPLICATE_CLIENTID"),
            DisconnectReason::Unknown
        );
        assert_eq!(disconnect_reason("THROTTLED"), DisconnectReason::Throttled);
    }
}
