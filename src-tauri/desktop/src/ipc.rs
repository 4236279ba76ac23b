//! Past 500 lines: one short command per API route the UI uses, and their one list.
//!
//! The IPC surface the app's own page may use in standalone mode: commands that mirror the HTTP
//! API's routes with exactly the API's types, and the `fleet` event that mirrors its event
//! stream.
//!
//! Rules kept here:
//! - One list (`ipc_commands!`) registers the commands and names them; a test keeps it equal
//!   to `commands.list` (whose permissions build.rs makes) and to the capability in
//!   `tauri.conf.json`, which grants them to the main window and to no remote origin.
//! - Every state-changing command acts as the machine's logged-in user (`desktop:<user>`).
//! - A subscriber that lags behind is sent the whole current regions view, never a gap.

use switchyard::app::Running;
use switchyard::engine::{Engine, Error};
use switchyard_core::alerts::AlertsResponse;
use switchyard_core::api::{FleetEvent, RegionHistory, RegionsResponse};
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};
use switchyard_core::edge::GatewaysResponse;
use tauri::Emitter;
use tokio::sync::broadcast::error::RecvError;

#[tauri::command]
fn regions(running: tauri::State<'_, Running>) -> RegionsResponse {
    running.engine.regions_response()
}

/// The engine's error as the UI reads it over IPC: its message (the kind decides HTTP
/// statuses, which IPC has not).
fn engine_error(e: Error) -> String {
    e.message
}

#[tauri::command]
async fn devices(
    running: tauri::State<'_, Running>,
    query: DeviceQuery,
) -> Result<DevicePage, String> {
    running.engine.devices(&query).await.map_err(engine_error)
}

#[tauri::command]
async fn device(running: tauri::State<'_, Running>, id: String) -> Result<DeviceDetail, String> {
    match running.engine.device(&id).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(format!("no device named '{id}'")),
        Err(e) => Err(engine_error(e)),
    }
}

#[tauri::command]
fn gateways(running: tauri::State<'_, Running>, limit: u32) -> Result<GatewaysResponse, String> {
    running.engine.gateways(limit).map_err(engine_error)
}

#[tauri::command]
async fn alerts(
    running: tauri::State<'_, Running>,
    open: bool,
    limit: u32,
) -> Result<AlertsResponse, String> {
    running
        .engine
        .alerts(open, limit)
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn failover_overview(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::failover::FailoverOverview, String> {
    running
        .engine
        .failover_overview()
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn request_failover(
    running: tauri::State<'_, Running>,
    request: switchyard_core::failover::FailoverRequest,
) -> Result<switchyard_core::failover::Requested, String> {
    // The desktop app's operator is the logged-in user of the machine.
    let operator = desktop_operator();
    running
        .engine
        .request_failover(request, &operator)
        .await
        .map_err(engine_error)
}

fn desktop_operator() -> String {
    format!(
        "desktop:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

#[tauri::command]
async fn commands_overview(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::api::CommandsOverview, String> {
    let runs = running
        .engine
        .command_runs(10)
        .await
        .map_err(engine_error)?;
    Ok(switchyard_core::api::CommandsOverview {
        catalogue: running.engine.commands().to_vec(),
        runs,
    })
}

#[tauri::command]
async fn preview_command(
    running: tauri::State<'_, Running>,
    request: switchyard_core::commands::CommandRequest,
) -> Result<switchyard::engine::CommandPreview, String> {
    running
        .engine
        .preview_command(&request)
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn run_command(
    running: tauri::State<'_, Running>,
    request: switchyard_core::commands::CommandRequest,
) -> Result<switchyard_core::commands::CommandRun, String> {
    running
        .engine
        .run_command(request, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn command_run(
    running: tauri::State<'_, Running>,
    id: String,
    limit: u32,
) -> Result<switchyard_core::api::CommandRunDetail, String> {
    match running
        .engine
        .command_run(&id, 0, limit.clamp(1, 10_000))
        .await
        .map_err(engine_error)?
    {
        Some((run, results)) => Ok(switchyard_core::api::CommandRunDetail { run, results }),
        None => Err(format!("no command run {id}")),
    }
}

#[tauri::command]
async fn cancel_command(running: tauri::State<'_, Running>, id: String) -> Result<(), String> {
    running
        .engine
        .cancel_command(&id, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn straggler_results(
    running: tauri::State<'_, Running>,
    id: String,
    outcome: Option<switchyard_core::moving::DeviceOutcome>,
    offset: u32,
    limit: u32,
) -> Result<switchyard_core::moving::StragglerResults, String> {
    running
        .engine
        .straggler_results(&id, outcome, offset, limit.clamp(1, 10_000))
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn cancel_stragglers(
    running: tauri::State<'_, Running>,
    id: String,
    reason: String,
) -> Result<switchyard_core::failover::Failover, String> {
    if reason.trim().is_empty() {
        return Err("reason: say why the stragglers are left where they are".into());
    }
    running
        .engine
        .cancel_stragglers(&id, &desktop_operator(), &reason)
        .await
        .map_err(engine_error)
}

async fn find_drill(running: &Running, id: &str) -> Result<switchyard_core::drills::Drill, String> {
    running
        .engine
        .drill(id)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| format!("no drill {id}"))
}

#[tauri::command]
async fn drills_overview(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::drills::DrillsResponse, String> {
    running.engine.drills().await.map_err(engine_error)
}

#[tauri::command]
async fn start_drill(
    running: tauri::State<'_, Running>,
    scenario: switchyard_core::drills::Scenario,
) -> Result<switchyard_core::drills::DrillSummary, String> {
    running
        .engine
        .start_drill(scenario, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn drill(
    running: tauri::State<'_, Running>,
    id: String,
) -> Result<switchyard_core::drills::Drill, String> {
    find_drill(&running, &id).await
}

#[tauri::command]
async fn drill_chart(
    running: tauri::State<'_, Running>,
    id: String,
    chart: String,
) -> Result<String, String> {
    let chart = switchyard::report::Chart::parse(&chart).ok_or(format!("no chart {chart}"))?;
    let d = find_drill(&running, &id).await?;
    switchyard::report::svg(&d, chart)
}

#[tauri::command]
async fn compare_drills(
    running: tauri::State<'_, Running>,
    a: String,
    b: String,
) -> Result<switchyard_core::drills::Comparison, String> {
    let (a, b) = (
        find_drill(&running, &a).await?,
        find_drill(&running, &b).await?,
    );
    match (&a.metrics, &b.metrics) {
        (Some(ma), Some(mb)) => Ok(switchyard_core::drills::Comparison {
            rows: switchyard_core::drills::compare(ma, mb),
            a: a.summary,
            b: b.summary,
        }),
        _ => Err("both drills must have ended with measures to be compared".into()),
    }
}

#[tauri::command]
async fn drill_notes(
    running: tauri::State<'_, Running>,
    id: String,
    notes: switchyard_core::drills::DrillNotes,
) -> Result<switchyard_core::drills::Drill, String> {
    running
        .engine
        .set_drill_notes(&id, notes, &desktop_operator())
        .await
        .map_err(engine_error)?;
    find_drill(&running, &id).await
}

#[tauri::command]
async fn abort_drill(running: tauri::State<'_, Running>, id: String) -> Result<(), String> {
    running
        .engine
        .abort_drill(&id, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn history(
    running: tauri::State<'_, Running>,
    region: String,
    minutes: u32,
) -> Result<RegionHistory, String> {
    running
        .engine
        .history(&region, minutes)
        .await
        .map_err(engine_error)
}

/// Registers the IPC commands and names them, from one list (kept equal to commands.list,
/// whose permissions the window is granted, by a test).
#[tauri::command]
async fn status(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::cockpit::StatusResponse, String> {
    running.engine.status().await.map_err(engine_error)
}

#[tauri::command]
async fn incidents(
    running: tauri::State<'_, Running>,
    open: bool,
    limit: u32,
) -> Result<switchyard_core::incidents::IncidentsResponse, String> {
    running
        .engine
        .incidents(open, limit)
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn incident(
    running: tauri::State<'_, Running>,
    id: i64,
) -> Result<switchyard_core::incidents::IncidentDetail, String> {
    running.engine.incident(id).await.map_err(engine_error)
}

/// The export's text (the page offers it as a file to save).
#[tauri::command]
async fn incident_export(
    running: tauri::State<'_, Running>,
    id: i64,
    format: String,
) -> Result<String, String> {
    let format = switchyard::engine::ExportFormat::parse(&format).map_err(engine_error)?;
    running
        .engine
        .incident_export(id, format)
        .await
        .map(|(text, _)| text)
        .map_err(engine_error)
}

#[tauri::command]
async fn add_incident_note(
    running: tauri::State<'_, Running>,
    id: i64,
    text: String,
) -> Result<switchyard_core::incidents::TimelineEntry, String> {
    running
        .engine
        .add_incident_note(id, &text, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn ack_alert(
    running: tauri::State<'_, Running>,
    id: i64,
    note: String,
) -> Result<switchyard_core::alerts::Alert, String> {
    running
        .engine
        .ack_alert(id, &note, &desktop_operator())
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn failover_plan(
    running: tauri::State<'_, Running>,
    target: String,
) -> Result<switchyard_core::cockpit::FailoverPlan, String> {
    running
        .engine
        .failover_plan(&target, None)
        .await
        .map_err(engine_error)
}

#[tauri::command]
async fn failover_dry_run(
    running: tauri::State<'_, Running>,
    req: switchyard_core::failover::FailoverRequest,
) -> Result<switchyard_core::cockpit::FailoverPlan, String> {
    running
        .engine
        .failover_plan(&req.target, Some(&req))
        .await
        .map_err(engine_error)
}

/// Where alerts go: the receivers with their health and the newest `limit` deliveries.
#[tauri::command]
async fn deliveries(
    running: tauri::State<'_, Running>,
    limit: u32,
) -> Result<switchyard_core::delivery::DeliveriesResponse, String> {
    running.engine.deliveries(limit).await.map_err(engine_error)
}

/// How long a test alert's answer waits for the receiver (as the API's `TEST_WAIT`).
const TEST_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A test alert to the receiver `name` (the app's user is an admin); its log row once the
/// receiver has answered, or as it stands after [`TEST_WAIT`].
#[tauri::command]
async fn test_receiver(
    running: tauri::State<'_, Running>,
    name: String,
) -> Result<switchyard_core::delivery::Delivery, String> {
    running
        .engine
        .test_receiver(&name, &desktop_operator(), TEST_WAIT)
        .await
        .map_err(engine_error)
}

macro_rules! ipc_commands {
    ($($command:ident),* $(,)?) => {
        #[cfg(test)]
        const IPC_COMMANDS: &[&str] = &[$(stringify!($command)),*];
        pub fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($command),*]
        }
    };
}

ipc_commands![
    regions,
    devices,
    device,
    gateways,
    alerts,
    history,
    failover_overview,
    request_failover,
    straggler_results,
    cancel_stragglers,
    commands_overview,
    preview_command,
    run_command,
    command_run,
    cancel_command,
    drills_overview,
    start_drill,
    drill,
    drill_chart,
    compare_drills,
    drill_notes,
    abort_drill,
    status,
    incidents,
    incident,
    incident_export,
    add_incident_note,
    ack_alert,
    failover_plan,
    failover_dry_run,
    deliveries,
    test_receiver,
];

/// Forwards the engine's events to the window as `fleet` events (and raised alerts to the
/// desktop's notifications), for as long as the engine publishes.
pub fn forward_events(handle: tauri::AppHandle, engine: Engine) {
    let mut rx = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(RecvError::Lagged(_)) => FleetEvent::Regions(engine.regions_response()),
                Err(RecvError::Closed) => break,
            };
            if let FleetEvent::Alert(a) = &ev {
                crate::notifications::notify(&handle, a);
            }
            if let Err(e) = handle.emit("fleet", &ev) {
                tracing::warn!("could not deliver an event to the window: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_may_call_exactly_the_registered_commands_and_listen_to_events() {
        let listed: Vec<&str> = include_str!("../commands.list")
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            listed, IPC_COMMANDS,
            "commands.list names the registered commands"
        );
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        let caps = conf["app"]["security"]["capabilities"].as_array().unwrap();
        assert_eq!(caps.len(), 1, "one capability: the main window's");
        assert_eq!(caps[0]["windows"], serde_json::json!(["main"]));
        assert_eq!(caps[0]["local"], true, "no remote origin gets IPC");
        assert!(caps[0].get("remote").is_none());
        let mut granted: Vec<String> = caps[0]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        let mut wanted: Vec<String> = ["core:event:allow-listen", "core:event:allow-unlisten"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                IPC_COMMANDS
                    .iter()
                    .map(|c| format!("allow-{}", c.replace('_', "-"))),
            )
            .collect();
        granted.sort();
        wanted.sort();
        assert_eq!(granted, wanted);
    }
}
