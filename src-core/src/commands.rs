//! Commands to devices (AWS IoT Lens BP 3.2.8.1): the server talks only to devices that are
//! online; state meant for offline devices goes to their shadow, and only when the operator
//! asks for that. The rules here are pure: what may be sent, to whom, and what is wrong with a
//! request. The engine fans out; the adapters deliver.
//! (Past 500 lines: the catalogue, the payload's schema subset and its defaults, topics, the
//! online-only plan, the confirmation of a large send and why a target finds nobody are the
//! rules of one request; about 630 lines of code, the rest property tests. The confirmation and
//! the why-none wording are the next to move, into a `sending.rs`, when this grows again.)

use crate::{Connectivity, Device, DisconnectReason, UnixMs};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// AWS IoT's limits: payload size, topic length and depth.
pub const MAX_PAYLOAD_BYTES: usize = 128 * 1024;
pub const MAX_TOPIC_BYTES: usize = 256;
pub const MAX_TOPIC_SLASHES: usize = 7;

/// A command of the catalogue, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandDef {
    pub name: String,
    pub description: String,
    /// The MQTT topic, with `{thingName}` and `{command}` filled in per device.
    pub topic: String,
    /// A JSON Schema (the subset [`check_schema`] knows) the payload must satisfy.
    #[serde(default = "any_object")]
    pub schema: Value,
    /// Whether the payload may be written as desired shadow state for offline devices.
    #[serde(default)]
    pub persist_as_shadow: bool,
}

fn any_object() -> Value {
    serde_json::json!({ "type": "object" })
}

/// Who a command is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    Devices {
        /// Thing names: 1 to 128 of `[a-zA-Z0-9:_-]`.
        #[cfg_attr(feature = "openapi", schema(inline, value_type = Vec<ThingName>))]
        ids: Vec<String>,
    },
    ThingGroup {
        name: String,
    },
    Region {
        #[cfg_attr(feature = "openapi", schema(format = "aws-region"))]
        code: String,
    },
    /// A fleet-index query (AWS) or the simulated fleet's filter syntax.
    Query {
        query: String,
    },
}

/// What to do with devices that are offline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfflinePolicy {
    /// Skip them (listed with when and why they went offline).
    #[default]
    Skip,
    /// Write the payload to their desired shadow state instead (commands that allow it).
    Shadow,
}

/// A thing name, as the API's document says it ([`check_thing_name`]).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[a-zA-Z0-9:_-]{1,128}$")]
pub struct ThingName(pub String);

/// Thing names: 1 to 128 of `[a-zA-Z0-9:_-]`.
pub fn check_thing_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a thing name (1 to 128 letters, digits, : _ -)"
        ))
    }
}

/// A topic a command may publish to: no wildcards, not reserved, within AWS IoT's limits.
pub fn check_topic(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("the topic is empty".into());
    }
    if t.len() > MAX_TOPIC_BYTES {
        return Err(format!(
            "topic '{t}' is {} bytes; AWS IoT allows {MAX_TOPIC_BYTES}",
            t.len()
        ));
    }
    if t.contains(['+', '#']) {
        return Err(format!(
            "topic '{t}' has a wildcard (+ or #): a command is published to one topic"
        ));
    }
    if t.starts_with('$') {
        return Err(format!(
            "topic '{t}' is reserved ($…): use the shadow option for shadows"
        ));
    }
    let slashes = t.matches('/').count();
    if slashes > MAX_TOPIC_SLASHES {
        return Err(format!(
            "topic '{t}' has {slashes} slashes; AWS IoT allows {MAX_TOPIC_SLASHES}"
        ));
    }
    if t.split('/').any(str::is_empty) {
        return Err(format!("topic '{t}' has an empty level"));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(format!("topic '{t}' has a control character"));
    }
    Ok(())
}

/// The topic of `def` for one device.
pub fn render_topic(def: &CommandDef, thing: &str) -> String {
    def.topic
        .replace("{thingName}", thing)
        .replace("{command}", &def.name)
}

/// Checks a catalogue entry: its name, its topic with a sample thing, and that its schema is
/// one [`check_schema`] understands.
pub fn check_def(def: &CommandDef) -> Result<(), String> {
    check_thing_name(&def.name).map_err(|e| format!("command name: {e}"))?;
    check_topic(&render_topic(def, "sample-thing"))
        .map_err(|e| format!("command {}: {e}", def.name))?;
    check_schema_shape(&def.schema, "payload").map_err(|e| format!("command {}: {e}", def.name))
}

/// The keywords [`check_schema`] knows; any other is refused up front.
const KNOWN: [&str; 16] = [
    "type",
    "default",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "description",
    "title",
];

/// Checks that a schema uses only what [`check_schema`] knows, all the way down.
pub fn check_schema_shape(schema: &Value, at: &str) -> Result<(), String> {
    if schema == &Value::Bool(true) {
        return Ok(());
    }
    let s = schema
        .as_object()
        .ok_or_else(|| format!("schema: at {at}: a schema is an object"))?;
    if let Some(k) = s
        .keys()
        .find(|k| !KNOWN.contains(&k.as_str()) && !k.starts_with('$'))
    {
        return Err(format!("schema: at {at}: keyword '{k}' is not supported"));
    }
    for (k, sub) in s
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check_schema_shape(sub, &format!("{at}.{k}"))?;
    }
    if let Some(items) = s.get("items") {
        check_schema_shape(items, &format!("{at}[]"))?;
    }
    if let Some(d) = s.get("default") {
        check_schema(schema, d, &format!("{at} (its default)"))
            .map_err(|e| format!("schema: {e}"))?;
    }
    Ok(())
}

/// The payload with every missing property that has a `default` in the schema filled in, all
/// the way down (the reconnect command's `jitter_secs`, say). A payload that is not an object
/// is left as it is, for [`check_schema`] to refuse.
pub fn with_defaults(schema: &Value, payload: &Value) -> Value {
    let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        payload.as_object(),
    ) else {
        return payload.clone();
    };
    let mut out = obj.clone();
    for (k, sub) in props {
        match out.get(k) {
            Some(v) => {
                let filled = with_defaults(sub, v);
                out.insert(k.clone(), filled);
            }
            None => {
                if let Some(d) = sub.get("default") {
                    out.insert(k.clone(), d.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// A send to `devices` devices past `confirm_above` must carry the `confirm_count` the operator
/// confirmed from the preview, so that a fleet-wide send is never one click. A live fleet's
/// count moves between the preview and the send: a send that reaches fewer devices than
/// confirmed, or at most 1 % more, goes; one that grew further is a new decision and is refused.
pub fn check_confirm(
    devices: u64,
    confirm_above: u64,
    confirm_count: Option<u64>,
) -> Result<(), String> {
    if devices <= confirm_above {
        return Ok(());
    }
    match confirm_count {
        None => Err(format!(
            "confirm_count: this sends to {devices} devices, more than the {confirm_above} \
             that need a confirmation; confirm the count"
        )),
        Some(n) if devices > n.saturating_add(n / 100) => Err(format!(
            "confirm_count: {n} were confirmed but the command now goes to {devices} devices; \
             preview again and confirm the new count"
        )),
        Some(_) => Ok(()),
    }
}

/// Why a target finds nothing to send to, in words: a region left by a failover says where its
/// devices went (`moved`: the target region and when), a region that does not answer says so,
/// and devices all offline say how many.
pub fn why_none(
    target: &Target,
    matched: u64,
    reachable: u64,
    moved: Option<(&str, UnixMs)>,
    region_answers: bool,
) -> Option<String> {
    if reachable > 0 {
        return None;
    }
    let region = match target {
        Target::Region { code } => Some(code.as_str()),
        _ => None,
    };
    Some(match (region, moved, matched) {
        (Some(r), Some((to, at)), _) => format!(
            "{r} has no online devices: they moved to {to} at {}",
            crate::time::utc_hm(at)
        ),
        (Some(r), None, _) if !region_answers => {
            format!("{r} does not answer: its devices cannot be reached there")
        }
        (Some(r), None, 0) => format!("{r} has no devices"),
        (_, _, 0) => "no device matches the target".into(),
        (_, _, n) => format!("all {n} matching devices are offline"),
    })
}

/// Checks a payload against its command: size, then schema. The error names the field.
pub fn check_payload(def: &CommandDef, payload: &Value) -> Result<Vec<u8>, String> {
    let bytes = serde_json::to_vec(payload).map_err(|e| format!("payload: {e}"))?;
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "payload: {} bytes; AWS IoT allows {MAX_PAYLOAD_BYTES}",
            bytes.len()
        ));
    }
    check_schema(&def.schema, payload, "payload")?;
    Ok(bytes)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON Schema subset: `type` (one or several), `properties`, `required`,
/// `additionalProperties: false`, `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`,
/// `items`, `minItems`/`maxItems`. An unknown keyword is a schema error (so a schema never
/// promises a check that is not made).
pub fn check_schema(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return if schema == &Value::Bool(true) {
            Ok(())
        } else {
            Err(format!("schema: at {at}: a schema is an object"))
        };
    };
    if let Some(t) = s.get("type") {
        let allowed: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("schema: at {at}: 'type' is a string or a list")),
        };
        let actual = type_name(v);
        let ok = allowed
            .iter()
            .any(|a| *a == actual || (*a == "number" && actual == "integer"));
        if !ok {
            return Err(format!(
                "{at}: expected {}, got {actual}",
                allowed.join(" or ")
            ));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            return Err(format!(
                "{at}: must be one of {}",
                Value::Array(options.clone())
            ));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return Err(format!("{at}: must be {c}"));
        }
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if n < min {
                return Err(format!("{at}: {n} is below the minimum {min}"));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if n > max {
                return Err(format!("{at}: {n} is above the maximum {max}"));
            }
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if len < min {
                return Err(format!("{at}: at least {min} characters"));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                return Err(format!("{at}: at most {max} characters"));
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                return Err(format!("{at}: at least {min} items"));
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                return Err(format!("{at}: at most {max} items"));
            }
        }
        if let Some(item) = s.get("items") {
            for (i, x) in items.iter().enumerate() {
                check_schema(item, x, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    return Err(format!("{at}.{r}: required"));
                }
            }
        }
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => check_schema(sub, x, &format!("{at}.{k}"))?,
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}.{k}: not allowed (no such field)"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// A fleet-index query as a device filter: terms joined by `AND`, each one of
/// `thingName:NAME` (a `*` anywhere makes it "contains"), `thingGroupNames:GROUP`,
/// `connectivity.connected:true|false`, `connectivity.disconnectReason:REASON`. The same
/// filter then runs against AWS (as a fleet-index query again) and the simulated fleet.
pub fn index_query(s: &str) -> Result<crate::devices::DeviceQuery, String> {
    let mut q = crate::devices::DeviceQuery::default();
    let s = s.trim();
    if s.is_empty() || s.len() > 1_024 {
        return Err("query: 1 to 1024 characters".into());
    }
    for term in s.split(" AND ") {
        let term = term.trim();
        let (field, value) = term
            .split_once(':')
            .ok_or_else(|| format!("query: '{term}' is not FIELD:VALUE"))?;
        match field {
            "thingName" => {
                let name = value.trim_matches('*');
                check_thing_name(name).map_err(|e| format!("query: {e}"))?;
                q.q = Some(name.to_string());
            }
            "thingGroupNames" => {
                check_thing_name(value).map_err(|e| format!("query: {e}"))?;
                q.thing_group = Some(value.to_string());
            }
            "connectivity.connected" => {
                q.connected = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("query: '{term}': connected is true or false")),
                });
            }
            "connectivity.disconnectReason" => {
                q.reason = Some(
                    DisconnectReason::ALL
                        .into_iter()
                        .find(|r| r.as_str() == value)
                        .ok_or_else(|| format!("query: '{value}' is not a disconnect reason"))?,
                );
            }
            other => {
                return Err(format!(
                    "query: '{other}' is not supported; use thingName:, thingGroupNames:, \
                     connectivity.connected: or connectivity.disconnectReason:, joined with AND"
                ))
            }
        }
    }
    q.validate()?;
    Ok(q)
}

/// An offline device left out of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub id: String,
    /// When it went offline.
    pub since: UnixMs,
    pub reason: DisconnectReason,
}

/// Who gets what: online devices a publish; offline ones their shadow (when asked and
/// allowed) or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub publish: Vec<String>,
    pub shadow: Vec<String>,
    pub skip: Vec<Skipped>,
}

/// The plan for `devices`. Offline devices never get a publish; they get a shadow write only
/// when the operator chose it and the command may be persisted.
pub fn plan(devices: &[Device], offline: OfflinePolicy, persistable: bool) -> Plan {
    let mut p = Plan::default();
    for d in devices {
        match &d.connectivity {
            Connectivity::Online { .. } => p.publish.push(d.id.clone()),
            Connectivity::Offline { since, reason } => {
                if offline == OfflinePolicy::Shadow && persistable {
                    p.shadow.push(d.id.clone());
                } else {
                    p.skip.push(Skipped {
                        id: d.id.clone(),
                        since: *since,
                        reason: *reason,
                    });
                }
            }
        }
    }
    p
}

/// What an operator submits (and previews).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// A command of the catalogue.
    pub command: String,
    pub payload: Value,
    pub target: Target,
    #[serde(default)]
    pub offline: OfflinePolicy,
    #[serde(default)]
    pub reason: String,
    /// The number of devices the operator confirmed, required past the preview's
    /// `confirm_above`: a send whose count grew by more than 1 % since is refused.
    #[serde(default)]
    pub confirm_count: Option<u64>,
}

/// The shadow document that carries a command's payload as desired state.
pub fn shadow_document(def: &CommandDef, payload: &Value) -> Value {
    serde_json::json!({ "state": { "desired": { def.name.clone(): payload } } })
}

/// What happened to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Sent,
    Shadowed,
    /// Offline when planned, or found offline at send time.
    SkippedOffline {
        since: UnixMs,
        reason: DisconnectReason,
    },
    Failed {
        error: String,
    },
    /// The run was cancelled before this device's turn.
    Cancelled,
}

/// One device's result in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceResult {
    pub device: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub at: UnixMs,
    /// Publish attempts (retries after throttling included).
    pub attempts: u32,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Completed,
    Cancelled,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Completed,
            RunStatus::Cancelled,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// What a preview shows before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandPreview {
    pub command: CommandDef,
    pub total: u64,
    /// Online: will receive the publish.
    pub publish: u64,
    /// Offline, written to their desired shadow state instead (when asked and allowed).
    pub shadow: u64,
    /// Offline and skipped; the first 100 listed with when and why they went offline.
    pub skip: u64,
    pub skipped: Vec<Skipped>,
    /// The topic of the first device, as an example.
    pub example_topic: Option<String>,
    /// When nothing would be sent: why, in words ("us-east-1 has no online devices: they
    /// moved to eu-west-1 at 14:05 UTC").
    #[serde(default)]
    pub why_none: Option<String>,
    /// A send to more than this many devices must carry `confirm_count` equal to
    /// `publish + shadow` (`[commands] confirm_above`).
    #[serde(default)]
    pub confirm_above: Option<u64>,
}

/// A command run: what was asked, by whom, and the tallies so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandRun {
    pub id: String,
    pub command: String,
    pub target: Target,
    pub payload: Value,
    pub offline: OfflinePolicy,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: UnixMs,
    pub status: RunStatus,
    /// Devices targeted.
    pub total: u64,
    pub sent: u64,
    pub shadowed: u64,
    pub skipped: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub ended_at: Option<UnixMs>,
}

impl CommandRun {
    /// Devices with a result so far.
    pub fn done(&self) -> u64 {
        self.sent + self.shadowed + self.skipped + self.failed + self.cancelled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(schema: Value) -> CommandDef {
        CommandDef {
            name: "set-report-interval".into(),
            description: "".into(),
            topic: "cmd/{thingName}/{command}".into(),
            schema,
            persist_as_shadow: true,
        }
    }

    #[test]
    fn index_queries_become_filters_or_are_refused_by_name() {
        let q = index_query(
            "thingGroupNames:cameras AND connectivity.connected:true AND thingName:cam-1*",
        )
        .unwrap();
        assert_eq!(q.thing_group.as_deref(), Some("cameras"));
        assert_eq!(q.connected, Some(true));
        assert_eq!(q.q.as_deref(), Some("cam-1"));
        let q = index_query("connectivity.disconnectReason:CONNECTION_LOST").unwrap();
        assert_eq!(q.reason, Some(DisconnectReason::ConnectionLost));
        assert!(index_query("attributes.fw:1.2")
            .unwrap_err()
            .contains("'attributes.fw' is not supported"));
        assert!(index_query("thingName:a b")
            .unwrap_err()
            .contains("not a thing name"));
        assert!(index_query("connectivity.connected:maybe")
            .unwrap_err()
            .contains("true or false"));
        assert!(index_query("").is_err());
    }

    #[test]
    fn topics_within_aws_limits_and_without_wildcards() {
        assert!(check_topic("cmd/dev-1/reconnect").is_ok());
        assert!(check_topic("cmd/+/x").unwrap_err().contains("wildcard"));
        assert!(check_topic("cmd/#").unwrap_err().contains("wildcard"));
        assert!(check_topic("$aws/things/x/shadow/update")
            .unwrap_err()
            .contains("reserved"));
        assert!(check_topic("a/b/c/d/e/f/g/h/i")
            .unwrap_err()
            .contains("8 slashes"));
        assert!(check_topic(&"x".repeat(257))
            .unwrap_err()
            .contains("257 bytes"));
        assert!(check_topic("a//b").unwrap_err().contains("empty level"));
        let d = def(json!({"type": "object"}));
        assert_eq!(render_topic(&d, "dev-7"), "cmd/dev-7/set-report-interval");
        assert!(check_def(&d).is_ok());
        assert!(check_def(&CommandDef {
            topic: "cmd/{thingName}/#".into(),
            ..d.clone()
        })
        .is_err());
        assert!(check_def(&def(json!({"type": "object", "pattern": "x"})))
            .unwrap_err()
            .contains("'pattern' is not supported"));
    }

    #[test]
    fn payloads_are_checked_against_the_schema_naming_the_field() {
        let d = def(json!({
            "type": "object",
            "required": ["seconds"],
            "additionalProperties": false,
            "properties": {
                "seconds": { "type": "integer", "minimum": 5, "maximum": 3600 },
                "mode": { "enum": ["fast", "slow"] }
            }
        }));
        assert!(check_payload(&d, &json!({"seconds": 60})).is_ok());
        assert_eq!(
            check_payload(&d, &json!({})).unwrap_err(),
            "payload.seconds: required"
        );
        assert_eq!(
            check_payload(&d, &json!({"seconds": 1})).unwrap_err(),
            "payload.seconds: 1 is below the minimum 5"
        );
        assert_eq!(
            check_payload(&d, &json!({"seconds": "60"})).unwrap_err(),
            "payload.seconds: expected integer, got string"
        );
        assert!(check_payload(&d, &json!({"seconds": 60, "x": 1}))
            .unwrap_err()
            .starts_with("payload.x: not allowed"));
        assert!(check_payload(&d, &json!({"seconds": 60, "mode": "warp"}))
            .unwrap_err()
            .starts_with("payload.mode: must be one of"));
        let big = json!({ "seconds": 60, "blob": "x".repeat(MAX_PAYLOAD_BYTES) });
        let open = def(json!({"type": "object"}));
        assert!(check_payload(&open, &big)
            .unwrap_err()
            .contains("AWS IoT allows 131072"));
        assert!(check_thing_name("dev 1").is_err());
        assert!(check_thing_name("dev-1").is_ok());
    }

    use crate::rng::Rng;

    fn fleet(g: &mut Rng, n: usize) -> Vec<Device> {
        (0..n)
            .map(|i| Device {
                id: format!("d{i}"),
                region: "us-east-1".into(),
                thing_groups: vec![],
                connectivity: if g.next_u64() % 3 == 0 {
                    Connectivity::Offline {
                        since: g.next_u64() % 1_000_000,
                        reason: DisconnectReason::ALL[(g.next_u64() % 7) as usize],
                    }
                } else {
                    Connectivity::Online { since: 1 }
                },
            })
            .collect()
    }

    #[test]
    fn property_every_device_is_planned_once_and_offline_devices_never_get_a_publish() {
        let mut g = Rng::new(42);
        for case in 0..500 {
            let n = (g.next_u64() % 200) as usize;
            let devices = fleet(&mut g, n);
            let policy = if g.next_u64() % 2 == 0 {
                OfflinePolicy::Skip
            } else {
                OfflinePolicy::Shadow
            };
            let persistable = g.next_u64() % 2 == 0;
            let p = plan(&devices, policy, persistable);
            assert_eq!(
                p.publish.len() + p.shadow.len() + p.skip.len(),
                n,
                "case {case}"
            );
            for d in &devices {
                let in_publish = p.publish.contains(&d.id);
                let in_shadow = p.shadow.contains(&d.id);
                let in_skip = p.skip.iter().any(|s| s.id == d.id);
                assert_eq!(
                    in_publish as u8 + in_shadow as u8 + in_skip as u8,
                    1,
                    "case {case}: {d:?}"
                );
                match d.connectivity {
                    Connectivity::Online { .. } => assert!(
                        in_publish,
                        "case {case}: online devices always get the publish"
                    ),
                    Connectivity::Offline { since, reason } => {
                        assert!(
                            !in_publish,
                            "case {case}: never publish to an offline device"
                        );
                        if policy == OfflinePolicy::Shadow && persistable {
                            assert!(in_shadow);
                        } else {
                            let s = p.skip.iter().find(|s| s.id == d.id).unwrap();
                            assert_eq!(
                                (s.since, s.reason),
                                (since, reason),
                                "skipped with when and why"
                            );
                        }
                    }
                }
            }
            // Shadows only when asked for and allowed.
            assert!(p.shadow.is_empty() || (policy == OfflinePolicy::Shadow && persistable));
        }
    }

    #[test]
    fn property_rendered_topics_of_valid_names_are_valid() {
        let mut g = Rng::new(7);
        let d = def(json!({"type": "object"}));
        let alphabet: Vec<char> = ('a'..='z')
            .chain('0'..='9')
            .chain([':', '_', '-'])
            .collect();
        for _ in 0..1_000 {
            let len = 1 + (g.next_u64() % 128) as usize;
            let name: String = (0..len)
                .map(|_| alphabet[(g.next_u64() % alphabet.len() as u64) as usize])
                .collect();
            assert!(check_thing_name(&name).is_ok());
            assert!(check_topic(&render_topic(&d, &name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_missing_property_takes_its_schema_default_and_a_given_one_stays() {
        let schema = json!({ "type": "object", "properties": {
            "jitter_secs": { "type": "integer", "minimum": 0, "default": 30 } } });
        assert_eq!(
            with_defaults(&schema, &json!({})),
            json!({ "jitter_secs": 30 })
        );
        assert_eq!(
            with_defaults(&schema, &json!({ "jitter_secs": 0 })),
            json!({ "jitter_secs": 0 })
        );
        assert!(check_schema_shape(&schema, "payload").is_ok());
    }

    #[test]
    fn a_default_that_breaks_its_own_schema_is_refused_up_front() {
        let schema = json!({ "type": "integer", "minimum": 0, "default": -1 });
        let e = check_schema_shape(&schema, "payload.jitter_secs").unwrap_err();
        assert!(e.contains("its default"), "{e}");
    }

    #[test]
    fn a_send_past_the_threshold_needs_its_count_confirmed_and_no_more_than_one_percent_more() {
        assert!(check_confirm(1_000, 1_000, None).is_ok());
        let e = check_confirm(19_994, 1_000, None).unwrap_err();
        assert!(e.contains("19994 devices"), "{e}");
        assert!(check_confirm(19_994, 1_000, Some(19_994)).is_ok());
        // A live fleet moves a little between the preview and the send.
        assert!(check_confirm(19_990, 1_000, Some(19_994)).is_ok());
        assert!(check_confirm(20_193, 1_000, Some(19_994)).is_ok());
        let grown = check_confirm(20_200, 1_000, Some(19_994)).unwrap_err();
        assert!(grown.contains("now goes to 20200"), "{grown}");
    }

    #[test]
    fn a_region_left_by_a_failover_says_where_its_devices_went() {
        let r = Target::Region {
            code: "us-east-1".into(),
        };
        // 14:05 UTC
        let at = 1_796_133_900_000;
        assert_eq!(
            why_none(&r, 0, 0, Some(("eu-west-1", at)), true).unwrap(),
            "us-east-1 has no online devices: they moved to eu-west-1 at 14:05 UTC"
        );
        assert!(why_none(&r, 0, 0, None, false)
            .unwrap()
            .contains("does not answer"));
        let g = Target::ThingGroup { name: "g".into() };
        assert_eq!(
            why_none(&g, 12, 0, None, true).unwrap(),
            "all 12 matching devices are offline"
        );
        assert_eq!(why_none(&g, 12, 3, None, true), None);
    }
}
