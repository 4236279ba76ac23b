// Starts the UI. A file of its own, not inline: the Content-Security-Policy allows no inline script.
import init from "./switchyard_ui.js";
init({ module_or_path: "./switchyard_ui_bg.wasm" });
