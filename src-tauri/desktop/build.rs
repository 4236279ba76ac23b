fn main() {
    // Each IPC command gets its own permission (allow-<command>); only those the capability in
    // tauri.conf.json names can be called, and only by the app's own page.
    println!("cargo:rerun-if-changed=commands.list");
    let list = std::fs::read_to_string("commands.list").expect("commands.list is readable");
    let commands: Vec<&'static str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| &*Box::leak(l.to_string().into_boxed_str()))
        .collect();
    let manifest = tauri_build::AppManifest::new().commands(Box::leak(commands.into_boxed_slice()));
    // The Tauri configuration lives at the workspace root, next to dist/ and assets/.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../../tauri.conf.json")
            .app_manifest(manifest),
    )
    .expect("tauri build step (does dist/ exist? run `cargo xtask build`)");
}
