//! The desktop app's Debian package (`cargo xtask package`): what is in it, what it depends on,
//! and that what it installs runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use switchyard::api::client::{BlockingClient, Client, Request};
use switchyard_e2e::workspace;

/// target/debian/NAME_VERSION_ARCH.deb, which `cargo xtask package` (and `test`) makes.
fn deb(name: &str) -> PathBuf {
    let dir = workspace().join("target/debian");
    let prefix = format!("{name}_{}_", env!("CARGO_PKG_VERSION"));
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask package`", dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| {
            let f = p.file_name().unwrap().to_string_lossy();
            f.starts_with(&prefix) && f.ends_with(".deb")
        })
        .unwrap_or_else(|| panic!("{prefix}*.deb in target/debian: run `cargo xtask package`"))
}

/// The package's control field `name`.
fn field(deb: &Path, name: &str) -> String {
    out(Command::new("dpkg-deb").arg("-f").arg(deb).arg(name))
        .trim()
        .to_string()
}

/// The line of `dpkg-deb -c` for `path`.
fn entry(listing: &str, path: &str) -> String {
    listing
        .lines()
        .find(|l| l.ends_with(path))
        .unwrap_or_else(|| panic!("{path} is in the package:\n{listing}"))
        .to_string()
}

fn out(cmd: &mut Command) -> String {
    let o = cmd.output().expect("the program runs");
    assert!(
        o.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
#[ignore = "needs the .deb: run `cargo xtask test` (or `cargo xtask package`)"]
fn the_deb_holds_the_app_its_desktop_entry_and_icons_and_what_it_installs_runs() {
    let deb = deb("switchyard-desktop");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(field(&deb, "Package"), "switchyard-desktop");
    assert_eq!(field(&deb, "Version"), version);
    let depends = field(&deb, "Depends");
    for lib in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libc6"] {
        assert!(depends.contains(lib), "depends on {lib}: {depends}");
    }

    // The files, owned by root, the program executable.
    let listing = out(Command::new("dpkg-deb").arg("-c").arg(&deb));
    let entry = |path: &str| entry(&listing, path);
    let bin = entry("./usr/bin/switchyard-desktop");
    assert!(bin.starts_with("-rwxr-xr-x root/root"), "{bin}");
    entry("./usr/share/applications/switchyard-desktop.desktop");
    for size in ["32x32", "128x128", "256x256", "512x512"] {
        entry(&format!(
            "./usr/share/icons/hicolor/{size}/apps/switchyard-desktop.png"
        ));
    }
    entry("./usr/share/doc/switchyard-desktop/copyright");

    // Unpacked: the desktop entry is valid and names the program and icon the package installs;
    // the program runs and knows its version and its modes.
    let root = tempfile::tempdir().unwrap();
    out(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path()));
    let desktop = root
        .path()
        .join("usr/share/applications/switchyard-desktop.desktop");
    assert_eq!(
        out(Command::new("desktop-file-validate").arg(&desktop)),
        "",
        "the desktop entry has no warnings"
    );
    let text = std::fs::read_to_string(&desktop).unwrap();
    assert!(
        text.lines().any(|l| l == "Exec=switchyard-desktop"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l == "Icon=switchyard-desktop"),
        "{text}"
    );
    let program = root.path().join("usr/bin/switchyard-desktop");
    assert_eq!(
        out(Command::new(&program).arg("--version")).trim(),
        format!("switchyard-desktop {version}")
    );
    let help = out(Command::new(&program).arg("--help"));
    assert!(help.contains("--server <URL>"), "{help}");
    // Connected mode refuses a password in clear before any window opens.
    let refused = Command::new(&program)
        .args(["--server", "http://switchyard.noc.example"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("in clear"), "{err}");
    // The same from the environment, which the error then names.
    let refused = Command::new(&program)
        .env("SWITCHYARD_SERVER", "http://switchyard.noc.example")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("SWITCHYARD_SERVER http://switchyard.noc.example: plain http"),
        "{err}"
    );
}

#[test]
#[ignore = "needs the .deb: run `cargo xtask test` (or `cargo xtask package`)"]
fn the_server_deb_holds_one_binary_with_the_ui_its_unit_and_its_configuration() {
    let deb = deb("switchyard");
    assert_eq!(field(&deb, "Package"), "switchyard");
    let depends = field(&deb, "Depends");
    assert!(
        depends.contains("libc6") && depends.contains("adduser"),
        "{depends}"
    );
    assert!(
        !depends.contains("webkit") && !depends.contains("gtk"),
        "the server needs no desktop libraries: {depends}"
    );
    let listing = out(Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert!(entry(&listing, "./usr/bin/switchyard").starts_with("-rwxr-xr-x root/root"));
    entry(&listing, "./lib/systemd/system/switchyard.service");
    assert!(
        entry(&listing, "./etc/switchyard/switchyard.toml").starts_with("-rw-r----- root/root"),
        "the configuration is not world-readable"
    );
    assert!(
        !listing.contains("index.html") && !listing.contains(".wasm"),
        "no UI files beside the binary: it carries them"
    );

    // The control files: the configuration is a conffile; the scripts are valid shell.
    let control = tempfile::tempdir().unwrap();
    out(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(control.path()));
    assert_eq!(
        std::fs::read_to_string(control.path().join("conffiles")).unwrap(),
        "/etc/switchyard/switchyard.toml\n"
    );
    for script in ["postinst", "prerm", "postrm"] {
        out(Command::new("sh")
            .arg("-n")
            .arg(control.path().join(script)));
    }
    let postinst = std::fs::read_to_string(control.path().join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system --group"), "{postinst}");
    assert!(
        !postinst.contains("enable"),
        "installing starts nothing before it is configured"
    );

    // Unpacked: the unit runs the packaged binary, and that binary alone serves the web UI.
    let root = tempfile::tempdir().unwrap();
    out(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(root.path()));
    let unit =
        std::fs::read_to_string(root.path().join("lib/systemd/system/switchyard.service")).unwrap();
    assert!(
        unit.lines()
            .any(|l| l.starts_with("ExecStart=/usr/bin/switchyard serve --listen 127.0.0.1:8740")),
        "{unit}"
    );
    assert!(
        !unit.contains("--ui-dir") && !unit.contains("/usr/local"),
        "{unit}"
    );
    let program = root.path().join("usr/bin/switchyard");
    assert_eq!(
        out(Command::new(&program).arg("--version")).trim(),
        format!("switchyard {}", env!("CARGO_PKG_VERSION"))
    );
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(&program)
        .args([
            "serve",
            "--no-auth",
            "--listen",
            "127.0.0.1:0",
            "--devices",
            "10",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .current_dir(root.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let client = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
    let get = |path: &str| {
        client
            .send(Request::get(path))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    };
    let page = get("/");
    let wasm = get("/switchyard_ui_bg.wasm");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("src=\"boot.js\""),
        "the UI's page: {}",
        page.text()
    );
    assert!(
        wasm.status == 200 && wasm.header("content-type") == Some("application/wasm"),
        "{} {:?}",
        wasm.status,
        wasm.headers
    );
}
