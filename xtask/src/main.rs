//! `cargo xtask`: the project's build orchestration, in Rust so it runs wherever cargo does.
//! (Past 500 lines: every command of the build in one file, so the order of the suite's steps
//! reads top to bottom; `deb.rs` holds the packaging, `lab.rs` the Python tools' venvs,
//! `dist.rs` the UI's compressed copies and budget, `basemap.rs` the map's basemap.)
//!
//!   cargo xtask setup        install what is missing (system packages, tauri-driver), saying what
//!   cargo xtask build        the wasm UI into dist/, then `switchyard` and `switchyard-desktop`
//!   cargo xtask serve [ARGS] setup + build, then `switchyard serve ARGS`
//!   cargo xtask desktop      setup + build, then the desktop app
//!   cargo xtask test         setup + build, then the whole suite: fmt, clippy, unit, API,
//!                            benchmark smoke, E2E
//!   cargo xtask bench        the full benchmarks (docs/PERFORMANCE.md)
//!   cargo xtask package      setup + build, then the .debs (desktop app, server) in target/debian/
//!
//! `--release` after the command builds optimised binaries.

mod basemap;
mod deb;
mod dist;
mod lab;
mod split;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use lab::{contract_venv, lab_setup, moto_server};

type Result<T = ()> = std::result::Result<T, String>;

/// System packages the build and the tests need (Debian names), and why.
const PACKAGES: &[(&str, &str)] = &[
    (
        "build-essential",
        "C compiler for SQLite and the webview bindings",
    ),
    ("pkg-config", "finds the system libraries"),
    ("file", "used by the Tauri bundler"),
    ("libwebkit2gtk-4.1-dev", "the desktop app's webview"),
    ("libsoup-3.0-dev", "the desktop app's webview"),
    ("libjavascriptcoregtk-4.1-dev", "the desktop app's webview"),
    ("librsvg2-dev", "the desktop app's icons"),
    (
        "libayatana-appindicator3-dev",
        "the desktop app's tray support",
    ),
    ("libxdo-dev", "the desktop app's keyboard shortcuts"),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver, to test the desktop window",
    ),
    ("xvfb", "a virtual display for the desktop tests"),
    ("xauth", "xvfb-run needs it"),
    ("chromium", "the browser the web UI is tested in"),
    ("chromium-driver", "chromedriver, to drive Chromium"),
    ("imagemagick", "screenshots of the desktop window"),
    ("openssl", "a throwaway certificate for the HTTPS test"),
    (
        "dpkg-dev",
        "dpkg-shlibdeps: the .deb's library dependencies",
    ),
    ("desktop-file-utils", "checks the .deb's desktop entry"),
    ("curl", "an independent HTTPS client for the HTTPS test"),
    (
        "fonts-dejavu-core",
        "readable fonts in headless screenshots",
    ),
    ("python3-venv", "the local AWS lab (moto)"),
    (
        "prometheus",
        "a real Prometheus scrapes the console in the tests",
    ),
    (
        "prometheus-alertmanager",
        "a real Alertmanager receives the console's alerts in the tests",
    ),
];

/// Extra packages when rustup has no wasm32 target: Debian's web toolchain (see TOOLCHAIN.md).
const WASM_PACKAGES: &[(&str, &str)] = &[
    ("rustc-web", "a rustc that knows wasm32"),
    ("cargo-web", "its cargo"),
    (
        "rust-web-src",
        "the standard library's source, to build std for wasm32",
    ),
    ("lld-22", "rust-lld, the wasm linker"),
];

const TAURI_DRIVER: &str = "tauri-driver";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(cmd: &mut Command) -> Result {
    eprintln!("xtask: $ {}", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// Test counts summed over the cargo test runs of a suite.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    passed: u64,
    failed: u64,
}

/// Runs `cargo test ...`, echoing its output, and adds its "test result:" lines to `totals`.
fn run_tests(cmd: &mut Command, totals: &mut Totals) -> Result {
    use std::io::BufRead;
    eprintln!("xtask: $ {}", describe(cmd));
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in std::io::BufReader::new(stdout)
        .lines()
        .map_while(std::result::Result::ok)
    {
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| {
                        part.trim()
                            .strip_suffix(word)?
                            .trim()
                            .rsplit(' ')
                            .next()?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0)
            };
            totals.passed += count("passed");
            totals.failed += count("failed");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(cmd)))
    }
}

/// `cargo test` over the whole workspace but the UI, with `extra` after it. Every test step
/// selects the same packages, so cargo resolves one feature set and builds the dependencies
/// (the AWS SDK above all) once; a step's own targets are chosen with `--test` or `--benches`,
/// which do not change the features. (`-p switchyard` alone, or `-p switchyard-e2e`, would
/// resolve other features and rebuild most of the tree.)
fn workspace_tests(extra: &[&str]) -> Command {
    let mut c = Command::new(cargo());
    c.args(["test", "--workspace", "--exclude", "switchyard-ui"])
        .args(extra);
    c
}

/// The end-to-end test that fuzzes the API against its document: a step of its own.
const CONTRACT_TEST: &str = "contract";

/// The end-to-end test targets, as `tests/Cargo.toml` names them.
fn e2e_tests() -> Result<Vec<String>> {
    let path = root().join("tests/Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut names = Vec::new();
    let mut in_test = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_test = line == "[[test]]";
        } else if let Some(v) = line.strip_prefix("name").map(str::trim) {
            if in_test {
                if let Some(v) = v.strip_prefix('=') {
                    names.push(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    if names.is_empty() {
        return Err(format!("{} names no [[test]] target", path.display()));
    }
    Ok(names)
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn installed(pkg: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", pkg]).contains("install ok installed")
}

fn rustup_has_wasm() -> bool {
    output("rustup", &["target", "list", "--installed"])
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn setup() -> Result {
    let mut wanted: Vec<(&str, &str)> = PACKAGES.to_vec();
    if !rustup_has_wasm() {
        wanted.extend_from_slice(WASM_PACKAGES);
    }
    if Path::new("/usr/bin/dpkg-query").exists() {
        let missing: Vec<_> = wanted.iter().filter(|(p, _)| !installed(p)).collect();
        if missing.is_empty() {
            eprintln!(
                "xtask setup: all {} system packages are installed",
                wanted.len()
            );
        } else {
            eprintln!(
                "xtask setup: installing {} missing system package(s) with apt-get:",
                missing.len()
            );
            for (p, why) in &missing {
                eprintln!("  {p:<32} {why}");
            }
            let sudo = !output("id", &["-u"]).trim().eq("0");
            let apt = |args: &[&str]| {
                let mut c = if sudo {
                    Command::new("sudo")
                } else {
                    Command::new("apt-get")
                };
                if sudo {
                    c.arg("apt-get");
                }
                c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
                c
            };
            run(&mut apt(&["update", "-q"]))?;
            let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
            install.args(missing.iter().map(|(p, _)| *p));
            run(&mut install)?;
        }
    } else {
        eprintln!("xtask setup: not a Debian system; install the equivalents of these yourself:");
        for (p, why) in &wanted {
            eprintln!("  {p:<32} {why}");
        }
    }
    lab_setup()?;
    if cargo_bin_dir().join(TAURI_DRIVER).exists() || succeeds(TAURI_DRIVER, &["--help"]) {
        eprintln!("xtask setup: tauri-driver is installed");
    } else {
        eprintln!(
            "xtask setup: installing tauri-driver (drives the desktop window in the E2E tests)"
        );
        run(Command::new(cargo()).args([
            "install",
            "tauri-driver",
            "--version",
            "^2",
            "--locked",
        ]))?;
    }
    Ok(())
}

/// Compiles the UI to wasm32: with rustup's target (and its `rust-src`) when installed, else
/// with Debian's rustc-web. Either way std is rebuilt for size (`-Zbuild-std`, allowed on a
/// stable compiler by `RUSTC_BOOTSTRAP`), so that a panic can be a trap at once. Returns the
/// .wasm file.
fn build_wasm() -> Result<PathBuf> {
    let root = root();
    let target_dir = root.join("target/wasm");
    let common = [
        "build",
        "--release",
        "-p",
        "switchyard-ui",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "-Zbuild-std=std,panic_abort",
    ];
    // Size over speed for the download, in this build only (its own target directory).
    let small = [
        ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z"),
        ("CARGO_PROFILE_RELEASE_LTO", "true"),
        ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
        ("CARGO_PROFILE_RELEASE_PANIC", "abort"),
        // Leptos erases each component's view type: less code for every component. A panic
        // is a trap at once, without its message: no panic formatting in the download
        // (docs/PERFORMANCE.md has what each saves). The linker keeps its relocations, which
        // wasm-split needs to cut the pages out ([`split`]).
        (
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "--cfg erase_components -Zunstable-options -Cpanic=immediate-abort \
             -Clink-args=--emit-relocs",
        ),
        ("RUSTC_BOOTSTRAP", "1"),
    ];
    let mut c = if rustup_has_wasm() {
        let mut c = Command::new(cargo());
        c.envs(small);
        c
    } else if Path::new("/usr/bin/rustc").exists() && Path::new("/usr/bin/cargo").exists() {
        let mut c = Command::new("/usr/bin/cargo");
        c.env("RUSTC", "/usr/bin/rustc")
            .envs(small)
            // Set by the cargo that runs xtask; they would point the Debian cargo at rustup's.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTFLAGS");
        // rustc looks for `rust-lld`, which Debian ships only as LLVM's wasm-ld: name it.
        if std::env::var_os("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER").is_none() {
            if let Some(ld) = find_wasm_ld() {
                c.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", ld);
            }
        }
        c
    } else {
        return Err(
            "no Rust compiler for wasm32: run `rustup target add wasm32-unknown-unknown` and \
                    `rustup component add rust-src`, or on Debian `cargo xtask setup` (installs \
                    rustc-web)"
                .into(),
        );
    };
    run(c
        .args(common)
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(&root))?;
    Ok(target_dir.join("wasm32-unknown-unknown/release/switchyard_ui.wasm"))
}

/// LLVM's wasm linker from Debian's lld packages, newest first.
fn find_wasm_ld() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let version: u32 = name.strip_prefix("llvm-")?.parse().ok()?;
            let ld = Path::new("/usr/lib").join(&name).join("bin/wasm-ld");
            ld.exists().then_some((version, ld))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

/// Builds the UI into dist/: the wasm, its JS glue, the page, the styles, the icon and the map,
/// each precompressed beside itself; fails when the wasm is past its budget ([`dist`]).
fn build_ui() -> Result {
    let root = root();
    let started = Instant::now();
    let wasm = build_wasm()?;
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    let main = split::split(&wasm, &dist)?;
    eprintln!(
        "xtask: wasm-bindgen {} -> {}",
        main.display(),
        dist.display()
    );
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&main)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        // Function names are for debuggers; the page does not need 1.7 MB of them.
        .remove_name_section(true)
        // The split modules reach into the main one through the linker's exports.
        .keep_lld_exports(true)
        .omit_default_module_path(false)
        .out_name("switchyard_ui")
        .generate(&dist)
        .map_err(|e| format!("wasm-bindgen: {e}"))?;
    for (from, to) in [
        ("src-ui/index.html", "index.html"),
        ("src-ui/boot.js", "boot.js"),
        ("assets/style.css", "style.css"),
        // A tab shows a favicon at 16 to 32 pixels: the 32×32 icon, a tenth of the 512×512.
        ("assets/icons/32x32.png", "icon.png"),
        ("assets/world-110m.svg", "world-110m.svg"),
    ] {
        std::fs::copy(root.join(from), dist.join(to))
            .map_err(|e| format!("cannot copy {from}: {e}"))?;
    }
    let sizes = dist::precompress(&dist)?;
    eprintln!("xtask: UI built in {:.0?}", started.elapsed());
    dist::check_budget(&sizes)
}

fn build(release: bool) -> Result {
    build_ui()?;
    // One cargo invocation for both, so shared dependencies build once with one feature set,
    // while the `switchyard` binary still links no webkit (its package does not depend on it).
    let mut c = Command::new(cargo());
    c.args(["build", "-p", "switchyard", "-p", "switchyard-desktop"])
        .current_dir(root());
    if release {
        // A release is what people install: the UI from the tauri:// scheme, no dev mode.
        c.args([
            "--release",
            "--features",
            "switchyard-desktop/custom-protocol",
        ]);
    }
    run(&mut c)
}

fn profile_dir(release: bool) -> PathBuf {
    root()
        .join("target")
        .join(if release { "release" } else { "debug" })
}

fn test() -> Result {
    let root = root();
    let started = Instant::now();
    let mut steps: Vec<(&str, std::time::Duration)> = Vec::new();
    let mut totals = Totals::default();
    let mut step = |name: &'static str, f: &mut dyn FnMut(&mut Totals) -> Result| -> Result {
        let t = Instant::now();
        eprintln!("\nxtask test: === {name} ===");
        let r = f(&mut totals);
        steps.push((name, t.elapsed()));
        r
    };
    let outcome = step("setup", &mut |_| setup())
        .and_then(|()| {
            step("format", &mut |_| {
                run(Command::new(cargo())
                    .args(["fmt", "--all", "--check"])
                    .current_dir(&root))
            })
        })
        .and_then(|()| step("build", &mut |_| build(false)))
        .and_then(|()| step("Debian packages", &mut |_| package(false).map(|_| ())))
        .and_then(|()| {
            step("clippy", &mut |_| {
                run(Command::new(cargo())
                    .args([
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ])
                    .current_dir(&root))
            })
        })
        .and_then(|()| {
            step("unit, engine, API and CLI tests", &mut |t| {
                // The UI's native tests build alone: built with the server, plotters would get
                // the server's `ab_glyph` text feature, which the wasm UI never has (the
                // browser measures its text) and which needs a registered font.
                run_tests(workspace_tests(&[]).current_dir(&root), t)?;
                run_tests(
                    Command::new(cargo())
                        .args(["test", "-p", "switchyard-ui"])
                        .current_dir(&root),
                    t,
                )
            })
        })
        .and_then(|()| {
            step("AWS adapters against the moto lab", &mut |t| {
                run_tests(
                    workspace_tests(&[
                        "--test",
                        "aws_lab",
                        "--test",
                        "lab_switch",
                        "--test",
                        "sns_lab",
                        "--",
                        "--ignored",
                        "--test-threads=2",
                    ])
                    .env("SWITCHYARD_MOTO_SERVER", moto_server())
                    .current_dir(&root),
                    t,
                )
            })
        })
        .and_then(|()| {
            step("benchmark smoke (benchmarks run once, small)", &mut |_| {
                run(workspace_tests(&["--benches"])
                    .env("SWITCHYARD_MOTO_SERVER", moto_server())
                    .current_dir(&root))?;
                // The load tool as the workspace's test build built it (`cargo run -p` would
                // resolve features anew and rebuild the AWS SDK).
                run(Command::new(profile_dir(false).join("switchyard-load"))
                    .arg("--smoke")
                    .env("SWITCHYARD_BIN", profile_dir(false).join("switchyard"))
                    .current_dir(&root))?;
                // A first load in a cold Chromium: the tool works, and its figures print.
                run(
                    Command::new(profile_dir(false).join("switchyard-firstload"))
                        .arg("--smoke")
                        .env("SWITCHYARD_BIN", profile_dir(false).join("switchyard"))
                        .current_dir(&root),
                )
            })
        })
        .and_then(|()| {
            step(
                "API contract (schemathesis, with and without logins)",
                &mut |t| {
                    run_tests(
                        workspace_tests(&[
                            "--test",
                            CONTRACT_TEST,
                            "--",
                            "--ignored",
                            "--test-threads=1",
                            // Each fuzz run's seed and case count, printed when it passes too.
                            "--nocapture",
                        ])
                        .env("SWITCHYARD_BIN", profile_dir(false).join("switchyard"))
                        .env("SWITCHYARD_CONTRACT_TOOLS", contract_venv().join("bin"))
                        .current_dir(&root),
                        t,
                    )
                },
            )
        })
        .and_then(|()| {
            step("end-to-end tests (Chromium, desktop window)", &mut |t| {
                let mut args: Vec<String> = Vec::new();
                for name in e2e_tests()?.into_iter().filter(|n| n != CONTRACT_TEST) {
                    args.extend(["--test".to_string(), name]);
                }
                args.extend(["--", "--ignored", "--test-threads=1"].map(String::from));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_tests(
                    workspace_tests(&args)
                        .env("SWITCHYARD_BIN", profile_dir(false).join("switchyard"))
                        .env(
                            "SWITCHYARD_DESKTOP_BIN",
                            profile_dir(false).join("switchyard-desktop"),
                        )
                        .env("SWITCHYARD_TAURI_DRIVER", tauri_driver_path())
                        .env("SWITCHYARD_MOTO_SERVER", moto_server())
                        .current_dir(&root),
                    t,
                )
            })
        });
    eprintln!(
        "\nxtask test: {} in {:.0?}",
        if outcome.is_ok() {
            "all steps passed"
        } else {
            "FAILED"
        },
        started.elapsed()
    );
    for (name, d) in &steps {
        eprintln!("  {name:<48} {:>6.1} s", d.as_secs_f64());
    }
    // The closing line CI reads: every test of every run, unit to end-to-end.
    println!("total: {} passed, {} failed", totals.passed, totals.failed);
    outcome
}

/// The full benchmarks, optimised: criterion on the engine, the scale table, the load run.
fn bench() -> Result {
    let root = root();
    run(Command::new(cargo())
        .args([
            "build",
            "--release",
            "-p",
            "switchyard",
            "--bin",
            "switchyard",
        ])
        .current_dir(&root))?;
    run(Command::new(cargo())
        .args(["bench", "-p", "switchyard", "--bench", "scale"])
        .current_dir(&root))?;
    run(Command::new(cargo())
        .args(["bench", "-p", "switchyard", "--bench", "engine"])
        .current_dir(&root))?;
    lab_setup()?;
    run(Command::new(cargo())
        .args([
            "bench",
            "-p",
            "switchyard",
            "--bench",
            "failover_lab",
            "--bench",
            "commands_lab",
            "--bench",
            "fanout",
            "--bench",
            "arc_lab",
            "--bench",
            "stragglers",
            "--bench",
            "readiness_cost",
        ])
        .env("SWITCHYARD_MOTO_SERVER", moto_server())
        .current_dir(&root))?;
    run(Command::new(cargo())
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "switchyard-e2e",
            "--bin",
            "switchyard-load",
        ])
        .env("SWITCHYARD_BIN", profile_dir(true).join("switchyard"))
        .current_dir(&root))
}

/// The Debian packages, from the binaries `build` made: the desktop app (binary, desktop entry,
/// icons) and the server (binary with the UI in it, systemd unit, configuration, its system
/// user). Returns the paths of the `.deb`s in target/debian/.
fn package(release: bool) -> Result<Vec<PathBuf>> {
    let root = root();
    let read = |p: &str| fs::read(root.join(p)).map_err(|e| format!("{p}: {e}"));
    let mut desktop_files = vec![(
        read("assets/desktop/switchyard-desktop.desktop")?,
        "usr/share/applications/switchyard-desktop.desktop".to_string(),
        0o644,
    )];
    for (icon, size) in [
        ("32x32.png", "32x32"),
        ("128x128.png", "128x128"),
        ("128x128@2x.png", "256x256"),
        ("icon.png", "512x512"),
    ] {
        desktop_files.push((
            read(&format!("assets/icons/{icon}"))?,
            format!("usr/share/icons/hicolor/{size}/apps/switchyard-desktop.png"),
            0o644,
        ));
    }
    let desktop = deb::Package {
        name: "switchyard-desktop",
        summary: "Switchyard desktop: keep an IoT fleet on AWS alive through a regional disaster",
        description: "The console a network operations centre uses in a regional outage: \
            region health, standby readiness, manual failover through Route 53, commands to \
            online devices, edge backlogs and disaster-recovery drills. Standalone (its own \
            engine, the user's AWS credentials) or connected to a team server \
            (switchyard-desktop --server https://...).",
        depends: &[],
        files: desktop_files,
        conffiles: &[],
        scripts: vec![],
    };
    // The packaged unit runs the packaged binary; its header says where things are.
    let unit = String::from_utf8(read("assets/deploy/switchyard.service")?)
        .map_err(|e| format!("switchyard.service: {e}"))?;
    let body = unit
        .split_once("\n[Unit]")
        .map(|(_, b)| format!("[Unit]{b}"))
        .ok_or("switchyard.service has no [Unit] section")?
        .replace("/usr/local/bin/switchyard", "/usr/bin/switchyard");
    let unit = format!(
        "# Installed by the switchyard package. Edit /etc/switchyard/switchyard.toml, add the first\n\
         # admin, then start it:\n\
         #   echo \"$PASSWORD\" | sudo -u switchyard switchyard user add alice --role admin \\\n\
         #        --config /etc/switchyard/switchyard.toml --data-dir /var/lib/switchyard\n\
         #   systemctl enable --now switchyard\n\
         # It listens on loopback: put the company's TLS-terminating proxy in front, or set [tls].\n\n{body}"
    );
    let server = deb::Package {
        name: "switchyard",
        summary: "Switchyard server: the IoT fleet disaster-recovery console for a NOC",
        description: "The console a network operations centre uses to keep an IoT fleet on \
            AWS alive through a regional disaster, served inside the company: the HTTP API, \
            the web UI (built into the binary), accounts with roles, the audit log. Installs \
            a hardened systemd unit (not started until enabled) and its configuration in \
            /etc/switchyard; data in /var/lib/switchyard, kept on purge.",
        depends: &["adduser"],
        files: vec![
            (
                unit.into_bytes(),
                "lib/systemd/system/switchyard.service".into(),
                0o644,
            ),
            (
                read("assets/deploy/switchyard.toml")?,
                "etc/switchyard/switchyard.toml".into(),
                0o640,
            ),
        ],
        conffiles: &["/etc/switchyard/switchyard.toml"],
        scripts: vec![
            (
                "postinst",
                "#!/bin/sh\nset -e\n\
                 if [ \"$1\" = configure ]; then\n\
                 \tinstall -d -m 0750 /var/lib/switchyard\n\
                 \tif ! getent passwd switchyard >/dev/null; then\n\
                 \t\tadduser --system --group --home /var/lib/switchyard --no-create-home \\\n\
                 \t\t\t--gecos 'Switchyard console' switchyard\n\
                 \tfi\n\
                 \tchown switchyard:switchyard /var/lib/switchyard\n\
                 \tchgrp switchyard /etc/switchyard/switchyard.toml\n\
                 \tchmod 0640 /etc/switchyard/switchyard.toml\n\
                 \tif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n\
                 fi\n"
                    .into(),
            ),
            (
                "prerm",
                "#!/bin/sh\nset -e\n\
                 if [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then\n\
                 \tsystemctl disable --now switchyard.service || true\n\
                 fi\n"
                    .into(),
            ),
            (
                "postrm",
                "#!/bin/sh\nset -e\n\
                 # The database (accounts, audit log, drill reports) stays in /var/lib/switchyard,\n\
                 # even on purge: an audit trail is not the package's to delete.\n\
                 if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n"
                    .into(),
            ),
        ],
    };
    let dir = profile_dir(release);
    Ok(vec![
        deb::build(&desktop, &dir.join("switchyard-desktop"), release)?,
        deb::build(&server, &dir.join("switchyard"), release)?,
    ])
}

fn tauri_driver_path() -> PathBuf {
    let p = cargo_bin_dir().join(TAURI_DRIVER);
    if p.exists() {
        p
    } else {
        PathBuf::from(TAURI_DRIVER)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("build") => setup().and_then(|()| build(release)),
        Some("ui") => build_ui(),
        Some("serve") => setup().and_then(|()| build(release)).and_then(|()| {
            let rest: Vec<&String> = args[1..]
                .iter()
                .filter(|a| *a != "--release" && *a != "--")
                .collect();
            // The newcomer's console: on loopback, without logins. With --listen it is the
            // server's own default (logins on).
            let mut cmd = Command::new(profile_dir(release).join("switchyard"));
            cmd.arg("serve");
            if !rest.iter().any(|a| a.starts_with("--listen")) {
                cmd.arg("--no-auth");
            }
            run(cmd.args(rest))
        }),
        Some("desktop") => setup().and_then(|()| build(release)).and_then(|()| {
            run(&mut Command::new(
                profile_dir(release).join("switchyard-desktop"),
            ))
        }),
        Some("lab") => setup().and_then(|()| build(release)).and_then(|()| {
            let rest: Vec<&String> = args[1..]
                .iter()
                .filter(|a| *a != "--release" && *a != "--")
                .collect();
            let mut cmd = Command::new(profile_dir(release).join("switchyard"));
            cmd.arg("lab");
            if !rest.iter().any(|a| a.starts_with("--listen")) {
                cmd.arg("--no-auth");
            }
            run(cmd.args(rest).env("SWITCHYARD_MOTO_SERVER", moto_server()))
        }),
        Some("test") => test(),
        Some("package") => setup()
            .and_then(|()| build(release))
            .and_then(|()| package(release))
            .map(|debs| {
                for deb in debs {
                    eprintln!("xtask package: {}", deb.display());
                }
            }),
        Some("bench") => bench(),
        Some("basemap") => match args.get(1) {
            Some(input) => basemap::basemap(Path::new(input), &root().join("assets/world-110m.svg")),
            None => Err(
                "usage: cargo xtask basemap <land-110m.json from the world-atlas npm package>"
                    .into(),
            ),
        },
        other => Err(format!(
            "{}usage: cargo xtask <setup|build|ui|serve|lab|desktop|test|bench|package> [--release] [ARGS]",
            other.map_or(String::new(), |o| format!("unknown command '{o}'; "))
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
