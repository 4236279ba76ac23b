//! `switchyard-desktop`: the same UI in a native window. Standalone (the default), the engine
//! runs in-process and the UI reaches it through Tauri IPC: commands and the `fleet` event, which
//! carry exactly the API's types. Connected (`--server URL`), the window shows a team server's
//! own UI: its sign-in, its roles, its audit; the app then runs no engine and lends the page no
//! native powers (no capability names a remote origin).
//!
//! Rooms: [`cli`] (flags, the server-address rules), [`ipc`] (the commands and the `fleet`
//! event), [`notifications`] (raised alerts as native notifications), [`window`] (the main
//! window per mode).

mod cli;
mod ipc;
mod notifications;
mod window;

use cli::{DesktopCli, Mode};

fn main() -> std::process::ExitCode {
    let cli = match DesktopCli::parse_or_exit() {
        Ok(c) => c,
        Err(code) => return code,
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
        cli::reachable(url)?;
    }
    // One context (it carries the built UI) for either mode.
    let context = tauri::generate_context!("../../tauri.conf.json");
    match mode {
        Mode::Standalone => window::standalone(&cli.fleet, context),
        Mode::Connected(url) => window::connected(url, context),
    }
}
