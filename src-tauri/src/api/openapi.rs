//! The OpenAPI 3.1 document, written by hand next to the routes it describes. A test checks
//! that every route in [`ROUTES`] is documented and answers, so the two cannot drift apart.
//! (Past 500 lines: the whole hand-written document in one place, checked against `ROUTES`;
//! issue #20 replaces it with one generated from the handlers' types.)

use serde_json::{json, Value};
use switchyard_core::fault::FaultKind;
use switchyard_core::switch::{SwitchMethod, ROUTE53_CONTROL_PLANE_REGION};

/// Every route the server answers, as (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/v1/regions"),
    ("get", "/api/v1/regions/{id}/history"),
    ("get", "/api/v1/devices"),
    ("get", "/api/v1/devices/{id}"),
    ("get", "/api/v1/edge/gateways"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/sim/faults"),
    ("delete", "/api/v1/sim/faults"),
    ("get", "/api/v1/failover"),
    ("get", "/api/v1/readiness"),
    ("post", "/api/v1/failovers"),
    ("get", "/api/v1/failovers/{id}"),
    ("post", "/api/v1/failovers/{id}/approve"),
    ("post", "/api/v1/failovers/{id}/cancel"),
    ("get", "/api/v1/failovers/{id}/stragglers"),
    ("post", "/api/v1/failovers/{id}/stragglers/cancel"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/commands"),
    ("post", "/api/v1/commands"),
    ("post", "/api/v1/commands/preview"),
    ("get", "/api/v1/commands/{id}"),
    ("post", "/api/v1/commands/{id}/cancel"),
    ("get", "/api/v1/session"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/setup"),
    ("post", "/api/v1/setup"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/drills"),
    ("post", "/api/v1/drills"),
    ("get", "/api/v1/drills/compare"),
    ("get", "/api/v1/drills/{id}"),
    ("get", "/api/v1/drills/{id}/report.html"),
    ("get", "/api/v1/drills/{id}/charts/{file}"),
    ("post", "/api/v1/drills/{id}/notes"),
    ("post", "/api/v1/drills/{id}/abort"),
    ("get", "/api/v1/status"),
    ("get", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("get", "/api/v1/incidents/{id}/export"),
    ("post", "/api/v1/incidents/{id}/notes"),
    ("post", "/api/v1/alerts/{id}/ack"),
    ("get", "/api/v1/failover/plan"),
    ("post", "/api/v1/failovers/plan"),
    ("get", "/api/v1/deliveries"),
    ("post", "/api/v1/receivers/{name}/test"),
];

/// Alerts out: the receivers, the delivery log, a test alert.
fn deliveries_paths() -> Value {
    json!({
        "/api/v1/deliveries": { "get": {
            "summary": "Where alerts go: every receiver ([[alerts.receivers]]) with its health (ok, failing with its last error, misconfigured, idle; what it still has queued), and the delivery log, newest first",
            "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 10000, "default": 100 } }],
            "responses": { "200": json_response("The receivers and the log", "DeliveriesResponse"), "400": error_response("A bad limit") }
        }},
        "/api/v1/receivers/{name}/test": { "post": {
            "summary": "Send a test alert to one receiver through its outbox (audited: receiver.test); answers its log row once the receiver answered, or pending after 10 s",
            "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": json_response("The test's delivery", "Delivery"), "404": error_response("No receiver of that name") }
        }}
    })
}

/// `/metrics`, outside `/api/v1`: the Prometheus text format, not JSON.
fn metrics_paths() -> Value {
    json!({
        "/metrics": { "get": {
            "summary": "The console's figures in the Prometheus text format (per region health, devices, data age, poll durations and failures; edge backlog; open alerts; the failover phase; failovers, command runs and deliveries by result; AWS calls and throttles; resident memory). Names: docs/METRICS.md",
            "description": "A scraper sends the token of `[metrics] token_env`/`token_file` as `Authorization: Bearer <token>`; a signed-in viewer's session works too. Without logins (--no-auth) it answers loopback callers only.",
            "responses": {
                "200": { "description": "The exposition", "content": { "text/plain; version=0.0.4": { "schema": { "type": "string" } } } },
                "401": error_response("No token or session, or a wrong token"),
                "403": error_response("Without logins, a caller not on loopback")
            }
        }}
    })
}

/// Alerts out's schemas.
fn deliveries_schemas() -> Value {
    let ms = json!({ "type": "integer", "format": "int64", "minimum": 0 });
    let ms_or_null = json!({ "type": ["integer", "null"], "format": "int64", "minimum": 0 });
    let text_or_null = json!({ "type": ["string", "null"] });
    let kinds: Vec<&str> = switchyard_core::alerts::AlertKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    json!({
        "DeliveriesResponse": { "type": "object", "required": ["server_time", "receivers", "deliveries"], "properties": {
            "server_time": ms, "receivers": { "type": "array", "items": r("Receiver") }, "deliveries": { "type": "array", "items": r("Delivery") } } },
        "Receiver": { "type": "object", "required": ["name", "kind", "targets", "filter", "health"], "properties": {
            "name": { "type": "string" },
            "kind": { "enum": switchyard_core::delivery::ReceiverKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
            "targets": { "type": "array", "items": { "type": "string" } },
            "filter": { "type": "object", "required": ["severities", "regions", "kinds"], "properties": {
                "severities": { "type": "array", "items": { "enum": ["warning", "critical"] } },
                "regions": { "type": "array", "items": { "type": "string" } },
                "kinds": { "type": "array", "items": { "enum": kinds.clone() } } } },
            "health": { "type": "object", "required": ["status", "last_error", "last_delivered_at", "failing_since", "queued"], "properties": {
                "status": { "enum": ["idle", "ok", "failing", "misconfigured"] },
                "last_error": text_or_null, "last_delivered_at": ms_or_null, "failing_since": ms_or_null,
                "queued": { "type": "integer", "minimum": 0 } } } } },
        "Delivery": { "type": "object", "required": ["id", "receiver", "alert_id", "event", "state", "attempts", "last_error", "created_at", "next_attempt_at", "delivered_at", "alert_kind", "subject"], "properties": {
            "id": { "type": "integer" }, "receiver": { "type": "string" },
            "alert_id": { "type": ["integer", "null"] },
            "event": { "enum": switchyard_core::delivery::Event::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
            "state": { "enum": switchyard_core::delivery::DeliveryState::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
            "attempts": { "type": "integer", "minimum": 0 }, "last_error": text_or_null,
            "created_at": ms, "next_attempt_at": ms_or_null, "delivered_at": ms_or_null,
            "alert_kind": { "enum": kinds.iter().map(|k| json!(k)).chain([Value::Null]).collect::<Vec<_>>() },
            "subject": text_or_null } }
    })
}

/// The cockpit's routes: status, incidents, acknowledgements, a failover's plan (kept apart,
/// as the stragglers' are, for the macro's recursion limit).
fn cockpit_paths() -> Value {
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } });
    let note = |field: &str, min: u64| {
        json!({ "type": "object", "required": [field], "additionalProperties": false,
        "properties": { field: { "type": "string", "minLength": min, "maxLength": switchyard_core::incidents::MAX_NOTE_CHARS } } })
    };
    json!({
        "/api/v1/status": { "get": {
            "summary": "What the header, the incident strip and `switchyard status` show: the regions with each one's freshness, the headline, the open incident, the failover under way (or the last for an hour after it ended) with its summary and next step, the edge backlog from the edge poll, open alerts by severity",
            "responses": { "200": json_response("The status now", "StatusResponse") }
        }},
        "/api/v1/incidents": { "get": {
            "summary": "Incidents, newest first: each opened by a critical alert, joined by every alert raised while open, closed once all its alerts cleared and no failover runs",
            "parameters": [query_param("open", "boolean", "open ones only (default false: all)"), query_param("limit", "integer", "1..10000 (default 50)")],
            "responses": { "200": json_response("The incidents", "IncidentsResponse"), "400": error_response("A bad limit") }
        }},
        "/api/v1/incidents/{id}": { "get": {
            "summary": "One incident with its alerts and its timeline (alerts raised and cleared, acknowledgements, failover steps, commands, notes), oldest first",
            "parameters": [id.clone()],
            "responses": { "200": json_response("The incident", "IncidentDetail"), "404": error_response("No such incident") }
        }},
        "/api/v1/incidents/{id}/export": { "get": {
            "summary": "The incident for the post-incident review, as a file: Markdown (times in UTC) or JSON",
            "parameters": [id.clone(), { "name": "format", "in": "query", "required": true, "schema": { "enum": ["md", "json"] } }],
            "responses": {
                "200": { "description": "The file (Content-Disposition: attachment)", "content": {
                    "text/markdown": { "schema": { "type": "string" } },
                    "application/json": { "schema": { "$ref": "#/components/schemas/IncidentDetail" } } } },
                "400": error_response("A format other than md or json"), "404": error_response("No such incident") }
        }},
        "/api/v1/incidents/{id}/notes": { "post": {
            "summary": "Add a note to the incident's timeline (audited: incident.note)",
            "parameters": [id.clone()],
            "requestBody": { "required": true, "content": { "application/json": { "schema": note("text", 1) } } },
            "responses": { "201": json_response("The note as a timeline entry", "TimelineEntry"), "404": error_response("No such incident"), "422": error_response("An empty or too long note") }
        }},
        "/api/v1/alerts/{id}/ack": { "post": {
            "summary": "Acknowledge an alert, with a note (audited: alert.ack); every console sees who and when",
            "parameters": [id],
            "requestBody": { "required": true, "content": { "application/json": { "schema": note("note", 0) } } },
            "responses": { "200": json_response("The alert with its acknowledgement", "Alert"), "404": error_response("No such alert"), "409": error_response("Acknowledged already (says by whom and when)"), "422": error_response("A too long note") }
        }},
        "/api/v1/failover/plan": { "get": {
            "summary": "What a failover to the target would do, said before it is requested: the switch, the devices in the source and whether that figure is current, the stragglers' method and estimate, the TTL, the preflight, and why it would be refused now (changes nothing)",
            "parameters": [{ "name": "target", "in": "query", "required": true, "schema": { "type": "string" } }],
            "responses": { "200": json_response("The plan", "FailoverPlan"), "422": error_response("Not a configured region, or this fleet cannot move traffic") }
        }},
        "/api/v1/failovers/plan": { "post": {
            "summary": "A dry run: the plan of this whole request, refused exactly as the request would be (confirmation, reason, preflight); changes nothing",
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/FailoverRequest" } } } },
            "responses": { "200": json_response("The plan", "FailoverPlan"), "422": error_response("Not a configured region, or this fleet cannot move traffic") }
        }}
    })
}

/// The cockpit's schemas.
fn cockpit_schemas() -> Value {
    let ms = json!({ "type": "integer", "format": "int64", "minimum": 0, "description": "milliseconds since the Unix epoch" });
    let ms_or_null = json!({ "oneOf": [ms, { "type": "null" }] });
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let figures = json!({ "enum": ["current", "last_known", "missing"], "description": "current: observed on the last poll and the region answers; last_known: the figures of observed_at, the region does not answer or its data is stale; missing: never observed" });
    json!({
        "Figures": figures,
        "Acknowledgement": { "type": "object", "required": ["by", "at", "note"], "properties": { "by": { "type": "string" }, "at": ms, "note": { "type": "string" } } },
        "Incident": { "type": "object", "required": ["id", "title", "severity", "regions", "opened_at", "closed_at", "alerts_open", "alerts_total", "unacknowledged"], "properties": {
            "id": { "type": "integer" }, "title": { "type": "string", "examples": ["us-east-1 unreachable"] },
            "severity": { "enum": ["warning", "critical"] }, "regions": { "type": "array", "items": { "type": "string" } },
            "opened_at": ms, "closed_at": ms_or_null.clone(),
            "alerts_open": { "type": "integer" }, "alerts_total": { "type": "integer" }, "unacknowledged": { "type": "integer" } } },
        "IncidentsResponse": { "type": "object", "required": ["server_time", "incidents"], "properties": { "server_time": ms, "incidents": { "type": "array", "items": r("Incident") } } },
        "TimelineEntry": { "type": "object", "required": ["at", "kind", "actor", "text", "source"], "properties": {
            "at": ms, "kind": { "enum": ["opened", "alert_raised", "alert_cleared", "acknowledged", "note", "failover", "failover_step", "command", "action", "closed"] },
            "actor": { "type": ["string", "null"], "description": "null: observed by the console itself" }, "text": { "type": "string" },
            "source": { "type": "string", "description": "the one record the entry comes from (alert:12:raised, audit:40, failover:fo-1:2)" } } },
        "IncidentDetail": { "type": "object", "required": ["server_time", "incident", "alerts", "timeline"], "properties": {
            "server_time": ms, "incident": r("Incident"), "alerts": { "type": "array", "items": r("Alert") }, "timeline": { "type": "array", "items": r("TimelineEntry") } } },
        "Headline": { "type": "object", "required": ["online", "offline", "reporting", "not_reporting"], "properties": {
            "online": { "type": "integer" }, "offline": { "type": "integer" }, "reporting": { "type": "integer", "description": "regions whose figures are current: the totals are theirs" },
            "not_reporting": { "type": "array", "items": { "type": "object", "required": ["region", "since"], "properties": { "region": { "type": "string" }, "since": ms_or_null.clone() } } } } },
        "NextStep": { "type": "object", "required": ["kind"], "properties": { "kind": { "enum": ["drain_watch", "failback_preflight", "await_recovery", "retry"] },
            "messages": { "type": "integer" }, "gateways": { "type": "integer" }, "region": { "type": "string" }, "target": { "type": "string" } } },
        "StatusResponse": { "type": "object", "required": ["server_time", "source", "headline", "regions", "active", "incident", "failover", "failover_summary", "next_step", "recommendation", "edge", "edge_observed_at", "alerts_critical", "alerts_warning"], "properties": {
            "server_time": ms, "source": { "enum": ["simulated", "aws"] }, "headline": r("Headline"),
            "regions": { "type": "array", "items": r("RegionSummary") }, "active": { "type": ["string", "null"] },
            "incident": { "oneOf": [r("Incident"), { "type": "null" }] }, "failover": { "oneOf": [r("Failover"), { "type": "null" }] },
            "failover_summary": { "type": ["string", "null"] }, "next_step": { "oneOf": [r("NextStep"), { "type": "null" }] },
            "recommendation": { "type": ["object", "null"] }, "edge": r("BacklogTotals"), "edge_observed_at": ms_or_null,
            "alerts_critical": { "type": "integer" }, "alerts_warning": { "type": "integer" } } },
        "FailoverPlan": { "type": "object", "required": ["server_time", "source", "target", "switch", "devices_in_source", "devices_figures", "stragglers", "dns_ttl_secs", "estimate", "preflight", "two_person_rule", "refused"], "properties": {
            "server_time": ms, "source": { "type": "string" }, "target": { "type": "string" }, "switch": { "type": "string" },
            "devices_in_source": { "type": "integer" }, "devices_figures": r("Figures"),
            "stragglers": { "enum": ["disconnect", "command", "off"] }, "dns_ttl_secs": { "type": "integer" },
            "estimate": { "type": ["object", "null"] }, "preflight": { "type": "object" }, "two_person_rule": { "type": "boolean" },
            "refused": { "type": ["string", "null"], "description": "why a request would be refused now; null: it would start" } } }
    })
}

/// The straggler step's routes (kept apart: one `json!` of every path passes the macro's
/// recursion limit).
fn straggler_paths() -> Value {
    json!({
            "/api/v1/failovers/{id}/stragglers": { "get": {
                "summary": "The failover's straggler results, newest first: each device still connected to the old region once the TTL had passed, and what moving it came to",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    query_param("outcome", "string", "disconnected, already_gone, told or failed (default all)"),
                    query_param("offset", "integer", "results to skip (default 0)"),
                    query_param("limit", "integer", "1..10000 (default 100)")],
                "responses": { "200": json_response("One page of results and the total", "StragglerResults"), "400": error_response("A bad outcome or limit"), "404": error_response("No such failover") }
            }},
            "/api/v1/failovers/{id}/stragglers/cancel": { "post": {
                "summary": "Stop moving the stragglers (audited, with a reason): the step ends at its next device and the failover goes on to verify",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["reason"], "properties": { "reason": { "type": "string" } } } } } },
                "responses": { "200": json_response("Asked to stop", "Failover"), "404": error_response("No such failover"), "409": error_response("The straggler step is not under way"), "422": error_response("No reason given") }
            }}
    })
}

fn json_response(desc: &str, schema: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn query_param(name: &str, ty: &str, desc: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": ty }, "description": desc })
}

fn error_response(desc: &str) -> Value {
    json_response(desc, "ApiError")
}

pub fn openapi_document() -> Value {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchyard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The console's HTTP API: fleet state, live events, and the operator's actions. Every figure carries the time it was observed (`observed_at`, ms since the Unix epoch) next to the server's clock (`server_time`)."
        },
        "paths": {
            "/healthz": { "get": {
                "summary": "Liveness of the server process",
                "responses": { "200": json_response("The server is up", "Healthz") }
            }},
            "/api/v1/regions": { "get": {
                "summary": "Every configured region: role, health, online/offline devices, edge backlog, data age",
                "responses": { "200": json_response("The regions at the current state version", "RegionsResponse") }
            }},
            "/api/v1/regions/{id}/history": { "get": {
                "summary": "A region's stored samples (online, offline, connection attempts and errors, backlog, health), oldest first",
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    query_param("minutes", "integer", "how far back, 1..10080 (default 60)")
                ],
                "responses": {
                    "200": json_response("The samples", "RegionHistory"),
                    "400": error_response("A parameter is malformed or out of range"),
                    "404": error_response("No such region is configured")
                }
            }},
            "/api/v1/devices": { "get": {
                "summary": "Devices with their connectivity, filtered and paged",
                "parameters": [
                    query_param("region", "string", "connected to, or last connected to, this region"),
                    query_param("thing_group", "string", "member of this thing group"),
                    query_param("connected", "boolean", "true: online only; false: offline only"),
                    query_param("reason", "string", "offline devices that disconnected for this reason (e.g. CONNECTION_LOST)"),
                    query_param("q", "string", "part of the thing name"),
                    query_param("offset", "integer", "matches to skip (default 0)"),
                    query_param("limit", "integer", "page size, 1..1000 (default 100)")
                ],
                "responses": {
                    "200": json_response("One page and the number of matches", "DevicePage"),
                    "400": error_response("A parameter is malformed, out of range or unknown; the message names it"),
                    "503": error_response("The fleet source did not answer in time")
                }
            }},
            "/api/v1/devices/{id}": { "get": {
                "summary": "One device by thing name",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": {
                    "200": json_response("The device and its recent connectivity changes, newest first", "DeviceDetail"),
                    "404": error_response("No such thing"),
                    "503": error_response("The fleet source did not answer in time")
                }
            }},
            "/api/v1/edge/gateways": { "get": {
                "summary": "Edge gateways, riskiest first: backlog, growth or drain rate, time to overflow and to drain, drops; fleet totals",
                "parameters": [query_param("limit", "integer", "how many gateways, 1..10000 (default 100); totals cover all")],
                "responses": {
                    "200": json_response("The riskiest gateways and the totals", "GatewaysResponse"),
                    "400": error_response("A parameter is malformed, out of range or unknown")
                }
            }},
            "/api/v1/alerts": { "get": {
                "summary": "Alerts, newest first: region degraded or unreachable, backlog near capacity, drops started",
                "parameters": [
                    query_param("open", "boolean", "true (default): open alerts only; false: all"),
                    query_param("limit", "integer", "1..10000 (default 100)")
                ],
                "responses": {
                    "200": json_response("The alerts", "AlertsResponse"),
                    "400": error_response("A parameter is malformed, out of range or unknown")
                }
            }},
            "/api/v1/events": { "get": {
                "summary": "Server-sent events carrying state changes",
                "description": "The first event is the current state; each later one follows a change. Event `regions`: data a RegionsResponse with `type: \"regions\"`. Event `alert`: data an Alert with `type: \"alert\"`, sent when it is raised and again when it is cleared. Event `failover`: data a Failover with `type: \"failover\"`, sent when one is requested and at every change of phase or progress. A keep-alive comment is sent every 15 s.",
                "responses": { "200": { "description": "An event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } } }
            }},
            "/api/v1/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
            }},
            "/api/v1/failover": { "get": {
                "summary": "The failover panel: the active region, every standby's latest preflight, the recommendation if any, the failover under way and the recent ones",
                "responses": { "200": json_response("The overview", "FailoverOverview") }
            }},
            "/api/v1/readiness": { "get": {
                "summary": "A fresh preflight of a failover from the active region to a target: target health, certificates, topic rules, domain configuration, DNS record, no other failover",
                "parameters": [{ "name": "target", "in": "query", "required": true, "schema": { "type": "string" } }],
                "responses": {
                    "200": json_response("Each check with its verdict (pass, warn, fail) and reasons; the worst is `overall`", "Readiness"),
                    "400": error_response("No such region, or it is the active one")
                }
            }},
            "/api/v1/failovers": { "post": {
                "summary": "Request a failover (or failback) to a region (audited). Never started by the console itself.",
                "description": "The body repeats the target's name in `confirm` and gives a reason. A failing preflight refuses; a warning needs `override_warnings: true`. One failover at a time. Under the two-person rule it waits for another operator's approval. The operator is the `X-Switchyard-Operator` header until logins exist.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/FailoverRequest" } } } },
                "responses": {
                    "202": json_response("Started (or waiting for approval); follow it at /api/v1/failovers/{id} or on the event stream", "Failover"),
                    "200": { "description": "The target is already active: nothing to do, nothing done", "content": { "application/json": { "schema": { "type": "object", "required": ["nothing_to_do"], "properties": { "nothing_to_do": { "type": "string" } } } } } },
                    "409": error_response("Another failover is under way"),
                    "422": error_response("Refused: the preflight fails or warns without override, the confirmation does not match, no reason, unknown region")
                }
            }},
            "/api/v1/failovers/{id}": { "get": {
                "summary": "One failover: its phase, preflight, the devices back in the target, and its journalled steps",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": json_response("The failover", "Failover"), "404": error_response("No such failover") }
            }},
            "/api/v1/failovers/{id}/approve": { "post": {
                "summary": "Approve a failover waiting under the two-person rule (by another operator than the requester; audited)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": json_response("Approved; it runs now", "Failover"), "404": error_response("No such failover"), "422": error_response("Not waiting for approval, or the same operator") }
            }},
            "/api/v1/failovers/{id}/cancel": { "post": {
                "summary": "Cancel a failover still waiting for approval (audited); once traffic moved, fail back instead",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": json_response("Cancelled", "Failover"), "404": error_response("No such failover"), "422": error_response("It is past approval") }
            }},
            "/api/v1/audit": { "get": {
                "summary": "The audit log, newest first: who, when, what, why, and how it ended",
                "parameters": [query_param("limit", "integer", "1..10000 (default 100)")],
                "responses": { "200": { "description": "The entries", "content": { "application/json": { "schema": { "type": "object", "required": ["entries"], "properties": { "entries": { "type": "array", "items": { "$ref": "#/components/schemas/AuditEntry" } } } } } } }, "400": error_response("limit out of range") }
            }},
            "/api/v1/commands": {
                "get": {
                    "summary": "The command catalogue and the recent runs, newest first",
                    "parameters": [query_param("limit", "integer", "runs, 1..1000 (default 20)")],
                    "responses": { "200": { "description": "`catalogue`: the commands (name, description, topic template, JSON Schema, persist_as_shadow); `runs`: CommandRun objects", "content": { "application/json": {} } } }
                },
                "post": {
                    "summary": "Send a command to the online devices of a target (audited). Offline devices are skipped, or get the payload as desired shadow state when `offline: \"shadow\"` and the command allows it.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CommandRequest" } } } },
                    "responses": {
                        "202": { "description": "The run started; follow it at /api/v1/commands/{id} or on the event stream (event `command`)", "content": { "application/json": {} } },
                        "422": error_response("Invalid: unknown command, payload against its schema or over 128 KB, a bad topic or thing name, no device matches, no reason. Nothing was sent.")
                    }
                }
            },
            "/api/v1/commands/preview": { "post": {
                "summary": "Who would get a command: online devices (publish), offline ones to be shadowed, offline ones skipped (the first 100 with when and why). Sends nothing.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CommandRequest" } } } },
                "responses": { "200": { "description": "The preview", "content": { "application/json": {} } }, "422": error_response("Invalid request; the message names what is wrong") }
            }},
            "/api/v1/commands/{id}": { "get": {
                "summary": "A command run with its tallies and one page of per-device results (sent, shadowed, skipped_offline, failed with the error, cancelled)",
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    query_param("offset", "integer", "results to skip"),
                    query_param("limit", "integer", "results, 1..10000 (default 100)")
                ],
                "responses": { "200": { "description": "`run` and `results`", "content": { "application/json": {} } }, "404": error_response("No such run") }
            }},
            "/api/v1/commands/{id}/cancel": { "post": {
                "summary": "Cancel a running command: devices not yet sent to are marked cancelled",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "Cancelling", "content": { "application/json": {} } }, "404": error_response("No running command with that id") }
            }},
            "/api/v1/sim/faults": {
                "post": {
                    "summary": "Inject an outage, a degradation or Route 53's control plane failing into the simulated fleet (audited)",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/InjectFaultRequest" } } } },
                    "responses": {
                        "201": json_response("Injected; the audit entry's id", "AuditedResponse"),
                        "400": error_response("The body is not valid JSON"),
                        "415": error_response("The body is not sent as application/json"),
                        "422": error_response("The request is well-formed but cannot be carried out (unknown region, no reason, unknown field, not a simulated fleet)")
                    }
                },
                "delete": {
                    "summary": "End every injected fault (audited)",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["reason"], "additionalProperties": false, "properties": { "reason": { "type": "string" } } } } } },
                    "responses": {
                        "200": json_response("Ended; the audit entry's id", "AuditedResponse"),
                        "422": error_response("No reason given, or not a simulated fleet")
                    }
                }
            }
        },
        "components": { "schemas": schemas() }
    });
    for more in [cockpit_schemas(), deliveries_schemas()] {
        if let (Some(all), Value::Object(more)) =
            (doc["components"]["schemas"].as_object_mut(), more)
        {
            all.extend(more);
        }
    }
    for more in [
        straggler_paths(),
        drill_paths(),
        auth_paths(),
        cockpit_paths(),
        deliveries_paths(),
        metrics_paths(),
    ] {
        if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), more) {
            paths.extend(more);
        }
    }
    // Who may call each route, from the one table the server's guard reads.
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, ops) in paths.iter_mut() {
            for (method, op) in ops.as_object_mut().into_iter().flatten() {
                let access = match switchyard_core::auth::required_access(method, path) {
                    switchyard_core::auth::Access::Public => "public".to_string(),
                    switchyard_core::auth::Access::Role(r) => r.as_str().to_string(),
                };
                let csrf = access != "public" && switchyard_core::auth::is_state_changing(method);
                op["x-required-role"] = json!(access);
                if csrf {
                    op["x-csrf"] = json!("X-CSRF-Token header required");
                }
            }
        }
    }
    doc["info"]["description"] = json!("Every route but /healthz, /api/v1/session and /api/v1/setup needs a session (the sy_session cookie from POST /api/v1/session), or a trusted proxy's user header; `x-required-role` on each operation names the least role (viewer < operator < admin), and state-changing operations need the X-CSRF-Token header from GET /api/v1/session. A server started with --no-auth (loopback only) asks for neither. /metrics also takes the scrape token of [metrics] as a bearer token.");
    doc
}

fn schemas() -> Value {
    let ms = json!({ "type": "integer", "format": "int64", "minimum": 0, "description": "milliseconds since the Unix epoch" });
    let mut all = json!({
        "ApiError": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
        "Healthz": { "type": "object", "required": ["status", "version"], "properties": { "status": { "const": "ok" }, "version": { "type": "string" } } },
        "AuditedResponse": { "type": "object", "required": ["audit_id", "message"], "properties": { "audit_id": { "type": "integer" }, "message": { "type": "string" } } },
        "Health": { "type": "object", "required": ["status", "reasons"], "properties": {
            "status": { "enum": ["unknown", "healthy", "degraded", "unreachable"] },
            "reasons": { "type": "array", "items": { "type": "string" } } } },
        "BacklogTotals": { "type": "object", "required": ["gateways", "messages", "bytes", "dropped", "oldest_age_ms"], "properties": {
            "gateways": { "type": "integer" }, "messages": { "type": "integer" }, "bytes": { "type": "integer" },
            "dropped": { "type": "integer" }, "oldest_age_ms": { "type": "integer" } } },
        "RegionSummary": { "type": "object",
            "required": ["id", "name", "role", "health", "online", "offline", "backlog", "observed_at", "last_attempt_at", "poll_interval_ms"],
            "properties": {
                "id": { "type": "string", "examples": ["us-east-1"] },
                "name": { "type": "string" },
                "role": { "enum": ["active", "standby"] },
                "health": { "$ref": "#/components/schemas/Health" },
                "online": { "type": "integer" },
                "offline": { "type": "integer" },
                "backlog": { "$ref": "#/components/schemas/BacklogTotals" },
                "observed_at": { "oneOf": [ms, { "type": "null" }], "description": "when the figures were observed; null before the first successful poll" },
                "last_attempt_at": { "oneOf": [ms, { "type": "null" }] },
                "poll_interval_ms": { "type": "integer", "description": "figures older than twice this are stale" },
                "figures": { "$ref": "#/components/schemas/Figures" } } },
        "RegionsResponse": { "type": "object", "required": ["version", "source", "server_time", "regions"], "properties": {
            "type": { "const": "regions", "description": "present on events only" },
            "version": { "type": "integer" },
            "source": { "enum": ["simulated", "aws"] },
            "server_time": ms,
            "regions": { "type": "array", "items": { "$ref": "#/components/schemas/RegionSummary" } } } },
        "FaultSpec": { "type": "object", "required": ["region", "kind"], "properties": {
            "region": { "type": "string", "description": "route53_control_plane: us-east-1 only, where Route 53's control plane is served from" },
            "kind": { "enum": FaultKind::ALL.map(FaultKind::as_str) },
            "start_secs": { "type": "integer", "default": 0, "description": "delay from now" },
            "duration_secs": { "type": ["integer", "null"], "description": "null: until cleared" } } },
        "RegionHistory": { "type": "object", "required": ["region", "server_time", "since", "samples"], "properties": {
            "region": { "type": "string" }, "server_time": ms, "since": ms,
            "samples": { "type": "array", "items": { "type": "object",
                "required": ["observed_at", "health", "online", "offline", "connect_attempts", "connect_errors", "backlog_messages"],
                "properties": { "observed_at": ms, "health": { "enum": ["unknown", "healthy", "degraded", "unreachable"] },
                    "online": { "type": "integer" }, "offline": { "type": "integer" }, "connect_attempts": { "type": "integer" },
                    "connect_errors": { "type": "integer" }, "backlog_messages": { "type": "integer" } } } } } },
        "Device": { "type": "object", "required": ["id", "region", "thing_groups", "connectivity"], "properties": {
            "id": { "type": "string" }, "region": { "type": "string" },
            "thing_groups": { "type": "array", "items": { "type": "string" } },
            "connectivity": { "type": "object", "required": ["state", "since"], "properties": {
                "state": { "enum": ["online", "offline"] }, "since": ms,
                "reason": { "enum": ["CLIENT_INITIATED_DISCONNECT", "SERVER_INITIATED_DISCONNECT", "CONNECTION_LOST", "MQTT_KEEP_ALIVE_TIMEOUT", "SERVER_ERROR", "THROTTLED", "UNKNOWN"], "description": "offline only" } } } } },
        "DeviceDetail": { "allOf": [{ "$ref": "#/components/schemas/Device" }, { "type": "object", "required": ["history"], "properties": {
            "history": { "type": "array", "items": { "type": "object", "required": ["at", "region", "online", "reason"], "properties": {
                "at": ms, "region": { "type": "string" }, "online": { "type": "boolean" },
                "reason": { "type": ["string", "null"] } } } } } }] },
        "DevicePage": { "type": "object", "required": ["server_time", "observed_at", "total", "offset", "limit", "items"], "properties": {
            "server_time": ms, "observed_at": ms, "total": { "type": "integer" }, "offset": { "type": "integer" },
            "limit": { "type": "integer" }, "items": { "type": "array", "items": { "$ref": "#/components/schemas/Device" } } } },
        "GatewayView": { "type": "object", "required": ["id", "connected_region", "backlog", "capacity_messages", "fill", "rate_per_s", "time_to_overflow_s", "time_to_drain_s", "dropping"], "properties": {
            "id": { "type": "string" }, "connected_region": { "type": ["string", "null"] },
            "backlog": { "type": "object", "description": "messages, bytes, oldest_age_ms, dropped" },
            "capacity_messages": { "type": "integer" }, "fill": { "type": "number", "minimum": 0, "maximum": 1 },
            "rate_per_s": { "type": ["number", "null"], "description": "growth per second, negative while draining; null until two observations" },
            "time_to_overflow_s": { "type": ["integer", "null"] }, "time_to_drain_s": { "type": ["integer", "null"] },
            "dropping": { "type": "boolean" } } },
        "GatewaysResponse": { "type": "object", "required": ["server_time", "observed_at", "poll_interval_ms", "totals", "total_gateways", "gateways", "totals_history"], "properties": {
            "server_time": ms, "observed_at": { "oneOf": [ms, { "type": "null" }] }, "poll_interval_ms": { "type": "integer" },
            "totals": { "$ref": "#/components/schemas/BacklogTotals" }, "total_gateways": { "type": "integer" },
            "gateways": { "type": "array", "items": { "$ref": "#/components/schemas/GatewayView" } },
            "totals_history": { "type": "array", "description": "the fleet's totals at each poll of the last hour, oldest first",
                "items": { "type": "object", "required": ["at", "messages", "dropped"], "properties": {
                    "at": ms, "messages": { "type": "integer" }, "dropped": { "type": "integer" } } } } } },
        "Alert": { "type": "object", "required": ["id", "kind", "severity", "subject", "message", "raised_at", "cleared_at"], "properties": {
            "id": { "type": "integer" },
            "kind": { "enum": switchyard_core::alerts::AlertKind::ALL.map(switchyard_core::alerts::AlertKind::as_str) },
            "severity": { "enum": ["warning", "critical"] },
            "subject": { "type": "string", "description": "a region code or a gateway id" },
            "message": { "type": "string" }, "raised_at": ms, "cleared_at": { "oneOf": [ms, { "type": "null" }] },
            "incident_id": { "type": ["integer", "null"], "description": "the incident it joined; null: a warning raised while no incident was open" },
            "ack": { "oneOf": [{ "$ref": "#/components/schemas/Acknowledgement" }, { "type": "null" }] } } },
        "AlertsResponse": { "type": "object", "required": ["server_time", "alerts"], "properties": {
            "server_time": ms, "alerts": { "type": "array", "items": { "$ref": "#/components/schemas/Alert" } } } },
        "InjectFaultRequest": { "type": "object", "required": ["fault", "reason"], "additionalProperties": false, "properties": {
            "fault": { "$ref": "#/components/schemas/FaultSpec" }, "reason": { "type": "string" } } }
    });
    for more in [failover_schemas(), drill_schemas()] {
        if let (Some(all), Value::Object(more)) = (all.as_object_mut(), more) {
            all.extend(more);
        }
    }
    all
}

/// Sign-in and accounts.
fn auth_paths() -> Value {
    json!({
        "/api/v1/session": {
            "get": {
                "summary": "Who is signed in, with the CSRF token to send back in X-CSRF-Token on every state-changing request",
                "responses": { "200": { "description": "SessionInfo: username, role, csrf, expires_at, mode (local, trusted_header or none)", "content": { "application/json": {} } }, "401": error_response("Not signed in") }
            },
            "post": {
                "summary": "Sign in (audited). Sets the session cookie (HttpOnly, SameSite=Strict, Secure on TLS). Failed attempts are limited per user name and per client address.",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["username", "password"], "additionalProperties": false, "properties": { "username": { "type": "string" }, "password": { "type": "string" } } } } } },
                "responses": { "200": { "description": "SessionInfo", "content": { "application/json": {} } }, "401": error_response("Wrong name or password"), "429": error_response("Too many failed sign-ins; Retry-After says when to try again") }
            },
            "delete": {
                "summary": "Sign out: the session ends and the cookie is cleared",
                "responses": { "200": { "description": "Signed out", "content": { "application/json": {} } } }
            }
        },
        "/api/v1/setup": {
            "get": {
                "summary": "Whether the first admin still has to be created",
                "responses": { "200": { "description": "`needed`", "content": { "application/json": {} } } }
            },
            "post": {
                "summary": "Create the first admin with the one-time token the server printed at start; signs them in",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["token", "username", "password"], "additionalProperties": false, "properties": { "token": { "type": "string" }, "username": { "type": "string" }, "password": { "type": "string", "minLength": 12 } } } } } },
                "responses": { "200": { "description": "SessionInfo", "content": { "application/json": {} } }, "422": error_response("The link is not valid (it works once, while no account exists), or the name or password is refused") }
            }
        },
        "/api/v1/users": {
            "get": {
                "summary": "The accounts (never their hashes)",
                "responses": { "200": { "description": "UserInfo list: username, role, created_at, created_by", "content": { "application/json": {} } } }
            },
            "post": {
                "summary": "Add an account (audited)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["username", "password", "role"], "additionalProperties": false, "properties": { "username": { "type": "string" }, "password": { "type": "string", "minLength": 12 }, "role": { "enum": ["viewer", "operator", "admin"] } } } } } },
                "responses": { "201": { "description": "UserInfo", "content": { "application/json": {} } }, "409": error_response("The name is taken"), "422": error_response("A bad name, a short password") }
            }
        }
    })
}

/// The drills' routes (a separate literal: one `json!` this size passes the macro recursion limit).
fn drill_paths() -> Value {
    json!({
            "/api/v1/drills": {
                "get": {
                    "summary": "Every drill, newest first, with whether drilling is overdue (`overdue`: the warning to show, or null) and the configured objectives",
                    "responses": { "200": { "description": "DrillsResponse: `drills` (DrillSummary), `overdue`, `period_days`, `objectives`", "content": { "application/json": {} } } }
                },
                "post": {
                    "summary": "Start a drill (audited). `mode: \"simulated\"` runs a seeded copy of the simulated fleet in simulated time (scripted failover only); `mode: \"live\"` runs on the console in real time, injecting the outage into the live simulated fleet (on AWS: no outage, a practice failover and failback) and failing over through the console's own guarded failover, by the script or by an operator.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DrillRequest" } } } },
                    "responses": {
                        "202": { "description": "Started: the DrillSummary; follow it at /api/v1/drills/{id}", "content": { "application/json": {} } },
                        "409": error_response("Another live drill is running"),
                        "422": error_response("Invalid scenario; the message names the field")
                    }
                }
            },
            "/api/v1/drills/compare": { "get": {
                "summary": "Two ended drills side by side: each measure for both and which did better",
                "parameters": [query_param("a", "string", "a drill id"), query_param("b", "string", "another drill id")],
                "responses": { "200": { "description": "`a`, `b` (DrillSummary) and `rows` (measure, a, b, better)", "content": { "application/json": {} } }, "404": error_response("No such drill"), "422": error_response("A drill has no measures (still running or aborted early)") }
            }},
            "/api/v1/drills/{id}": { "get": {
                "summary": "A drill with everything kept of it: scenario, objectives, the recording (events and samples), the measures and verdicts, notes and action items. This is the JSON export.",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "The Drill", "content": { "application/json": {} } }, "404": error_response("No such drill") }
            }},
            "/api/v1/drills/{id}/report.html": { "get": {
                "summary": "The drill's report as one self-contained HTML page with its charts inline",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "HTML", "content": { "text/html": {} } }, "404": error_response("No such drill") }
            }},
            "/api/v1/drills/{id}/charts/{file}": { "get": {
                "summary": "One chart of the report: `reconnection`, `backlog` or `timeline`, as `.svg` or `.png` (900×320)",
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    { "name": "file", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^(reconnection|backlog|timeline)\\.(svg|png)$" } }
                ],
                "responses": { "200": { "description": "The chart", "content": { "image/svg+xml": {}, "image/png": {} } }, "404": error_response("No such drill or chart") }
            }},
            "/api/v1/drills/{id}/notes": { "post": {
                "summary": "Replace the drill's notes and action items (audited)",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DrillNotes" } } } },
                "responses": { "200": { "description": "The Drill", "content": { "application/json": {} } }, "404": error_response("No such drill"), "422": error_response("Notes over 32 KB, over 100 action items, or an empty one") }
            }},
            "/api/v1/drills/{id}/abort": { "post": {
                "summary": "Stop a running drill (audited); its report says it was aborted",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "Stopping", "content": { "application/json": {} } }, "404": error_response("No such drill"), "422": error_response("The drill is not running") }
            }}
    })
}

fn drill_schemas() -> Value {
    let fault = json!({ "type": "object", "required": ["duration_secs"], "additionalProperties": false, "properties": {
        "region": { "type": "string", "description": "default: the region active when the drill starts" },
        "at_secs": { "type": "integer", "minimum": 0 }, "duration_secs": { "type": "integer", "minimum": 1 } } });
    json!({
        "Scenario": { "type": "object", "required": ["name", "duration_secs", "failover"], "additionalProperties": false, "properties": {
            "name": { "type": "string", "maxLength": 120 },
            "mode": { "enum": ["simulated", "live"], "default": "simulated" },
            "seed": { "type": "integer", "default": 1 },
            "devices": { "type": "integer", "minimum": 1, "maximum": 200000, "default": 2000 },
            "gateways": { "type": "integer", "minimum": 0, "maximum": 5000, "default": 20 },
            "duration_secs": { "type": "integer", "minimum": 1, "maximum": 21600 },
            "outage": fault, "degradation": fault,
            "route53_control_plane": { "type": "object", "required": ["duration_secs"], "additionalProperties": false,
                "description": "Route 53's control plane does not answer: the record and health-check switches fail, routing controls do not",
                "properties": {
                    "region": { "const": ROUTE53_CONTROL_PLANE_REGION, "description": "where Route 53's control plane is served from; may be left out" },
                    "at_secs": { "type": "integer", "minimum": 0 }, "duration_secs": { "type": "integer", "minimum": 1 } } },
            "switch": { "enum": SwitchMethod::ALL.map(SwitchMethod::as_str), "description": "simulated drills only: how the failover moves the devices; default routing_control" },
            "failover": { "type": "object", "required": ["by"], "additionalProperties": false, "properties": {
                "by": { "enum": ["script", "operator"] }, "target": { "type": "string" }, "decide_secs": { "type": "integer", "default": 30 } } },
            "failback": { "type": "object", "required": ["after_secs"], "additionalProperties": false, "properties": { "after_secs": { "type": "integer" } } },
            "objectives": { "type": "object", "additionalProperties": false, "properties": {
                "rto_secs": { "type": "integer", "minimum": 1 }, "rpo_messages": { "type": "integer", "minimum": 0 }, "max_backlog": { "type": "integer", "minimum": 1 } } } } },
        "DrillRequest": { "type": "object", "required": ["scenario"], "additionalProperties": false, "properties": { "scenario": { "$ref": "#/components/schemas/Scenario" } } },
        "DrillNotes": { "type": "object", "required": ["notes"], "additionalProperties": false, "properties": {
            "notes": { "type": "string", "maxLength": 32768 },
            "action_items": { "type": "array", "maxItems": 100, "items": { "type": "object", "required": ["text"], "properties": {
                "text": { "type": "string" }, "owner": { "type": ["string", "null"] }, "done": { "type": "boolean" } } } } } }
    })
}

fn failover_schemas() -> Value {
    let ms = json!({ "type": "integer", "format": "int64", "minimum": 0, "description": "milliseconds since the Unix epoch" });
    json!({
        "FailoverRequest": { "type": "object", "required": ["target", "confirm", "reason"], "additionalProperties": false, "properties": {
            "target": { "type": "string" }, "confirm": { "type": "string", "description": "the target's name again" },
            "reason": { "type": "string" }, "override_warnings": { "type": "boolean", "default": false } } },
        "Check": { "type": "object", "required": ["name", "verdict", "reasons"], "properties": {
            "name": { "type": "string" }, "verdict": { "enum": ["pass", "warn", "fail"] }, "reasons": { "type": "array", "items": { "type": "string" } } } },
        "Readiness": { "type": "object", "required": ["target", "overall", "checks"], "properties": {
            "target": { "type": "string" }, "overall": { "enum": ["pass", "warn", "fail"] }, "checks": { "type": "array", "items": { "$ref": "#/components/schemas/Check" } } } },
        "Step": { "type": "object", "required": ["step", "started_at", "finished_at", "outcome", "detail"], "properties": {
            "step": { "type": "string" }, "started_at": ms, "finished_at": { "type": ["integer", "null"] },
            "outcome": { "type": ["string", "null"], "description": "ok, skipped, failed, timed out, interrupted; null while under way" }, "detail": { "type": "string" } } },
        "Failover": { "type": "object", "required": ["id", "source", "target", "reason", "requested_by", "approved_by", "phase", "preflight", "online_before", "back", "complete_share", "requested_at", "updated_at", "ended_at", "outcome", "steps"], "properties": {
            "id": { "type": "string" }, "source": { "type": "string" }, "target": { "type": "string" }, "reason": { "type": "string" },
            "requested_by": { "type": "string" }, "approved_by": { "type": ["string", "null"] },
            "phase": { "enum": ["awaiting_approval", "switching_traffic", "reconnecting_devices", "verifying", "completed", "completed_with_exceptions", "failed", "cancelled"] },
            "preflight": { "$ref": "#/components/schemas/Readiness" }, "online_before": { "type": "integer" }, "back": { "type": "integer" },
            "complete_share": { "type": "number" }, "requested_at": ms, "updated_at": ms, "ended_at": { "type": ["integer", "null"] },
            "outcome": { "type": ["string", "null"] }, "steps": { "type": "array", "items": { "$ref": "#/components/schemas/Step" } },
            "switched_at": { "type": ["integer", "null"], "description": "When the switch was done" },
            "dns_ttl_secs": { "type": "integer", "description": "The devices' record's TTL: they re-resolve by switched_at plus this" },
            "stragglers": { "oneOf": [{ "$ref": "#/components/schemas/Stragglers" }, { "type": "null" }] },
            "curve": { "type": "array", "description": "Online in the old (source) and the new (target) region at every poll since the request, thinned to at most 300 points", "items": { "type": "object", "required": ["at", "source", "target"], "properties": { "at": ms, "source": { "type": "integer" }, "target": { "type": "integer" } } } },
            "complete_eta": { "type": ["integer", "null"], "description": "When the complete share will be reached, from the curve's slope over its last two minutes; null while it is not rising" } } },
        "Stragglers": { "type": "object", "required": ["method", "region", "rate_per_s", "state", "not_before", "estimate", "found", "moved", "already_gone", "failed", "started_at", "finished_at", "detail"], "properties": {
            "method": { "enum": ["disconnect", "command", "off"] }, "region": { "type": "string", "description": "The old region" }, "rate_per_s": { "type": "number" },
            "state": { "enum": ["waiting", "moving", "done", "skipped", "cancelled", "failed"] }, "not_before": ms,
            "estimate": { "oneOf": [{ "type": "object", "required": ["devices", "secs", "command_secs", "message"], "properties": { "devices": { "type": "integer" }, "secs": { "type": "integer" }, "command_secs": { "type": ["integer", "null"] }, "message": { "type": "string" } } }, { "type": "null" }] },
            "found": { "type": "integer" }, "moved": { "type": "integer" }, "already_gone": { "type": "integer" }, "failed": { "type": "integer" },
            "started_at": { "type": ["integer", "null"] }, "finished_at": { "type": ["integer", "null"] }, "detail": { "type": "string" } } },
        "StragglerResults": { "type": "object", "required": ["server_time", "failover", "total", "items"], "properties": {
            "server_time": ms, "failover": { "type": "string" }, "total": { "type": "integer" },
            "items": { "type": "array", "items": { "type": "object", "required": ["device", "outcome", "detail", "at"], "properties": { "device": { "type": "string" }, "outcome": { "enum": ["disconnected", "already_gone", "told", "failed"] }, "detail": { "type": "string" }, "at": ms } } } } },
        "Recommendation": { "type": "object", "required": ["target", "reasons"], "properties": { "target": { "type": "string" }, "reasons": { "type": "array", "items": { "type": "string" } } } },
        "FailoverOverview": { "type": "object", "required": ["server_time", "active", "readiness", "recommendation", "current", "recent", "two_person_rule"], "properties": {
            "server_time": ms, "active": { "type": ["string", "null"] },
            "readiness": { "type": "array", "items": { "$ref": "#/components/schemas/Readiness" } },
            "recommendation": { "oneOf": [{ "$ref": "#/components/schemas/Recommendation" }, { "type": "null" }] },
            "current": { "oneOf": [{ "$ref": "#/components/schemas/Failover" }, { "type": "null" }] },
            "recent": { "type": "array", "items": { "$ref": "#/components/schemas/Failover" } },
            "two_person_rule": { "type": "boolean" } } },
        "CommandRequest": { "type": "object", "required": ["command", "payload", "target"], "additionalProperties": false, "properties": {
            "command": { "type": "string", "description": "a catalogue command's name" },
            "payload": { "description": "JSON checked against the command's schema; at most 128 KB" },
            "target": { "oneOf": [
                { "type": "object", "required": ["kind", "ids"], "properties": { "kind": { "const": "devices" }, "ids": { "type": "array", "items": { "type": "string" } } } },
                { "type": "object", "required": ["kind", "name"], "properties": { "kind": { "const": "thing_group" }, "name": { "type": "string" } } },
                { "type": "object", "required": ["kind", "code"], "properties": { "kind": { "const": "region" }, "code": { "type": "string" } } },
                { "type": "object", "required": ["kind", "query"], "properties": { "kind": { "const": "query" }, "query": { "type": "string" } } } ] },
            "offline": { "enum": ["skip", "shadow"], "default": "skip" },
            "reason": { "type": "string", "description": "required to run; not for a preview" } } },
        "AuditEntry": { "type": "object", "required": ["id", "at", "actor", "action", "reason", "detail", "result", "finished_at"], "properties": {
            "id": { "type": "integer" }, "at": ms, "actor": { "type": "string" }, "action": { "type": "string" }, "reason": { "type": "string" },
            "detail": { "type": "string" }, "result": { "type": ["string", "null"], "description": "null while under way, or left by a crash" },
            "finished_at": { "type": ["integer", "null"] } } }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::drills::{Scenario, ScenarioFault};
    use switchyard_core::fault::FaultSpec;

    #[test]
    fn every_fault_kind_and_every_scenario_field_is_documented() {
        let doc = openapi_document();
        let schemas = &doc["components"]["schemas"];
        let kinds = schemas["FaultSpec"]["properties"]["kind"]["enum"].clone();
        for kind in FaultKind::ALL {
            let spec = FaultSpec {
                region: "us-east-1".into(),
                kind,
                start_secs: 0,
                duration_secs: None,
            };
            let json = serde_json::to_value(&spec).unwrap();
            assert!(
                kinds.as_array().unwrap().contains(&json["kind"]),
                "{kind} is not documented: {kinds}"
            );
        }
        let fault = ScenarioFault {
            region: None,
            at_secs: 0,
            duration_secs: 1,
        };
        let mut sc: Scenario = serde_json::from_value(json!({
            "name": "all", "duration_secs": 10, "failover": {"by": "script"}
        }))
        .unwrap();
        sc.outage = Some(fault.clone());
        sc.degradation = Some(fault.clone());
        sc.route53_control_plane = Some(fault);
        sc.switch = Some(SwitchMethod::RoutingControl);
        let documented = &schemas["Scenario"]["properties"];
        for (field, _) in serde_json::to_value(&sc).unwrap().as_object().unwrap() {
            assert!(
                documented[field].is_object(),
                "Scenario.{field} is not documented"
            );
        }
        let switches = documented["switch"]["enum"].as_array().unwrap();
        assert_eq!(switches.len(), SwitchMethod::ALL.len());
    }
}
