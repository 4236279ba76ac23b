//! The one API client, with two transports: HTTP + server-sent events (the web build, or the
//! desktop app connected to a team server) and Tauri IPC (the desktop app with its engine
//! in-process). Views never know which one they have.

use js_sys::{Function, Promise, Reflect, JSON};
use serde::de::DeserializeOwned;
use switchyard_core::alerts::AlertsResponse;
use switchyard_core::api::{FleetEvent, RegionHistory, RegionsResponse};
use switchyard_core::auth::{NewUser, Role, SessionInfo, UserInfo};
use switchyard_core::commands::{CommandDef, CommandRequest, CommandRun, DeviceResult};
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};
use switchyard_core::drills::{
    Comparison, Drill, DrillNotes, DrillSummary, DrillsResponse, Scenario,
};
use switchyard_core::edge::GatewaysResponse;
use switchyard_core::failover::{Failover, FailoverOverview, FailoverRequest};

/// `GET /api/v1/commands`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CommandsOverview {
    pub catalogue: Vec<CommandDef>,
    pub runs: Vec<CommandRun>,
}

/// `GET /api/v1/commands/{id}`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RunDetail {
    pub run: CommandRun,
    pub results: Vec<DeviceResult>,
}

/// The preview as the server sends it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct CommandPreview {
    pub command: CommandDef,
    pub total: u64,
    pub publish: u64,
    pub shadow: u64,
    pub skip: u64,
    pub skipped: Vec<switchyard_core::commands::Skipped>,
    pub example_topic: Option<String>,
}

fn answer<T: DeserializeOwned>(status: u16, want: u16, text: &str) -> Result<T, String> {
    if status == want {
        serde_json::from_str(text).map_err(|e| format!("unexpected answer: {e}"))
    } else {
        Err(serde_json::from_str::<switchyard_core::api::ApiError>(text)
            .map(|e| e.error)
            .unwrap_or_else(|_| text.to_string()))
    }
}

/// What a failover request came to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Started(Box<Failover>),
    /// The target is already active.
    NothingToDo(String),
}
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Whether the live event stream is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    /// Lost; the transport is retrying by itself.
    Reconnecting,
}

#[derive(Debug, Clone)]
pub enum Api {
    Http { base: String },
    Tauri,
}

fn err(context: &str, e: JsValue) -> String {
    let detail = e
        .as_string()
        .or_else(|| {
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"));
    format!("{context}: {detail}")
}

fn from_js<T: DeserializeOwned>(v: &JsValue) -> Result<T, String> {
    let text = JSON::stringify(v).map_err(|e| err("unreadable answer", e))?;
    serde_json::from_str(&String::from(text)).map_err(|e| format!("unexpected answer: {e}"))
}

/// `window.__TAURI__.<module>.<function>`, present when the page runs inside the desktop app.
fn tauri_fn(module: &str, name: &str) -> Option<Function> {
    let window: JsValue = web_sys::window()?.into();
    let tauri = Reflect::get(&window, &"__TAURI__".into()).ok()?;
    let module = Reflect::get(&tauri, &module.into()).ok()?;
    Reflect::get(&module, &name.into()).ok()?.dyn_into().ok()
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

    pub async fn regions(&self) -> Result<RegionsResponse, String> {
        match self {
            Api::Http { base } => http_get_json(&format!("{base}/api/v1/regions")).await,
            Api::Tauri => tauri_invoke("regions", serde_json::json!({})).await,
        }
    }

    pub async fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, String> {
        match self {
            Api::Http { base } => {
                let mut params: Vec<(&str, String)> = Vec::new();
                if let Some(r) = &q.region {
                    params.push(("region", r.clone()));
                }
                if let Some(g) = &q.thing_group {
                    params.push(("thing_group", g.clone()));
                }
                if let Some(c) = q.connected {
                    params.push(("connected", c.to_string()));
                }
                if let Some(r) = q.reason {
                    params.push(("reason", r.as_str().to_string()));
                }
                if let Some(t) = &q.q {
                    params.push(("q", t.clone()));
                }
                params.push(("offset", q.offset.to_string()));
                params.push(("limit", q.limit().to_string()));
                http_get_json(&format!("{base}/api/v1/devices?{}", query_string(&params))).await
            }
            Api::Tauri => tauri_invoke("devices", serde_json::json!({ "query": q })).await,
        }
    }

    pub async fn device(&self, id: &str) -> Result<DeviceDetail, String> {
        let path = format!("/devices/{}", enc(id));
        self.call(
            ("GET", &path, None, 200),
            ("device", serde_json::json!({ "id": id })),
        )
        .await
    }

    pub async fn gateways(&self, limit: u32) -> Result<GatewaysResponse, String> {
        let path = format!("/edge/gateways?limit={limit}");
        self.call(
            ("GET", &path, None, 200),
            ("gateways", serde_json::json!({ "limit": limit })),
        )
        .await
    }

    pub async fn alerts(&self, open: bool, limit: u32) -> Result<AlertsResponse, String> {
        let path = format!("/alerts?open={open}&limit={limit}");
        let args = serde_json::json!({ "open": open, "limit": limit });
        self.call(("GET", &path, None, 200), ("alerts", args)).await
    }

    pub async fn history(&self, region: &str, minutes: u32) -> Result<RegionHistory, String> {
        let path = format!("/regions/{}/history?minutes={minutes}", enc(region));
        let args = serde_json::json!({ "region": region, "minutes": minutes });
        self.call(("GET", &path, None, 200), ("history", args))
            .await
    }

    pub async fn failover_overview(&self) -> Result<FailoverOverview, String> {
        self.call(
            ("GET", "/failover", None, 200),
            ("failover_overview", serde_json::json!({})),
        )
        .await
    }

    /// Asks for a failover; the answer is the failover started, or why nothing was done.
    pub async fn request_failover(&self, req: &FailoverRequest) -> Result<Requested, String> {
        match self {
            Api::Http { base } => {
                let url = format!("{base}/api/v1/failovers");
                let (status, text) = http_send(
                    &url,
                    "POST",
                    &serde_json::to_string(req).unwrap_or_default(),
                )
                .await?;
                match status {
                    202 => serde_json::from_str(&text)
                        .map(|f| Requested::Started(Box::new(f)))
                        .map_err(|e| format!("{url}: unexpected answer: {e}")),
                    200 => {
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                        Ok(Requested::NothingToDo(
                            v["nothing_to_do"]
                                .as_str()
                                .unwrap_or("nothing to do")
                                .to_string(),
                        ))
                    }
                    _ => Err(
                        serde_json::from_str::<switchyard_core::api::ApiError>(&text)
                            .map(|e| e.error)
                            .unwrap_or(text),
                    ),
                }
            }
            Api::Tauri => {
                tauri_invoke("request_failover", serde_json::json!({ "request": req })).await
            }
        }
    }

    /// The command catalogue and the recent runs.
    pub async fn commands(&self) -> Result<CommandsOverview, String> {
        let ipc = ("commands_overview", serde_json::json!({}));
        self.call(("GET", "/commands?limit=10", None, 200), ipc)
            .await
    }

    pub async fn preview_command(&self, req: &CommandRequest) -> Result<CommandPreview, String> {
        let body = serde_json::to_value(req).unwrap_or_default();
        let ipc = ("preview_command", serde_json::json!({ "request": req }));
        self.call(("POST", "/commands/preview", Some(&body), 200), ipc)
            .await
    }

    pub async fn run_command(&self, req: &CommandRequest) -> Result<CommandRun, String> {
        let body = serde_json::to_value(req).unwrap_or_default();
        let ipc = ("run_command", serde_json::json!({ "request": req }));
        self.call(("POST", "/commands", Some(&body), 202), ipc)
            .await
    }

    /// A run and the first `limit` of its results.
    pub async fn command_run(&self, id: &str, limit: u32) -> Result<RunDetail, String> {
        let path = format!("/commands/{}?limit={limit}", enc(id));
        let ipc = (
            "command_run",
            serde_json::json!({ "id": id, "limit": limit }),
        );
        self.call(("GET", &path, None, 200), ipc).await
    }

    pub async fn cancel_command(&self, id: &str) -> Result<(), String> {
        let path = format!("/commands/{}/cancel", enc(id));
        let ipc = ("cancel_command", serde_json::json!({ "id": id }));
        self.call::<serde_json::Value>(("POST", &path, None, 200), ipc)
            .await
            .map(|_| ())
    }

    /// Who is signed in: `Ok(None)` when nobody is (the server wants a sign-in). The desktop
    /// app in standalone mode has no logins: its user may do everything.
    pub async fn session(&self) -> Result<Option<SessionInfo>, String> {
        match self {
            Api::Http { base } => {
                let url = format!("{base}/api/v1/session");
                let (status, text) = http_request(&url, "GET", None).await?;
                match status {
                    200 => {
                        let s: SessionInfo = answer(200, 200, &text)?;
                        set_csrf(&s.csrf);
                        Ok(Some(s))
                    }
                    401 => Ok(None),
                    _ => answer(status, 200, &text),
                }
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
        let s: SessionInfo = self
            .call(
                ("POST", "/session", Some(&body), 200),
                ("session", serde_json::json!({})),
            )
            .await?;
        set_csrf(&s.csrf);
        Ok(s)
    }

    pub async fn logout(&self) -> Result<(), String> {
        self.call::<serde_json::Value>(
            ("DELETE", "/session", None, 200),
            ("session", serde_json::json!({})),
        )
        .await?;
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
        let s: SessionInfo = self
            .call(
                ("POST", "/setup", Some(&body), 200),
                ("session", serde_json::json!({})),
            )
            .await?;
        set_csrf(&s.csrf);
        Ok(s)
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, String> {
        self.call(
            ("GET", "/users", None, 200),
            ("users", serde_json::json!({})),
        )
        .await
    }

    pub async fn add_user(&self, new: &NewUser) -> Result<UserInfo, String> {
        let body = serde_json::to_value(new).unwrap_or_default();
        self.call(
            ("POST", "/users", Some(&body), 201),
            ("add_user", serde_json::json!({ "user": new })),
        )
        .await
    }

    /// One call on either transport: `http` is (method, path under /api/v1, body, the status
    /// that means success); `ipc` is the desktop command and its arguments.
    async fn call<T: DeserializeOwned>(
        &self,
        http: (&str, &str, Option<&serde_json::Value>, u16),
        ipc: (&str, serde_json::Value),
    ) -> Result<T, String> {
        match self {
            Api::Http { base } => {
                let (method, path, body, want) = http;
                let url = format!("{base}/api/v1{path}");
                match body {
                    None if method == "GET" => http_get_json(&url).await,
                    _ => {
                        let body = body.map_or("{}".into(), |b| b.to_string());
                        let (status, text) = http_send(&url, method, &body).await?;
                        answer(status, want, &text)
                    }
                }
            }
            Api::Tauri => tauri_invoke(ipc.0, ipc.1).await,
        }
    }

    pub async fn drills(&self) -> Result<DrillsResponse, String> {
        self.call(
            ("GET", "/drills", None, 200),
            ("drills_overview", serde_json::json!({})),
        )
        .await
    }

    pub async fn start_drill(&self, scenario: &Scenario) -> Result<DrillSummary, String> {
        let body = serde_json::json!({ "scenario": scenario });
        self.call(
            ("POST", "/drills", Some(&body), 202),
            ("start_drill", serde_json::json!({ "scenario": scenario })),
        )
        .await
    }

    pub async fn drill(&self, id: &str) -> Result<Drill, String> {
        let path = format!("/drills/{}", enc(id));
        self.call(
            ("GET", &path, None, 200),
            ("drill", serde_json::json!({ "id": id })),
        )
        .await
    }

    pub async fn compare_drills(&self, a: &str, b: &str) -> Result<Comparison, String> {
        let path = format!("/drills/compare?a={}&b={}", enc(a), enc(b));
        self.call(
            ("GET", &path, None, 200),
            ("compare_drills", serde_json::json!({ "a": a, "b": b })),
        )
        .await
    }

    pub async fn drill_notes(&self, id: &str, notes: &DrillNotes) -> Result<Drill, String> {
        let path = format!("/drills/{}/notes", enc(id));
        let body = serde_json::to_value(notes).unwrap_or_default();
        self.call(
            ("POST", &path, Some(&body), 200),
            (
                "drill_notes",
                serde_json::json!({ "id": id, "notes": notes }),
            ),
        )
        .await
    }

    pub async fn abort_drill(&self, id: &str) -> Result<(), String> {
        let path = format!("/drills/{}/abort", enc(id));
        self.call::<serde_json::Value>(
            ("POST", &path, None, 200),
            ("abort_drill", serde_json::json!({ "id": id })),
        )
        .await
        .map(|_| ())
    }

    /// One chart of a drill's report, as SVG markup.
    pub async fn drill_chart(&self, id: &str, chart: &str) -> Result<String, String> {
        match self {
            Api::Http { base } => {
                http_get_text(&format!(
                    "{base}/api/v1/drills/{}/charts/{chart}.svg",
                    enc(id)
                ))
                .await
            }
            Api::Tauri => {
                tauri_invoke(
                    "drill_chart",
                    serde_json::json!({ "id": id, "chart": chart }),
                )
                .await
            }
        }
    }

    /// Where the report's downloads are, when the transport has addresses (HTTP).
    pub fn drill_download(&self, id: &str, file: &str) -> Option<String> {
        match self {
            Api::Http { base } => Some(format!("{base}/api/v1/drills/{}/{file}", enc(id))),
            Api::Tauri => None,
        }
    }

    /// Calls `on_event` for every state change and `on_link` when the link changes, for the
    /// life of the page.
    pub fn subscribe(
        &self,
        on_event: impl Fn(FleetEvent) + 'static,
        on_link: impl Fn(Link) + 'static,
    ) {
        match self {
            Api::Http { base } => {
                sse_subscribe(&format!("{base}/api/v1/events"), on_event, on_link)
            }
            Api::Tauri => tauri_listen("fleet", on_event, on_link),
        }
    }
}

fn query_string(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
        .collect::<Vec<_>>()
        .join("&")
}

async fn http_get_json<T: DeserializeOwned>(url: &str) -> Result<T, String> {
    let text = http_get_text(url).await?;
    serde_json::from_str(&text).map_err(|e| format!("{url}: unexpected answer: {e}"))
}

fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// A GET's body; an answer that is not a success becomes the error, with the API's message.
async fn http_get_text(url: &str) -> Result<String, String> {
    let (status, text) = http_request(url, "GET", None).await?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        let msg = serde_json::from_str::<switchyard_core::api::ApiError>(&text)
            .map(|e| e.error)
            .unwrap_or(text);
        Err(format!("{url}: {status} {msg}"))
    }
}

/// The session's CSRF token, sent back with every state-changing request.
static CSRF: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn set_csrf(token: &str) {
    if let Ok(mut t) = CSRF.lock() {
        *t = token.to_string();
    }
}

/// Sends a JSON body; returns the status and the body's text.
async fn http_send(url: &str, method: &str, body: &str) -> Result<(u16, String), String> {
    http_request(url, method, Some(body)).await
}

/// One request with the session's CSRF token; returns the status and the body's text.
async fn http_request(
    url: &str,
    method: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|e| err(url, e))?;
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
        headers
            .set("content-type", "application/json")
            .map_err(|e| err(url, e))?;
    }
    let csrf = CSRF.lock().map(|t| t.clone()).unwrap_or_default();
    if !csrf.is_empty() {
        headers
            .set("x-csrf-token", &csrf)
            .map_err(|e| err(url, e))?;
    }
    init.set_headers(&headers);
    let resp = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| err(url, e))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|e| err(url, e))?;
    let text = JsFuture::from(resp.text().map_err(|e| err(url, e))?)
        .await
        .map_err(|e| err(url, e))?;
    Ok((resp.status(), text.as_string().unwrap_or_default()))
}

fn sse_subscribe(
    url: &str,
    on_event: impl Fn(FleetEvent) + 'static,
    on_link: impl Fn(Link) + 'static,
) {
    on_link(Link::Connecting);
    let source = match web_sys::EventSource::new(url) {
        Ok(s) => s,
        Err(_) => return on_link(Link::Reconnecting),
    };
    let on_link = std::rc::Rc::new(on_link);
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                match serde_json::from_str::<FleetEvent>(&text) {
                    Ok(event) => on_event(event),
                    Err(e) => web_sys::console::warn_1(&format!("unreadable event: {e}").into()),
                }
            }
        });
    for name in ["regions", "alert", "failover", "command"] {
        let _ = source.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref());
    }
    let opened = on_link.clone();
    let on_open = Closure::<dyn Fn()>::new(move || opened(Link::Live));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let lost = on_link.clone();
    let on_error = Closure::<dyn Fn()>::new(move || lost(Link::Reconnecting));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The subscription lives as long as the page.
    on_message.forget();
    on_open.forget();
    on_error.forget();
    std::mem::forget(source);
}

async fn tauri_invoke<T: DeserializeOwned>(
    command: &str,
    args: serde_json::Value,
) -> Result<T, String> {
    let invoke = tauri_fn("core", "invoke").ok_or("not running inside the desktop app")?;
    let args = JSON::parse(&args.to_string()).map_err(|e| err(command, e))?;
    let promise: Promise = invoke
        .call2(&JsValue::NULL, &command.into(), &args)
        .map_err(|e| err(command, e))?
        .dyn_into()
        .map_err(|e| err(command, e))?;
    let value = JsFuture::from(promise).await.map_err(|e| err(command, e))?;
    from_js(&value)
}

fn tauri_listen(
    event: &str,
    on_event: impl Fn(FleetEvent) + 'static,
    on_link: impl Fn(Link) + 'static,
) {
    let Some(listen) = tauri_fn("event", "listen") else {
        return on_link(Link::Reconnecting);
    };
    let handler = Closure::<dyn Fn(JsValue)>::new(move |msg: JsValue| {
        let payload = Reflect::get(&msg, &"payload".into()).unwrap_or(JsValue::NULL);
        match from_js::<FleetEvent>(&payload) {
            Ok(event) => on_event(event),
            Err(e) => web_sys::console::warn_1(&format!("unreadable event: {e}").into()),
        }
    });
    match listen.call2(
        &JsValue::NULL,
        &event.into(),
        handler.as_ref().unchecked_ref(),
    ) {
        Ok(_) => on_link(Link::Live),
        Err(_) => on_link(Link::Reconnecting),
    }
    handler.forget();
}
