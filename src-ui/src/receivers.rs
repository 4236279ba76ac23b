//! Where alerts go, on `#/alerts`: the receivers (Alertmanager, SNS, webhooks) with their health,
//! a receiver that fails said at the top of the page, an administrator's test alert, and the
//! delivery log.
//! (Past 500 lines: about 150 of them are its tests; the words (lines 32–160) are the part to
//! move to their own room next.)
//!
//! Rules kept here:
//! - a receiver that fails is said above the alerts, in its own box (class "receiver-callout"),
//!   never as a fleet alert nor in the alert banner: it is the console's trouble, not the fleet's;
//! - the test button is offered to administrators only (the server refuses anyone else anyway);
//!   for others it is shown off, saying why;
//! - the log is the server's, newest first; times are UTC (the local time only as a hover title);
//! - what the page says of a receiver or a delivery is a pure function of it (tested natively).

use crate::alerts::UtcTime;
use crate::Live;
use leptos::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use switchyard_core::auth::Role;
use switchyard_core::delivery::{
    DeliveriesResponse, Delivery, DeliveryState, Event, Filter, ReceiverStatus, ReceiverView,
};
use switchyard_core::time::{duration, utc_hm};
use switchyard_core::UnixMs;

/// How many deliveries the log asks for.
pub const LOG_LIMIT: u32 = 100;
/// How often the page asks again without any event.
const EVERY_MS: f64 = 5_000.0;
/// After a test is sent, how long the page asks every second (to see it delivered).
const FAST_FOR_MS: f64 = 15_000.0;

pub fn status_word(s: ReceiverStatus) -> &'static str {
    match s {
        ReceiverStatus::Idle => "idle",
        ReceiverStatus::Ok => "ok",
        ReceiverStatus::Failing => "failing",
        ReceiverStatus::Misconfigured => "misconfigured",
    }
}

pub fn state_word(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Retrying => "retrying",
        DeliveryState::Delivered => "delivered",
        DeliveryState::GaveUp => "gave up",
        DeliveryState::Refused => "refused",
    }
}

/// Whether a receiver is in trouble (said at the top of the page).
pub fn in_trouble(r: &ReceiverView) -> bool {
    matches!(
        r.health.status,
        ReceiverStatus::Failing | ReceiverStatus::Misconfigured
    )
}

/// Which alerts a receiver takes, in words: "every alert", or "critical · us-east-1 · region
/// unreachable, drops started".
pub fn filter_words(f: &Filter) -> String {
    let mut parts = Vec::new();
    if !f.severities.is_empty() {
        let s: Vec<&str> = f.severities.iter().map(|s| s.as_str()).collect();
        parts.push(s.join(", "));
    }
    if !f.regions.is_empty() {
        parts.push(f.regions.join(", "));
    }
    if !f.kinds.is_empty() {
        let k: Vec<String> = f
            .kinds
            .iter()
            .map(|k| k.as_str().replace('_', " "))
            .collect();
        parts.push(k.join(", "));
    }
    if parts.is_empty() {
        "every alert".into()
    } else {
        parts.join(" · ")
    }
}

/// The line said at the top of the page for a receiver in trouble (`None` when it is not).
pub fn trouble_line(r: &ReceiverView, now: UnixMs) -> Option<String> {
    let h = &r.health;
    let why = h.last_error.as_deref().unwrap_or("no answer");
    let waiting = match h.queued {
        0 => String::new(),
        1 => ", 1 notification waiting".into(),
        n => format!(", {n} notifications waiting"),
    };
    let since = h
        .failing_since
        .map(|at| {
            format!(
                " since {} ({})",
                utc_hm(at),
                duration(now.saturating_sub(at))
            )
        })
        .unwrap_or_default();
    match h.status {
        ReceiverStatus::Failing => Some(format!(
            "Alerts are not reaching {} ({}){since}: {why}. Retrying{waiting}.",
            r.name,
            r.kind.as_str()
        )),
        ReceiverStatus::Misconfigured => Some(format!(
            "{} ({}) refuses alerts{since}: {why}. Not retried: fix its configuration{waiting}.",
            r.name,
            r.kind.as_str()
        )),
        ReceiverStatus::Ok | ReceiverStatus::Idle => None,
    }
}

/// One line over every receiver when none is in trouble: "Alerts go to 2 receivers: am-main,
/// ops-hook." (or that they stay on this console).
pub fn summary_line(rs: &[ReceiverView]) -> String {
    match rs.len() {
        0 => "No receivers are configured: alerts stay on this console ([[alerts.receivers]] in the configuration sends them out).".into(),
        n => {
            let names: Vec<&str> = rs.iter().map(|r| r.name.as_str()).collect();
            let plural = if n == 1 { "" } else { "s" };
            format!("Alerts go to {n} receiver{plural}: {}.", names.join(", "))
        }
    }
}

/// What a delivery was about: the alert's subject and kind, or "test alert".
pub fn about(d: &Delivery) -> String {
    if d.event == Event::Test {
        return "test alert".into();
    }
    let kind = d.alert_kind.map(|k| k.as_str().replace('_', " "));
    match (d.subject.as_deref(), kind) {
        (Some(s), Some(k)) => format!("{s} · {k}"),
        (Some(s), None) => s.to_string(),
        (None, Some(k)) => k,
        (None, None) => d.alert_id.map_or("—".into(), |id| format!("alert #{id}")),
    }
}

/// When a delivery is tried next: "14:03 UTC, in 12 s", "due now", or nothing once it is done.
pub fn next_words(d: &Delivery, now: UnixMs) -> Option<String> {
    if !d.state.is_open() {
        return None;
    }
    let at = d.next_attempt_at?;
    Some(if at <= now {
        "due now".into()
    } else {
        format!("{}, in {}", crate::fmt::clock(at), duration(at - now))
    })
}

/// What a test's row says beside its receiver: "Test alert #12: delivered at 14:03:05 UTC".
pub fn test_line(d: &Delivery) -> String {
    let state = match (d.state, d.delivered_at) {
        (DeliveryState::Delivered, Some(at)) => format!("delivered at {}", crate::fmt::clock(at)),
        (DeliveryState::Pending, _) => "queued, sending…".into(),
        (s, _) => {
            let mut t = state_word(s).to_string();
            if let Some(e) = &d.last_error {
                t.push_str(&format!(": {e}"));
            }
            t
        }
    };
    format!("Test alert #{}: {state}", d.id)
}

/// Which rows the log shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub receiver: Option<String>,
    /// Only what is not delivered (pending, retrying, given up, refused).
    pub undelivered: bool,
}

impl LogFilter {
    pub fn keeps(&self, d: &Delivery) -> bool {
        self.receiver.as_ref().is_none_or(|r| *r == d.receiver)
            && (!self.undelivered || d.state != DeliveryState::Delivered)
    }
}

/// The page's copy of `GET /deliveries`, refreshed every few seconds, on every alert event, and
/// every second for a while after a test.
#[derive(Clone, Copy)]
pub struct Feed {
    pub data: ReadSignal<Option<DeliveriesResponse>>,
    pub error: ReadSignal<Option<String>>,
    /// Bumped to ask again now.
    ask: RwSignal<u64>,
    /// Until when (local ms) to ask every second.
    fast_until: RwSignal<f64>,
}

impl Feed {
    /// Starts fetching for the life of the calling view.
    pub fn start() -> Feed {
        let api = expect_context::<crate::api::Api>();
        let live = expect_context::<Live>();
        let (data, set_data) = signal(None::<DeliveriesResponse>);
        let (error, set_error) = signal(None::<String>);
        let ask = RwSignal::new(0u64);
        let fast_until = RwSignal::new(0.0f64);
        let busy = RwSignal::new(false);
        let last = RwSignal::new(0.0f64);
        let fetch = move || {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            last.set(js_sys::Date::now());
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.deliveries(LOG_LIMIT).await {
                    Ok(d) => {
                        set_error.set(None);
                        set_data.set(Some(d));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
                busy.set(false);
            });
        };
        let tick = {
            let fetch = fetch.clone();
            move || {
                let now = js_sys::Date::now();
                if now < fast_until.get_untracked() || now - last.get_untracked() >= EVERY_MS {
                    fetch();
                }
            }
        };
        crate::timers::every(tick, Duration::from_secs(1));
        // The first answer at once, again on every ask and on every alert event (a raise or a
        // clear makes deliveries).
        Effect::new(move |_| {
            ask.track();
            live.alerts.track();
            fetch();
        });
        Feed {
            data,
            error,
            ask,
            fast_until,
        }
    }

    /// Asks again now, and every second for a while.
    fn hurry(&self) {
        self.fast_until.set(js_sys::Date::now() + FAST_FOR_MS);
        self.ask.update(|n| *n += 1);
    }
}

/// Above the alerts: each receiver in trouble in a box of its own, or one quiet line saying
/// where alerts go.
#[component]
pub fn ReceiversCallout(feed: Feed) -> impl IntoView {
    let live = expect_context::<Live>();
    move || {
        let data = feed.data.get()?;
        let trouble: Vec<ReceiverView> = data
            .receivers
            .iter()
            .filter(|r| in_trouble(r))
            .cloned()
            .collect();
        if trouble.is_empty() {
            let line = summary_line(&data.receivers);
            return Some(
                view! {
                    <p class="receivers-summary muted" data-testid="receivers-summary">
                        {line}" "
                        <button class="btn btn-small" on:click=move |_| scroll_to("where-alerts-go")>"Where alerts go ↓"</button>
                    </p>
                }
                .into_any(),
            );
        }
        Some(
            trouble
                .into_iter()
                .map(|r| {
                    let status = status_word(r.health.status);
                    let name = r.name.clone();
                    let line = {
                        let r = r.clone();
                        move || trouble_line(&r, live.now.get()).unwrap_or_default()
                    };
                    view! {
                        <div class=format!("receiver-callout receiver-{status}") role="status"
                            data-testid="receiver-failing" data-receiver=name data-status=status>
                            <strong class="receiver-callout-tag">{if r.health.status == ReceiverStatus::Misconfigured { "RECEIVER MISCONFIGURED" } else { "RECEIVER FAILING" }}</strong>
                            <span class="receiver-callout-text">{line}</span>
                            <button class="btn btn-small" on:click=move |_| scroll_to("where-alerts-go")>"Delivery log ↓"</button>
                        </div>
                    }
                })
                .collect_view()
                .into_any(),
        )
    }
}

fn scroll_to(id: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
    {
        el.scroll_into_view();
    }
}

/// The receivers and the delivery log.
#[component]
pub fn WhereAlertsGo(feed: Feed) -> impl IntoView {
    let live = expect_context::<Live>();
    let session = expect_context::<crate::auth::Session>();
    let role = Signal::derive(move || session.with(|s| s.as_ref().map(|s| s.role)));
    // The latest test sent to each receiver (the answer), or why it could not be sent.
    let tests = RwSignal::new(BTreeMap::<String, Result<Delivery, String>>::new());
    let (filter, set_filter) = signal(LogFilter::default());
    let receivers = Memo::new(move |_| {
        feed.data
            .with(|d| d.as_ref().map(|d| d.receivers.clone()).unwrap_or_default())
    });
    let deliveries = Memo::new(move |_| {
        feed.data
            .with(|d| d.as_ref().map(|d| d.deliveries.clone()).unwrap_or_default())
    });
    // A test's row as it stands now: the log's copy when it has one, else the answer.
    let test_row = move |name: &str| -> Option<Result<Delivery, String>> {
        let t = tests.with(|t| t.get(name).cloned())?;
        Some(t.map(|d| deliveries.with(|l| l.iter().find(|x| x.id == d.id).cloned().unwrap_or(d))))
    };
    let shown = move || {
        let f = filter.get();
        deliveries
            .get()
            .into_iter()
            .filter(|d| f.keeps(d))
            .collect::<Vec<_>>()
    };
    view! {
        <section class="where-alerts-go" id="where-alerts-go" data-testid="where-alerts-go">
            <h2 class="section-title">"Where alerts go"</h2>
            {move || feed.error.get().map(|e| view! { <p class="form-error" data-testid="deliveries-error">{e}</p> })}
            {move || (feed.data.with(Option::is_some) && receivers.with(Vec::is_empty)).then(|| view! {
                <p class="muted">"No receivers are configured: alerts stay on this console. Add "<code>"[[alerts.receivers]]"</code>" (Alertmanager, SNS or a webhook) to the configuration to send them out."</p>
            })}
            <table class="table receivers-table" data-testid="receivers">
                <thead><tr><th>"receiver"</th><th>"kind"</th><th>"sends to"</th><th>"takes"</th><th>"health"</th><th>"last delivered"</th><th class="num">"waiting"</th><th></th></tr></thead>
                <tbody>
                    {move || receivers.get().into_iter().map(|r| {
                        let name = r.name.clone();
                        let status = status_word(r.health.status);
                        let targets = r.targets.join("\n");
                        let result_name = name.clone();
                        let on_sent = move |res: Result<Delivery, String>| {
                            if res.is_ok() {
                                feed.hurry();
                            }
                            tests.update(|t| {
                                t.insert(result_name.clone(), res);
                            });
                        };
                        view! {
                            <tr class=format!("receiver-row receiver-row-{status}") data-receiver=name.clone() data-status=status>
                                <td class="receiver-name">{name.clone()}</td>
                                <td>{r.kind.as_str()}</td>
                                <td class="targets" title=targets.clone()>{r.targets.iter().map(|t| view! { <div class="mono target">{t.clone()}</div> }).collect_view()}</td>
                                <td>{filter_words(&r.filter)}</td>
                                <td data-testid="receiver-health">
                                    <span class=format!("health-badge health-badge-{status}")>{status.to_uppercase()}</span>
                                    {r.health.last_error.clone().filter(|_| in_trouble(&r)).map(|e| { let title = e.clone(); view! { <div class="receiver-error" title=title>{e}</div> } })}
                                </td>
                                <td>{match r.health.last_delivered_at { Some(at) => view! { <UtcTime at=at /> }.into_any(), None => view! { <span class="muted">"never"</span> }.into_any() }}</td>
                                <td class="num">{r.health.queued}</td>
                                <td><TestButton name=name.clone() role=role on_sent=on_sent /></td>
                            </tr>
                            {let name = name.clone(); move || test_row(&name).map(|res| {
                                let (class, state, line) = match &res {
                                    Ok(d) => (format!("test-result test-{}", d.state.as_str()), d.state.as_str().to_string(), test_line(d)),
                                    Err(e) => ("test-result test-refused".to_string(), "error".to_string(), format!("The test could not be sent: {e}")),
                                };
                                view! {
                                    <tr class="test-row"><td colspan="8">
                                        <span class=class data-testid=format!("test-result-{name}") data-state=state>{line}</span>
                                    </td></tr>
                                }
                            })}
                        }
                    }).collect_view()}
                </tbody>
            </table>

            <h3 class="log-title">"Delivery log"</h3>
            <div class="alert-filters" data-testid="log-filters">
                <label>"Receiver "
                    <select data-testid="log-receiver" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set_filter.update(|f| f.receiver = (!v.is_empty()).then_some(v));
                    }>
                        <option value="">"all"</option>
                        {move || receivers.get().into_iter().map(|r| view! { <option value=r.name.clone()>{r.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Show "
                    <select data-testid="log-state" on:change=move |ev| set_filter.update(|f| f.undelivered = event_target_value(&ev) == "undelivered")>
                        <option value="all">"all"</option>
                        <option value="undelivered">"not delivered"</option>
                    </select>
                </label>
                <span class="muted">{move || format!("the newest {} deliveries, newest first", deliveries.with(Vec::len))}</span>
            </div>
            <table class="table delivery-log" data-testid="delivery-log">
                <thead><tr><th>"made (UTC)"</th><th>"receiver"</th><th>"alert"</th><th>"event"</th><th>"state"</th><th class="num">"attempts"</th><th>"last error"</th><th>"next attempt"</th></tr></thead>
                <tbody>
                    {move || shown().into_iter().map(|d| {
                        let state = d.state.as_str();
                        let delivered = d.delivered_at;
                        let next = { let d = d.clone(); move || next_words(&d, live.now.get()) };
                        view! {
                            <tr class=format!("delivery delivery-{state}") data-delivery-id=d.id.to_string()
                                data-receiver=d.receiver.clone() data-event=d.event.as_str() data-state=state>
                                <td><UtcTime at=d.created_at /></td>
                                <td>{d.receiver.clone()}</td>
                                <td>{about(&d)}</td>
                                <td class=format!("event-{}", d.event.as_str())>{d.event.as_str()}</td>
                                <td class=format!("state state-{state}") data-testid="delivery-state">
                                    {state_word(d.state)}
                                    {delivered.map(|at| view! { " " <span class="muted">{crate::fmt::clock(at)}</span> })}
                                </td>
                                <td class="num">{d.attempts}</td>
                                <td class="receiver-error" title=d.last_error.clone().unwrap_or_default()>{d.last_error.clone()}</td>
                                <td class="nowrap">{next}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || (feed.data.with(Option::is_some) && deliveries.with(Vec::is_empty)).then(|| view! { <p class="muted">"Nothing sent yet."</p> })}
        </section>
    }
}

/// Why `role` may not send a test alert ("" when it may).
pub fn why_not_admin(role: Option<Role>) -> String {
    match role {
        Some(r) if r.allows(Role::Admin) => String::new(),
        Some(r) => format!(
            "needs the admin role: you are signed in as {}",
            match r {
                Role::Viewer => "a viewer",
                Role::Operator => "an operator",
                Role::Admin => "an admin",
            }
        ),
        None => "needs the admin role".into(),
    }
}

/// "Send test alert" to one receiver: administrators only; off, saying why, for anyone else or
/// while the server is unreachable.
#[component]
fn TestButton(
    name: String,
    role: Signal<Option<Role>>,
    on_sent: impl Fn(Result<Delivery, String>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let api = expect_context::<crate::api::Api>();
    let live = expect_context::<Live>();
    let (sending, set_sending) = signal(false);
    let why = move || {
        if live.server_lost.get() {
            "the console cannot reach its server".to_string()
        } else {
            why_not_admin(role.get())
        }
    };
    let testid = format!("test-receiver-{name}");
    let send = move |_| {
        let (api, name, done) = (api.clone(), name.clone(), on_sent.clone());
        set_sending.set(true);
        leptos::task::spawn_local(async move {
            done(api.test_receiver(&name).await);
            set_sending.set(false);
        });
    };
    view! {
        <button class="btn btn-small" data-testid=testid
            disabled=move || sending.get() || !why().is_empty()
            title=move || { let w = why(); if w.is_empty() { "sends a test notification through this receiver now".to_string() } else { w } }
            on:click=send>{move || if sending.get() { "Sending…" } else { "Send test alert" }}</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::{AlertKind, Severity};
    use switchyard_core::delivery::{ReceiverHealth, ReceiverKind};

    fn receiver(name: &str, status: ReceiverStatus) -> ReceiverView {
        ReceiverView {
            name: name.into(),
            kind: ReceiverKind::Webhook,
            targets: vec!["http://127.0.0.1:9/hook".into()],
            filter: Filter::default(),
            health: ReceiverHealth {
                status,
                ..ReceiverHealth::default()
            },
        }
    }

    fn delivery(id: i64, receiver: &str, state: DeliveryState) -> Delivery {
        Delivery {
            id,
            receiver: receiver.into(),
            alert_id: Some(3),
            event: Event::Firing,
            state,
            attempts: 1,
            last_error: None,
            created_at: 1_000,
            next_attempt_at: Some(13_000),
            delivered_at: None,
            alert_kind: Some(AlertKind::RegionUnreachable),
            subject: Some("us-east-1".into()),
        }
    }

    #[test]
    fn a_filter_reads_as_the_alerts_it_takes_and_an_empty_one_takes_every_alert() {
        assert_eq!(filter_words(&Filter::default()), "every alert");
        let f = Filter {
            severities: vec![Severity::Critical],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            kinds: vec![AlertKind::RegionUnreachable, AlertKind::DropsStarted],
        };
        assert_eq!(
            filter_words(&f),
            "critical · us-east-1, eu-west-1 · region unreachable, drops started"
        );
    }

    #[test]
    fn a_failing_receiver_is_called_out_with_its_error_since_when_and_what_waits() {
        let mut r = receiver("ops-hook", ReceiverStatus::Failing);
        r.health.last_error = Some("HTTP 503: busy".into());
        r.health.failing_since = Some(1_796_152_686_000);
        r.health.queued = 3;
        assert!(in_trouble(&r));
        assert_eq!(
            trouble_line(&r, 1_796_152_686_000 + 125_000).unwrap(),
            "Alerts are not reaching ops-hook (webhook) since 19:18 UTC (2 min 05 s): \
             HTTP 503: busy. Retrying, 3 notifications waiting."
        );
        r.health.status = ReceiverStatus::Misconfigured;
        r.health.queued = 0;
        let line = trouble_line(&r, 1_796_152_686_000).unwrap();
        assert!(
            line.starts_with("ops-hook (webhook) refuses alerts since 19:18 UTC (0 s): HTTP 503")
                && line.ends_with("Not retried: fix its configuration."),
            "{line}"
        );
        for fine in [ReceiverStatus::Ok, ReceiverStatus::Idle] {
            let r = receiver("am", fine);
            assert!(!in_trouble(&r) && trouble_line(&r, 0).is_none());
        }
    }

    #[test]
    fn the_quiet_line_names_every_receiver_or_says_alerts_stay_here() {
        assert!(summary_line(&[]).starts_with("No receivers are configured"));
        assert_eq!(
            summary_line(&[receiver("am", ReceiverStatus::Ok)]),
            "Alerts go to 1 receiver: am."
        );
        assert_eq!(
            summary_line(&[
                receiver("am", ReceiverStatus::Ok),
                receiver("ops-hook", ReceiverStatus::Idle)
            ]),
            "Alerts go to 2 receivers: am, ops-hook."
        );
    }

    #[test]
    fn a_log_row_says_its_alert_and_when_it_is_tried_next_only_while_open() {
        let mut d = delivery(1, "ops", DeliveryState::Retrying);
        assert_eq!(about(&d), "us-east-1 · region unreachable");
        assert_eq!(next_words(&d, 1_000).unwrap(), "00:00:13 UTC, in 12 s");
        assert_eq!(next_words(&d, 13_000).unwrap(), "due now");
        d.state = DeliveryState::Delivered;
        assert_eq!(next_words(&d, 1_000), None);
        d.event = Event::Test;
        assert_eq!(about(&d), "test alert");
        d.event = Event::Resolved;
        d.subject = None;
        d.alert_kind = None;
        assert_eq!(about(&d), "alert #3");
    }

    #[test]
    fn a_test_says_delivered_with_its_time_or_why_not() {
        let mut d = delivery(12, "ops", DeliveryState::Pending);
        d.event = Event::Test;
        assert_eq!(test_line(&d), "Test alert #12: queued, sending…");
        d.state = DeliveryState::Retrying;
        d.last_error = Some("HTTP 503".into());
        assert_eq!(test_line(&d), "Test alert #12: retrying: HTTP 503");
        d.state = DeliveryState::Delivered;
        d.delivered_at = Some(3_723_000);
        assert_eq!(test_line(&d), "Test alert #12: delivered at 01:02:03 UTC");
    }

    #[test]
    fn the_log_filter_keeps_one_receiver_and_what_is_not_delivered() {
        let a = delivery(1, "am", DeliveryState::Delivered);
        let b = delivery(2, "ops", DeliveryState::Retrying);
        let c = delivery(3, "ops", DeliveryState::Delivered);
        let all = LogFilter::default();
        assert!(all.keeps(&a) && all.keeps(&b) && all.keeps(&c));
        let ops = LogFilter {
            receiver: Some("ops".into()),
            ..LogFilter::default()
        };
        assert!(!ops.keeps(&a) && ops.keeps(&b) && ops.keeps(&c));
        let open = LogFilter {
            undelivered: true,
            ..LogFilter::default()
        };
        assert!(!open.keeps(&a) && open.keeps(&b) && !open.keeps(&c));
    }

    #[test]
    fn only_an_admin_may_send_a_test_and_anyone_else_is_told_why() {
        assert_eq!(why_not_admin(Some(Role::Admin)), "");
        assert_eq!(
            why_not_admin(Some(Role::Operator)),
            "needs the admin role: you are signed in as an operator"
        );
        assert_eq!(
            why_not_admin(Some(Role::Viewer)),
            "needs the admin role: you are signed in as a viewer"
        );
        assert_eq!(why_not_admin(None), "needs the admin role");
    }
}
