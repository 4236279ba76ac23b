//! The web UI the server hands out from `/`: embedded in the binary at build time (one file to
//! ship), or a directory given with `--ui-dir` (for working on the UI without rebuilding the
//! server).
//!
//! Rules kept here:
//! - a file built with compressed copies (`cargo xtask build` writes `NAME.br` and `NAME.gz`) is
//!   sent in the encoding the browser prefers of those it accepts (`Accept-Encoding`, with its
//!   q-values), says so (`Content-Encoding`), and always says that the answer depends on it
//!   (`Vary: Accept-Encoding`), 304s included;
//! - each encoding has its own ETag, so a cache never answers one encoding's revalidation with
//!   another's bytes;
//! - the embedded copies are never addressed on their own: `/x.js.br` is a 404 (a `--ui-dir`
//!   folder is served by tower-http's `ServeDir`, which would hand out such a file by its name).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use std::path::PathBuf;

/// One file of the built UI, with its compressed copies when they are smaller.
#[derive(Debug)]
pub struct UiFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// A quoted content hash.
    pub etag: &'static str,
    pub gzip: Option<Encoded>,
    pub brotli: Option<Encoded>,
}

/// A compressed copy of a [`UiFile`].
#[derive(Debug)]
pub struct Encoded {
    pub bytes: &'static [u8],
    /// A quoted hash of these bytes (not the file's).
    pub etag: &'static str,
}

/// The encodings the UI's files come in, in the order preferred when a browser rates them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }
}

/// The coding to send, of those `available` (identity always is), for an `Accept-Encoding`
/// header (RFC 9110 §12.5.3): the highest q-value wins, ties go to the smaller encoding; a
/// coding not named takes the q of `*` when given; identity, when not named, is acceptable but
/// comes after every coding named. When
/// every coding is refused, identity is sent anyway (a page is better than a 406).
pub fn negotiate(accept: Option<&str>, available: &[Coding]) -> Coding {
    let Some(accept) = accept else {
        return Coding::Identity;
    };
    let mut named: Vec<(String, f32)> = Vec::new();
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if token.is_empty() {
            continue;
        }
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        named.push((
            if token == "x-gzip" {
                "gzip".into()
            } else {
                token
            },
            q,
        ));
    }
    let q_of = |token: &str| named.iter().find(|(t, _)| t == token).map(|(_, q)| *q);
    let star = q_of("*");
    let quality = |c: Coding| match (q_of(c.token()), c) {
        (Some(q), _) => q,
        // Acceptable, but the last choice: any coding the browser names comes first.
        (None, Coding::Identity) => star.unwrap_or(f32::MIN_POSITIVE),
        (None, _) => star.unwrap_or(0.0),
    };
    let mut best = (Coding::Identity, 0.0_f32);
    for c in [Coding::Brotli, Coding::Gzip, Coding::Identity] {
        if (c == Coding::Identity || available.contains(&c)) && quality(c) > best.1 {
            best = (c, quality(c));
        }
    }
    best.0
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
                        .precompressed_br()
                        .precompressed_gzip()
                        .fallback(
                            tower_http::services::ServeFile::new(index)
                                .precompressed_br()
                                .precompressed_gzip(),
                        ),
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
    let available: Vec<Coding> = [
        file.brotli.as_ref().map(|_| Coding::Brotli),
        file.gzip.as_ref().map(|_| Coding::Gzip),
    ]
    .into_iter()
    .flatten()
    .collect();
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let coding = negotiate(accept, &available);
    let (bytes, etag) = match (coding, &file.brotli, &file.gzip) {
        (Coding::Brotli, Some(e), _) | (Coding::Gzip, _, Some(e)) => (e.bytes, e.etag),
        _ => (file.bytes, file.etag),
    };
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, HeaderValue::from_static(etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !available.is_empty() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file.name)),
    );
    if coding != Coding::Identity {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    (h, bytes).into_response()
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
