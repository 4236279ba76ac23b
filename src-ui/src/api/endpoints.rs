//! One descriptor per API route the UI calls: its method and path on HTTP, its command on IPC,
//! the status that means success, and how its HTTP answer is read. [`super::Api`] takes a
//! descriptor and goes over either transport; nothing else names a route. Pure Rust (no JS), so
//! it is tested natively.
//!
//! Rules kept here:
//! - Every IPC name is a command the desktop app registers (`src-tauri/desktop/commands.list`),
//!   and every command there has a descriptor (a test).
//! - Every (method, path) is a route the server answers (its OpenAPI document; a test).
//! - A GET succeeds on any 2xx and its failure names the URL and the status; a change succeeds
//!   on exactly its status and its failure is the API's own message.

use serde::de::DeserializeOwned;
use switchyard_core::alerts::{Alert, AlertsResponse};
use switchyard_core::api::{RegionHistory, RegionsResponse, API_PREFIX};
use switchyard_core::auth::{SessionInfo, SessionStatus, UserInfo};
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};
use switchyard_core::commands::CommandRun;
use switchyard_core::delivery::{DeliveriesResponse, Delivery};
use switchyard_core::devices::{DeviceDetail, DevicePage};
use switchyard_core::drills::{Comparison, Drill, DrillSummary, DrillsResponse};
use switchyard_core::edge::GatewaysResponse;
use switchyard_core::failover::{Failover, FailoverOverview};
use switchyard_core::incidents::{IncidentDetail, IncidentsResponse, TimelineEntry};
use switchyard_core::moving::StragglerResults;

pub use switchyard_core::api::{CommandRunDetail as RunDetail, CommandsOverview};
pub use switchyard_core::commands::CommandPreview;
pub use switchyard_core::failover::Requested;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// A route without its answer's type: what the drift tests compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// The route's template under `/api/v1`, as the server declares it (`/drills/{id}/notes`).
    pub path: &'static str,
    /// The status that means success for a change (a GET succeeds on any 2xx).
    pub ok: u16,
    /// The desktop app's command for it; `None` where the desktop app has none (sign-in and
    /// accounts: standalone, the app has no logins).
    pub ipc: Option<&'static str>,
}

impl Route {
    /// The route's address under `base`: each `{…}` of the template filled, in order, with the
    /// next of `params` (encoded), then the query (values encoded).
    pub fn url(&self, base: &str, params: &[&str], query: &[(&str, String)]) -> String {
        let mut url = format!("{base}{API_PREFIX}");
        let mut params = params.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            url.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            url.push_str(&enc(params.next().copied().unwrap_or_default()));
            rest = &rest[close..];
        }
        url.push_str(rest);
        if !query.is_empty() {
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect();
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        url
    }
}

/// Percent-encodes as JavaScript's `encodeURIComponent` does: everything but letters, digits
/// and `-_.!~*'()`.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An HTTP answer, for a descriptor's reader.
pub struct Answer<'a> {
    pub route: Route,
    pub url: &'a str,
    pub status: u16,
    pub text: &'a str,
}

impl Answer<'_> {
    /// The API's message in a failed answer (its `error`), or the body as it came.
    fn message(&self) -> String {
        serde_json::from_str::<switchyard_core::api::ApiError>(self.text)
            .map(|e| e.error)
            .unwrap_or_else(|_| self.text.to_string())
    }

    /// Whether the call succeeded; if not, the error an operator reads.
    fn succeeded(&self) -> Result<(), String> {
        match self.route.method {
            Method::Get if (200..300).contains(&self.status) => Ok(()),
            Method::Get => Err(format!("{}: {} {}", self.url, self.status, self.message())),
            _ if self.status == self.route.ok => Ok(()),
            _ => Err(self.message()),
        }
    }

    fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(self.text).map_err(|e| match self.route.method {
            Method::Get => format!("{}: unexpected answer: {e}", self.url),
            _ => format!("unexpected answer: {e}"),
        })
    }
}

/// A route the UI calls, with the type of its answer.
pub struct Endpoint<T> {
    pub route: Route,
    read: fn(&Answer) -> Result<T, String>,
}

impl<T> Endpoint<T> {
    /// Turns the HTTP answer into the route's type, or the error an operator reads.
    pub fn read(&self, answer: &Answer) -> Result<T, String> {
        (self.read)(answer)
    }
}

/// A JSON answer.
fn json<T: DeserializeOwned>(a: &Answer) -> Result<T, String> {
    a.succeeded()?;
    a.parse()
}

/// An answer whose body does not matter (it must still be JSON).
fn nothing(a: &Answer) -> Result<(), String> {
    json::<serde_json::Value>(a).map(|_| ())
}

/// An answer that is text (SVG markup).
fn text(a: &Answer) -> Result<String, String> {
    a.succeeded()?;
    Ok(a.text.to_string())
}

/// `POST /failovers`: 202 and the failover started, or 200 and why nothing was done.
fn requested(a: &Answer) -> Result<Requested, String> {
    match a.status {
        202 => serde_json::from_str(a.text)
            .map(|f| Requested::Started(Box::new(f)))
            .map_err(|e| format!("{}: unexpected answer: {e}", a.url)),
        200 => serde_json::from_str::<switchyard_core::api::NothingToDo>(a.text)
            .map(|n| Requested::NothingToDo(n.nothing_to_do))
            .map_err(|e| format!("{}: unexpected answer: {e}", a.url)),
        _ => Err(a.message()),
    }
}

/// `POST /failovers/{id}/stragglers/cancel`: the failover as it stands, on 200 or 202 (the
/// step may still be finishing its wave when the answer goes).
fn failover_changed(a: &Answer) -> Result<Failover, String> {
    match a.status {
        200 | 202 => a.parse(),
        _ => Err(a.message()),
    }
}

/// `GET /session`: who is signed in, or `None` when nobody is (a 200 either way).
fn session(a: &Answer) -> Result<Option<SessionInfo>, String> {
    match a.status {
        200 => serde_json::from_str::<SessionStatus>(a.text)
            .map(SessionStatus::session)
            .map_err(|e| format!("unexpected answer: {e}")),
        _ => Err(a.message()),
    }
}

/// Declares the descriptors and the list of them all, from one list.
macro_rules! endpoints {
    ($($(#[doc = $doc:literal])* $name:ident: $t:ty = $method:ident $path:literal,
        $ok:literal, $ipc:expr, $read:ident;)*) => {
        $(
            $(#[doc = $doc])*
            pub const $name: Endpoint<$t> = Endpoint {
                route: Route { method: Method::$method, path: $path, ok: $ok, ipc: $ipc },
                read: $read,
            };
        )*
        /// Every route the UI calls (what the drift tests compare).
        #[cfg(test)]
        const CALLED: &[Route] = &[$($name.route),*];
    };
}

endpoints! {
    /// Every configured region, at the current state version.
    REGIONS: RegionsResponse = Get "/regions", 200, Some("regions"), json;
    /// Devices, filtered and paged.
    DEVICES: DevicePage = Get "/devices", 200, Some("devices"), json;
    /// One device and its recent connectivity changes.
    DEVICE: DeviceDetail = Get "/devices/{id}", 200, Some("device"), json;
    GATEWAYS: GatewaysResponse = Get "/edge/gateways", 200, Some("gateways"), json;
    ALERTS: AlertsResponse = Get "/alerts", 200, Some("alerts"), json;
    /// A region's samples, oldest first.
    HISTORY: RegionHistory = Get "/regions/{id}/history", 200, Some("history"), json;
    FAILOVER_OVERVIEW: FailoverOverview = Get "/failover", 200, Some("failover_overview"), json;
    REQUEST_FAILOVER: Requested = Post "/failovers", 202, Some("request_failover"), requested;
    /// One page of a failover's per-device straggler results, by outcome.
    STRAGGLER_RESULTS: StragglerResults = Get "/failovers/{id}/stragglers", 200, Some("straggler_results"), json;
    /// Stops moving the stragglers (with a reason); the failover itself goes on.
    CANCEL_STRAGGLERS: Failover = Post "/failovers/{id}/stragglers/cancel", 200, Some("cancel_stragglers"), failover_changed;
    /// The command catalogue and the recent runs.
    COMMANDS: CommandsOverview = Get "/commands", 200, Some("commands_overview"), json;
    PREVIEW_COMMAND: CommandPreview = Post "/commands/preview", 200, Some("preview_command"), json;
    RUN_COMMAND: CommandRun = Post "/commands", 202, Some("run_command"), json;
    /// A run and the first of its results.
    COMMAND_RUN: RunDetail = Get "/commands/{id}", 200, Some("command_run"), json;
    CANCEL_COMMAND: () = Post "/commands/{id}/cancel", 200, Some("cancel_command"), nothing;
    /// Who is signed in (the desktop app standalone has no logins: no command).
    SESSION: Option<SessionInfo> = Get "/session", 200, None, session;
    LOGIN: SessionInfo = Post "/session", 200, None, json;
    LOGOUT: () = Delete "/session", 200, None, nothing;
    /// The first admin's account, with the setup token.
    SETUP: SessionInfo = Post "/setup", 200, None, json;
    USERS: Vec<UserInfo> = Get "/users", 200, None, json;
    ADD_USER: UserInfo = Post "/users", 201, None, json;
    DRILLS: DrillsResponse = Get "/drills", 200, Some("drills_overview"), json;
    START_DRILL: DrillSummary = Post "/drills", 202, Some("start_drill"), json;
    DRILL: Drill = Get "/drills/{id}", 200, Some("drill"), json;
    COMPARE_DRILLS: Comparison = Get "/drills/compare", 200, Some("compare_drills"), json;
    DRILL_NOTES: Drill = Post "/drills/{id}/notes", 200, Some("drill_notes"), json;
    ABORT_DRILL: () = Post "/drills/{id}/abort", 200, Some("abort_drill"), nothing;
    /// One chart of a drill's report, as SVG markup (`{file}` is `<chart>.svg`).
    DRILL_CHART: String = Get "/drills/{id}/charts/{file}", 200, Some("drill_chart"), text;
    /// Incidents, newest first (`?open=true` for the open one only).
    INCIDENTS: IncidentsResponse = Get "/incidents", 200, Some("incidents"), json;
    /// One incident, its alerts and its timeline.
    INCIDENT: IncidentDetail = Get "/incidents/{id}", 200, Some("incident"), json;
    /// The incident as a file's text: Markdown (`?format=md`) or JSON (`?format=json`).
    INCIDENT_EXPORT: String = Get "/incidents/{id}/export", 200, Some("incident_export"), text;
    /// A note on an incident's timeline.
    ADD_INCIDENT_NOTE: TimelineEntry = Post "/incidents/{id}/notes", 201, Some("add_incident_note"), json;
    /// Acknowledges an alert (with a note, which may be empty); the answer is the alert.
    ACK_ALERT: Alert = Post "/alerts/{id}/ack", 200, Some("ack_alert"), json;
    /// What a failover to `?target=` would do, said before it is asked for.
    FAILOVER_PLAN: FailoverPlan = Get "/failover/plan", 200, Some("failover_plan"), json;
    /// A whole request checked without starting it (also the confirmation and the reason).
    FAILOVER_DRY_RUN: FailoverPlan = Post "/failovers/plan", 200, Some("failover_dry_run"), json;

    /// The header's, the strip's and `switchyard status`'s answer in one.
    STATUS: StatusResponse = Get "/status", 200, Some("status"), json;

    /// Where alerts go: the receivers with their health, and the newest `?limit=` deliveries.
    DELIVERIES: DeliveriesResponse = Get "/deliveries", 200, Some("deliveries"), json;
    /// An administrator's test alert to one receiver; the answer is the test's log row.
    /// (The server waits a few seconds for the receiver's answer before it answers.)
    TEST_RECEIVER: Delivery = Post "/receivers/{name}/test", 200, Some("test_receiver"), json;
}

/// The live event stream (server-sent events); on IPC, the `fleet` event instead.
pub const EVENTS: Route = Route {
    method: Method::Get,
    path: "/events",
    ok: 200,
    ipc: None,
};

/// The desktop app's event that carries what [`EVENTS`] carries.
pub const IPC_EVENT: &str = "fleet";

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's routes, from its OpenAPI document as kept in `docs/openapi.json` (a server
    /// test keeps that file equal to the generated document): the UI does not depend on the
    /// server's crate.
    fn server_routes() -> Vec<(String, String)> {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/openapi.json"))
                .expect("docs/openapi.json is JSON");
        let mut routes = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("the document has paths") {
            for method in item.as_object().expect("a path item").keys() {
                routes.push((method.clone(), path.clone()));
            }
        }
        routes
    }

    #[test]
    fn every_ipc_name_is_a_command_the_desktop_app_registers_and_every_command_has_one() {
        let mut listed: Vec<&str> = include_str!("../../../src-tauri/desktop/commands.list")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let mut named: Vec<&str> = CALLED.iter().filter_map(|r| r.ipc).collect();
        listed.sort_unstable();
        named.sort_unstable();
        let before = named.len();
        named.dedup();
        assert_eq!(before, named.len(), "one descriptor per command");
        assert_eq!(
            named, listed,
            "the descriptors' IPC names are the desktop app's commands"
        );
    }

    #[test]
    fn every_route_the_ui_calls_is_one_the_server_answers() {
        let routes = server_routes();
        assert!(routes.len() > 20, "the route table was read: {routes:?}");
        for r in CALLED.iter().chain([&EVENTS]) {
            let wanted = (
                r.method.as_str().to_ascii_lowercase(),
                format!("{API_PREFIX}{}", r.path),
            );
            assert!(routes.contains(&wanted), "{wanted:?} is not a server route");
        }
    }

    #[test]
    fn a_route_fills_its_template_in_order_and_encodes_what_it_fills() {
        assert_eq!(
            DRILL_CHART.route.url("", &["d 1", "online.svg"], &[]),
            "/api/v1/drills/d%201/charts/online.svg"
        );
        assert_eq!(
            HISTORY
                .route
                .url("http://h:1", &["eu-west-1"], &[("minutes", "60".into())]),
            "http://h:1/api/v1/regions/eu-west-1/history?minutes=60"
        );
        assert_eq!(
            COMPARE_DRILLS
                .route
                .url("", &[], &[("a", "x&y".into()), ("b", "ü/z".into())]),
            "/api/v1/drills/compare?a=x%26y&b=%C3%BC%2Fz"
        );
        assert_eq!(REGIONS.route.url("", &[], &[]), "/api/v1/regions");
    }

    #[test]
    fn encoding_keeps_what_encode_uri_component_keeps() {
        assert_eq!(enc("AZaz09-_.!~*'()"), "AZaz09-_.!~*'()");
        assert_eq!(enc("a b/c?d#e"), "a%20b%2Fc%3Fd%23e");
        assert_eq!(enc("é"), "%C3%A9");
    }

    fn answer(route: Route, status: u16, text: &str) -> Answer<'_> {
        Answer {
            route,
            url: "/api/v1/x",
            status,
            text,
        }
    }

    #[test]
    fn a_failed_read_names_the_url_and_status_and_a_failed_change_gives_the_api_message() {
        let body = r#"{"error":"no drill d-9"}"#;
        assert_eq!(
            DRILL.read(&answer(DRILL.route, 404, body)).unwrap_err(),
            "/api/v1/x: 404 no drill d-9"
        );
        assert_eq!(
            START_DRILL
                .read(&answer(
                    START_DRILL.route,
                    409,
                    r#"{"error":"a drill is running"}"#
                ))
                .unwrap_err(),
            "a drill is running"
        );
        // A change succeeds on exactly its status.
        assert_eq!(
            ADD_USER
                .read(&answer(ADD_USER.route, 200, "{}"))
                .unwrap_err(),
            "{}"
        );
        assert!(CANCEL_COMMAND
            .read(&answer(CANCEL_COMMAND.route, 200, r#"{"cancelled":true}"#))
            .is_ok());
        assert_eq!(
            DRILL_CHART
                .read(&answer(DRILL_CHART.route, 200, "<svg/>"))
                .unwrap(),
            "<svg/>"
        );
    }

    #[test]
    fn a_failover_request_answers_started_or_nothing_to_do_and_a_session_may_be_absent() {
        let r = REQUEST_FAILOVER.route;
        let nothing = REQUEST_FAILOVER
            .read(&answer(
                r,
                200,
                r#"{"nothing_to_do":"eu-west-1 is already active"}"#,
            ))
            .unwrap();
        assert!(
            matches!(&nothing, Requested::NothingToDo(m) if m == "eu-west-1 is already active"),
            "{nothing:?}"
        );
        assert_eq!(
            REQUEST_FAILOVER
                .read(&answer(r, 409, r#"{"error":"a failover is in progress"}"#))
                .unwrap_err(),
            "a failover is in progress"
        );
        assert!(REQUEST_FAILOVER
            .read(&answer(r, 202, "{}"))
            .unwrap_err()
            .starts_with("/api/v1/x: unexpected answer: "));
        let out = r#"{"signed_in":false,"mode":"local","reason":"sign in first"}"#;
        assert_eq!(
            SESSION.read(&answer(SESSION.route, 200, out)).unwrap(),
            None
        );
        let signed_in = r#"{"signed_in":true,"mode":"local","username":"otto","role":"operator","csrf":"c","expires_at":0}"#;
        let s = SESSION
            .read(&answer(SESSION.route, 200, signed_in))
            .unwrap();
        assert_eq!(
            s.map(|s| (s.username, s.csrf)),
            Some(("otto".into(), "c".into()))
        );
    }

    #[test]
    fn a_test_alert_names_its_receiver_encoded_and_reads_its_log_row_or_the_api_message() {
        let r = TEST_RECEIVER.route;
        assert_eq!(
            r.url("", &["ops hook/1"], &[]),
            "/api/v1/receivers/ops%20hook%2F1/test"
        );
        assert_eq!(
            DELIVERIES.route.url("", &[], &[("limit", "50".into())]),
            "/api/v1/deliveries?limit=50"
        );
        let row = r#"{"id":7,"receiver":"ops","alert_id":null,"event":"test","state":"pending",
            "attempts":0,"last_error":null,"created_at":1000,"next_attempt_at":1000,
            "delivered_at":null,"alert_kind":null,"subject":"switchyard-test"}"#;
        let d = TEST_RECEIVER.read(&answer(r, 200, row)).unwrap();
        assert_eq!((d.id, d.receiver.as_str()), (7, "ops"));
        assert_eq!(
            TEST_RECEIVER
                .read(&answer(r, 404, r#"{"error":"no receiver named 'x'"}"#))
                .unwrap_err(),
            "no receiver named 'x'"
        );
        assert_eq!(
            TEST_RECEIVER
                .read(&answer(r, 403, r#"{"error":"needs the admin role"}"#))
                .unwrap_err(),
            "needs the admin role"
        );
    }

    #[test]
    fn stopping_the_stragglers_answers_the_failover_on_200_or_202_and_the_api_message_otherwise() {
        let r = CANCEL_STRAGGLERS.route;
        assert_eq!(
            r.url("", &["f 1"], &[]),
            "/api/v1/failovers/f%201/stragglers/cancel"
        );
        assert_eq!(
            CANCEL_STRAGGLERS
                .read(&answer(r, 409, r#"{"error":"the stragglers are done"}"#))
                .unwrap_err(),
            "the stragglers are done"
        );
        for status in [200, 202] {
            let err = CANCEL_STRAGGLERS
                .read(&answer(r, status, "{}"))
                .unwrap_err();
            assert!(err.starts_with("unexpected answer: "), "{status}: {err}");
        }
        assert_eq!(
            STRAGGLER_RESULTS.route.url(
                "",
                &["f-1"],
                &[("outcome", "failed".into()), ("limit", "10".into())]
            ),
            "/api/v1/failovers/f-1/stragglers?outcome=failed&limit=10"
        );
    }
}
