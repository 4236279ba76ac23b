//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated: the operations from the
//! handlers' `#[utoipa::path]` annotations, registered with their routes ([`super::Routes`]), the
//! schemas from the request and response types themselves (`ToSchema`, src-core's `openapi`
//! feature), then completed here from the rules every route shares.
//!
//! Rules kept here:
//! - each operation's `x-required-role` and `security` come from
//!   [`required_access`](switchyard_core::auth::required_access), the one route table;
//! - each operation lists every status it can answer, each refusal with the
//!   [`ApiError`](switchyard_core::api::ApiError) body: its own (from its annotation), and those
//!   of the layers every route passes, added here: 400 for a path, query or header that cannot be
//!   read; 400, 413, 415 and 422 for a JSON body that cannot be; 401 and 403 where a role is
//!   needed; 500 when the store fails;
//! - a region code's pattern is core's one ([`regions::CODE_PATTERN`]), put wherever a type
//!   says its format is a region code;
//! - [`ROUTES`] is read from the document, so whatever lists the routes lists the document's;
//! - a running server serves the document with its own regions and command names as enums
//!   ([`for_server`]); the document alone (and `docs/openapi.json`) names none.

use serde_json::{json, Map, Value};
use std::sync::LazyLock;
use switchyard_core::api::ApiError;
use switchyard_core::auth::{required_access, Access};
use switchyard_core::regions;
use utoipa::OpenApi;

/// What no single route says: the title, the schemas only events carry, the security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard",
        description = "The console's HTTP API for runbooks and integrations: the fleet across regions, \
            guarded failovers, commands to online devices, drills, incidents and alerts out. \
            Every refusal is `ApiError` JSON naming what is wrong. Every operation says the role it \
            needs in `x-required-role` (`public`, `viewer`, `operator`, `admin`). Signed in, a \
            state-changing request sends the session's CSRF token back in `X-CSRF-Token`. \
            As a running console serves it, the fields that must name one of its configured \
            regions or commands list them (`enum`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ApiError, switchyard_core::api::FleetEvent)),
    tags(
        (name = "server", description = "The server itself"),
        (name = "session", description = "Signing in, the first admin, the accounts"),
        (name = "fleet", description = "Regions, devices, edge gateways, alerts, live events"),
        (name = "failover", description = "Readiness, failovers and their stragglers"),
        (name = "commands", description = "Commands to online devices"),
        (name = "drills", description = "Disaster-recovery drills and their reports"),
        (name = "incidents", description = "The cockpit: status, incidents, acknowledgements, plans"),
        (name = "alerts_out", description = "Where alerts go and what was delivered"),
        (name = "audit", description = "Who did what"),
        (name = "sim", description = "The simulated fleet's faults"),
    )
)]
struct Base;

/// The document's start, for [`super::surface`].
pub(super) fn base() -> utoipa::openapi::OpenApi {
    Base::openapi()
}

/// The methods an OpenAPI path item may hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The whole document, as served.
static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let generated = super::surface(|api| api).into_openapi();
    let mut doc = serde_json::to_value(&generated).expect("the document serialises");
    complete(&mut doc);
    doc
});

/// Every route the server answers, as (method, path), read from the document.
pub static ROUTES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let doc: &'static Value = &DOCUMENT;
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("the document has paths") {
        for method in item.as_object().expect("a path item").keys() {
            let method = METHODS
                .iter()
                .find(|m| **m == method.as_str())
                .expect("a path item holds methods only");
            routes.push((*method, path.as_str()));
        }
    }
    routes
});

/// The OpenAPI 3.1 document of every route.
pub fn openapi_document() -> Value {
    DOCUMENT.clone()
}

/// This document, as this server answers it: the values only its configuration knows (its
/// regions, its command catalogue) are listed where a request must name one of them.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi_document", tag = "server",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub(super) async fn serve(
    axum::extract::State(engine): axum::extract::State<crate::engine::Engine>,
) -> axum::Json<Value> {
    let regions: Vec<String> = engine
        .snapshot()
        .regions
        .into_iter()
        .map(|r| r.id)
        .collect();
    let commands: Vec<String> = engine.commands().iter().map(|c| c.name.clone()).collect();
    axum::Json(for_server(&regions, &commands))
}

/// Where a request must name one of the server's configured regions: (schema, property).
pub(super) const CONFIGURED_REGION_FIELDS: &[(&str, &str)] =
    &[("FailoverRequest", "target"), ("FaultSpec", "region")];

/// Where a query must: (path, method, parameter).
pub(super) const CONFIGURED_REGION_PARAMETERS: &[(&str, &str, &str)] = &[
    ("/api/v1/readiness", "get", "target"),
    ("/api/v1/failover/plan", "get", "target"),
];

/// The document with this server's `regions` and `commands` as the enums of the fields that
/// must name one ([`CONFIGURED_REGION_FIELDS`], [`CONFIGURED_REGION_PARAMETERS`], a command
/// request's `command`), so that a generated client or a fuzzer sends what this server takes.
/// An empty list names nothing (an empty `enum` would say no request can be valid; the
/// server's refusal says why instead).
pub(super) fn for_server(regions: &[String], commands: &[String]) -> Value {
    let regions = (!regions.is_empty()).then(|| json!(regions));
    let commands = (!commands.is_empty()).then(|| json!(commands));
    let mut doc = DOCUMENT.clone();
    let schemas = &mut doc["components"]["schemas"];
    for (schema, field) in CONFIGURED_REGION_FIELDS {
        let prop = &mut schemas[*schema]["properties"][*field];
        assert!(prop.is_object(), "{schema}.{field} is in the document");
        if let Some(r) = &regions {
            prop["enum"] = r.clone();
        }
    }
    let command = &mut schemas["CommandRequest"]["properties"]["command"];
    assert!(
        command.is_object(),
        "CommandRequest.command is in the document"
    );
    if let Some(c) = commands {
        command["enum"] = c;
    }
    for (path, method, name) in CONFIGURED_REGION_PARAMETERS {
        let params = doc["paths"][*path][*method]["parameters"]
            .as_array_mut()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"));
        let param = params
            .iter_mut()
            .find(|p| p["name"] == *name)
            .unwrap_or_else(|| panic!("{method} {path} has {name}"));
        if let Some(r) = &regions {
            param["schema"]["enum"] = r.clone();
        }
    }
    doc
}

/// A refusal's answer: `why`, with the error body.
fn refusal(why: &str) -> Value {
    json!({
        "description": why,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } }
    })
}

/// Adds what every operation shares (see the rules at the top).
fn complete(doc: &mut Value) {
    doc["components"]["securitySchemes"] = json!({
        "session": {
            "type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE,
            "description": "The session cookie that POST /api/v1/session (or /setup) sets: HttpOnly, SameSite=Strict, Secure on TLS."
        },
        "csrf": {
            "type": "apiKey", "in": "header", "name": "X-CSRF-Token",
            "description": "The session's CSRF token (`csrf` in GET /api/v1/session), sent back with every state-changing request."
        },
        "scrape_token": {
            "type": "http", "scheme": "bearer",
            "description": "The scrape token of `[metrics] token_env`/`token_file`, for GET /metrics only."
        }
    });
    region_patterns(doc);
    let paths = doc["paths"]
        .as_object_mut()
        .expect("the document has paths");
    for (path, item) in paths.iter_mut() {
        let item = item.as_object_mut().expect("a path item");
        for (method, op) in item.iter_mut() {
            complete_operation(method, path, op.as_object_mut().expect("an operation"));
        }
    }
}

/// Every schema whose format is a region code gets core's one pattern for it, so the types
/// name the format and never spell the pattern.
fn region_patterns(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("format").and_then(Value::as_str) == Some(regions::CODE_FORMAT) {
                m.insert("pattern".into(), json!(regions::CODE_PATTERN));
            }
            m.values_mut().for_each(region_patterns);
        }
        Value::Array(a) => a.iter_mut().for_each(region_patterns),
        _ => {}
    }
}

fn complete_operation(method: &str, path: &str, op: &mut Map<String, Value>) {
    let access = required_access(method, path);
    let state_changing = !matches!(method, "get" | "head" | "options");
    let (role, security) = match access {
        Access::Public => ("public", json!([{}])),
        Access::Role(r) if path == "/metrics" => (
            r.as_str(),
            json!([{ "scrape_token": [] }, { "session": [] }]),
        ),
        Access::Role(r) if state_changing => (r.as_str(), json!([{ "session": [], "csrf": [] }])),
        Access::Role(r) => (r.as_str(), json!([{ "session": [] }])),
    };
    op.insert("x-required-role".into(), json!(role));
    op.insert("security".into(), security);
    let reads_parameters = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    let reads_body = op.contains_key("requestBody");
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses");
    let mut add = |status: &str, why: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| refusal(why));
    };
    match (reads_parameters, reads_body) {
        (true, true) => add("400", "A path segment, query parameter or header that cannot be read, or a body that is not JSON: the error names it"),
        (true, false) => add("400", "A path segment, query parameter or header that cannot be read, or is out of range: the error names it"),
        (false, true) => add("400", "The body is not JSON: the error says where"),
        (false, false) => {}
    }
    if reads_body {
        add("413", "The body is larger than 256 KB");
        add(
            "415",
            "The body is not sent as `Content-Type: application/json`",
        );
        add(
            "422",
            "The body is JSON but not this request: the error names the field",
        );
    }
    if let Access::Role(r) = access {
        add(
            "401",
            "Not signed in (no session, or it expired), or a scraper's token that is wrong",
        );
        let why = if state_changing {
            format!(
                "Signed in without the {} role, or without the session's X-CSRF-Token",
                r.as_str()
            )
        } else {
            format!("Signed in without the {} role", r.as_str())
        };
        add("403", &why);
    }
    if path != "/healthz" {
        add("500", "The console's store failed: the error says how");
    }
    // In status order, for the reader.
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(sorted);
}
