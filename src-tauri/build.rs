//! Embeds the built web UI (the workspace's `dist/`, written by `cargo xtask build`) into the
//! `switchyard` binary, so the server ships as one file, each file with the compressed copies
//! xtask wrote beside it (`NAME.br`, `NAME.gz`). Without a built UI the table is empty and the
//! server says how to build it.

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
    let compressed = |p: &Path| matches!(p.extension().and_then(|e| e.to_str()), Some("br" | "gz"));
    let mut out = String::from("&[\n");
    for path in files.iter().filter(|p| !compressed(p)) {
        let name = path.file_name().unwrap().to_string_lossy();
        // A compressed copy xtask wrote beside the file, if any.
        let copy = |ext: &str| {
            let copy = path.with_file_name(format!("{name}.{ext}"));
            if copy.is_file() {
                format!("Some(Encoded {{ {} }})", embed(&copy))
            } else {
                "None".into()
            }
        };
        writeln!(
            out,
            "    UiFile {{ name: {name:?}, {}, gzip: {}, brotli: {} }},",
            embed(path),
            copy("gz"),
            copy("br")
        )
        .unwrap();
    }
    out.push(']');
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("ui_files.rs"), out).expect("OUT_DIR is writable");
}

/// The `bytes` and `etag` fields of one embedded file.
fn embed(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("a dist/ file is readable");
    format!(
        "bytes: include_bytes!({:?}), etag: \"\\\"{:016x}\\\"\"",
        path.canonicalize().unwrap().display(),
        fnv1a(&bytes)
    )
}

/// A content hash for the ETag (FNV-1a, 64 bits): stable across builds of the same bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
