//! The `switchyard` binary as an operator runs it: bad input gives one line naming the problem,
//! a non-zero exit, and nothing written; good input serves the API and stops cleanly.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchyard::api::client::{BlockingClient, Client, Request};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

/// Runs the binary to completion; returns (exit code, stderr).
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn assert_one_line_error(args: &[&str], needle: &str) {
    let (code, stderr) = run(args);
    assert_ne!(code, 0, "{args:?} should fail");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?} printed more than one line:\n{stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} does not mention {needle:?}"
    );
}

#[test]
fn bad_input_gets_one_line_a_nonzero_exit_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_str().unwrap();
    let listen = ["--listen", "127.0.0.1:0"];

    assert_one_line_error(&["serve", "--frobnicate"], "'--frobnicate'");
    assert_one_line_error(&["launch"], "'launch'");
    assert_one_line_error(&["serve", "--devices", "lots"], "'lots'");

    let bad_toml = tmp.path().join("bad.toml");
    std::fs::write(&bad_toml, "[engine]\npoll_interval_secs = \"soon\"\n").unwrap();
    let bad = bad_toml.to_str().unwrap();
    assert_one_line_error(
        &[
            "serve",
            "--config",
            bad,
            "--data-dir",
            data_arg,
            listen[0],
            listen[1],
        ],
        &format!("config file {bad}, line 2"),
    );
    let unknown = tmp.path().join("unknown.toml");
    std::fs::write(&unknown, "[simulation]\nregion = [\"us-east-1\"]\n").unwrap();
    assert_one_line_error(
        &[
            "serve",
            "--config",
            unknown.to_str().unwrap(),
            "--data-dir",
            data_arg,
        ],
        "unknown field `region`",
    );
    assert!(!data.exists(), "a refused start wrote nothing");

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    assert_one_line_error(
        &[
            "serve",
            "--data-dir",
            file.to_str().unwrap(),
            listen[0],
            listen[1],
        ],
        "is not usable: it is not a directory",
    );
}

#[test]
fn a_busy_port_is_named_and_nothing_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert_one_line_error(
        &[
            "serve",
            "--listen",
            &addr,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &format!("cannot listen on {addr}"),
    );
    assert!(!data.exists());
}

/// Starts `switchyard serve` on a free port with its own data directory; returns the child,
/// the line it printed, the server's URL and the directory.
fn serve(extra: &[&str]) -> (std::process::Child, String, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["--no-auth"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--data-dir", tmp.path().to_str().unwrap()]);
    let (child, _, line, url) = spawn_serve(&args);
    (child, line, url, tmp)
}

/// `switchyard serve --listen 127.0.0.1:0 ARGS`: the child, the rest of its output, its first
/// line, and the address it printed there (http or https).
fn spawn_serve(
    args: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
    String,
) {
    spawn_serve_logging(args, Stdio::null())
}

/// As [`spawn_serve`], its log (stderr) going to `log`.
fn spawn_serve_logging(
    args: &[&str],
    log: Stdio,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
    String,
) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (child, out, line, url)
}

#[test]
fn serves_the_api_then_stops_on_sigterm_even_with_a_console_open() {
    let (mut child, line, url, tmp) = serve(&["--devices", "100", "--poll-interval", "1"]);
    assert!(
        line.starts_with("Switchyard listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains("100 devices"), "{line}");

    // An open event stream, as a console tab holds one.
    let client = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
    let sse = client.events(Request::get("/api/v1/events")).unwrap();
    assert!(sse
        .header("content-type")
        .unwrap_or_default()
        .contains("text/event-stream"));
    assert!(Path::new(&tmp.path().join("switchyard.db")).exists());

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            child.kill().unwrap();
            panic!("switchyard did not stop within 10 s of SIGTERM with an event stream open");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    drop(sse); // held open until the server had stopped
}

#[test]
fn the_headless_server_links_no_webkit_or_gtk() {
    let out = Command::new("ldd")
        .arg(BIN)
        .output()
        .expect("ldd is available");
    let libs = String::from_utf8_lossy(&out.stdout);
    assert!(libs.contains("libc.so"), "ldd listed the libraries: {libs}");
    for forbidden in ["webkit", "gtk", "javascriptcore"] {
        assert!(
            !libs.contains(forbidden),
            "switchyard links {forbidden}:\n{libs}"
        );
    }
}

#[test]
fn switchyard_failover_runs_a_failover_for_a_runbook_and_says_how_it_ended() {
    let (mut child, _, url, _tmp) = serve(&[
        "--devices",
        "300",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@2s",
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let failover = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["failover", "--server", &url, "--operator", "runbook-test"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // A region that does not exist is refused with the reason, and exit 1.
    let (code, _, err) = failover(&["--to", "eu-central-1", "--reason", "x"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("eu-central-1 is not a configured region"),
        "{err}"
    );
    let (code, out, err) = failover(&["--to", "eu-west-1", "--reason", "INC-9 us-east-1 down"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("phase: verifying") && out.contains("completed in"),
        "{out}"
    );
    assert!(
        out.contains("step: switch traffic to eu-west-1 — ok"),
        "{out}"
    );
    // Asked again: nothing to do, said so, exit 0.
    let (code, out, _) = failover(&["--to", "eu-west-1", "--reason", "again"]);
    assert_eq!(code, 0);
    assert!(out.contains("already the active region"), "{out}");
    // An unreachable console is named.
    let (code, _, err) = Command::new(BIN)
        .args([
            "failover",
            "--server",
            "http://127.0.0.1:1",
            "--to",
            "eu-west-1",
            "--reason",
            "x",
        ])
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                (),
                String::from_utf8(o.stderr).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot reach the console at http://127.0.0.1:1"),
        "{err}"
    );
    stop(&mut child);
}

fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

#[test]
fn switchyard_command_previews_sends_and_refuses_bad_payloads() {
    let (mut child, _, url, _tmp) = serve(&["--devices", "200"]);
    let cmd = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["command", "--server", &url, "--operator", "runbook-test"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = cmd(&[
        "--name",
        "ping",
        "--target",
        "region:us-east-1",
        "--preview",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("200 devices: 200 online will receive it"),
        "{out}"
    );
    let (code, out, err) = cmd(&[
        "--name",
        "set-report-interval",
        "--target",
        "region:us-east-1",
        "--payload",
        r#"{"seconds": 2}"#,
        "--reason",
        "x",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("payload.seconds: 2 is below the minimum 5"),
        "{err}"
    );
    let (code, _, err) = cmd(&["--name", "ping", "--target", "galaxy:all", "--reason", "x"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("'galaxy' is not group, region, devices or query"),
        "{err}"
    );
    let (code, out, err) = cmd(&[
        "--name",
        "ping",
        "--target",
        "devices:dev-0000001,dev-0000002",
        "--reason",
        "INC-3 check",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "completed: 2 sent, 0 shadowed, 0 skipped offline, 0 failed, 0 cancelled of 2"
        ),
        "{out}"
    );
    stop(&mut child);
}

#[test]
fn logins_are_on_by_default_and_a_runbook_signs_in() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_str().unwrap().to_string();
    // --no-auth is refused off loopback, before anything is written.
    assert_one_line_error(
        &[
            "serve",
            "--no-auth",
            "--listen",
            "0.0.0.0:0",
            "--data-dir",
            &format!("{data}/x"),
        ],
        "--no-auth: refused on 0.0.0.0:0",
    );
    assert!(!tmp.path().join("x").exists());
    // Accounts are added with the password on standard input, never on the command line.
    let add = |name: &str, role: &str, password: &str| {
        let mut child = Command::new(BIN)
            .args(["user", "add", name, "--role", role, "--data-dir", &data])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = add("otto", "operator", "correct horse battery");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Added otto (operator)"), "{out}");
    let (code, out) = add("vera", "viewer", "short");
    assert_eq!(code, Some(1));
    assert!(out.contains("password: at least 12 characters"), "{out}");
    let (code, out) = add("otto", "viewer", "correct horse battery");
    assert_eq!(code, Some(1));
    assert!(out.contains("otto already has an account"), "{out}");

    // The server with logins: the runbook without a user is refused, with one it signs in.
    let log_path = tmp.path().join("server.log");
    let (mut child, mut reader, _, url) = spawn_serve_logging(
        &[
            "--data-dir",
            &data,
            "--devices",
            "200",
            "--poll-interval",
            "1",
        ],
        std::fs::File::create(&log_path).unwrap().into(),
    );
    let mut second = String::new();
    reader.read_line(&mut second).unwrap();
    assert_eq!(
        second.trim(),
        "Sign-in: local",
        "an account exists: no setup link"
    );
    std::thread::sleep(Duration::from_secs(2));
    let failover = |user: Option<&str>, password: &str| {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "failover",
            "--server",
            &url,
            "--to",
            "eu-west-1",
            "--reason",
            "drill INC-1",
        ])
        .env("SWITCHYARD_PASSWORD", password);
        if let Some(u) = user {
            cmd.args(["--user", u]);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, out) = failover(None, "");
    assert_eq!(code, Some(1));
    assert!(out.contains("sign in first"), "{out}");
    let (code, out) = failover(Some("otto"), "wrong password!!");
    assert_eq!(code, Some(1));
    assert!(
        out.contains("signing in as otto: wrong name or password"),
        "{out}"
    );
    let (code, out) = failover(Some("otto"), "correct horse battery");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("completed"), "{out}");
    let _ = child.kill();
    let _ = child.wait();
    // No secret in the log, in what the runbook printed, or in the database in clear.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("otto: session.login") && log.contains("otto: failover"),
        "the log says who signed in and failed over: {log}"
    );
    let mut at_rest = Vec::new();
    for f in std::fs::read_dir(tmp.path()).unwrap() {
        let f = f.unwrap().path();
        if f.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("switchyard.db")
        {
            at_rest.extend(std::fs::read(f).unwrap());
        }
    }
    assert!(at_rest.len() > 10_000, "the database was read");
    for secret in ["correct horse battery", "wrong password!!"] {
        assert!(!log.contains(secret), "the log holds a password: {log}");
        assert!(
            !out.contains(secret),
            "the runbook printed a password: {out}"
        );
        assert!(
            !at_rest
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "the database holds a password in clear"
        );
    }
    assert!(!log.to_ascii_lowercase().contains("cookie"), "{log}");
}

#[test]
fn with_a_certificate_the_server_speaks_https_and_its_cookies_are_secure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (cert, key, config) = tls_config(dir);
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    let data_s = data.to_str().unwrap();
    // A certificate that is not one is named before anything is written.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            config.display(),
            key.display()
        ),
    )
    .unwrap();
    assert_one_line_error(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            bad.to_str().unwrap(),
            "--data-dir",
            data_s,
        ],
        "no certificate in it",
    );
    let mut add = Command::new(BIN)
        .args([
            "user",
            "add",
            "otto",
            "--role",
            "operator",
            "--data-dir",
            data_s,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "correct horse battery").unwrap();
    assert!(add.wait().unwrap().success());

    let config_s = config.to_str().unwrap();
    let (mut child, _, _, url) = spawn_serve(&[
        "--devices",
        "100",
        "--config",
        config_s,
        "--data-dir",
        data_s,
    ]);
    assert!(url.starts_with("https://"), "{url}");
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&cert)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (ok, body) = curl(&[&format!("{url}/healthz")]);
    assert!(ok && body.contains(r#""status":"ok""#), "{body}");
    let (ok, head) = curl(&[
        "-i",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"username":"otto","password":"correct horse battery"}"#,
        &format!("{url}/api/v1/session"),
    ]);
    assert!(ok, "{head}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie in {head}"));
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Plain HTTP to the TLS port gets nowhere.
    let (ok, _) = curl(&[&format!("{}/healthz", url.replace("https://", "http://"))]);
    assert!(!ok);
    let _ = child.kill();
    let _ = child.wait();
}

/// A self-signed certificate for 127.0.0.1 (made with openssl, valid for a day) and a
/// configuration file serving it (`[tls]`); returns (cert, key, config).
fn tls_config(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            // What a verifying client (rustls) needs besides the name: the address as a
            // subject alternative name, and a leaf, not a CA.
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl made a test certificate");
    let config = dir.join("sy.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    (cert, key, config)
}

#[test]
fn a_runbook_reaches_a_console_served_over_https_with_its_ca_file_and_names_the_tls_error_without()
{
    let tmp = tempfile::tempdir().unwrap();
    let (cert, _, config) = tls_config(tmp.path());
    let (mut child, _, url, _data) = serve(&[
        "--devices",
        "300",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@2s",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    std::thread::sleep(Duration::from_secs(3));
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // Without the CA file the console's certificate is not trusted: a TLS error, exit 1, that
    // says where the CA certificate goes.
    let (code, out, err) = run(Command::new(BIN).args([
        "failover",
        "--server",
        &url,
        "--operator",
        "runbook-test",
        "--to",
        "eu-west-1",
        "--reason",
        "x",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("TLS with the console at {url} failed")) && err.contains("--ca-file"),
        "{err}"
    );
    assert!(!out.contains("requested"), "nothing was asked: {out}");
    // A CA file that holds no certificate is named.
    let (code, _, err) = run(Command::new(BIN).args([
        "failover",
        "--server",
        &url,
        "--ca-file",
        config.to_str().unwrap(),
        "--to",
        "eu-west-1",
        "--reason",
        "x",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "--ca-file CA file {}: no certificate in it",
            config.display()
        )),
        "{err}"
    );
    // With it, and the console from SWITCHYARD_SERVER, the failover runs to completion.
    let (code, out, err) = run(Command::new(BIN)
        .env("SWITCHYARD_SERVER", &url)
        .args(["failover", "--ca-file"])
        .arg(&cert)
        .args([
            "--operator",
            "runbook-test",
            "--to",
            "eu-west-1",
            "--reason",
            "INC-7 us-east-1 down",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("step: switch traffic to eu-west-1 — ok") && out.contains("completed in"),
        "{out}"
    );
    // `command` goes the same way.
    let (code, out, err) = run(Command::new(BIN)
        .args(["command", "--server", &url, "--ca-file"])
        .arg(&cert)
        .args([
            "--operator",
            "runbook-test",
            "--name",
            "ping",
            "--target",
            "devices:dev-0000001",
            "--preview",
        ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("1 devices: "), "{out}");
    stop(&mut child);
}
