//! Prometheus Alertmanager as a receiver: `POST {url}/api/v2/alerts` with a JSON list of core's
//! [`am_alert`]s, to every URL of the cluster at once.
//!
//! Rules kept here:
//! - every URL is sent the same list concurrently, each call within the receiver's timeout;
//!   the notices are delivered when any URL took them (an Alertmanager cluster gossips what one
//!   member was told), and each URL that did not says why in the verdict's text;
//! - up to [`BATCH`] notices go in one request (a burst of alerts is one or a few requests);
//! - a firing alert is re-sent every `resend_every` (the dispatcher asks) and its `endsAt` lies
//!   a few re-sends ahead, so Alertmanager resolves it by itself only if the console goes quiet.

use super::{client, combine, no_answer, post};
use crate::api::client::{Client, ClientError, Request};
use crate::ports::{AlertReceiver, BoxFuture};
use crate::settings::ReceiverSettings;
use std::time::Duration;
use switchyard_core::delivery::{am_alert, Filter, Notice, ReceiverKind, Verdict};
use switchyard_core::UnixMs;

/// The most notices one request carries.
pub const BATCH: usize = 500;

/// The path of Alertmanager's v2 alerts API, under each URL.
pub const PATH: &str = "/api/v2/alerts";

/// One Alertmanager receiver: a cluster of one or more URLs.
pub struct Alertmanager {
    name: String,
    filter: Filter,
    timeout: Duration,
    resend_every: Duration,
    /// Each URL as configured, and its client.
    targets: Vec<(String, Client)>,
}

impl Alertmanager {
    /// The receiver `r` sending to `urls`.
    pub fn new(
        r: &ReceiverSettings,
        urls: &[String],
        resend_every: Duration,
    ) -> Result<Alertmanager, ClientError> {
        let targets = urls
            .iter()
            .map(|u| Ok((u.clone(), client(u, r.timeout)?)))
            .collect::<Result<Vec<_>, ClientError>>()?;
        Ok(Alertmanager {
            name: r.name.clone(),
            filter: r.filter.clone(),
            timeout: r.timeout,
            resend_every,
            targets,
        })
    }
}

impl AlertReceiver for Alertmanager {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ReceiverKind {
        ReceiverKind::Alertmanager
    }

    fn targets(&self) -> Vec<String> {
        self.targets.iter().map(|(u, _)| u.clone()).collect()
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    fn batch(&self) -> usize {
        BATCH
    }

    fn resend_every(&self) -> Option<Duration> {
        Some(self.resend_every)
    }

    fn send<'a>(&'a self, notices: &'a [Notice], now: UnixMs) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let resend_ms = u64::try_from(self.resend_every.as_millis()).unwrap_or(u64::MAX);
            let alerts: Vec<_> = notices
                .iter()
                .map(|n| am_alert(n, now, resend_ms))
                .collect();
            let body = match serde_json::to_vec(&alerts) {
                Ok(b) => b,
                Err(e) => return Verdict::Refused(format!("the alerts cannot be written: {e}")),
            };
            let calls = self.targets.iter().map(|(url, client)| {
                let req = Request::post(PATH).json_text(body.clone());
                post(client, req, self.timeout, url)
            });
            let all = futures_util::future::join_all(calls);
            match tokio::time::timeout(self.timeout, all).await {
                Ok(verdicts) => combine(verdicts),
                Err(_) => no_answer(&self.targets().join(", "), self.timeout),
            }
        })
    }
}
