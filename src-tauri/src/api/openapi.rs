//! The OpenAPI 3.1 document, written by hand next to the routes it describes. A test checks
//! that every route in [`ROUTES`] is documented and answers, so the two cannot drift apart.

use serde_json::{json, Value};

/// Every route the server answers, as (method, path).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/v1/regions"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/sim/faults"),
    ("delete", "/api/v1/sim/faults"),
];

fn json_response(desc: &str, schema: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn error_response(desc: &str) -> Value {
    json_response(desc, "ApiError")
}

pub fn openapi_document() -> Value {
    json!({
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
            "/api/v1/events": { "get": {
                "summary": "Server-sent events carrying state changes",
                "description": "The first event is the current state; each later one follows a change. Event name `regions`, data a RegionsResponse with `type: \"regions\"`. A keep-alive comment is sent every 15 s.",
                "responses": { "200": { "description": "An event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } } }
            }},
            "/api/v1/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
            }},
            "/api/v1/sim/faults": {
                "post": {
                    "summary": "Inject an outage or a degradation into the simulated fleet (audited)",
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
    })
}

fn schemas() -> Value {
    let ms = json!({ "type": "integer", "format": "int64", "minimum": 0, "description": "milliseconds since the Unix epoch" });
    json!({
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
                "poll_interval_ms": { "type": "integer", "description": "figures older than twice this are stale" } } },
        "RegionsResponse": { "type": "object", "required": ["version", "source", "server_time", "regions"], "properties": {
            "type": { "const": "regions", "description": "present on events only" },
            "version": { "type": "integer" },
            "source": { "enum": ["simulated", "aws"] },
            "server_time": ms,
            "regions": { "type": "array", "items": { "$ref": "#/components/schemas/RegionSummary" } } } },
        "FaultSpec": { "type": "object", "required": ["region", "kind"], "properties": {
            "region": { "type": "string" }, "kind": { "enum": ["outage", "degraded"] },
            "start_secs": { "type": "integer", "default": 0, "description": "delay from now" },
            "duration_secs": { "type": ["integer", "null"], "description": "null: until cleared" } } },
        "InjectFaultRequest": { "type": "object", "required": ["fault", "reason"], "additionalProperties": false, "properties": {
            "fault": { "$ref": "#/components/schemas/FaultSpec" }, "reason": { "type": "string" } } }
    })
}
