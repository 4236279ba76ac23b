//! `switchyard-desktop`: the same UI in a native window, with the engine in-process (standalone
//! mode). The UI reaches the engine through Tauri IPC: the `regions` command and the `fleet`
//! event, which carry exactly the API's types.

use clap::Parser;
use switchyard::app::Running;
use switchyard::cli::FleetArgs;
use switchyard::engine::QueryError;
use switchyard_core::alerts::AlertsResponse;
use switchyard_core::alerts::{Alert, Severity};
use switchyard_core::api::{FleetEvent, RegionHistory, RegionsResponse};
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};
use switchyard_core::edge::GatewaysResponse;
use tauri::Emitter;
use tauri_plugin_notification::NotificationExt;

/// The native notification for an alert: raised alerts only (a cleared one is news for the
/// list, not a reason to interrupt).
fn notification(a: &Alert) -> Option<(String, String)> {
    if a.cleared_at.is_some() {
        return None;
    }
    let level = match a.severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
    };
    Some((
        format!("Switchyard {level}: {}", a.subject),
        a.message.clone(),
    ))
}
use tokio::sync::broadcast::error::RecvError;

/// Switchyard desktop: the console in a window, with its engine in-process.
#[derive(Debug, Parser)]
#[command(name = "switchyard-desktop", version, about, long_about = None)]
struct DesktopCli {
    #[command(flatten)]
    fleet: FleetArgs,
}

// The commands mirror the HTTP API's read routes, with the same types.

#[tauri::command]
fn regions(running: tauri::State<'_, Running>) -> RegionsResponse {
    running.engine.regions_response()
}

fn query_error(e: QueryError) -> String {
    match e {
        QueryError::Invalid(m) | QueryError::Unavailable(m) => m,
    }
}

#[tauri::command]
async fn devices(
    running: tauri::State<'_, Running>,
    query: DeviceQuery,
) -> Result<DevicePage, String> {
    running.engine.devices(&query).await.map_err(query_error)
}

#[tauri::command]
async fn device(running: tauri::State<'_, Running>, id: String) -> Result<DeviceDetail, String> {
    match running.engine.device(&id).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(format!("no device named '{id}'")),
        Err(e) => Err(query_error(e)),
    }
}

#[tauri::command]
fn gateways(running: tauri::State<'_, Running>, limit: u32) -> Result<GatewaysResponse, String> {
    running.engine.gateways(limit).map_err(query_error)
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
        .map_err(query_error)
}

#[tauri::command]
async fn failover_overview(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::failover::FailoverOverview, String> {
    running
        .engine
        .failover_overview()
        .await
        .map_err(query_error)
}

/// What a failover request came to (the shape the UI's `Requested` reads).
#[derive(serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Requested {
    Started(Box<switchyard_core::failover::Failover>),
    NothingToDo(String),
}

#[tauri::command]
async fn request_failover(
    running: tauri::State<'_, Running>,
    request: switchyard_core::failover::FailoverRequest,
) -> Result<Requested, String> {
    use switchyard::engine::FailoverError;
    // The desktop app's operator is the logged-in user of the machine.
    let operator = desktop_operator();
    match running.engine.request_failover(request, &operator).await {
        Ok(f) => Ok(Requested::Started(Box::new(f))),
        Err(FailoverError::NothingToDo(m)) => Ok(Requested::NothingToDo(m)),
        Err(
            FailoverError::Rejected(m)
            | FailoverError::Conflict(m)
            | FailoverError::NotFound(m)
            | FailoverError::Failed(m),
        ) => Err(m),
    }
}

fn command_error(e: switchyard::engine::CommandError) -> String {
    use switchyard::engine::CommandError;
    match e {
        CommandError::Invalid(m) | CommandError::NotFound(m) | CommandError::Unavailable(m) => m,
    }
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
) -> Result<serde_json::Value, String> {
    let runs = running
        .engine
        .command_runs(10)
        .await
        .map_err(command_error)?;
    Ok(serde_json::json!({ "catalogue": running.engine.commands(), "runs": runs }))
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
        .map_err(command_error)
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
        .map_err(command_error)
}

#[tauri::command]
async fn command_run(
    running: tauri::State<'_, Running>,
    id: String,
    limit: u32,
) -> Result<serde_json::Value, String> {
    match running
        .engine
        .command_run(&id, 0, limit.clamp(1, 10_000))
        .await
        .map_err(command_error)?
    {
        Some((run, results)) => Ok(serde_json::json!({ "run": run, "results": results })),
        None => Err(format!("no command run {id}")),
    }
}

#[tauri::command]
fn cancel_command(running: tauri::State<'_, Running>, id: String) -> Result<(), String> {
    running.engine.cancel_command(&id).map_err(command_error)
}

fn drill_error(e: switchyard::engine::drills::DrillError) -> String {
    use switchyard::engine::drills::DrillError;
    match e {
        DrillError::Invalid(m)
        | DrillError::Conflict(m)
        | DrillError::NotFound(m)
        | DrillError::Failed(m) => m,
    }
}

async fn find_drill(running: &Running, id: &str) -> Result<switchyard_core::drills::Drill, String> {
    running
        .engine
        .drill(id)
        .await
        .map_err(drill_error)?
        .ok_or_else(|| format!("no drill {id}"))
}

#[tauri::command]
async fn drills_overview(
    running: tauri::State<'_, Running>,
) -> Result<switchyard_core::drills::DrillsResponse, String> {
    running.engine.drills().await.map_err(drill_error)
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
        .map_err(drill_error)
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
        .map_err(drill_error)?;
    find_drill(&running, &id).await
}

#[tauri::command]
async fn abort_drill(running: tauri::State<'_, Running>, id: String) -> Result<(), String> {
    running
        .engine
        .abort_drill(&id, &desktop_operator())
        .await
        .map_err(drill_error)
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
        .map_err(query_error)
}

fn main() -> std::process::ExitCode {
    let cli = match DesktopCli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{}", e.render());
                return std::process::ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            eprintln!(
                "{} (see switchyard-desktop --help)",
                text.lines().next().unwrap_or("error").trim_end()
            );
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: DesktopCli) -> Result<(), String> {
    let settings = cli.fleet.settings()?;
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    tauri::async_runtime::set(rt.handle().clone());
    let running = rt.block_on(switchyard::app::start(&settings))?;
    let engine = running.engine.clone();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(running)
        .invoke_handler(tauri::generate_handler![
            regions,
            devices,
            device,
            gateways,
            alerts,
            history,
            failover_overview,
            request_failover,
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
            abort_drill
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            let mut rx = engine.subscribe();
            tauri::async_runtime::spawn(async move {
                loop {
                    let ev = match rx.recv().await {
                        Ok(ev) => ev,
                        Err(RecvError::Lagged(_)) => FleetEvent::Regions(engine.regions_response()),
                        Err(RecvError::Closed) => break,
                    };
                    if let FleetEvent::Alert(a) = &ev {
                        if let Some((title, body)) = notification(a) {
                            // Without a notification service (a bare X server) this fails: the
                            // in-window banner still shows the alert.
                            if let Err(e) = handle
                                .notification()
                                .builder()
                                .title(title)
                                .body(body)
                                .show()
                            {
                                tracing::warn!("could not show a desktop notification: {e}");
                            }
                        }
                    }
                    if let Err(e) = handle.emit("fleet", &ev) {
                        tracing::warn!("could not deliver an event to the window: {e}");
                    }
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!("../../tauri.conf.json"))
        .map_err(|e| format!("the desktop window failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::AlertKind;

    #[test]
    fn raised_alerts_notify_and_cleared_ones_do_not() {
        let mut a = Alert {
            id: 1,
            kind: AlertKind::RegionUnreachable,
            severity: Severity::Critical,
            subject: "us-east-1".into(),
            message: "us-east-1 is unreachable: no answer within 2500 ms".into(),
            raised_at: 1,
            cleared_at: None,
        };
        assert_eq!(
            notification(&a),
            Some((
                "Switchyard critical: us-east-1".into(),
                "us-east-1 is unreachable: no answer within 2500 ms".into()
            ))
        );
        a.cleared_at = Some(2);
        assert_eq!(notification(&a), None);
    }
}
