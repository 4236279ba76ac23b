//! `switchyard`: the headless server, the runbook commands, drills and accounts. Builds and
//! runs without webkit.
//!
//! Rules kept here:
//! - dispatch only: each command's work lives in its module (`runbook`, `app`, `report`);
//! - an error is one line on stderr; help and version go to stdout with exit 0.

use std::process::ExitCode;
use switchyard::cli::{self, Command, LabArgs, ServeArgs};
use switchyard::runbook::{Output, RunbookError};
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
        Command::Status(a) => {
            return runbook(&a.caller, |caller| {
                switchyard::runbook::status(caller, Output::new(a.json))
            })
        }
        Command::Preflight(a) => {
            return runbook(&a.caller, |caller| {
                switchyard::runbook::preflight(caller, &a.to, Output::new(a.json))
            })
        }
        Command::Failover(a) => {
            let (req, out) = (a.request(), Output::new(a.json));
            return runbook(&a.caller, |caller| {
                if a.dry_run {
                    switchyard::runbook::dry_run(caller, &req, out)
                } else {
                    let wait = std::time::Duration::from_secs(a.wait);
                    switchyard::runbook::failover(caller, &req, wait, out)
                }
            });
        }
        Command::Command(a) => {
            // The request is checked before the console is asked anything.
            let req = match switchyard::runbook::command_request(&a) {
                Ok(req) => req,
                Err(e) => return fail(e),
            };
            return runbook(&a.caller, |caller| {
                switchyard::runbook::command(caller, &req, a.preview, Output::new(a.json))
            });
        }
        Command::Drill(cli::DrillCommand::Run(a)) => match drill(a) {
            Ok(0) => Ok(()),
            Ok(code) => return ExitCode::from(code),
            Err(e) => Err(e),
        },
        Command::User(cli::UserCommand::Add(a)) => user_add(a),
        Command::User(cli::UserCommand::List(a)) => user_list(a),
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
    let ui = args.ui()?;
    let rt = runtime()?;
    let auth = cli::auth_config(&settings, args.no_auth, args.listen)?;
    rt.block_on(run_console(settings, args.listen, ui, None, auth))
}

fn lab(args: LabArgs) -> Result<(), String> {
    let plan = args.plan()?;
    let ui = args.ui()?;
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
        let auth = cli::auth_config(&settings, args.no_auth, args.listen)?;
        let result = run_console(settings, args.listen, ui, Some(listener), auth).await;
        feeder.abort();
        result
    })
}

/// `switchyard user add`: the password comes from standard input, never from the command line
/// (where `ps` and the shell's history would keep it).
fn user_add(a: cli::UserAddArgs) -> Result<(), String> {
    use std::io::{BufRead, IsTerminal};
    let role = switchyard_core::auth::Role::parse(&a.role).map_err(|e| format!("--role: {e}"))?;
    switchyard_core::auth::check_username(&a.name)?;
    let settings = a.fleet.settings()?;
    if std::io::stdin().is_terminal() {
        eprint!(
            "Password for {} (shown as typed; pipe it in to avoid that): ",
            a.name
        );
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    switchyard_core::auth::check_password(&password)?;
    let store = switchyard::store::Store::open(&settings.data_dir).map_err(|e| e.to_string())?;
    let auth = switchyard::auth::Auth::new(settings.auth.clone(), store.clone());
    let by = format!("cli:{}", runbook_operator(None));
    let rt = runtime()?;
    let user = rt
        .block_on(auth.add_user(
            switchyard_core::auth::NewUser {
                username: a.name,
                password,
                role,
            },
            &by,
        ))
        .map_err(|e| match e {
            switchyard::auth::AuthError::Invalid(m)
            | switchyard::auth::AuthError::Conflict(m)
            | switchyard::auth::AuthError::Failed(m) => m,
            other => format!("{other:?}"),
        })?;
    println!(
        "Added {} ({}) to {}",
        user.username,
        user.role.as_str(),
        store.path().display()
    );
    Ok(())
}

fn user_list(a: cli::UserListArgs) -> Result<(), String> {
    let settings = a.fleet.settings()?;
    let store = switchyard::store::Store::open(&settings.data_dir).map_err(|e| e.to_string())?;
    for u in store.users().map_err(|e| e.to_string())? {
        println!(
            "{:<24} {:<9} added by {}",
            u.username,
            u.role.as_str(),
            u.created_by
        );
    }
    Ok(())
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

/// A runbook command: signs in as `--user` (or acts as `--operator`) on the console, runs
/// `work` and exits with its code; an error is one line on stderr and exit 1.
fn runbook(
    caller: &cli::CallerArgs,
    work: impl FnOnce(&switchyard::runbook::Caller) -> Result<u8, RunbookError>,
) -> ExitCode {
    let operator = runbook_operator(caller.operator.as_deref());
    match switchyard::runbook::sign_in(&caller.console, &operator, caller.user.as_deref())
        .and_then(|c| work(&c))
    {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(e),
    }
}

fn fail(e: RunbookError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(switchyard::runbook::exit::ERROR)
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
    ui: switchyard::api::Ui,
    listener: Option<tokio::net::TcpListener>,
    auth: switchyard::auth::AuthConfig,
) -> Result<(), String> {
    // The certificate is read before the port is taken and anything is written.
    let tls = match &settings.tls {
        Some((cert, key)) => Some(switchyard::api::tls::server_config(cert, key)?),
        None => None,
    };
    let listener = match listener {
        Some(l) => l,
        None => bind(listen).await?,
    };
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Before anything is announced: from the moment a client can connect, SIGTERM stops cleanly.
    let stop = shutdown_signal()?;
    let running = switchyard::app::start(&settings).await?;
    if let switchyard::api::Ui::Missing = ui {
        tracing::warn!("the web UI is not built (cargo xtask build); serving the API only");
    }
    println!(
        "Switchyard listening on {}://{addr}/ ({}; data in {})",
        if tls.is_some() { "https" } else { "http" },
        switchyard::app::describe_source(&settings),
        running.engine.store().path().display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let auth = switchyard::auth::Auth::new(auth, running.engine.store().clone());
    // Written, not println!: a reader that took the first line and left must not stop us.
    let say = |line: String| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    match auth.mode() {
        switchyard::auth::AuthMode::None => say(format!(
            "Logins are off (--no-auth): anyone who reaches {addr} may do anything."
        )),
        mode => match auth.setup_token().await {
            Ok(Some(token)) => say(format!(
                "No account yet. Create the first admin (this link works once): \
                 {scheme}://{addr}/#/setup?token={token}\n(or: switchyard user add NAME --role admin)"
            )),
            Ok(None) => say(format!("Sign-in: {}", mode.as_str())),
            Err(e) => return Err(format!("cannot read the accounts: {e:?}")),
        },
    }
    let engine = running.engine.clone();
    let app = switchyard::api::secured_router(running.engine, ui, auth);
    if let Some(cfg) = tls {
        return switchyard::api::tls::serve(listener, app, cfg, async move {
            stop.await;
            engine.shutdown();
        })
        .await;
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
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
