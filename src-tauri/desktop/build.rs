fn main() {
    // The Tauri configuration lives at the workspace root, next to dist/ and assets/.
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../../tauri.conf.json"))
        .expect("tauri build step (does dist/ exist? run `cargo xtask build`)");
}
