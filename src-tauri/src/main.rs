//! `switchyard`: the headless server (and, later, the CLI). Builds and runs without webkit.

use std::process::ExitCode;
use switchyard::cli::{self, Command, LabArgs, ServeArgs};
use switchyard::settings::{ConfigFile, Overrides, Settings};

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err((msg, code)) => {
            if code == 0 {
                print!("{msg}");
            } else {
                eprintln!("{msg}");
            }
            return ExitCode::from(code as u8);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Lab(args) => lab(args),
        Command::Command(a) => {
            let operator = runbook_operator(a.operator.as_deref());
            let req = switchyard::runbook::parse_target(&a.target).and_then(|target| {
                let payload = serde_json::from_str(&a.payload)
                    .map_err(|e| format!("--payload: not JSON: {e}"))?;
                Ok(switchyard_core::commands::CommandRequest {
                    command: a.name.clone(),
                    payload,
                    target,
                    offline: if a.shadow_offline {
                        switchyard_core::commands::OfflinePolicy::Shadow
                    } else {
                        switchyard_core::commands::OfflinePolicy::Skip
                    },
                    reason: a.reason.clone(),
                })
            });
            match req
                .and_then(|r| switchyard::runbook::command(&a.server, &operator, &r, a.preview))
            {
                Ok(0) => Ok(()),
                Ok(code) => return ExitCode::from(code),
                Err(e) => Err(e),
            }
        }
        Command::Drill(cli::DrillCommand::Run(a)) => match drill(a) {
            Ok(0) => Ok(()),
            Ok(code) => return ExitCode::from(code),
            Err(e) => Err(e),
        },
        Command::Failover(a) => {
            let operator = runbook_operator(a.operator.as_deref());
            match switchyard::runbook::failover(
                &a.server,
                &operator,
                &a.to,
                &a.reason,
                a.override_warnings,
                std::time::Duration::from_secs(a.wait),
            ) {
                Ok(0) => Ok(()),
                Ok(code) => return ExitCode::from(code),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    // Everything that can be checked is checked before anything is written.
    let settings = args.fleet.settings()?;
    let ui_dir = args.ui_dir()?;
    let rt = runtime()?;
    rt.block_on(run_console(settings, args.listen, ui_dir, None))
}

fn lab(args: LabArgs) -> Result<(), String> {
    let plan = args.plan()?;
    let ui_dir = args.ui_dir()?;
    let moto = switchyard::aws::lab::find_moto_server(args.moto_server.as_deref())?;
    let dir = args.dir();
    let rt = runtime()?;
    rt.block_on(async {
        // Listen first: a busy port is found before the lab is started.
        let listener = bind(args.listen).await?;
        println!("Starting the AWS lab (moto) in {} …", dir.display());
        let started = std::time::Instant::now();
        let lab = switchyard::aws::lab::Lab::start(&moto, &dir, plan).await?;
        println!(
            "Lab seeded in {:.1} s; configuration: {}",
            started.elapsed().as_secs_f64(),
            lab.config_path.display()
        );
        let file = ConfigFile::load(&lab.config_path)?;
        let settings = Settings::resolve(
            file,
            Some(&lab.config_path.display().to_string()),
            Overrides {
                data_dir: Some(dir.join("data")),
                ..Overrides::default()
            },
        )?;
        // Keep the lab's metrics fresh while the console runs.
        let lab = std::sync::Arc::new(lab);
        let feeder = {
            let lab = lab.clone();
            tokio::spawn(async move {
                let mut tick = 0;
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    tick += 1;
                    if let Err(e) = lab.put_metrics(tick).await {
                        tracing::warn!("lab metrics: {e}");
                    }
                }
            })
        };
        let result = run_console(settings, args.listen, ui_dir, Some(listener)).await;
        feeder.abort();
        result
    })
}

/// `switchyard drill run`: the drill on an engine of its own, then the report on disk.
fn drill(a: cli::DrillRunArgs) -> Result<u8, String> {
    use switchyard_core::drills::DrillStatus;
    let scenario = a.scenario()?;
    let settings = a.fleet.settings()?;
    let operator = runbook_operator(a.operator.as_deref());
    let rt = runtime()?;
    rt.block_on(async {
        let running = switchyard::app::start(&settings).await?;
        let engine = running.engine;
        if scenario.mode == switchyard_core::drills::DrillMode::Live {
            // A live drill needs the regions' health: wait for the first polls.
            tokio::time::sleep(settings.engine.poll_interval + settings.engine.poll_timeout).await;
        }
        let started = engine
            .start_drill(scenario, &operator)
            .await
            .map_err(|e| format!("the drill was refused: {e:?}"))?;
        println!("Drill {} ({}) started", started.id, started.name);
        let t0 = std::time::Instant::now();
        let drill = loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            match engine.drill(&started.id).await {
                Ok(Some(d)) if d.summary.status != DrillStatus::Running => break d,
                Ok(_) => {}
                Err(e) => return Err(format!("cannot read the drill: {e:?}")),
            }
        };
        engine.shutdown();
        let out = a
            .out
            .clone()
            .unwrap_or_else(|| drill.summary.id.clone().into());
        let files = switchyard::report::write_all(&drill, &out)?;
        println!(
            "Drill {} {} in {:.1} s",
            drill.summary.id,
            drill.summary.status.as_str().to_uppercase(),
            t0.elapsed().as_secs_f64()
        );
        if let Some(m) = &drill.metrics {
            for o in &m.objectives {
                println!(
                    "  {:<22} {:<26} {:<22} {}",
                    o.name,
                    o.target,
                    o.actual,
                    if o.passed { "met" } else { "MISSED" }
                );
            }
        }
        if let Some(e) = &drill.error {
            println!("  aborted: {e}");
        }
        println!("Report written to {}:", out.display());
        for f in files {
            println!("  {}", f.display());
        }
        Ok(match drill.summary.status {
            DrillStatus::Passed => 0,
            DrillStatus::Failed => 3,
            _ => 1,
        })
    })
}

/// Who a runbook command is audited under: `--operator`, else `$USER`, else "runbook".
fn runbook_operator(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "runbook".into())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// Starts the engine and serves the API and UI until SIGTERM or Ctrl-C.
async fn run_console(
    settings: Settings,
    listen: std::net::SocketAddr,
    ui_dir: Option<std::path::PathBuf>,
    listener: Option<tokio::net::TcpListener>,
) -> Result<(), String> {
    let listener = match listener {
        Some(l) => l,
        None => bind(listen).await?,
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Before anything is announced: from the moment a client can connect, SIGTERM stops cleanly.
    let stop = shutdown_signal()?;
    let running = switchyard::app::start(&settings).await?;
    if ui_dir.is_none() {
        tracing::warn!("the web UI is not built (cargo xtask build); serving the API only");
    }
    println!(
        "Switchyard listening on http://{addr}/ ({}; data in {})",
        switchyard::app::describe_source(&settings),
        running.engine.store().path().display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let engine = running.engine.clone();
    let app = switchyard::api::router(running.engine, ui_dir);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            engine.shutdown();
        })
        .await
        .map_err(|e| format!("server stopped: {e}"))
}

/// Installs the SIGTERM and SIGINT handlers now (not when the returned future is first
/// polled: a signal in between would kill the process without a clean stop) and resolves on
/// the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down");
    })
}
