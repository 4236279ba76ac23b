//! Past 500 lines: one typed function per route the UI calls (the descriptors stay in `endpoints`).
//!
//! The one API client, with two transports: HTTP + server-sent events (the web build, or the
//! desktop app connected to a team server) and Tauri IPC (the desktop app with its engine
//! in-process). Views never know which one they have.
//!
//! Rooms: [`endpoints`] (one descriptor per route: method, path, IPC command, how its answer
//! is read), [`transport`] (the JavaScript glue of both transports); here, one generic
//! [`Api::call`] that takes a descriptor, and the typed functions the views call.
//!
//! Rules kept here:
//! - Every call goes through [`Api::call`] with a descriptor: no route is named elsewhere.
//! - The desktop app standalone has no logins: its user is an admin, and sign-in and accounts
//!   have no command there.

mod endpoints;
mod transport;

use endpoints::{Answer, Endpoint, Method, Route};
use serde::de::DeserializeOwned;
use switchyard_core::alerts::{Alert, AlertsResponse};
use switchyard_core::api::{FleetEvent, RegionHistory, RegionsResponse};
use switchyard_core::auth::{NewUser, Role, SessionInfo, UserInfo};
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};
use switchyard_core::commands::{CommandRequest, CommandRun};
use switchyard_core::delivery::{DeliveriesResponse, Delivery};
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};
use switchyard_core::drills::{
    Comparison, Drill, DrillNotes, DrillSummary, DrillsResponse, Scenario,
};
use switchyard_core::edge::GatewaysResponse;
use switchyard_core::failover::{Failover, FailoverOverview, FailoverRequest};
use switchyard_core::incidents::{
    AckRequest, IncidentDetail, IncidentsResponse, NoteRequest, TimelineEntry,
};
use switchyard_core::moving::{DeviceOutcome, StragglerResults};
use transport::{set_csrf, tauri_fn};

pub use endpoints::{enc, CommandPreview, CommandsOverview, Requested, RunDetail};
pub use transport::{Link, Subscription};

#[derive(Debug, Clone)]
pub enum Api {
    Http { base: String },
    Tauri,
}

/// What one call carries besides its route: the template's parameters in order, the query,
/// the JSON body (a change without one sends `{}`), and the IPC command's arguments.
#[derive(Default)]
struct Call<'a> {
    path: &'a [&'a str],
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    args: Option<serde_json::Value>,
}

fn to_json(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

impl Api {
    /// Tauri IPC when the desktop app serves the page itself (standalone), otherwise HTTP to
    /// the server that served it: a browser, or the desktop app connected to a team server
    /// (where Tauri's globals may be present but the page's origin is the server's).
    pub fn detect() -> Api {
        let own_page = web_sys::window()
            .and_then(|w| {
                let l = w.location();
                Some((l.protocol().ok()?, l.hostname().ok()?))
            })
            .is_some_and(|(protocol, host)| protocol == "tauri:" || host == "tauri.localhost");
        if own_page && tauri_fn("core", "invoke").is_some() {
            Api::Tauri
        } else {
            Api::Http {
                base: String::new(),
            }
        }
    }

    pub fn transport_name(&self) -> &'static str {
        match self {
            Api::Http { .. } => "http",
            Api::Tauri => "ipc",
        }
    }

    /// One call on either transport: over HTTP, the descriptor's method and address, read by
    /// the descriptor; over IPC, the descriptor's command with `call.args` (none: `{}`).
    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint<T>,
        call: Call<'_>,
    ) -> Result<T, String> {
        let route = endpoint.route;
        match self {
            Api::Http { base } => {
                let url = route.url(base, call.path, &call.query);
                let body = match route.method {
                    Method::Get => None,
                    _ => Some(call.body.map_or("{}".into(), |b| b.to_string())),
                };
                let (status, text) =
                    transport::http_request(&url, route.method.as_str(), body.as_deref()).await?;
                endpoint.read(&Answer {
                    route,
                    url: &url,
                    status,
                    text: &text,
                })
            }
            Api::Tauri => {
                let command = route.ipc.ok_or_else(|| no_command(route))?;
                let args = call.args.unwrap_or_else(|| serde_json::json!({}));
                transport::tauri_invoke(command, args).await
            }
        }
    }

    pub async fn regions(&self) -> Result<RegionsResponse, String> {
        self.call(&endpoints::REGIONS, Call::default()).await
    }

    pub async fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, String> {
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some(r) = &q.region {
            query.push(("region", r.clone()));
        }
        if let Some(g) = &q.thing_group {
            query.push(("thing_group", g.clone()));
        }
        if let Some(c) = q.connected {
            query.push(("connected", c.to_string()));
        }
        if let Some(r) = q.reason {
            query.push(("reason", r.as_str().to_string()));
        }
        if let Some(t) = &q.q {
            query.push(("q", t.clone()));
        }
        query.push(("offset", q.offset.to_string()));
        query.push(("limit", q.limit().to_string()));
        let args = serde_json::json!({ "query": q });
        let call = Call {
            query,
            args: Some(args),
            ..Call::default()
        };
        self.call(&endpoints::DEVICES, call).await
    }

    pub async fn device(&self, id: &str) -> Result<DeviceDetail, String> {
        let call = Call {
            path: &[id],
            args: Some(serde_json::json!({ "id": id })),
            ..Call::default()
        };
        self.call(&endpoints::DEVICE, call).await
    }

    pub async fn gateways(&self, limit: u32) -> Result<GatewaysResponse, String> {
        let call = Call {
            query: vec![("limit", limit.to_string())],
            args: Some(serde_json::json!({ "limit": limit })),
            ..Call::default()
        };
        self.call(&endpoints::GATEWAYS, call).await
    }

    pub async fn alerts(&self, open: bool, limit: u32) -> Result<AlertsResponse, String> {
        let call = Call {
            query: vec![("open", open.to_string()), ("limit", limit.to_string())],
            args: Some(serde_json::json!({ "open": open, "limit": limit })),
            ..Call::default()
        };
        self.call(&endpoints::ALERTS, call).await
    }

    pub async fn history(&self, region: &str, minutes: u32) -> Result<RegionHistory, String> {
        let call = Call {
            path: &[region],
            query: vec![("minutes", minutes.to_string())],
            args: Some(serde_json::json!({ "region": region, "minutes": minutes })),
            ..Call::default()
        };
        self.call(&endpoints::HISTORY, call).await
    }

    pub async fn failover_overview(&self) -> Result<FailoverOverview, String> {
        self.call(&endpoints::FAILOVER_OVERVIEW, Call::default())
            .await
    }

    /// Asks for a failover; the answer is the failover started, or why nothing was done.
    pub async fn request_failover(&self, req: &FailoverRequest) -> Result<Requested, String> {
        let call = Call {
            body: Some(to_json(req)),
            args: Some(serde_json::json!({ "request": req })),
            ..Call::default()
        };
        self.call(&endpoints::REQUEST_FAILOVER, call).await
    }

    /// One page of a failover's per-device straggler results, of one outcome (`None`: all).
    pub async fn straggler_results(
        &self,
        id: &str,
        outcome: Option<DeviceOutcome>,
        offset: u64,
        limit: u32,
    ) -> Result<StragglerResults, String> {
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some(o) = outcome {
            query.push(("outcome", o.as_str().to_string()));
        }
        query.push(("offset", offset.to_string()));
        query.push(("limit", limit.to_string()));
        let args =
            serde_json::json!({ "id": id, "outcome": outcome, "offset": offset, "limit": limit });
        let call = Call {
            path: &[id],
            query,
            args: Some(args),
            ..Call::default()
        };
        self.call(&endpoints::STRAGGLER_RESULTS, call).await
    }

    /// Stops moving a failover's stragglers; the answer is the failover as it stands.
    pub async fn cancel_stragglers(&self, id: &str, reason: &str) -> Result<Failover, String> {
        let call = Call {
            path: &[id],
            body: Some(serde_json::json!({ "reason": reason })),
            args: Some(serde_json::json!({ "id": id, "reason": reason })),
            ..Call::default()
        };
        self.call(&endpoints::CANCEL_STRAGGLERS, call).await
    }

    /// The command catalogue and the recent runs.
    pub async fn commands(&self) -> Result<CommandsOverview, String> {
        let call = Call {
            query: vec![("limit", "10".into())],
            ..Call::default()
        };
        self.call(&endpoints::COMMANDS, call).await
    }

    pub async fn preview_command(&self, req: &CommandRequest) -> Result<CommandPreview, String> {
        let call = Call {
            body: Some(to_json(req)),
            args: Some(serde_json::json!({ "request": req })),
            ..Call::default()
        };
        self.call(&endpoints::PREVIEW_COMMAND, call).await
    }

    pub async fn run_command(&self, req: &CommandRequest) -> Result<CommandRun, String> {
        let call = Call {
            body: Some(to_json(req)),
            args: Some(serde_json::json!({ "request": req })),
            ..Call::default()
        };
        self.call(&endpoints::RUN_COMMAND, call).await
    }

    /// A run and the first `limit` of its results.
    pub async fn command_run(&self, id: &str, limit: u32) -> Result<RunDetail, String> {
        let call = Call {
            path: &[id],
            query: vec![("limit", limit.to_string())],
            args: Some(serde_json::json!({ "id": id, "limit": limit })),
            ..Call::default()
        };
        self.call(&endpoints::COMMAND_RUN, call).await
    }

    pub async fn cancel_command(&self, id: &str) -> Result<(), String> {
        let call = Call {
            path: &[id],
            args: Some(serde_json::json!({ "id": id })),
            ..Call::default()
        };
        self.call(&endpoints::CANCEL_COMMAND, call).await
    }

    /// Who is signed in: `Ok(None)` when nobody is (the server wants a sign-in). The desktop
    /// app in standalone mode has no logins: its user may do everything.
    pub async fn session(&self) -> Result<Option<SessionInfo>, String> {
        match self {
            Api::Http { .. } => {
                let s = self.call(&endpoints::SESSION, Call::default()).await?;
                if let Some(s) = &s {
                    set_csrf(&s.csrf);
                }
                Ok(s)
            }
            Api::Tauri => Ok(Some(SessionInfo {
                username: "desktop".into(),
                role: Role::Admin,
                csrf: String::new(),
                expires_at: 0,
                mode: "none".into(),
            })),
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<SessionInfo, String> {
        let body = serde_json::json!({ "username": username, "password": password });
        let call = Call {
            body: Some(body),
            ..Call::default()
        };
        let s = self.call(&endpoints::LOGIN, call).await?;
        set_csrf(&s.csrf);
        Ok(s)
    }

    pub async fn logout(&self) -> Result<(), String> {
        self.call(&endpoints::LOGOUT, Call::default()).await?;
        set_csrf("");
        Ok(())
    }

    pub async fn setup(
        &self,
        token: &str,
        username: &str,
        password: &str,
    ) -> Result<SessionInfo, String> {
        let body =
            serde_json::json!({ "token": token, "username": username, "password": password });
        let call = Call {
            body: Some(body),
            ..Call::default()
        };
        let s = self.call(&endpoints::SETUP, call).await?;
        set_csrf(&s.csrf);
        Ok(s)
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, String> {
        self.call(&endpoints::USERS, Call::default()).await
    }

    pub async fn add_user(&self, new: &NewUser) -> Result<UserInfo, String> {
        let call = Call {
            body: Some(to_json(new)),
            ..Call::default()
        };
        self.call(&endpoints::ADD_USER, call).await
    }

    pub async fn drills(&self) -> Result<DrillsResponse, String> {
        self.call(&endpoints::DRILLS, Call::default()).await
    }

    pub async fn start_drill(&self, scenario: &Scenario) -> Result<DrillSummary, String> {
        let args = serde_json::json!({ "scenario": scenario });
        let call = Call {
            body: Some(args.clone()),
            args: Some(args),
            ..Call::default()
        };
        self.call(&endpoints::START_DRILL, call).await
    }

    pub async fn drill(&self, id: &str) -> Result<Drill, String> {
        let call = Call {
            path: &[id],
            args: Some(serde_json::json!({ "id": id })),
            ..Call::default()
        };
        self.call(&endpoints::DRILL, call).await
    }

    pub async fn compare_drills(&self, a: &str, b: &str) -> Result<Comparison, String> {
        let call = Call {
            query: vec![("a", a.to_string()), ("b", b.to_string())],
            args: Some(serde_json::json!({ "a": a, "b": b })),
            ..Call::default()
        };
        self.call(&endpoints::COMPARE_DRILLS, call).await
    }

    pub async fn drill_notes(&self, id: &str, notes: &DrillNotes) -> Result<Drill, String> {
        let call = Call {
            path: &[id],
            body: Some(to_json(notes)),
            args: Some(serde_json::json!({ "id": id, "notes": notes })),
            ..Call::default()
        };
        self.call(&endpoints::DRILL_NOTES, call).await
    }

    pub async fn abort_drill(&self, id: &str) -> Result<(), String> {
        let call = Call {
            path: &[id],
            args: Some(serde_json::json!({ "id": id })),
            ..Call::default()
        };
        self.call(&endpoints::ABORT_DRILL, call).await
    }

    /// One chart of a drill's report, as SVG markup.
    pub async fn drill_chart(&self, id: &str, chart: &str) -> Result<String, String> {
        let file = format!("{chart}.svg");
        let call = Call {
            path: &[id, &file],
            args: Some(serde_json::json!({ "id": id, "chart": chart })),
            ..Call::default()
        };
        self.call(&endpoints::DRILL_CHART, call).await
    }

    /// Incidents, newest first: the open one only, or the `limit` most recent.
    pub async fn incidents(&self, open: bool, limit: u32) -> Result<IncidentsResponse, String> {
        let call = Call {
            query: vec![("open", open.to_string()), ("limit", limit.to_string())],
            args: Some(serde_json::json!({ "open": open, "limit": limit })),
            ..Call::default()
        };
        self.call(&endpoints::INCIDENTS, call).await
    }

    /// One incident, its alerts and its timeline.
    pub async fn incident(&self, id: i64) -> Result<IncidentDetail, String> {
        let sid = id.to_string();
        let call = Call {
            path: &[&sid],
            args: Some(serde_json::json!({ "id": id })),
            ..Call::default()
        };
        self.call(&endpoints::INCIDENT, call).await
    }

    /// The incident as a file's text, `format` "md" or "json".
    pub async fn incident_export(&self, id: i64, format: &str) -> Result<String, String> {
        let sid = id.to_string();
        let call = Call {
            path: &[&sid],
            query: vec![("format", format.to_string())],
            args: Some(serde_json::json!({ "id": id, "format": format })),
            ..Call::default()
        };
        self.call(&endpoints::INCIDENT_EXPORT, call).await
    }

    /// Where the incident's export downloads from, when the transport has addresses (HTTP).
    pub fn incident_download(&self, id: i64, format: &str) -> Option<String> {
        match self {
            Api::Http { base } => Some(endpoints::INCIDENT_EXPORT.route.url(
                base,
                &[&id.to_string()],
                &[("format", format.to_string())],
            )),
            Api::Tauri => None,
        }
    }

    pub async fn add_incident_note(&self, id: i64, text: &str) -> Result<TimelineEntry, String> {
        let sid = id.to_string();
        let call = Call {
            path: &[&sid],
            body: Some(to_json(&NoteRequest { text: text.into() })),
            args: Some(serde_json::json!({ "id": id, "text": text })),
            ..Call::default()
        };
        self.call(&endpoints::ADD_INCIDENT_NOTE, call).await
    }

    /// Acknowledges an alert; the answer is the alert with its acknowledgement.
    pub async fn ack_alert(&self, id: i64, note: &str) -> Result<Alert, String> {
        let sid = id.to_string();
        let call = Call {
            path: &[&sid],
            body: Some(to_json(&AckRequest { note: note.into() })),
            args: Some(serde_json::json!({ "id": id, "note": note })),
            ..Call::default()
        };
        self.call(&endpoints::ACK_ALERT, call).await
    }

    /// What a failover to `target` would do.
    pub async fn failover_plan(&self, target: &str) -> Result<FailoverPlan, String> {
        let call = Call {
            query: vec![("target", target.to_string())],
            args: Some(serde_json::json!({ "target": target })),
            ..Call::default()
        };
        self.call(&endpoints::FAILOVER_PLAN, call).await
    }

    /// A whole failover request checked without starting it.
    pub async fn failover_dry_run(&self, req: &FailoverRequest) -> Result<FailoverPlan, String> {
        let call = Call {
            body: Some(to_json(req)),
            args: Some(serde_json::json!({ "req": req })),
            ..Call::default()
        };
        self.call(&endpoints::FAILOVER_DRY_RUN, call).await
    }

    /// The header's, the strip's and `switchyard status`'s answer in one.
    pub async fn status(&self) -> Result<StatusResponse, String> {
        self.call(&endpoints::STATUS, Call::default()).await
    }

    /// Where alerts go: the receivers with their health and the newest `limit` deliveries.
    pub async fn deliveries(&self, limit: u32) -> Result<DeliveriesResponse, String> {
        let call = Call {
            query: vec![("limit", limit.to_string())],
            args: Some(serde_json::json!({ "limit": limit })),
            ..Call::default()
        };
        self.call(&endpoints::DELIVERIES, call).await
    }

    /// Sends a test alert to the receiver `name` (admins); the answer is the test's log row.
    pub async fn test_receiver(&self, name: &str) -> Result<Delivery, String> {
        let call = Call {
            path: &[name],
            args: Some(serde_json::json!({ "name": name })),
            ..Call::default()
        };
        self.call(&endpoints::TEST_RECEIVER, call).await
    }

    /// Where the report's downloads are, when the transport has addresses (HTTP): `file`
    /// under the drill's address (`report.html`, `charts/<name>.png`; empty: the drill itself,
    /// with a trailing slash).
    pub fn drill_download(&self, id: &str, file: &str) -> Option<String> {
        match self {
            Api::Http { base } => {
                let drill = endpoints::DRILL.route.url(base, &[id], &[]);
                Some(format!("{drill}/{file}"))
            }
            Api::Tauri => None,
        }
    }

    /// Calls `on_event` for every state change and `on_link` when the link changes, until the
    /// subscription is closed.
    pub fn subscribe(
        &self,
        on_event: impl Fn(FleetEvent) + 'static,
        on_link: impl Fn(Link) + 'static,
    ) -> Subscription {
        match self {
            Api::Http { base } => {
                transport::sse_subscribe(&endpoints::EVENTS.url(base, &[], &[]), on_event, on_link)
            }
            Api::Tauri => transport::tauri_listen(endpoints::IPC_EVENT, on_event, on_link),
        }
    }
}

/// The error of a route the desktop app has no command for (sign-in and accounts: the app
/// standalone has no logins).
fn no_command(route: Route) -> String {
    let (method, path) = (route.method.as_str(), route.path);
    format!("{method} {path}: not in the desktop app (sign-in and accounts are a team server's)")
}
