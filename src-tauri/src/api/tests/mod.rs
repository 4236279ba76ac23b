//! The API over HTTP, one file per resource, and the kit they share: a simulated engine behind
//! the router without logins, and one-request helpers.

mod contract;
mod devices;
mod drills;
mod failover;
mod fleet;
mod incidents;
mod metrics;
mod openapi;
mod serving;
mod sim;

use super::*;
use crate::engine::EngineConfig;
use crate::sim::{SimConfig, SimFleet, SimSource};
use crate::store::Store;
use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use switchyard_core::api::{ApiError, AuditedResponse, RegionsResponse};
use tower::ServiceExt;

/// The engine the API tests run on: a simulated fleet of `devices` and `gateways` that answers
/// at once (`fail_fast`), able to inject faults, switch traffic and reach devices.
pub(super) fn sim_engine(
    devices: usize,
    gateways: usize,
    cfg: EngineConfig,
    store: Store,
) -> (Engine, SimSource) {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            devices,
            gateways,
            ..SimConfig::default()
        },
        5_000,
    ))
    .fail_fast();
    let engine = crate::engine::kit::EngineKit::sim(&sim)
        .config(cfg)
        .store(store)
        .build();
    (engine, sim)
}

fn setup(ui: Ui) -> (Router, Engine, SimSource) {
    let (engine, sim) = sim_engine(500, 4, EngineConfig::default(), Store::in_memory());
    (router(engine.clone(), ui), engine, sim)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, String, String) {
    let (status, ctype, bytes) = call_raw(app, method, uri, body).await;
    (status, ctype, String::from_utf8(bytes).unwrap())
}

/// One request through the router: the status, the content type and the body's bytes.
async fn call_raw(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    // From loopback, as a console without logins is reached.
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, bytes.to_vec())
}
