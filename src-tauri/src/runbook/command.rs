//! `switchyard command`: a catalogue command previewed, then sent and followed.
//!
//! Rules kept here:
//! - the request is checked whole before anything is sent (target, payload);
//! - a send past the console's `confirm_above` goes only with `--confirm-count` equal to the
//!   preview's count; without it nothing is sent and the error says the count to confirm;
//! - exit 0 all sent, 3 some failed or were cancelled, 1 refused;
//! - with `--json`: the preview, then the run as started, then the run's detail at each change.

use super::{decode, exit, render, Caller, Output, RunbookError};
use crate::cli::CommandArgs;
use std::time::Duration;
use switchyard_core::api::CommandRunDetail;
use switchyard_core::commands::{CommandPreview, CommandRequest, CommandRun, OfflinePolicy};

/// How often a run is read again while followed.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Parses `KIND:VALUE` (`group:sensors`, `region:us-east-1`, `devices:a,b`, `query:cam`).
pub fn parse_target(s: &str) -> Result<switchyard_core::commands::Target, RunbookError> {
    use switchyard_core::commands::Target;
    let bad = |m: String| RunbookError::Input(format!("--target {s}: {m}"));
    let (kind, value) = s
        .split_once(':')
        .ok_or_else(|| bad("write KIND:VALUE with KIND group, region, devices or query".into()))?;
    if value.is_empty() {
        return Err(bad(format!("the value after '{kind}:' is empty")));
    }
    Ok(match kind {
        "group" => Target::ThingGroup { name: value.into() },
        "region" => Target::Region { code: value.into() },
        "devices" => Target::Devices {
            ids: value.split(',').map(str::to_string).collect(),
        },
        "query" => Target::Query {
            query: value.into(),
        },
        other => {
            return Err(bad(format!(
                "'{other}' is not group, region, devices or query"
            )))
        }
    })
}

/// The request the command line asks for, checked before anything is sent.
pub fn command_request(a: &CommandArgs) -> Result<CommandRequest, RunbookError> {
    let target = parse_target(&a.target)?;
    let payload = serde_json::from_str(&a.payload)
        .map_err(|e| RunbookError::Input(format!("--payload: not JSON: {e}")))?;
    Ok(CommandRequest {
        command: a.name.clone(),
        payload,
        target,
        offline: if a.shadow_offline {
            OfflinePolicy::Shadow
        } else {
            OfflinePolicy::Skip
        },
        reason: a.reason.clone(),
        confirm_count: a.confirm_count,
    })
}

/// Why a send of `p` may not go with `confirm_count`, if it may not: past `confirm_above` the
/// count must be confirmed, and equal to the preview's.
fn unconfirmed(p: &CommandPreview, confirm_count: Option<u64>) -> Option<String> {
    let count = p.publish + p.shadow;
    let above = p.confirm_above?;
    if count <= above || confirm_count == Some(count) {
        return None;
    }
    Some(match confirm_count {
        None => format!(
            "{count} devices would get it, more than the console's limit of {above} without a \
             confirmation: run again with --confirm-count {count}"
        ),
        Some(given) => format!(
            "--confirm-count {given}: the preview counts {count} devices now; confirm that \
             count (--confirm-count {count})"
        ),
    })
}

/// Previews a command and, unless `preview_only`, runs it and follows it; returns the exit
/// code (0 all sent, 3 some failed or were cancelled, 1 refused).
pub fn command(
    caller: &Caller,
    req: &CommandRequest,
    preview_only: bool,
    out: Output,
) -> Result<u8, RunbookError> {
    let resp = caller.post("/api/v1/commands/preview", req)?;
    if resp.status != 200 {
        return Err(out.refused(&resp));
    }
    let p: CommandPreview = decode(&resp)?;
    out.document(&resp)?;
    for line in render::preview(&p) {
        out.say(line);
    }
    if preview_only {
        if let Some(why) = unconfirmed(&p, req.confirm_count) {
            out.say(format!("  to send it: {why}"));
        }
        return Ok(exit::OK);
    }
    if let Some(why) = unconfirmed(&p, req.confirm_count) {
        return Err(RunbookError::Input(why));
    }
    let resp = caller.post("/api/v1/commands", req)?;
    if resp.status != 202 {
        return Err(out.refused(&resp));
    }
    let run: CommandRun = decode(&resp)?;
    out.document(&resp)?;
    out.say(render::run_times(&run));
    let (mut last_line, mut last_doc) = (String::new(), None::<serde_json::Value>);
    loop {
        let resp = caller.get(&format!("/api/v1/commands/{}?limit=1", run.id))?;
        if resp.status != 200 {
            return Err(out.lost(format!("the run {}", run.id), &resp));
        }
        let d: CommandRunDetail = decode(&resp)?;
        let doc = resp.json().ok();
        if doc != last_doc {
            out.document(&resp)?;
            last_doc = doc;
        }
        let r = &d.run;
        let line = render::run(r);
        if line != last_line {
            out.say(&line);
            last_line = line;
        }
        if r.status != switchyard_core::commands::RunStatus::Running {
            out.say(render::run_times(r));
            let clean = r.failed == 0 && r.cancelled == 0;
            return Ok(if clean { exit::OK } else { exit::NOT_CLEAN });
        }
        std::thread::sleep(POLL_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(publish: u64, confirm_above: Option<u64>) -> CommandPreview {
        CommandPreview {
            command: switchyard_core::commands::CommandDef {
                name: "reconnect".into(),
                description: String::new(),
                topic: "cmd/{thingName}/{command}".into(),
                schema: serde_json::json!({"type": "object"}),
                persist_as_shadow: false,
            },
            total: publish,
            publish,
            shadow: 0,
            skip: 0,
            skipped: vec![],
            example_topic: None,
            why_none: None,
            confirm_above,
        }
    }

    #[test]
    fn a_send_past_the_limit_needs_the_previewed_count_confirmed() {
        let p = preview(19_994, Some(1_000));
        let why = unconfirmed(&p, None).unwrap();
        assert!(why.contains("--confirm-count 19994"), "{why}");
        let why = unconfirmed(&p, Some(20_000)).unwrap();
        assert!(
            why.starts_with("--confirm-count 20000: the preview counts 19994"),
            "{why}"
        );
        assert_eq!(unconfirmed(&p, Some(19_994)), None);
        assert_eq!(unconfirmed(&preview(1_000, Some(1_000)), None), None);
        assert_eq!(unconfirmed(&preview(50_000, None), None), None);
    }

    #[test]
    fn a_target_that_is_not_kind_value_is_named() {
        let e = parse_target("galaxy:all").unwrap_err().to_string();
        assert_eq!(
            e,
            "--target galaxy:all: 'galaxy' is not group, region, devices or query"
        );
        assert!(parse_target("region:").is_err());
        assert!(matches!(
            parse_target("devices:a,b").unwrap(),
            switchyard_core::commands::Target::Devices { ids } if ids == ["a", "b"]
        ));
    }
}
