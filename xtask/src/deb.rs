//! Debian packages made with Debian's own tools (`dpkg-deb`, `dpkg-shlibdeps`): what
//! `cargo tauri build --bundles deb` makes for the desktop app, and the same for the server.

use crate::{run, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One package: a binary of the same name and the files around it.
pub struct Package {
    /// The package's and the binary's name.
    pub name: &'static str,
    /// The one-line description.
    pub summary: &'static str,
    /// The long description, one paragraph.
    pub description: &'static str,
    /// Packages needed beyond the libraries the binary links.
    pub depends: &'static [&'static str],
    /// (contents, path in the package, mode).
    pub files: Vec<(Vec<u8>, String, u32)>,
    /// Files under /etc the administrator edits: upgrades keep their changes.
    pub conffiles: &'static [&'static str],
    /// Maintainer scripts (postinst, prerm, …) and their text.
    pub scripts: Vec<(&'static str, String)>,
}

/// target/debian/NAME_VERSION_ARCH.deb
pub fn path(name: &str) -> Result<PathBuf> {
    Ok(crate::root().join("target/debian").join(format!(
        "{name}_{}_{}.deb",
        env!("CARGO_PKG_VERSION"),
        arch()?
    )))
}

fn arch() -> Result<String> {
    let arch = crate::output("dpkg", &["--print-architecture"])
        .trim()
        .to_string();
    if arch.is_empty() {
        return Err("dpkg --print-architecture said nothing: not a Debian system?".into());
    }
    Ok(arch)
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// Builds the package from `binary` (stripped on the way in); returns the `.deb`'s path.
pub fn build(pkg: &Package, binary: &Path, release: bool) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let deb = path(pkg.name)?;
    let stage = deb.with_extension("");
    if stage.exists() {
        fs::remove_dir_all(&stage).map_err(io(&stage))?;
    }
    let bin = stage.join("usr/bin").join(pkg.name);
    fs::create_dir_all(bin.parent().unwrap()).map_err(io(&bin))?;
    run(Command::new("strip")
        .args(["--strip-unneeded", "-o"])
        .arg(&bin)
        .arg(binary))?;
    for (bytes, to, mode) in &pkg.files {
        let dest = stage.join(to);
        fs::create_dir_all(dest.parent().unwrap()).map_err(io(&dest))?;
        fs::write(&dest, bytes).map_err(io(&dest))?;
        fs::set_permissions(&dest, fs::Permissions::from_mode(*mode)).map_err(io(&dest))?;
    }
    let doc = stage.join("usr/share/doc").join(pkg.name).join("copyright");
    fs::create_dir_all(doc.parent().unwrap()).map_err(io(&doc))?;
    fs::write(&doc, copyright(pkg.name)?).map_err(io(&doc))?;

    let mut depends = shlib_depends(&bin)?;
    for d in pkg.depends {
        depends.push_str(", ");
        depends.push_str(d);
    }
    let control = stage.join("DEBIAN");
    fs::create_dir_all(&control).map_err(io(&control))?;
    let description = wrap(pkg.description, 72)
        .iter()
        .map(|l| format!(" {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(
        control.join("control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\n\
             Maintainer: Switchyard NOC tooling <noc-tooling@switchyard.invalid>\n\
             Installed-Size: {size}\nDepends: {depends}\nSection: net\nPriority: optional\n\
             Homepage: https://switchyard.invalid/\n\
             Description: {summary}\n{description}\n",
            name = pkg.name,
            version = env!("CARGO_PKG_VERSION"),
            arch = arch()?,
            size = dir_size(&stage) / 1024,
            summary = pkg.summary,
        ),
    )
    .map_err(io(&control))?;
    if !pkg.conffiles.is_empty() {
        fs::write(control.join("conffiles"), pkg.conffiles.join("\n") + "\n")
            .map_err(io(&control))?;
    }
    for (name, text) in &pkg.scripts {
        let f = control.join(name);
        fs::write(&f, text).map_err(io(&f))?;
        fs::set_permissions(&f, fs::Permissions::from_mode(0o755)).map_err(io(&f))?;
    }
    // A debug build is packaged only to test the packaging: compress it fast.
    let level = if release { "-z9" } else { "-z1" };
    run(Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group", "-Zxz", level])
        .arg(&stage)
        .arg(&deb))?;
    Ok(deb)
}

/// The libraries `bin` links, as Debian package dependencies, read off the binary.
fn shlib_depends(bin: &Path) -> Result<String> {
    let work = crate::root().join("target/debian/shlibdeps");
    fs::create_dir_all(work.join("debian")).map_err(io(&work))?;
    // dpkg-shlibdeps wants a source package around it.
    fs::write(
        work.join("debian/control"),
        "Source: switchyard\n\nPackage: switchyard\nArchitecture: any\n",
    )
    .map_err(io(&work))?;
    let out = Command::new("dpkg-shlibdeps")
        .args(["-O", "-e"])
        .arg(bin)
        .current_dir(&work)
        .output()
        .map_err(|e| format!("cannot run dpkg-shlibdeps (dpkg-dev): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "dpkg-shlibdeps failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .map(str::to_string)
        .ok_or_else(|| format!("dpkg-shlibdeps gave no dependencies: {text}"))
}

/// debian/copyright: the project's licence, and the embedded font's.
fn copyright(name: &str) -> Result<String> {
    let font = crate::root().join("assets/fonts/DejaVuSans.LICENSE");
    let licence = fs::read_to_string(&font).map_err(io(&font))?;
    let licence: Vec<String> = licence
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                " .".to_string()
            } else {
                format!(" {l}")
            }
        })
        .collect();
    Ok(format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: Switchyard\n\n\
         Files: *\nLicense: Apache-2.0\n \
         On Debian systems the licence is in /usr/share/common-licenses/Apache-2.0.\n\n\
         Files: usr/bin/{name} (the embedded DejaVu Sans font of the drill reports)\n\
         License: Bitstream-Vera\n{}\n",
        licence.join("\n")
    ))
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().unwrap();
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
