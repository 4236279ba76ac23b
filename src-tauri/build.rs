//! Embeds the built web UI (the workspace's `dist/`, written by `cargo xtask build`) into the
//! `switchyard` binary, so the server ships as one file. Without a built UI the table is empty
//! and the server says how to build it.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("../dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        for entry in std::fs::read_dir(&dist).expect("dist/ is readable") {
            let path = entry.expect("dist/ is readable").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        let bytes = std::fs::read(path).expect("a dist/ file is readable");
        let name = path.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    UiFile {{ name: {name:?}, bytes: include_bytes!({:?}), etag: \"\\\"{:016x}\\\"\" }},",
            path.canonicalize().unwrap().display(),
            fnv1a(&bytes)
        )
        .unwrap();
    }
    out.push(']');
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("ui_files.rs"), out).expect("OUT_DIR is writable");
}

/// A content hash for the ETag (FNV-1a, 64 bits): stable across builds of the same bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
