//! `switchyard`: the headless server (and, later, the CLI). Builds and runs without webkit.

use std::process::ExitCode;
use switchyard::cli::{self, Command, ServeArgs};

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
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let running = switchyard::app::start(&settings)?;
        if ui_dir.is_none() {
            tracing::warn!("the web UI is not built (cargo xtask build); serving the API only");
        }
        println!(
            "Switchyard listening on http://{addr}/ (simulated fleet: {} devices, {} gateways, seed {}; data in {})",
            settings.sim.devices,
            settings.sim.gateways,
            settings.sim.seed,
            running.engine.store().path().display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let engine = running.engine.clone();
        let app = switchyard::api::router(running.engine, ui_dir);
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                engine.shutdown();
            })
            .await
            .map_err(|e| format!("server stopped: {e}"))
    })
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}
