//! `[alerts]` and `[[alerts.receivers]]`: where alerts go out (Alertmanager, SNS, webhooks).
//! (Past 500 lines: the three receiver kinds share one pass and its error places, the URL and
//! ARN checks with them; a room per kind is the split to make when a fourth is added.)
//!
//! Rules kept here:
//! - a secret (a webhook's HMAC key) comes from the environment or a
//!   file, never from the configuration's text; it is read once, at start, and a missing one is
//!   an error naming the file, the line and the field;
//! - receiver names are unique (they key the outbox) and safe in a URL path (letters, digits,
//!   `-`, `_`, `.`; at most 64);
//! - every receiver has a timeout (100..=60000 ms, default 5000);
//! - a receiver takes only its own kind's fields (`urls`/`resend_secs` for alertmanager,
//!   `topics` for sns, `url`/`secret_env`/`secret_file`/`slack` for webhook);
//! - every mistake is one line naming the file, the line and the field.

use super::aws::{endpoint, EndpointSettings};
use super::error::{between, in_file, Origin, Place, SettingsError};
use serde::Deserialize;
use std::ops::Range;
use std::time::Duration;
use switchyard_core::alerts::{AlertKind, Severity};
use switchyard_core::delivery::{Filter, ReceiverKind, RetryPolicy};
use switchyard_core::regions::is_valid_code;
use toml::Spanned;

/// A secret's bytes. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Where alerts go out, checked.
#[derive(Debug, Clone, Default)]
pub struct AlertsSettings {
    /// The console's address as operators open it, for the links in notices
    /// (`https://noc.example.com`); `None`: notices carry no link.
    pub console_url: Option<String>,
    pub retry: RetryPolicy,
    pub receivers: Vec<ReceiverSettings>,
}

/// One receiver, checked.
#[derive(Debug, Clone)]
pub struct ReceiverSettings {
    pub name: String,
    pub filter: Filter,
    /// Every call to it.
    pub timeout: Duration,
    pub target: ReceiverTarget,
}

impl ReceiverSettings {
    pub fn kind(&self) -> ReceiverKind {
        match self.target {
            ReceiverTarget::Alertmanager { .. } => ReceiverKind::Alertmanager,
            ReceiverTarget::Sns { .. } => ReceiverKind::Sns,
            ReceiverTarget::Webhook { .. } => ReceiverKind::Webhook,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ReceiverTarget {
    /// Every URL is sent to (a cluster); `resend_every` while an alert fires.
    Alertmanager {
        urls: Vec<String>,
        resend_every: Duration,
    },
    /// The first topic that takes a notice has it: a list in several regions, so that paging
    /// does not depend on the region that is failing.
    Sns { topics: Vec<SnsTopic> },
    /// JSON to `url`, signed with HMAC-SHA256 of the body under `secret`.
    Webhook {
        url: String,
        secret: Secret,
        /// Adds a Slack-compatible `text` field.
        slack: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsTopic {
    pub arn: String,
    /// The topic's region (from its ARN unless given).
    pub region: String,
    pub endpoint: EndpointSettings,
}

/// The most receivers a file may list.
pub const MAX_RECEIVERS: usize = 32;
/// The most URLs of one Alertmanager cluster, and the most topics of one SNS receiver.
pub const MAX_TARGETS: usize = 8;
/// A receiver's timeout when the file gives none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// How often a firing alert is sent to Alertmanager again when the file does not say.
pub const DEFAULT_RESEND_SECS: u64 = 60;

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// The console's address as operators open it, for the links in notices.
    pub console_url: Option<Spanned<String>>,
    /// The wait after a delivery's first failure, in seconds (default 2).
    pub retry_first_secs: Option<Spanned<u64>>,
    /// The longest wait between two attempts, in seconds (default 300).
    pub retry_max_secs: Option<Spanned<u64>>,
    /// A notice not delivered this long after it was made is given up (default 1440: a day).
    pub give_up_after_mins: Option<Spanned<u64>>,
    #[serde(default)]
    pub receivers: Vec<Spanned<ReceiverSection>>,
}

/// One `[[alerts.receivers]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSection {
    pub name: Option<Spanned<String>>,
    /// "alertmanager", "sns" or "webhook".
    pub kind: Option<Spanned<String>>,
    /// alertmanager: every URL of the cluster (each is sent to).
    pub urls: Option<Spanned<Vec<String>>>,
    /// alertmanager: seconds between two sends of a firing alert (default 60).
    pub resend_secs: Option<Spanned<u64>>,
    /// sns: the topics, tried in order until one takes the notice.
    pub topics: Option<Spanned<Vec<Spanned<SnsTopicSection>>>>,
    /// webhook: where the JSON goes.
    pub url: Option<Spanned<String>>,
    /// webhook: the environment variable holding the HMAC secret.
    pub secret_env: Option<Spanned<String>>,
    /// webhook: the file holding the HMAC secret.
    pub secret_file: Option<Spanned<String>>,
    /// Never accepted: named only to say where a secret belongs.
    pub secret: Option<Spanned<toml::Value>>,
    /// webhook: add a Slack-compatible `text` field.
    pub slack: Option<Spanned<bool>>,
    /// Which severities it takes ("warning", "critical"); absent or empty: all.
    pub severities: Option<Spanned<Vec<String>>>,
    /// Which regions' alerts it takes; absent or empty: all.
    pub regions: Option<Spanned<Vec<String>>>,
    /// Which alert kinds it takes; absent or empty: all.
    pub kinds: Option<Spanned<Vec<String>>>,
    /// Every call to it, in ms (default 5000).
    pub timeout_ms: Option<Spanned<u64>>,
}

/// One SNS topic of a receiver, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsTopicSection {
    pub arn: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub lab_credentials: bool,
}

/// Where the process's environment is read (tests give their own).
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl AlertsSection {
    pub fn resolve(self, origin: Option<&Origin>) -> Result<AlertsSettings, SettingsError> {
        self.resolve_with(origin, &|k| std::env::var(k).ok())
    }

    /// As [`AlertsSection::resolve`], with secrets' environment variables read from `env`.
    pub(super) fn resolve_with(
        self,
        origin: Option<&Origin>,
        env: Env,
    ) -> Result<AlertsSettings, SettingsError> {
        let loc = |span: Range<usize>, field: &str| in_file(origin, span, field);
        let console_url = match self.console_url {
            None => None,
            Some(u) => {
                let span = u.span();
                let u = u.into_inner();
                if let Err(why) = base_url(&u) {
                    return Err(loc(span, "alerts.console_url").invalid(why));
                }
                Some(u.trim_end_matches('/').to_string())
            }
        };
        let d = RetryPolicy::default();
        let num = |v: &Option<Spanned<u64>>, default: u64| {
            v.as_ref()
                .map_or((0..0, default), |s| (s.span(), *s.get_ref()))
        };
        let (span, first) = num(&self.retry_first_secs, d.first_ms / 1_000);
        let first = between(
            || loc(span, "alerts.retry_first_secs"),
            first,
            1,
            3_600,
            "seconds",
        )?;
        let (span, max) = num(&self.retry_max_secs, d.max_ms / 1_000);
        let max = between(
            || loc(span, "alerts.retry_max_secs"),
            max,
            first,
            86_400,
            "seconds",
        )?;
        let (span, give_up) = num(&self.give_up_after_mins, d.give_up_after_ms / 60_000);
        let give_up = between(
            || loc(span, "alerts.give_up_after_mins"),
            give_up,
            1,
            10_080,
            "minutes (a week)",
        )?;
        if self.receivers.len() > MAX_RECEIVERS {
            let span = self.receivers[MAX_RECEIVERS].span();
            return Err(loc(span, "alerts.receivers")
                .invalid(format!("at most {MAX_RECEIVERS} [[alerts.receivers]]")));
        }
        let mut receivers: Vec<ReceiverSettings> = Vec::new();
        for entry in self.receivers {
            let span = entry.span();
            let r = entry.into_inner();
            let name_span = span_of(&r.name, &span);
            let r = receiver(r, span, &loc, env)?;
            if receivers.iter().any(|x| x.name == r.name) {
                return Err(loc(name_span, "alerts.receivers.name").invalid(format!(
                    "{} is listed twice (a receiver's name keys its deliveries)",
                    r.name
                )));
            }
            receivers.push(r);
        }
        Ok(AlertsSettings {
            console_url,
            retry: RetryPolicy {
                first_ms: first * 1_000,
                max_ms: max * 1_000,
                give_up_after_ms: give_up * 60_000,
            },
            receivers,
        })
    }
}

/// Where a field is: its own span when written, else its receiver's.
fn span_of<T>(v: &Option<Spanned<T>>, fallback: &Range<usize>) -> Range<usize> {
    v.as_ref().map_or(fallback.clone(), Spanned::span)
}

/// One receiver, checked; `whole` is its table's span.
fn receiver(
    r: ReceiverSection,
    whole: Range<usize>,
    loc: &dyn Fn(Range<usize>, &str) -> Place,
    env: Env,
) -> Result<ReceiverSettings, SettingsError> {
    let at = |span: Range<usize>, f: &str| loc(span, &format!("alerts.receivers.{f}"));
    let name = r
        .name
        .as_ref()
        .ok_or_else(|| at(whole.clone(), "name").invalid("every receiver needs a name"))?;
    let name_span = name.span();
    let name = name.get_ref().clone();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !name_ok {
        return Err(at(name_span, "name").invalid(format!(
            "'{name}' is not a receiver name (1 to 64 letters, digits, - _ .)"
        )));
    }
    let kind = r.kind.as_ref().ok_or_else(|| {
        at(whole.clone(), "kind").invalid(format!(
            "receiver {name} needs a kind: \"alertmanager\", \"sns\" or \"webhook\""
        ))
    })?;
    let kind = ReceiverKind::parse(kind.get_ref()).ok_or_else(|| {
        at(kind.span(), "kind").invalid(format!(
            "'{}' is not a receiver kind: \"alertmanager\", \"sns\" or \"webhook\"",
            kind.get_ref()
        ))
    })?;
    if let Some(s) = &r.secret {
        return Err(at(s.span(), "secret").invalid(
            "a secret does not belong in the configuration's text: name an environment variable (secret_env) or a file (secret_file) that holds it",
        ));
    }
    // Fields of another kind.
    let foreign: [(bool, Range<usize>, &str, ReceiverKind); 7] = [
        (
            r.urls.is_some(),
            span_of(&r.urls, &whole),
            "urls",
            ReceiverKind::Alertmanager,
        ),
        (
            r.resend_secs.is_some(),
            span_of(&r.resend_secs, &whole),
            "resend_secs",
            ReceiverKind::Alertmanager,
        ),
        (
            r.topics.is_some(),
            span_of(&r.topics, &whole),
            "topics",
            ReceiverKind::Sns,
        ),
        (
            r.url.is_some(),
            span_of(&r.url, &whole),
            "url",
            ReceiverKind::Webhook,
        ),
        (
            r.secret_env.is_some(),
            span_of(&r.secret_env, &whole),
            "secret_env",
            ReceiverKind::Webhook,
        ),
        (
            r.secret_file.is_some(),
            span_of(&r.secret_file, &whole),
            "secret_file",
            ReceiverKind::Webhook,
        ),
        (
            r.slack.is_some(),
            span_of(&r.slack, &whole),
            "slack",
            ReceiverKind::Webhook,
        ),
    ];
    if let Some((_, span, field, of)) = foreign
        .into_iter()
        .find(|(given, _, _, of)| *given && *of != kind)
    {
        return Err(at(span, field).invalid(format!(
            "{field} is for kind = \"{}\", not \"{}\"",
            of.as_str(),
            kind.as_str()
        )));
    }
    let filter = filter(&r, &at)?;
    let (span, timeout) = r
        .timeout_ms
        .as_ref()
        .map_or((whole.clone(), DEFAULT_TIMEOUT_MS), |t| {
            (t.span(), *t.get_ref())
        });
    let timeout = between(|| at(span, "timeout_ms"), timeout, 100, 60_000, "ms")?;
    let target = match kind {
        ReceiverKind::Alertmanager => {
            let urls = r.urls.as_ref().ok_or_else(|| {
                at(whole.clone(), "urls").invalid(format!(
                    "receiver {name} (alertmanager) needs urls: every Alertmanager of the cluster"
                ))
            })?;
            let span = urls.span();
            let list = urls.get_ref();
            if list.is_empty() || list.len() > MAX_TARGETS {
                return Err(at(span, "urls").invalid(format!(
                    "list between 1 and {MAX_TARGETS} Alertmanager URLs"
                )));
            }
            let mut checked: Vec<String> = Vec::new();
            for u in list {
                if let Err(why) = base_url(u) {
                    return Err(at(span.clone(), "urls").invalid(why));
                }
                let u = u.trim_end_matches('/').to_string();
                if checked.contains(&u) {
                    return Err(at(span.clone(), "urls").invalid(format!("{u} is listed twice")));
                }
                checked.push(u);
            }
            let (span, resend) = r
                .resend_secs
                .as_ref()
                .map_or((whole.clone(), DEFAULT_RESEND_SECS), |t| {
                    (t.span(), *t.get_ref())
                });
            let resend = between(|| at(span, "resend_secs"), resend, 10, 3_600, "seconds")?;
            ReceiverTarget::Alertmanager {
                urls: checked,
                resend_every: Duration::from_secs(resend),
            }
        }
        ReceiverKind::Sns => {
            let topics = r.topics.ok_or_else(|| {
                at(whole.clone(), "topics").invalid(format!(
                    "receiver {name} (sns) needs topics: a list of {{ arn = \"arn:aws:sns:REGION:ACCOUNT:NAME\" }}"
                ))
            })?;
            let span = topics.span();
            let list = topics.into_inner();
            if list.is_empty() || list.len() > MAX_TARGETS {
                return Err(
                    at(span, "topics").invalid(format!("list between 1 and {MAX_TARGETS} topics"))
                );
            }
            let mut checked: Vec<SnsTopic> = Vec::new();
            for t in list {
                let span = t.span();
                let t = t.into_inner();
                let tat = |f: &str| at(span.clone(), &format!("topics.{f}"));
                let Some(arn_region) = topic_region(&t.arn) else {
                    return Err(tat("arn").invalid(format!(
                        "'{}' is not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:noc-pager",
                        t.arn
                    )));
                };
                if checked.iter().any(|x| x.arn == t.arn) {
                    return Err(tat("arn").invalid(format!("{} is listed twice", t.arn)));
                }
                let region = match t.region {
                    Some(r) if !is_valid_code(&r) => {
                        return Err(tat("region")
                            .invalid(format!("'{r}' is not an AWS region code such as us-east-1")))
                    }
                    Some(r) => r,
                    None => arn_region,
                };
                let endpoint = endpoint(
                    t.profile,
                    t.assume_role_arn,
                    t.endpoint_url,
                    t.lab_credentials,
                    &tat,
                )?;
                checked.push(SnsTopic {
                    arn: t.arn,
                    region,
                    endpoint,
                });
            }
            ReceiverTarget::Sns { topics: checked }
        }
        ReceiverKind::Webhook => {
            let url = r.url.as_ref().ok_or_else(|| {
                at(whole.clone(), "url").invalid(format!("receiver {name} (webhook) needs a url"))
            })?;
            if let Err(why) = http_url(url.get_ref()) {
                return Err(at(url.span(), "url").invalid(why));
            }
            let secret = secret(&r, &name, &whole, &at, env)?;
            ReceiverTarget::Webhook {
                url: url.get_ref().clone(),
                secret,
                slack: r.slack.as_ref().is_some_and(|s| *s.get_ref()),
            }
        }
    };
    Ok(ReceiverSettings {
        name,
        filter,
        timeout: Duration::from_millis(timeout),
        target,
    })
}

/// A receiver's filter: known severities, region codes and alert kinds.
fn filter(
    r: &ReceiverSection,
    at: &dyn Fn(Range<usize>, &str) -> Place,
) -> Result<Filter, SettingsError> {
    let list = |v: &Option<Spanned<Vec<String>>>| {
        v.as_ref()
            .map_or((0..0, Vec::new()), |s| (s.span(), s.get_ref().clone()))
    };
    let (span, names) = list(&r.severities);
    let mut severities = Vec::new();
    for s in names {
        let Some(sev) = Severity::parse(&s) else {
            return Err(at(span, "severities").invalid(format!(
                "'{s}' is not a severity: \"warning\" or \"critical\""
            )));
        };
        severities.push(sev);
    }
    let (span, regions) = list(&r.regions);
    if let Some(bad) = regions.iter().find(|c| !is_valid_code(c)) {
        return Err(at(span, "regions").invalid(format!(
            "'{bad}' is not an AWS region code such as us-east-1"
        )));
    }
    let (span, names) = list(&r.kinds);
    let mut kinds = Vec::new();
    for k in names {
        let Some(kind) = AlertKind::parse(&k) else {
            let known: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(at(span, "kinds").invalid(format!(
                "'{k}' is not an alert kind: one of {}",
                known.join(", ")
            )));
        };
        kinds.push(kind);
    }
    Ok(Filter {
        severities,
        regions,
        kinds,
    })
}

/// A webhook's secret: from exactly one of `secret_env` and `secret_file`, not empty.
fn secret(
    r: &ReceiverSection,
    name: &str,
    whole: &Range<usize>,
    at: &dyn Fn(Range<usize>, &str) -> Place,
    env: Env,
) -> Result<Secret, SettingsError> {
    let bytes = match (&r.secret_env, &r.secret_file) {
        (Some(_), Some(f)) => {
            return Err(at(f.span(), "secret_file")
                .invalid("give secret_env or secret_file, not both"))
        }
        (None, None) => {
            return Err(at(whole.clone(), "secret_env").invalid(format!(
                "receiver {name} (webhook) needs a secret: secret_env (an environment variable) or secret_file (a file) holding it"
            )))
        }
        (Some(var), None) => {
            let v = var.get_ref();
            let value = env(v).unwrap_or_default();
            let value = value.trim();
            if value.is_empty() {
                return Err(at(var.span(), "secret_env").invalid(format!(
                    "the environment variable {v} is not set (or is empty)"
                )));
            }
            value.as_bytes().to_vec()
        }
        (None, Some(file)) => {
            let path = file.get_ref();
            let text = std::fs::read(path).map_err(|e| {
                at(file.span(), "secret_file").invalid(format!("cannot read {path}: {e}"))
            })?;
            let trimmed = text.trim_ascii();
            if trimmed.is_empty() {
                return Err(at(file.span(), "secret_file").invalid(format!("{path} is empty")));
            }
            trimmed.to_vec()
        }
    };
    Ok(Secret(bytes))
}

/// `Ok` when `u` is an http:// or https:// URL with a host and no query: a base that paths are
/// added to (Alertmanager's, the console's); else why not.
fn base_url(u: &str) -> Result<(), String> {
    http_url(u)?;
    if u.contains('?') {
        return Err(format!(
            "'{u}' is not an http:// or https:// URL: a ?query does not belong in it"
        ));
    }
    Ok(())
}

/// `Ok` when `u` is an http:// or https:// URL with a host; else why not.
fn http_url(u: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("'{u}' is not an http:// or https:// URL: {why}"));
    let Some(rest) = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
    else {
        return bad("it must start with http:// or https://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return bad("a user or password does not belong in it");
    }
    if u.bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return bad("it has a space in it");
    }
    if u.contains('#') {
        return bad("a #fragment is never sent");
    }
    let (host, port, ip6) = if let Some(inner) = authority.strip_prefix('[') {
        match inner.split_once(']') {
            Some((h, "")) => (h, None, true),
            Some((h, p)) => match p.strip_prefix(':') {
                Some(p) => (h, Some(p), true),
                None => return bad("its host is not a host name or an IP address"),
            },
            None => return bad("its host is not a host name or an IP address"),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p), false),
            None => (authority, None, false),
        }
    };
    if host.is_empty() {
        return bad("it names no host");
    }
    if let Some(p) = port {
        if !p.parse::<u16>().is_ok_and(|p| p > 0) {
            return bad("its port is not a number between 1 and 65535");
        }
    }
    let host_ok = if ip6 {
        host.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        host.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    };
    if !host_ok {
        return bad("its host is not a host name or an IP address");
    }
    Ok(())
}

/// The region of an SNS topic ARN (`arn:PARTITION:sns:REGION:ACCOUNT:NAME`), when it is one.
fn topic_region(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && is_valid_code(parts[3])
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty()
        && parts[5].len() <= 256
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| parts[3].to_string())
}

#[cfg(test)]
mod tests;
