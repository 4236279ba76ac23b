//! The desktop app in a real window under Xvfb, driven through tauri-driver and WebKitWebDriver.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;
use switchyard_e2e::*;

/// Starts Xvfb on a free display; returns the process and the display name.
fn xvfb() -> (Process, String) {
    let mut p = Process::spawn(
        "Xvfb",
        Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut out = p.child.stdout.take().unwrap();
    let mut buf = [0u8; 16];
    let mut got = String::new();
    while !got.ends_with('\n') {
        let n = out.read(&mut buf).expect("Xvfb reports its display");
        assert!(n > 0, "Xvfb exited before reporting its display");
        got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    (p, format!(":{}", got.trim()))
}

/// The desktop app in its window, driven over WebDriver.
struct Desktop {
    c: fantoccini::Client,
    display: String,
    data: tempfile::TempDir,
    _driver: Process,
    _xvfb: Process,
}

impl Desktop {
    /// Starts the app with `args` under a fresh Xvfb, through tauri-driver.
    async fn start(args: &[&str]) -> Desktop {
        let app = binary("SWITCHYARD_DESKTOP_BIN", "switchyard-desktop");
        let driver_bin =
            std::env::var("SWITCHYARD_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let (xvfb, display) = xvfb();
        let data = tempfile::tempdir().unwrap();
        let (port, native_port) = (free_port(), free_port());
        let driver = Process::spawn(
            "tauri-driver",
            Command::new(&driver_bin)
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .env("DISPLAY", &display)
                // The app keeps its database and its webview's cookies here, not in the home.
                .env("XDG_DATA_HOME", data.path())
                .env_remove("SWITCHYARD_SERVER")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        );
        // tauri-driver answers at once but proxies to WebKitWebDriver, which starts a moment
        // later.
        wait_for_port(port, "tauri-driver", Duration::from_secs(20));
        wait_for_port(native_port, "WebKitWebDriver", Duration::from_secs(20));
        let c = webdriver(
            port,
            serde_json::json!({ "browserName": "wry",
                "tauri:options": { "application": app, "args": args } }),
        )
        .await;
        Desktop {
            c,
            display,
            data,
            _driver: driver,
            _xvfb: xvfb,
        }
    }

    /// The whole screen as a person sees it, window frame included.
    fn import(&self, name: &str) {
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(screenshot_path(name))
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "ImageMagick's import took {name}"
        );
    }

    /// Clicked from the page's side: WebKitWebDriver reports the header's links as covered
    /// (ElementClickIntercepted) under Xvfb, while the same clicks pass in Chromium.
    async fn click(&self, css: &str) {
        self.c
            .execute(
                "document.querySelector(arguments[0]).click()",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built desktop app, tauri-driver, WebKitWebDriver and Xvfb: run `cargo xtask test`"]
async fn the_desktop_window_renders_the_live_overview() {
    let d = Desktop::start(&[]).await;
    let (c, data) = (&d.c, &d.data);
    overview_is_live(c, &["us-east-1", "eu-west-1", "ap-southeast-2"]).await;
    assert_eq!(
        attr(c, "[data-testid=link]", "data-transport")
            .await
            .as_deref(),
        Some("ipc"),
        "standalone mode uses IPC"
    );
    assert!(
        data.path().join("switchyard/switchyard.db").exists(),
        "the app keeps its history in SQLite"
    );

    std::fs::write(
        screenshot_path("desktop-webview.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    d.import("desktop-window.png");

    // The other pages work over IPC too: their commands take arguments.
    d.click("[data-testid=nav-devices]").await;
    let count = wait_until(
        Duration::from_secs(15),
        "the device count over IPC",
        || async {
            text(c, "[data-testid=device-count]")
                .await
                .filter(|t| t.contains("devices"))
        },
    )
    .await;
    assert!(count.starts_with("5\u{202f}000 devices"), "{count}");
    // Rows are placed by the CSSOM, which the app's strict CSP allows (style attributes it
    // would block, stacking every row at the top).
    let tops = c
        .execute(
            "return [...document.querySelectorAll('[data-testid=device-list] .device-row')].slice(0, 2).map(r => r.getBoundingClientRect().top);",
            vec![],
        )
        .await
        .unwrap();
    let tops: Vec<f64> = serde_json::from_value(tops).unwrap();
    assert!(
        tops.len() == 2 && tops[1] - tops[0] >= 30.0,
        "rows are laid out one below the other: {tops:?}"
    );
    d.click("[data-testid=device-list] .device-row").await;
    wait_until(
        Duration::from_secs(10),
        "a device's detail over IPC",
        || async { text(c, "[data-testid=device-detail] h3").await },
    )
    .await;
    d.click("[data-testid=device-detail] button").await; // Close
    d.click("[data-testid=nav-edge]").await;
    wait_until(Duration::from_secs(15), "the gateways over IPC", || async {
        let rows = c
            .find_all(fantoccini::Locator::Css("[data-testid=gateways] tbody tr"))
            .await
            .ok()?;
        (rows.len() == 40).then_some(())
    })
    .await;
    // The X server's copy of the window can trail the DOM by a frame or two.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    d.import("desktop-edge.png");

    // A simulated drill over IPC: started, measured, its charts drawn by the in-process engine.
    d.click("[data-testid=nav-drills]").await;
    wait_until(Duration::from_secs(10), "the drills page", || async {
        text(c, "[data-testid=drill-overdue]").await
    })
    .await;
    d.click("[data-testid=run-drill]").await;
    let verdict = wait_until(
        Duration::from_secs(30),
        "a drill's verdict over IPC",
        || async {
            let v = text(c, "[data-testid=drill-verdict]").await?;
            (v == "PASSED" || v == "FAILED").then_some(v)
        },
    )
    .await;
    wait_until(
        Duration::from_secs(15),
        "the drill's charts over IPC",
        || async {
            c.find(fantoccini::Locator::Css(
                "[data-testid=drill-chart-timeline] svg",
            ))
            .await
            .ok()
        },
    )
    .await;
    let rows = c
        .find_all(fantoccini::Locator::Css("[data-testid=drill-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the drill is listed ({verdict})");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    d.import("desktop-drills.png");
    d.c.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built apps, tauri-driver, WebKitWebDriver and Xvfb: run `cargo xtask test`"]
async fn the_desktop_app_connected_to_a_team_server_signs_in_with_its_roles() {
    let data = tempfile::tempdir().unwrap();
    add_user(data.path(), "vera", "viewer");
    let server = Server::start_in(data, &["--devices", "600", "--poll-interval", "1"]);
    let d = Desktop::start(&["--server", &server.url]).await;
    let c = &d.c;

    // The team server's own sign-in, in the desktop window.
    fill_sign_in(c, "vera").await;
    d.click("[data-testid=signin-submit]").await;
    assert_eq!(signed_in(c).await, "viewer");
    overview_is_live(c, &["us-east-1", "eu-west-1", "ap-southeast-2"]).await;
    assert_eq!(
        attr(c, "[data-testid=link]", "data-transport")
            .await
            .as_deref(),
        Some("http"),
        "connected mode talks to the server over HTTP"
    );
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&server.url),
        "the window shows the server's page"
    );
    assert!(
        !d.data.path().join("switchyard/switchyard.db").exists(),
        "connected, the app runs no engine and keeps no database"
    );

    // Same roles as in a browser: a viewer's failover buttons are off and the API refuses.
    d.click("[data-testid=nav-map]").await;
    viewer_cannot_fail_over(
        c,
        "a viewer is offered no failover in the desktop app either",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    d.import("desktop-connected.png");
    d.c.clone().close().await.unwrap();
}
