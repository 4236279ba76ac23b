//! The UI's files made ready for the wire, after wasm-bindgen has written `dist/`: every file
//! precompressed (brotli and gzip) beside itself, and the budget that fails the build when the
//! wasm grows too heavy. (binaryen's `wasm-opt -Oz` is not run: on this UI it made the wasm 14 %
//! smaller raw but 11 % larger over the wire, see docs/PERFORMANCE.md.)
//!
//! Rules kept here:
//! - a compressed copy (`NAME.br`, `NAME.gz`) is written only when it is smaller than the file,
//!   and a stale one from an earlier build is removed, so the server never serves old bytes;
//! - the budget is the wasm as it travels (its brotli copy, the smallest a browser is sent),
//!   [`WASM_BUDGET`] bytes at most; the build fails past it and says by how much.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::Result;

/// The most the first load's wasm (the main module) may weigh over the wire (brotli), in bytes.
/// Issue #20 asks for a first load of 350,000 at most; the other files it moves (page, styles,
/// glue, map, icon, the API's first answers) are about 32,000, so a main module within this
/// keeps the first load under 350,000. It is 251,965 today (docs/PERFORMANCE.md).
pub const WASM_BUDGET: u64 = 315_000;

/// The wasm of the first load (wasm-bindgen's output of the main module); the pages' modules
/// beside it are fetched when opened.
pub const MAIN_WASM: &str = "switchyard_ui_bg.wasm";

/// One file's sizes: as built, gzip, brotli (the compressed ones `None` when not smaller).
pub struct Sizes {
    pub name: String,
    pub raw: u64,
    pub gzip: Option<u64>,
    pub brotli: Option<u64>,
}

impl Sizes {
    /// What a browser that accepts brotli is sent.
    pub fn wire(&self) -> u64 {
        self.brotli.or(self.gzip).unwrap_or(self.raw)
    }
}

/// Writes `NAME.br` and `NAME.gz` beside every file of `dist` and returns every file's sizes.
pub fn precompress(dist: &Path) -> Result<Vec<Sizes>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dist)
        .map_err(|e| format!("cannot read {}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !is_compressed(p))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for path in files {
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let gzip = keep_if_smaller(&path, "gz", &bytes, gzip(&bytes)?)?;
        let brotli = keep_if_smaller(&path, "br", &bytes, brotli(&bytes)?)?;
        all.push(Sizes {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            raw: bytes.len() as u64,
            gzip,
            brotli,
        });
    }
    Ok(all)
}

/// Prints every file's sizes and the whole first load, and fails past the wasm's budget.
pub fn check_budget(sizes: &[Sizes]) -> Result {
    eprintln!("xtask: the UI over the wire (bytes):");
    eprintln!(
        "  {:<24} {:>9} {:>9} {:>9}",
        "file", "raw", "gzip", "brotli"
    );
    let show = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
    for s in sizes {
        eprintln!(
            "  {:<24} {:>9} {:>9} {:>9}",
            s.name,
            s.raw,
            show(s.gzip),
            show(s.brotli)
        );
    }
    let total: u64 = sizes.iter().map(Sizes::wire).sum();
    eprintln!("  every file, as a brotli-accepting browser is sent it: {total} bytes");
    let later: u64 = sizes
        .iter()
        .filter(|s| s.name.ends_with(".wasm") && s.name != MAIN_WASM)
        .map(Sizes::wire)
        .sum();
    eprintln!("  of which the pages' modules, fetched when first opened: {later} bytes");
    let wasm = sizes
        .iter()
        .find(|s| s.name == MAIN_WASM)
        .ok_or(format!("dist/ has no {MAIN_WASM}"))?;
    if wasm.wire() > WASM_BUDGET {
        return Err(format!(
            "the UI's wasm is {} bytes over the wire, {} past its budget of {WASM_BUDGET}: \
             make it smaller (see docs/PERFORMANCE.md, \"The first load\")",
            wasm.wire(),
            wasm.wire() - WASM_BUDGET
        ));
    }
    eprintln!(
        "xtask: the wasm is {} bytes over the wire, within its budget of {WASM_BUDGET}",
        wasm.wire()
    );
    Ok(())
}

fn is_compressed(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz"))
}

/// Writes `compressed` to `PATH.EXT` when smaller than `raw` (else removes a stale copy).
fn keep_if_smaller(path: &Path, ext: &str, raw: &[u8], compressed: Vec<u8>) -> Result<Option<u64>> {
    let mut target = path.as_os_str().to_owned();
    target.push(".");
    target.push(ext);
    let target = PathBuf::from(target);
    if compressed.len() < raw.len() {
        fs::write(&target, &compressed)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        Ok(Some(compressed.len() as u64))
    } else {
        match fs::remove_file(&target) {
            Ok(()) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot remove {}: {e}", target.display())),
        }
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .map_err(|e| format!("gzip: {e}"))
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .map_err(|e| format!("brotli: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_copy_is_kept_only_when_smaller_and_a_stale_one_goes() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let text = dir.join("page.html");
        fs::write(&text, "<p>switchyard</p>".repeat(200)).unwrap();
        let tiny = dir.join("tiny.js");
        fs::write(&tiny, "1").unwrap();
        fs::write(dir.join("tiny.js.br"), "stale").unwrap();
        let sizes = precompress(&dir).unwrap();
        assert_eq!(sizes.len(), 2, "the .br files are not sources");
        let page = sizes.iter().find(|s| s.name == "page.html").unwrap();
        assert!(page.brotli.unwrap() < page.raw && page.gzip.unwrap() < page.raw);
        let unpacked = {
            let mut out = Vec::new();
            brotli::BrotliDecompress(
                &mut &fs::read(dir.join("page.html.br")).unwrap()[..],
                &mut out,
            )
            .unwrap();
            out
        };
        assert_eq!(unpacked, fs::read(&text).unwrap());
        let tiny = sizes.iter().find(|s| s.name == "tiny.js").unwrap();
        assert_eq!((tiny.gzip, tiny.brotli), (None, None));
        assert!(
            !dir.join("tiny.js.br").exists(),
            "the stale copy was removed"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_budget_fails_a_wasm_heavier_than_it_and_names_the_excess() {
        let wasm = |brotli| Sizes {
            name: "switchyard_ui_bg.wasm".into(),
            raw: 2_000_000,
            gzip: Some(600_000),
            brotli: Some(brotli),
        };
        assert!(check_budget(&[wasm(WASM_BUDGET)]).is_ok());
        let err = check_budget(&[wasm(WASM_BUDGET + 1234)]).unwrap_err();
        assert!(err.contains("1234 past its budget"), "{err}");
    }

    #[test]
    fn the_budget_weighs_the_first_loads_wasm_not_the_pages_fetched_later() {
        let file = |name: &str, brotli| Sizes {
            name: name.into(),
            raw: 2_000_000,
            gzip: None,
            brotli: Some(brotli),
        };
        let page = file("split_page_drills.wasm", WASM_BUDGET * 2);
        assert!(check_budget(&[page, file(MAIN_WASM, WASM_BUDGET)]).is_ok());
        let page = file("split_page_drills.wasm", 10);
        assert!(check_budget(&[page, file(MAIN_WASM, WASM_BUDGET + 1)]).is_err());
        let err = check_budget(&[file("split_page_drills.wasm", 10)]).unwrap_err();
        assert!(err.contains(MAIN_WASM), "{err}");
    }
}
