//! The desktop app's command line: its flags, and where the window's console comes from (this
//! process's engine, or a team server named by `--server` or `SWITCHYARD_SERVER`).
//!
//! Rules kept here:
//! - `--server` and the fleet options do not mix (connected, the app runs no engine).
//! - A team server's address is http(s) and a host, nothing else; plain http only to a
//!   loopback address (a password must not cross the network in clear).
//! - An unreachable server is named before any window opens (a clear message beats a blank
//!   window).

use clap::Parser;
use switchyard::cli::FleetArgs;

/// Switchyard desktop: the console in a window, with its engine in-process, or connected to a
/// team server.
#[derive(Debug, Parser)]
#[command(name = "switchyard-desktop", version, about, long_about = None)]
pub struct DesktopCli {
    /// Connect to a team server (`switchyard serve`), e.g. https://switchyard.noc.example, and
    /// sign in with an account there, instead of running the engine here
    /// [default: $SWITCHYARD_SERVER when set]. Plain http:// only to this machine.
    #[arg(long, value_name = "URL", conflicts_with_all = [
        "data_dir", "config", "poll_interval", "poll_timeout", "devices", "gateways", "seed",
        "regions", "faults",
    ])]
    server: Option<String>,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Where the window's console comes from.
#[derive(Debug, PartialEq)]
pub enum Mode {
    /// The engine in this process, the UI built into the app.
    Standalone,
    /// A team server's UI and API.
    Connected(tauri::Url),
}

impl DesktopCli {
    /// The command line, or the exit code to leave with: success after `--help` or
    /// `--version`, 2 (with the first line of clap's message) for a usage error.
    pub fn parse_or_exit() -> Result<DesktopCli, std::process::ExitCode> {
        DesktopCli::try_parse().map_err(|e| {
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
            std::process::ExitCode::from(2)
        })
    }

    pub fn mode(&self) -> Result<Mode, String> {
        if let Some(s) = &self.server {
            return server_url(s).map(Mode::Connected);
        }
        match std::env::var("SWITCHYARD_SERVER") {
            Ok(s) if !s.is_empty() => server_url_from("SWITCHYARD_SERVER", &s).map(Mode::Connected),
            _ => Ok(Mode::Standalone),
        }
    }
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
pub fn reachable(url: &tauri::Url) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
