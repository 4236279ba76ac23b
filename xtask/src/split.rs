//! The UI's wasm cut into modules by page, between the linker and wasm-bindgen (wasm-split,
//! `wasm_split_cli_support`, the library cargo-leptos uses for `--split`). The main module keeps
//! the shell, the map with its failover panel, and what every page shares; each split function
//! of `src-ui/src/pages.rs` becomes `split_NAME.wasm`, code that only pages share goes to
//! `chunk_N.wasm`, and `__wasm_split.js` fetches them when a page first opens.
//!
//! Rules kept here:
//! - the split files of an earlier build are removed from `dist/` first, so none is served stale
//!   (the server embeds every file of `dist/`);
//! - every split function of `pages.rs` has its module, or the build fails and names it: a build
//!   that quietly did not split would put every page back into the first load.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;

/// Where the split functions are declared, relative to the workspace.
const PAGES: &str = "src-ui/src/pages.rs";

/// Splits `wasm` (the linker's output, with its relocations): writes the split modules and their
/// loader into `dist` and returns the main module, for wasm-bindgen.
pub fn split(wasm: &Path, dist: &Path) -> Result<PathBuf> {
    remove_stale(dist)?;
    let input = fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
    let main = wasm.with_file_name("switchyard_ui_main.wasm");
    let mut opts = wasm_split_cli_support::Options::new(&input);
    opts.output_dir = dist;
    opts.main_out_path = &main;
    // The loader takes the main module's instance from wasm-bindgen's glue, by this path,
    // relative to itself (both are in dist/, as boot.js is).
    opts.main_module = "./switchyard_ui.js";
    opts.link_name = "./__wasm_split.js";
    let split = wasm_split_cli_support::transform(opts)
        .map_err(|e| format!("wasm-split of {}: {e:?}", wasm.display()))?;
    let source = fs::read_to_string(crate::root().join(PAGES))
        .map_err(|e| format!("cannot read {PAGES}: {e}"))?;
    let names: Vec<String> = split
        .split_modules
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    missing_modules(&source, &names)?;
    eprintln!(
        "xtask: wasm-split: {} modules beside the main one: {}",
        names.len(),
        names.join(", ")
    );
    Ok(main)
}

/// Removes what an earlier split wrote into `dist` (and its compressed copies).
fn remove_stale(dist: &Path) -> Result {
    let Ok(entries) = fs::read_dir(dist) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_split_file(&name) {
            fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A file wasm-split writes: a page's module, a shared chunk, or the loader.
fn is_split_file(name: &str) -> bool {
    name.starts_with("__wasm_split.")
        || ((name.starts_with("split_") || name.starts_with("chunk_")) && name.contains(".wasm"))
}

/// The module names `#[wasm_split(NAME, …)]` declares in `source`, in order.
fn declared(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("#[wasm_split("))
        .filter_map(|l| l.split([',', ')']).next())
        .map(str::trim)
        .collect()
}

/// Fails, naming them, when a declared split has no module among `written` (file stems).
fn missing_modules(source: &str, written: &[String]) -> Result {
    let missing: Vec<&str> = declared(source)
        .into_iter()
        .filter(|name| !written.iter().any(|w| *w == format!("split_{name}")))
        .collect();
    if declared(source).is_empty() {
        return Err(format!("{PAGES} declares no #[wasm_split(…)] page"));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "wasm-split wrote no module for {} (declared in {PAGES}): was the wasm linked \
             with --emit-relocs?",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGES_SOURCE: &str = "#[wasm_split(page_a, wasm_split_path = x, fallible)]\n\
                                pub fn a() {}\n  #[wasm_split(page_b)]\nfn b() {}\n";

    #[test]
    fn the_declared_splits_are_read_from_the_attribute_lines() {
        assert_eq!(declared(PAGES_SOURCE), ["page_a", "page_b"]);
    }

    #[test]
    fn a_declared_split_without_its_module_fails_the_build_and_is_named() {
        let err =
            missing_modules(PAGES_SOURCE, &["split_page_a".into(), "chunk_3".into()]).unwrap_err();
        assert!(err.contains("page_b") && !err.contains("page_a,"), "{err}");
        assert!(missing_modules(
            PAGES_SOURCE,
            &["split_page_a".into(), "split_page_b".into()]
        )
        .is_ok());
    }

    #[test]
    fn the_real_pages_file_declares_splits() {
        let source = std::fs::read_to_string(crate::root().join(PAGES)).unwrap();
        assert!(declared(&source).len() >= 2, "{:?}", declared(&source));
    }

    #[test]
    fn only_what_wasm_split_writes_counts_as_stale() {
        for name in [
            "split_page_a.wasm",
            "split_page_a.wasm.br",
            "chunk_3.wasm.gz",
            "__wasm_split.js",
        ] {
            assert!(is_split_file(name), "{name}");
        }
        for name in ["switchyard_ui_bg.wasm", "style.css", "split.txt", "boot.js"] {
            assert!(!is_split_file(name), "{name}");
        }
    }
}
