//! Helpers for the end-to-end tests: start the real server, the real drivers and the real
//! browser or desktop window, and stop them again whatever happens.
//!
//! The tests are `#[ignore]`d in a plain `cargo test` because they need the built binaries,
//! Chromium and a virtual display; `cargo xtask test` builds all that and runs them with
//! `--ignored`. Nothing here reaches beyond loopback.

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchyard::api::client::{BlockingClient, Request};

/// A binary the tests need, from the environment variable `var` set by `cargo xtask test`, or
/// the workspace's debug build.
pub fn binary(var: &str, name: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug").join(name));
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo xtask build` (or set {var})",
        path.display()
    );
    path
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where screenshots go, for a person to look at.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = workspace().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`.
pub fn wait_for_port(port: u16, what: &str, timeout: Duration) {
    let until = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "{what} did not listen on port {port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process that is stopped when dropped: SIGTERM first, then SIGKILL.
pub struct Process {
    pub child: Child,
    pub name: String,
}

impl Process {
    pub fn spawn(name: &str, cmd: &mut Command) -> Process {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            child,
            name: name.to_string(),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM lets tauri-driver stop the WebKitWebDriver it started.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} ignored SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a tool to its end: whether it succeeded, and what it said (stdout, then stderr).
pub fn tool_output(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{:?} runs: {e}", cmd.get_program()));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// `switchyard serve` on a free loopback port, with its own data directory.
pub struct Server {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    client: BlockingClient,
    _process: Process,
}

impl Server {
    /// `switchyard serve --no-auth` with `extra` arguments.
    pub fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--no-auth"];
        args.extend_from_slice(extra);
        Self::start_with_logins(&args)
    }

    /// `switchyard serve` with `extra` arguments, logins on unless `extra` says otherwise.
    pub fn start_with_logins(extra: &[&str]) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        Self::start_in(data_dir, extra)
    }

    /// `switchyard serve` on an existing data directory (accounts made beforehand).
    pub fn start_in(data_dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let mut cmd = Command::new(binary("SWITCHYARD_BIN", "switchyard"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .args(extra);
        Self::spawn("switchyard serve", cmd, data_dir)
    }

    /// `switchyard lab`: the console on a freshly seeded moto lab (in `data_dir`), which it
    /// stops when it stops.
    pub fn lab(extra: &[&str]) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(binary("SWITCHYARD_BIN", "switchyard"));
        cmd.args(["lab", "--no-auth", "--listen", "127.0.0.1:0", "--dir"])
            .arg(data_dir.path())
            .args(extra);
        Self::spawn("switchyard lab", cmd, data_dir)
    }

    fn spawn(name: &str, mut cmd: Command, data_dir: tempfile::TempDir) -> Server {
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut process = Process::spawn(name, &mut cmd);
        let stdout = process.child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("[switchyard] {line}");
                let _ = tx.send(line);
            }
        });
        let until = Instant::now() + Duration::from_secs(60);
        let url = loop {
            let left = until.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{name} printed its address within 60 s"));
            if let Some(url) = line
                .split_whitespace()
                .skip_while(|w| *w != "on")
                .find(|w| w.starts_with("http://"))
            {
                break url.trim_end_matches('/').to_string();
            }
        };
        let client = switchyard::api::client::Client::new(&url)
            .and_then(BlockingClient::new)
            .unwrap_or_else(|e| panic!("a client of {name}: {e}"));
        Server {
            url,
            data_dir,
            client,
            _process: process,
        }
    }

    /// Stops the server and hands back its data directory, for a restart on the same data.
    pub fn stop(self) -> tempfile::TempDir {
        let Server {
            data_dir, _process, ..
        } = self;
        drop(_process);
        data_dir
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self._process.child.id()
    }

    /// The console's client, for what [`Server::request`] does not cover.
    pub fn client(&self) -> &BlockingClient {
        &self.client
    }

    /// A request to the server (a JSON body, if any); returns (status, body).
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let mut req = Request::method(method, path).unwrap();
        if let Some(b) = body {
            req = req.json_text(b);
        }
        let resp = self
            .client
            .send(req)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (resp.status, resp.text())
    }
}

/// Headless Chromium through its own chromedriver on a free port, with a fresh profile. The
/// driver is stopped, and then the profile deleted, when this is dropped.
///
/// [`Chromium::errors`] reads what the page logged as an error (a console error, an uncaught
/// exception, a request answered 4xx/5xx or not at all, a refused policy), but the patterns
/// [`Chromium::allow`]ed; [`Chromium::finish`] fails on any, then closes the browser, and so
/// does dropping it when the test has not panicked first.
pub struct Chromium {
    pub client: Client,
    port: u16,
    session: String,
    allowed: std::sync::Mutex<Vec<String>>,
    checked: std::sync::atomic::AtomicBool,
    _driver: Process,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Says that errors whose message contains `pattern` are expected in this test.
    pub fn allow(&self, pattern: &str) {
        self.allowed.lock().unwrap().push(pattern.to_string());
    }

    /// The errors the page logged since the last call (and not allowed).
    pub fn errors(&self) -> Vec<String> {
        let allowed = self.allowed.lock().unwrap().clone();
        browser_log(self.port, &self.session)
            .into_iter()
            .filter(|(level, _)| level == "SEVERE")
            .map(|(_, message)| message)
            .filter(|m| !allowed.iter().any(|a| m.contains(a.as_str())))
            .collect()
    }

    /// Fails on any error the page logged, then closes the browser.
    pub async fn finish(self) {
        self.assert_no_errors();
        self.client.clone().close().await.unwrap();
    }

    fn assert_no_errors(&self) {
        self.checked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let errors = self.errors();
        assert!(
            errors.is_empty(),
            "the page logged {} error(s):\n  {}",
            errors.len(),
            errors.join("\n  ")
        );
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.checked.load(std::sync::atomic::Ordering::SeqCst) {
            self.assert_no_errors();
        }
    }
}

/// chromedriver's browser log (level, message), read and emptied; one plain HTTP/1.1 request
/// (chromedriver does not answer HTTP/1.0), so that it also works from `drop`.
fn browser_log(port: u16, session: &str) -> Vec<(String, String)> {
    let body = r#"{"type":"browser"}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("chromedriver answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /session/{session}/se/log HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Connection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let answer = read_http_body(&mut BufReader::new(stream));
    let value: serde_json::Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("chromedriver's log answer is not JSON ({e}): {answer}"));
    let entries = value["value"]
        .as_array()
        .unwrap_or_else(|| panic!("chromedriver's log answer has no entries: {answer}"));
    entries
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("level"), field("message"))
        })
        .collect()
}

/// The body of one HTTP/1.1 answer: by its Content-Length, or chunked.
fn read_http_body(r: &mut impl BufRead) -> String {
    let mut line = String::new();
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        r.read_line(&mut line).expect("chromedriver's answer");
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        chunked |= header.starts_with("transfer-encoding:") && header.contains("chunked");
    }
    let mut body = Vec::new();
    if let Some(n) = length {
        body.resize(n, 0);
        std::io::Read::read_exact(r, &mut body).expect("chromedriver's answer");
    } else if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).expect("a chunk's size");
            let n = usize::from_str_radix(line.trim(), 16).expect("a chunk's size in hex");
            let mut chunk = vec![0; n + 2];
            std::io::Read::read_exact(r, &mut chunk).expect("a chunk");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Starts Chromium with a window of `width`×`height`, with the flags that keep it off the
/// network (no background services, no updates, no sync), logging everything the page logs.
pub async fn chromium(width: u32, height: u32) -> Chromium {
    let port = free_port();
    let driver = Process::spawn(
        "chromedriver",
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_port(port, "chromedriver", Duration::from_secs(20));
    let profile = tempfile::tempdir().unwrap();
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--hide-scrollbars", format!("--window-size={width},{height}"),
                     format!("--user-data-dir={}", profile.path().display())]
        }
    });
    let client = webdriver(port, caps).await;
    let session = client
        .session_id()
        .await
        .unwrap()
        .expect("a WebDriver session id");
    Chromium {
        client,
        port,
        session,
        allowed: Default::default(),
        checked: Default::default(),
        _driver: driver,
        _profile: profile,
    }
}

/// Connects a WebDriver client.
pub async fn webdriver(port: u16, caps: serde_json::Value) -> Client {
    let caps = caps.as_object().unwrap().clone();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

/// Polls `check` until it returns `Some`, or fails with `what` after `timeout`.
pub async fn wait_until<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < until,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page's own clock (ms since navigation start) once `css` matches `count` elements or
/// more: asked of the page itself every 10 ms, so that no WebDriver round trip counts, and an
/// upper bound by that much. Fails after `timeout`.
pub async fn page_time_when(c: &Client, css: &str, count: usize, timeout: Duration) -> f64 {
    let until = Instant::now() + timeout;
    loop {
        let t = c
            .execute(
                "return document.querySelectorAll(arguments[0]).length >= arguments[1] ? performance.now() : null;",
                vec![serde_json::json!(css), serde_json::json!(count)],
            )
            .await
            .unwrap();
        if let Some(t) = t.as_f64() {
            return t;
        }
        assert!(Instant::now() < until, "{count} of {css} never appeared");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The text of the first element matching `css`, if there is one.
pub async fn text(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

pub async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(name)
        .await
        .ok()?
}

/// A displayed number such as "4 998" (grouped with narrow spaces) as a number.
pub fn number(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Reads the overview the same way in both faces: every region card and the live figures.
pub async fn overview_is_live(c: &Client, regions: &[&str]) {
    // Every region has a card, and the active one has figures.
    let cards = wait_until(Duration::from_secs(30), "the region cards", || async {
        let cards = c
            .find_all(Locator::Css("article.card[data-region]"))
            .await
            .ok()?;
        (cards.len() == regions.len()).then_some(cards)
    })
    .await;
    for (card, want) in cards.iter().zip(regions) {
        assert_eq!(
            card.attr("data-region").await.unwrap().as_deref(),
            Some(*want)
        );
    }
    let active = format!("article.card[data-region='{}']", regions[0]);
    let online = wait_until(
        Duration::from_secs(20),
        "a first count of online devices",
        || async {
            number(&text(c, &format!("{active} [data-field=online]")).await?).filter(|n| *n > 0)
        },
    )
    .await;
    assert!(online > 0);
    assert_eq!(
        text(c, &format!("{active} [data-field=role]"))
            .await
            .as_deref(),
        Some("ACTIVE")
    );
    assert_eq!(
        text(c, &format!("{active} [data-field=health]"))
            .await
            .as_deref(),
        Some("HEALTHY")
    );
    assert!(text(c, &format!("{active} [data-field=age]"))
        .await
        .unwrap()
        .starts_with("data age "));
    assert_eq!(
        text(c, "[data-testid=source]").await.as_deref(),
        Some("SIMULATED FLEET")
    );

    // The state moves on without a reload: the version climbs with each poll.
    let first = attr(c, "[data-testid=link]", "data-version").await.unwrap();
    wait_until(
        Duration::from_secs(15),
        "a newer state version on screen",
        || async {
            let now = attr(c, "[data-testid=link]", "data-version").await?;
            (number(&now)? > number(&first)?).then_some(())
        },
    )
    .await;
    assert_eq!(
        text(c, "[data-testid=link]").await.as_deref(),
        Some("● live")
    );
}

/// Replaces the value of the input at `css` with `value`, as a person types it.
pub async fn fill(c: &Client, css: &str, value: &str) {
    let input = c
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks the element at `css`. Live views re-render their elements (the map's markers at
/// every poll), so an element found a moment ago may be gone by the click: it is found again
/// and clicked, for up to 10 s. It is scrolled to the middle of the window first, and a click
/// another element would have taken (the sticky header over it) is tried again.
pub async fn click(c: &Client, css: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = c
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        // To the middle of the window: at its edge the sticky header or strip may cover it.
        if let Ok(el) = serde_json::to_value(&found) {
            let _ = c
                .execute("arguments[0].scrollIntoView({block: 'center'})", vec![el])
                .await;
        }
        match found.click().await {
            Ok(_) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if (e.error == fantoccini::error::ErrorStatus::StaleElementReference
                    || e.error == fantoccini::error::ErrorStatus::ElementClickIntercepted)
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
}

/// The password of every account the tests make.
pub const PASSWORD: &str = "correct horse battery";

/// `switchyard user add NAME --role ROLE` on a data directory, the password on stdin.
pub fn add_user(data: &Path, name: &str, role: &str) {
    let mut child = Command::new(binary("SWITCHYARD_BIN", "switchyard"))
        .args(["user", "add", name, "--role", role, "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait().unwrap().success(), "user add {name}");
}

/// Waits for the sign-in form and types the account's name and password into it.
pub async fn fill_sign_in(c: &Client, name: &str) {
    wait_until(Duration::from_secs(20), "the sign-in form", || async {
        c.find(Locator::Css("[data-testid=signin]")).await.ok()
    })
    .await;
    fill(c, "[data-testid=signin-name]", name).await;
    fill(c, "[data-testid=signin-password]", PASSWORD).await;
}

/// Waits until the page shows who is signed in; returns their role.
pub async fn signed_in(c: &Client) -> String {
    wait_until(Duration::from_secs(20), "signed in", || async {
        attr(c, "[data-testid=who]", "data-role").await
    })
    .await
}

/// A POST from the page with the session's cookie and CSRF token; returns its status.
pub async fn post_from_page(c: &Client, path: &str, body: &str) -> u64 {
    let status = c
        .execute_async(
            r#"const [path, body, done] = arguments;
               fetch('/api/v1/session').then(r => r.json()).then(s =>
                 fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body }))
               .then(r => done(r.status)).catch(() => done(0));"#,
            vec![serde_json::json!(path), serde_json::json!(body)],
        )
        .await
        .unwrap();
    status.as_u64().unwrap()
}

/// On the map page of a viewer's session: the failover button to eu-west-1 is shown but off
/// (`why` says where), and the API refuses the failover when the page asks anyway.
pub async fn viewer_cannot_fail_over(c: &Client, why: &str) {
    let disabled = wait_until(Duration::from_secs(30), "the failover buttons", || async {
        let b = c
            .find(Locator::Css("[data-testid=open-failover-eu-west-1]"))
            .await
            .ok()?;
        Some(b.attr("disabled").await.ok()?.is_some())
    })
    .await;
    assert!(disabled, "{why}");
    let body = r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"viewer tries","override_warnings":true}"#;
    assert_eq!(post_from_page(c, "/api/v1/failovers", body).await, 403);
}
