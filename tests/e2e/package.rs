//! The desktop app's Debian package (`cargo xtask package`): what is in it, what it depends on,
//! and that what it installs runs.

use std::path::PathBuf;
use std::process::Command;
use switchyard_e2e::workspace;

fn deb() -> PathBuf {
    match std::env::var_os("SWITCHYARD_DEB") {
        Some(p) => PathBuf::from(p),
        None => {
            let dir = workspace().join("target/debian");
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask package`", dir.display()))
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == "deb"))
                .expect("a .deb in target/debian: run `cargo xtask package`")
        }
    }
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
    let deb = deb();
    let version = env!("CARGO_PKG_VERSION");
    let field = |name: &str| out(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name));
    assert_eq!(field("Package").trim(), "switchyard-desktop");
    assert_eq!(field("Version").trim(), version);
    let depends = field("Depends");
    for lib in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libc6"] {
        assert!(depends.contains(lib), "depends on {lib}: {depends}");
    }

    // The files, owned by root, the program executable.
    let listing = out(Command::new("dpkg-deb").arg("-c").arg(&deb));
    let entry = |path: &str| {
        listing
            .lines()
            .find(|l| l.ends_with(path))
            .unwrap_or_else(|| panic!("{path} is in the package:\n{listing}"))
            .to_string()
    };
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
}
