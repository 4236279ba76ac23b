//! The two transports' JavaScript glue: `fetch` and `EventSource` for HTTP (with the session's
//! CSRF token), and `window.__TAURI__` for IPC. Knows no route: [`super::endpoints`] does.
//!
//! Rules kept here:
//! - Every request carries the session's CSRF token once one is known.
//! - A live subscription lasts until it is closed (or as long as the page), and says when its
//!   link changes; once closed, none of its callbacks runs again.

use js_sys::{Function, Promise, Reflect, JSON};
use serde::de::DeserializeOwned;
use std::cell::Cell;
use std::rc::Rc;
use switchyard_core::api::FleetEvent;
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
pub fn tauri_fn(module: &str, name: &str) -> Option<Function> {
    let window: JsValue = web_sys::window()?.into();
    let tauri = Reflect::get(&window, &"__TAURI__".into()).ok()?;
    let module = Reflect::get(&tauri, &module.into()).ok()?;
    Reflect::get(&module, &name.into()).ok()?.dyn_into().ok()
}

/// The session's CSRF token, sent back with every state-changing request.
static CSRF: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

pub fn set_csrf(token: &str) {
    if let Ok(mut t) = CSRF.lock() {
        *t = token.to_string();
    }
}

/// One request with the session's CSRF token; returns the status and the body's text.
pub async fn http_request(
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

/// A live subscription. Its callbacks run until [`Subscription::close`]; one never closed lasts
/// as long as the page. After `close` no callback runs again, so a view that subscribed may
/// close it as it goes away and its signals are never read once disposed.
pub struct Subscription {
    closed: Rc<Cell<bool>>,
    inner: Source,
}

enum Source {
    /// Nothing to close: the subscription could not be made.
    None,
    /// The browser's `EventSource` and the callbacks it holds, dropped once it is closed (a
    /// closed source dispatches nothing more).
    Http {
        source: web_sys::EventSource,
        _on_message: Closure<dyn Fn(web_sys::MessageEvent)>,
        _on_open: Closure<dyn Fn()>,
        _on_error: Closure<dyn Fn()>,
    },
    /// Tauri's `listen` answers with a promise of its `unlisten` function.
    Tauri(Promise),
}

impl Subscription {
    fn none() -> Self {
        Subscription {
            closed: Rc::default(),
            inner: Source::None,
        }
    }

    /// Stops the subscription: no event or link change reaches its callbacks after this.
    pub fn close(self) {
        self.closed.set(true);
        match self.inner {
            Source::None => {}
            Source::Http { source, .. } => source.close(),
            Source::Tauri(unlisten) => wasm_bindgen_futures::spawn_local(async move {
                if let Ok(f) = JsFuture::from(unlisten).await {
                    if let Some(f) = f.dyn_ref::<Function>() {
                        let _ = f.call0(&JsValue::NULL);
                    }
                }
            }),
        }
    }
}

/// `f`, unless the subscription is closed.
fn unless_closed<A>(closed: &Rc<Cell<bool>>, f: impl Fn(A)) -> impl Fn(A) {
    let closed = closed.clone();
    move |a| {
        if !closed.get() {
            f(a)
        }
    }
}

pub fn sse_subscribe(
    url: &str,
    on_event: impl Fn(FleetEvent) + 'static,
    on_link: impl Fn(Link) + 'static,
) -> Subscription {
    on_link(Link::Connecting);
    let source = match web_sys::EventSource::new(url) {
        Ok(s) => s,
        Err(_) => {
            on_link(Link::Reconnecting);
            return Subscription::none();
        }
    };
    let closed = Rc::new(Cell::new(false));
    let on_event = unless_closed(&closed, on_event);
    let on_link = Rc::new(unless_closed(&closed, on_link));
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                // The SSE event's name is the event's type: read it straight into its variant.
                match FleetEvent::from_named(&ev.type_(), &text) {
                    Ok(event) => on_event(event),
                    Err(e) => web_sys::console::warn_1(&format!("unreadable event: {e}").into()),
                }
            }
        });
    for name in FleetEvent::NAMES {
        let _ = source.add_event_listener_with_callback(name, on_message.as_ref().unchecked_ref());
    }
    let opened = on_link.clone();
    let on_open = Closure::<dyn Fn()>::new(move || opened(Link::Live));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let lost = on_link.clone();
    let on_error = Closure::<dyn Fn()>::new(move || lost(Link::Reconnecting));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Subscription {
        closed,
        inner: Source::Http {
            source,
            _on_message: on_message,
            _on_open: on_open,
            _on_error: on_error,
        },
    }
}

pub async fn tauri_invoke<T: DeserializeOwned>(
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

/// An IPC event's payload (the event with its `type`), read straight into its variant.
fn named_event(payload: &JsValue) -> Result<FleetEvent, String> {
    let name = Reflect::get(payload, &"type".into())
        .ok()
        .and_then(|t| t.as_string())
        .ok_or("an event without a type")?;
    let text = JSON::stringify(payload).map_err(|e| err("unreadable event", e))?;
    FleetEvent::from_named(&name, &String::from(text)).map_err(|e| e.to_string())
}

pub fn tauri_listen(
    event: &str,
    on_event: impl Fn(FleetEvent) + 'static,
    on_link: impl Fn(Link) + 'static,
) -> Subscription {
    let Some(listen) = tauri_fn("event", "listen") else {
        on_link(Link::Reconnecting);
        return Subscription::none();
    };
    let closed = Rc::new(Cell::new(false));
    let on_event = unless_closed(&closed, on_event);
    let handler = Closure::<dyn Fn(JsValue)>::new(move |msg: JsValue| {
        let payload = Reflect::get(&msg, &"payload".into()).unwrap_or(JsValue::NULL);
        match named_event(&payload) {
            Ok(event) => on_event(event),
            Err(e) => web_sys::console::warn_1(&format!("unreadable event: {e}").into()),
        }
    });
    let listening = listen
        .call2(
            &JsValue::NULL,
            &event.into(),
            handler.as_ref().unchecked_ref(),
        )
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok());
    // Tauri may still hold the handler for a moment after `unlisten`: it lives on, and the
    // closed flag keeps it from reaching the view.
    handler.forget();
    match listening {
        Some(unlisten) => {
            on_link(Link::Live);
            Subscription {
                closed,
                inner: Source::Tauri(unlisten),
            }
        }
        None => {
            on_link(Link::Reconnecting);
            Subscription::none()
        }
    }
}
