//! The generated OpenAPI document against the rules it is completed by and the router it is
//! made with: one registration per route, the route table's roles, every refusal documented,
//! every reference resolving, and the copy kept in `docs/openapi.json` equal to it.

use super::*;
use serde_json::Value;
use switchyard_core::auth::{required_access, Access};

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op));
        }
    }
    ops
}

#[test]
fn no_route_is_added_beside_the_registrations_the_document_is_made_from() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for banned in [
                ".route(",
                ".route_service(",
                ".nest_service(",
                "routing::",
                "Router::new()",
            ] {
                assert!(
                    !line.contains(banned),
                    "{}:{}: `{banned}` adds a route the OpenAPI document does not see; register it with `Routes::routes(routes!(..))`",
                    path.display(),
                    n + 1
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 15, "the API's files were read ({checked})");
}

#[test]
fn every_operation_says_the_role_the_route_table_gives_it() {
    let doc = openapi_document();
    for (method, path, op) in operations(&doc) {
        let want = match required_access(&method, &path) {
            Access::Public => "public",
            Access::Role(r) => r.as_str(),
        };
        assert_eq!(op["x-required-role"], want, "{method} {path}");
        let security = op["security"].as_array().unwrap();
        if want == "public" {
            assert_eq!(security, &[serde_json::json!({})], "{method} {path}");
        } else if method != "get" {
            assert!(
                security.contains(&serde_json::json!({ "session": [], "csrf": [] })),
                "{method} {path} needs the session and the CSRF token: {security:?}"
            );
        }
    }
    // And as the roles are meant, whatever computes them.
    let op = |m: &str, p: &str| doc["paths"][p][m]["x-required-role"].clone();
    for (method, path, role) in [
        ("post", "/api/v1/session", "public"),
        ("get", "/healthz", "public"),
        ("get", "/api/v1/regions", "viewer"),
        ("get", "/metrics", "viewer"),
        ("post", "/api/v1/failovers", "operator"),
        ("post", "/api/v1/sim/faults", "operator"),
        ("post", "/api/v1/users", "admin"),
        ("post", "/api/v1/receivers/{name}/test", "admin"),
    ] {
        assert_eq!(op(method, path), role, "{method} {path}");
    }
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], crate::auth::COOKIE);
    assert_eq!(schemes["csrf"]["in"], "header");
    assert!(
        crate::auth::CSRF_HEADER.eq_ignore_ascii_case(schemes["csrf"]["name"].as_str().unwrap())
    );
}

#[test]
fn every_operation_lists_the_refusals_of_the_layers_it_passes_with_the_error_body() {
    let doc = openapi_document();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let has = |s: &str| responses.contains_key(s);
        if op.get("requestBody").is_some() {
            for s in ["400", "413", "415", "422"] {
                assert!(has(s), "{method} {path} reads a body but does not list {s}");
            }
        }
        if op["parameters"].as_array().is_some_and(|p| !p.is_empty()) {
            assert!(
                has("400"),
                "{method} {path} reads parameters but does not list 400"
            );
        }
        if op["x-required-role"] != "public" {
            assert!(
                has("401") && has("403"),
                "{method} {path} needs a role: 401 and 403"
            );
        }
        for (status, r) in responses {
            let code: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("{method} {path}: {status}"));
            assert!(
                r["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} says what it means"
            );
            if code >= 400 {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{method} {path} {status} is answered with the error body"
                );
            }
        }
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = openapi_document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(
        found.len() > 50,
        "the document refers to its schemas ({})",
        found.len()
    );
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is not in the document"
        );
    }
}

/// `docs/openapi.json` is what the server serves, for readers, reviewers and client
/// generators; `SWITCHYARD_BLESS=1 cargo test -p switchyard --lib openapi` writes it anew.
#[test]
fn the_document_in_docs_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let generated = serde_json::to_string_pretty(&openapi_document()).unwrap() + "\n";
    if std::env::var_os("SWITCHYARD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == generated,
        "docs/openapi.json is not the generated document: run SWITCHYARD_BLESS=1 cargo test -p switchyard --lib openapi"
    );
}

#[test]
fn every_operation_has_an_id_of_its_own_for_generated_clients() {
    let doc = openapi_document();
    let mut ids: Vec<&str> = operations(&doc)
        .iter()
        .map(|(m, p, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has an operationId"))
        })
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids repeat: {ids:?}");
}

#[test]
fn every_region_code_in_the_document_has_cores_one_pattern() {
    fn walk(v: &Value, found: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                if m.get("format").and_then(Value::as_str)
                    == Some(switchyard_core::regions::CODE_FORMAT)
                {
                    found.push(m.get("pattern").cloned().unwrap_or(Value::Null));
                }
                m.values().for_each(|v| walk(v, found));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&openapi_document(), &mut found);
    // FailoverRequest.target, FaultSpec.region, Target's region code, the devices' region
    // filter, and the readiness and plan queries.
    assert!(found.len() >= 6, "region codes in the document: {found:?}");
    for p in found {
        assert_eq!(p, switchyard_core::regions::CODE_PATTERN);
    }
}

#[test]
fn a_server_names_its_regions_and_commands_and_an_empty_list_names_nothing() {
    let regions = ["us-east-1", "eu-west-1"].map(String::from);
    let named = crate::api::openapi::for_server(&regions, &["ping".to_string()]);
    let schemas = &named["components"]["schemas"];
    assert_eq!(
        schemas["FailoverRequest"]["properties"]["target"]["enum"],
        serde_json::json!(regions)
    );
    assert_eq!(
        schemas["FaultSpec"]["properties"]["region"]["enum"],
        serde_json::json!(regions)
    );
    assert_eq!(
        schemas["CommandRequest"]["properties"]["command"]["enum"],
        serde_json::json!(["ping"])
    );
    let readiness = named["paths"]["/api/v1/readiness"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "target")
        .unwrap()
        .clone();
    assert_eq!(readiness["schema"]["enum"], serde_json::json!(regions));
    let bare = crate::api::openapi::for_server(&regions, &[]);
    assert!(
        bare["components"]["schemas"]["CommandRequest"]["properties"]["command"]
            .get("enum")
            .is_none(),
        "no catalogue: no enum"
    );
}

/// The document spells some closed lists as patterns (attributes take literals only): each
/// names exactly what the handler parses.
#[test]
fn the_documented_closed_lists_are_the_ones_the_handlers_parse() {
    let doc = openapi_document();
    let pattern = |path: &str, name: &str| -> String {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has {name}"))["schema"]["pattern"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let alternatives = |p: &str| -> Vec<String> {
        let inner = p
            .strip_prefix("^(")
            .and_then(|p| p.strip_suffix(")$"))
            .unwrap();
        inner.split('|').map(str::to_string).collect()
    };
    let outcomes: Vec<String> = std::iter::once(String::new())
        .chain(
            switchyard_core::moving::DeviceOutcome::ALL
                .iter()
                .map(|o| o.as_str().to_string()),
        )
        .collect();
    assert_eq!(
        alternatives(&pattern("/api/v1/failovers/{id}/stragglers", "outcome")),
        outcomes
    );
    let formats = alternatives(&pattern("/api/v1/incidents/{id}/export", "format"));
    assert_eq!(formats, ["md", "json"]);
    for f in &formats {
        assert!(crate::engine::ExportFormat::parse(f).is_ok(), "{f}");
    }
    assert!(crate::engine::ExportFormat::parse("pdf").is_err());
}
