//! `switchyard-desktop`: the same UI in a native window. Standalone (the default), the engine
//! runs in-process and the UI reaches it through Tauri IPC: commands and the `fleet` event, which
//! carry exactly the API's types. Connected (`--server URL`), the window shows a team server's
//! own UI: its sign-in, its roles, its audit; the app then runs no engine and lends the page no
//! native powers (no capability names a remote origin).

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

/// Switchyard desktop: the console in a window, with its engine in-process, or connected to a
/// team server.
#[derive(Debug, Parser)]
#[command(name = "switchyard-desktop", version, about, long_about = None)]
struct DesktopCli {
    /// Connect to a team server (`switchyard serve`), e.g. https://switchyard.noc.example, and
    /// sign in with an account there, instead of running the engine here
    /// [default: $SWITCHYARD_SERVER when set]. Plain http:// only to this machine.
    #[arg(long, value_name = "URL", conflicts_with_all = [
        "data_dir", "config", "poll_interval", "poll_timeout", "devices", "gateways", "seed",
        "regions", "faults",
    ])]
    server: Option<String>,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Where the window's console comes from.
#[derive(Debug, PartialEq)]
enum Mode {
    /// The engine in this process, the UI built into the app.
    Standalone,
    /// A team server's UI and API.
    Connected(tauri::Url),
}

/// Checks a team server's address: http(s), a host, nothing else; plain http only to a
/// loopback address (a password must not cross the network in clear).
fn server_url(given: &str) -> Result<tauri::Url, String> {
    server_url_from("--server", given)
}

/// As [`server_url`], errors naming `source` (the flag or the environment variable).
fn server_url_from(source: &str, given: &str) -> Result<tauri::Url, String> {
    let bad = |why: &str| format!("{source} {given}: {why}");
    let url = tauri::Url::parse(given.trim()).map_err(|e| {
        bad(&format!(
            "not a URL ({e}); for example https://switchyard.noc.example"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the address must start with https://"));
    }
    let Some(host) = url.host() else {
        return Err(bad("there is no host name in it"));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "no name or password in the address: sign in in the window",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err(bad("give the server's address only, without a path"));
    }
    let host = host.to_string();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(bad(
            "plain http would send your password in clear; use https:// (the server's [tls])",
        ));
    }
    Ok(url)
}

/// Whether the server answers at all, within 5 s (a clear message beats a blank window).
fn reachable(url: &tauri::Url) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let target = format!("{host}:{port}");
    let addrs = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot find the team server {target}: {e}"))?;
    let mut last = format!("cannot find the team server {target}: no address");
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot reach the team server {target} ({addr}): {e}"),
        }
    }
    Err(last)
}

impl DesktopCli {
    fn mode(&self) -> Result<Mode, String> {
        if let Some(s) = &self.server {
            return server_url(s).map(Mode::Connected);
        }
        match std::env::var("SWITCHYARD_SERVER") {
            Ok(s) if !s.is_empty() => server_url_from("SWITCHYARD_SERVER", &s).map(Mode::Connected),
            _ => Ok(Mode::Standalone),
        }
    }
}

// The commands mirror the HTTP API's read routes, with the same types.

#[tauri::command]
fn regions(running: tauri::State<'_, Running>) -> RegionsResponse {
    running.engine.regions_response()
}

fn query_error(e: QueryError) -> String {
    match e {
        QueryError::Invalid(m) | QueryError::NotFound(m) | QueryError::Unavailable(m) => m,
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
    let mode = cli.mode()?;
    if let Mode::Connected(url) = &mode {
        reachable(url)?;
    }
    // One context (it carries the built UI) for either mode.
    let context = tauri::generate_context!("../../tauri.conf.json");
    match mode {
        Mode::Standalone => standalone(&cli.fleet, context),
        Mode::Connected(url) => connected(url, context),
    }
}

/// Registers the IPC commands and names them, from one list (kept equal to commands.list,
/// whose permissions the window is granted, by a test).
macro_rules! ipc_commands {
    ($($command:ident),* $(,)?) => {
        #[cfg(test)]
        const IPC_COMMANDS: &[&str] = &[$(stringify!($command)),*];
        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
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
];

/// The main window: the app's own page, or the team server's.
fn main_window(app: &tauri::App, url: tauri::WebviewUrl, title: &str) -> tauri::Result<()> {
    tauri::WebviewWindowBuilder::new(app, "main", url)
        .title(title)
        .inner_size(1280.0, 800.0)
        .min_inner_size(800.0, 600.0)
        .build()
        .map(|_| ())
}

fn connected(url: tauri::Url, context: tauri::Context) -> Result<(), String> {
    let title = format!("Switchyard — {}", url.host_str().unwrap_or_default());
    tracing::info!("connected to the team server {url}");
    tauri::Builder::default()
        .setup(move |app| {
            main_window(app, tauri::WebviewUrl::External(url.clone()), &title)?;
            Ok(())
        })
        .run(context)
        .map_err(|e| format!("the desktop window failed: {e}"))
}

fn standalone(fleet: &FleetArgs, context: tauri::Context) -> Result<(), String> {
    let settings = fleet.settings()?;
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    tauri::async_runtime::set(rt.handle().clone());
    let running = rt.block_on(switchyard::app::start(&settings))?;
    let engine = running.engine.clone();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(running)
        .invoke_handler(invoke_handler())
        .setup(move |app| {
            main_window(
                app,
                tauri::WebviewUrl::App("index.html".into()),
                "Switchyard",
            )?;
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
        .run(context)
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

    #[test]
    fn a_team_server_address_is_https_or_loopback_and_nothing_more() {
        for ok in [
            "https://switchyard.noc.example",
            "https://10.0.4.2:8443/",
            "http://127.0.0.1:8740",
            "http://localhost:8740/",
            "http://[::1]:8740",
        ] {
            assert!(server_url(ok).is_ok(), "{ok}: {:?}", server_url(ok));
        }
        for (bad, why) in [
            ("switchyard.noc.example", "not a URL"),
            ("ftp://switchyard.noc.example", "must start with https://"),
            ("http://switchyard.noc.example", "in clear"),
            ("http://10.0.4.2:8740", "in clear"),
            (
                "https://ada:secret@switchyard.noc.example",
                "no name or password",
            ),
            ("https://switchyard.noc.example/api/v1", "without a path"),
            ("https://switchyard.noc.example/?x=1", "without a path"),
        ] {
            let e = server_url(bad).unwrap_err();
            assert!(
                e.starts_with(&format!("--server {bad}: ")) && e.contains(why),
                "{e}"
            );
        }
    }

    #[test]
    fn server_and_fleet_options_do_not_mix() {
        let e = DesktopCli::try_parse_from([
            "switchyard-desktop",
            "--server",
            "https://switchyard.noc.example",
            "--devices",
            "10",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("cannot be used with"), "{e}");
        let cli = DesktopCli::try_parse_from([
            "switchyard-desktop",
            "--server",
            "https://switchyard.noc.example",
        ])
        .unwrap();
        assert_eq!(
            cli.mode().unwrap(),
            Mode::Connected(tauri::Url::parse("https://switchyard.noc.example").unwrap())
        );
    }

    #[test]
    fn an_unreachable_server_is_named() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = server_url(&format!("http://127.0.0.1:{port}")).unwrap();
        let e = reachable(&url).unwrap_err();
        assert!(
            e.starts_with(&format!("cannot reach the team server 127.0.0.1:{port}")),
            "{e}"
        );
    }
}
