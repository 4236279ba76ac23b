//! The main window, per mode: standalone, the app's own page with the engine in this process
//! and the IPC commands registered; connected, the team server's page with no native powers.
//!
//! Rules kept here:
//! - Connected, the app runs no engine and registers no command (no capability names a remote
//!   origin, so the server's page gets no IPC).
//! - One window, labelled `main` (the label the capability in `tauri.conf.json` grants).

use switchyard::cli::FleetArgs;

/// The main window: the app's own page, or the team server's.
fn main_window(app: &tauri::App, url: tauri::WebviewUrl, title: &str) -> tauri::Result<()> {
    tauri::WebviewWindowBuilder::new(app, "main", url)
        .title(title)
        .inner_size(1280.0, 800.0)
        .min_inner_size(800.0, 600.0)
        .build()
        .map(|_| ())
}

/// The team server's page in the window, until it is closed.
pub fn connected(url: tauri::Url, context: tauri::Context) -> Result<(), String> {
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

/// The engine in this process and the app's own page in the window, until it is closed.
pub fn standalone(fleet: &FleetArgs, context: tauri::Context) -> Result<(), String> {
    let settings = fleet.settings()?;
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    tauri::async_runtime::set(rt.handle().clone());
    let running = rt.block_on(switchyard::app::start(&settings))?;
    let engine = running.engine.clone();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(running)
        .invoke_handler(crate::ipc::invoke_handler())
        .setup(move |app| {
            main_window(
                app,
                tauri::WebviewUrl::App("index.html".into()),
                "Switchyard",
            )?;
            crate::ipc::forward_events(app.handle().clone(), engine);
            Ok(())
        })
        .run(context)
        .map_err(|e| format!("the desktop window failed: {e}"))
}
