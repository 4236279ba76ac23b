//! The web UI the server hands out from `/`: embedded in the binary at build time (one file to
//! ship), or a directory given with `--ui-dir` (for working on the UI without rebuilding the
//! server).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use std::path::PathBuf;

/// One file of the built UI.
#[derive(Debug)]
pub struct UiFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// A quoted content hash.
    pub etag: &'static str,
}

/// The UI built into this binary (empty when `dist/` had not been built when it was compiled).
pub static EMBEDDED: &[UiFile] = include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

/// Where the UI comes from.
#[derive(Debug, Clone)]
pub enum Ui {
    /// Not built: `/` says how to build it; the API still works.
    Missing,
    /// Files in the binary.
    Embedded(&'static [UiFile]),
    /// A directory with `index.html` in it.
    Dir(PathBuf),
}

impl Ui {
    /// The directory given, else the embedded UI, else none.
    pub fn choose(dir: Option<PathBuf>) -> Ui {
        match dir {
            Some(d) => Ui::Dir(d),
            None if EMBEDDED.iter().any(|f| f.name == "index.html") => Ui::Embedded(EMBEDDED),
            None => Ui::Missing,
        }
    }

    /// For the start-up line.
    pub fn describe(&self) -> String {
        match self {
            Ui::Missing => "no web UI: build it with `cargo xtask build`".into(),
            Ui::Embedded(files) => format!(
                "web UI built in ({} KB)",
                files.iter().map(|f| f.bytes.len()).sum::<usize>() / 1024
            ),
            Ui::Dir(d) => format!("web UI from {}", d.display()),
        }
    }

    /// Adds the UI to `app` as its fallback: a known file, else (for the UI's own links) the
    /// page.
    pub fn serve<S: Clone + Send + Sync + 'static>(self, app: Router<S>) -> Router<S> {
        match self {
            Ui::Dir(dir) => {
                let index = dir.join("index.html");
                app.fallback_service(
                    tower_http::services::ServeDir::new(dir)
                        .fallback(tower_http::services::ServeFile::new(index)),
                )
            }
            Ui::Embedded(files) => app.fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
                std::future::ready(embedded(files, uri.path(), &headers))
            }),
            Ui::Missing => app.fallback(|| async { (StatusCode::NOT_FOUND, Html(UI_MISSING)) }),
        }
    }
}

const UI_MISSING: &str = "<!doctype html><title>Switchyard</title><h1>Switchyard</h1>\
<p>The web UI has not been built. Run <code>cargo xtask build</code>, or pass <code>--ui-dir</code>. \
The API is at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p>";

/// Answers one request from the embedded files. Browsers revalidate every time (`no-cache`) and
/// get 304 when their copy is current, so a new build is seen at once without re-downloading the
/// wasm on every visit.
fn embedded(files: &'static [UiFile], path: &str, headers: &HeaderMap) -> Response {
    let name = path.trim_start_matches('/');
    let file = files.iter().find(|f| f.name == name).or_else(|| {
        // A path that names a file (has an extension) and is not here is a 404; any other is one
        // of the UI's own links, which the page resolves.
        let last = name.rsplit('/').next().unwrap_or("");
        (!last.contains('.'))
            .then(|| files.iter().find(|f| f.name == "index.html"))
            .flatten()
    });
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_static(file.etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == file.etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file.name)),
    );
    (h, file.bytes).into_response()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
