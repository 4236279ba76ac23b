//! A webhook as a receiver: core's [`webhook_body`] POSTed as JSON to a URL, signed.
//!
//! Rules kept here:
//! - the header [`SIGNATURE_HEADER`] is `sha256=` and the lowercase hex HMAC-SHA256 of the exact
//!   bytes sent, keyed with the receiver's secret; [`DELIVERY_HEADER`] carries the delivery's id
//!   (the same on every retry, so a receiver can drop a repeat);
//! - one notice a request, in the order given; the first that fails ends the send with its
//!   verdict, so nothing later overtakes it;
//! - the secret is never written anywhere but into the signature, and the URL is shown (on the
//!   page, in errors) only to its first path segment ([`shown`]): chat webhooks carry their
//!   token in the rest.

use super::{client, post, split_url};
use crate::api::client::{Client, ClientError, Request};
use crate::ports::{AlertReceiver, BoxFuture};
use crate::settings::{ReceiverSettings, Secret};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use switchyard_core::delivery::{webhook_body, Filter, Notice, ReceiverKind, Verdict};
use switchyard_core::UnixMs;

/// The signature of the body: `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-switchyard-signature";
/// The delivery's id (the outbox row).
pub const DELIVERY_HEADER: &str = "x-switchyard-delivery";

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length: this never fails.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + tag.len() * 2);
    out.push_str("sha256=");
    for b in tag {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `url` as the page and the errors show it: its origin and first path segment, the rest (where
/// chat services put their token) and the query elided: `https://hooks.slack.com/services/…`.
pub fn shown(url: &str) -> String {
    let (origin, path) = split_url(url);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let mut out = origin.to_string();
    if let Some(first) = segments.next() {
        out.push('/');
        out.push_str(first);
    }
    if segments.next().is_some() || url.contains('?') {
        out.push_str("/…");
    }
    out
}

/// One webhook receiver.
pub struct Webhook {
    name: String,
    filter: Filter,
    timeout: Duration,
    /// The URL as shown ([`shown`]).
    url: String,
    /// The path and query asked for on `client`'s origin.
    path: String,
    client: Client,
    secret: Secret,
    slack: bool,
}

impl Webhook {
    /// The receiver `r` POSTing to `url`, signing with `secret`; `slack` adds a `text` field.
    pub fn new(
        r: &ReceiverSettings,
        url: &str,
        secret: Secret,
        slack: bool,
    ) -> Result<Webhook, ClientError> {
        let (origin, path) = split_url(url);
        Ok(Webhook {
            name: r.name.clone(),
            filter: r.filter.clone(),
            timeout: r.timeout,
            url: shown(url),
            path: path.to_string(),
            client: client(origin, r.timeout)?,
            secret,
            slack,
        })
    }

    async fn send_one(&self, notice: &Notice) -> Verdict {
        let body = match serde_json::to_vec(&webhook_body(notice, self.slack)) {
            Ok(b) => b,
            Err(e) => return Verdict::Refused(format!("the notice cannot be written: {e}")),
        };
        let req = Request::post(&self.path)
            .header(SIGNATURE_HEADER, &signature(&self.secret.0, &body))
            .header(DELIVERY_HEADER, &notice.delivery_id.to_string())
            .json_text(body);
        post(&self.client, req, self.timeout, &self.url).await
    }
}

impl AlertReceiver for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ReceiverKind {
        ReceiverKind::Webhook
    }

    fn targets(&self) -> Vec<String> {
        vec![self.url.clone()]
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    fn batch(&self) -> usize {
        1
    }

    fn resend_every(&self) -> Option<Duration> {
        None
    }

    fn send<'a>(&'a self, notices: &'a [Notice], _now: UnixMs) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            for n in notices {
                match self.send_one(n).await {
                    Verdict::Delivered => {}
                    failed => return failed,
                }
            }
            Verdict::Delivered
        })
    }
}
