//! The suite's Python tools, each in a virtual environment of the project's own under
//! target/lab/, pinned: moto (the local AWS lab) and the API contract's fuzzer and validator.

use crate::{root, run, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The moto version the AWS lab is tested with (see src-tauri/src/aws/lab.rs).
const MOTO: &str = "moto[server]==5.2.5";

/// The lab's `moto_server`, in a virtual environment of the project's own.
pub fn moto_server() -> PathBuf {
    root().join("target/lab/venv/bin/moto_server")
}

/// The API contract's tools (see tests/e2e/contract.rs): schemathesis, the property-based
/// OpenAPI fuzzer, and an OpenAPI 3.1 validator, both from PyPI and pinned.
const CONTRACT_TOOLS: &[&str] = &["schemathesis==4.32.5", "openapi-spec-validator==0.9.0"];

/// The contract tools' virtual environment.
pub fn contract_venv() -> PathBuf {
    root().join("target/lab/contract")
}

/// Installs moto in target/lab/venv, and the contract's tools in target/lab/contract, unless
/// the right versions are there.
pub fn lab_setup() -> Result {
    venv_setup(
        "the local AWS lab",
        &root().join("target/lab/venv"),
        &[MOTO],
    )?;
    venv_setup(
        "the API contract's fuzzer and validator",
        &contract_venv(),
        CONTRACT_TOOLS,
    )
}

/// A virtual environment at `venv` with exactly `packages` (pinned), made anew when its marker
/// names other ones.
fn venv_setup(what: &str, venv: &Path, packages: &[&str]) -> Result {
    let marker = venv.join(".switchyard-packages");
    let want = packages.join(" ");
    if venv.join("bin/python").exists()
        && fs::read_to_string(&marker).is_ok_and(|m| m.trim() == want)
    {
        eprintln!("xtask setup: {what} is installed ({want})");
        return Ok(());
    }
    eprintln!(
        "xtask setup: installing {want} in {} ({what})",
        venv.display()
    );
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    run(Command::new(python)
        .args(["-m", "venv", "--clear"])
        .arg(venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages))?;
    fs::write(&marker, &want).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    Ok(())
}
