//! The one HTTP client of the console's API (hyper's HTTP/1.1 client, rustls for https): the
//! runbook CLI, the tests and the load tool talk to a console through it. One request is one
//! connection (no pool, no spawned task), so it works on any tokio runtime and, through
//! [`BlockingClient`], from plain threads.
//!
//! Rules kept here:
//! - No call without a deadline: the connection (TCP and the TLS handshake) within
//!   `connect_timeout`, the whole exchange within `request_timeout`; an event stream's head
//!   within `request_timeout`, then every read within `stream_read_timeout`.
//! - https verifies the server against the CA file given, else the platform's roots; there is
//!   no switch that skips verification.
//! - Errors are [`ClientError`]s; an answer outside 2xx, when asked to be one
//!   ([`Response::ok`]), carries the server's own JSON `error` message.

use hyper::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// The header an action is audited under on a console without logins.
pub const OPERATOR_HEADER: &str = "x-switchyard-operator";
/// The header a signed-in session sends its CSRF token back in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What went wrong talking to a console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server's address is not an http:// or https:// URL.
    BadUrl { url: String, reason: String },
    /// Nothing answered at the address (refused, unresolvable, unreachable).
    Connect { server: String, reason: String },
    /// The TLS handshake failed: most often a certificate the client does not trust.
    Tls { server: String, reason: String },
    /// The CA file given cannot be used.
    CaFile { path: PathBuf, reason: String },
    /// A deadline passed.
    Timeout {
        server: String,
        stage: Stage,
        after: Duration,
    },
    /// The connection broke in the middle of the exchange, or the answer was not HTTP.
    Exchange { server: String, reason: String },
    /// The answer's status was not a success; `message` is the server's `error`, else its body.
    Status { status: u16, message: String },
    /// The answer's body is not what was expected.
    Decode { reason: String },
    /// A header the caller gave cannot be sent.
    BadHeader { name: String },
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Answer,
    StreamRead,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadUrl { url, reason } => write!(f, "{url}: {reason}"),
            Self::Connect { server, reason } => {
                write!(f, "cannot reach the console at {server}: {reason}")
            }
            Self::Tls { server, reason } => {
                write!(f, "TLS with the console at {server} failed: {reason}")
            }
            Self::CaFile { path, reason } => write!(f, "CA file {}: {reason}", path.display()),
            Self::Timeout {
                server,
                stage,
                after,
            } => {
                let secs = after.as_secs_f64();
                match stage {
                    Stage::Connect => write!(
                        f,
                        "cannot reach the console at {server}: no connection within {secs} s"
                    ),
                    Stage::Answer => write!(f, "{server}: no answer within {secs} s"),
                    Stage::StreamRead => {
                        write!(f, "{server}: the event stream was silent for {secs} s")
                    }
                }
            }
            Self::Exchange { server, reason } => write!(f, "{server}: {reason}"),
            Self::Status { status, message } => write!(f, "{status}: {message}"),
            Self::Decode { reason } => write!(f, "unexpected answer: {reason}"),
            Self::BadHeader { name } => write!(f, "the header {name} cannot be sent"),
        }
    }
}

impl std::error::Error for ClientError {}

/// How a [`Client`] connects and how long it waits.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Trust only the certificates in this PEM file (a private CA) instead of the platform's.
    pub ca_file: Option<PathBuf>,
    /// TCP connection and TLS handshake.
    pub connect_timeout: Duration,
    /// A whole request: connection, request, the answer's head and body.
    pub request_timeout: Duration,
    /// The longest silence between two reads of an event stream (the server sends a keep-alive
    /// every 15 s).
    pub stream_read_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            stream_read_timeout: Duration::from_secs(60),
        }
    }
}

/// The address of a console: scheme, host, port and a base path (a console behind a proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    https: bool,
    host: String,
    port: u16,
    /// `host[:port]` as written, for the Host header.
    authority: String,
    /// Without a trailing slash; empty for the root.
    base: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, ClientError> {
        let bad = |reason: &str| ClientError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let https = if url.starts_with("https://") {
            true
        } else if url.starts_with("http://") {
            false
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let authority = uri.authority().ok_or_else(|| bad("names no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("a user or password does not belong in the address"));
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("names no host"));
        }
        if uri.query().is_some() {
            return Err(bad("a query does not belong in the address"));
        }
        Ok(Target {
            https,
            host: host.to_string(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: authority.as_str().to_string(),
            base: uri.path().trim_end_matches('/').to_string(),
        })
    }
}

/// A request to send: method, path under the server's address, headers, body.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<(&'static str, Vec<u8>)>,
}

impl Request {
    pub fn new(method: Method, path: &str) -> Request {
        Request {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: &str) -> Request {
        Self::new(Method::GET, path)
    }

    pub fn post(path: &str) -> Request {
        Self::new(Method::POST, path)
    }

    pub fn delete(path: &str) -> Request {
        Self::new(Method::DELETE, path)
    }

    /// `method` as text (`GET`, `POST`, …).
    pub fn method(method: &str, path: &str) -> Result<Request, ClientError> {
        let m = Method::from_bytes(method.as_bytes()).map_err(|_| ClientError::BadHeader {
            name: format!("method {method}"),
        })?;
        Ok(Self::new(m, path))
    }

    /// Adds a header; its value is sent as given (UTF-8 bytes).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
        self
    }

    /// The session cookie (`sy_session=…`) from a sign-in.
    pub fn cookie(self, cookie: &str) -> Request {
        self.header("cookie", cookie)
    }

    /// The CSRF token a signed-in session sends back on state-changing requests.
    pub fn csrf(self, token: &str) -> Request {
        self.header(CSRF_HEADER, token)
    }

    /// The operator an action is audited under on a console without logins.
    pub fn operator(self, name: &str) -> Request {
        self.header(OPERATOR_HEADER, name)
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Request, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Decode {
            reason: e.to_string(),
        })?;
        Ok(self.json_text(bytes))
    }

    /// A body that already is JSON text.
    pub fn json_text(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Some(("application/json", body.into()));
        self
    }

    fn build(&self, target: &Target) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
        let path = if self.path.starts_with('/') {
            format!("{}{}", target.base, self.path)
        } else {
            format!("{}/{}", target.base, self.path)
        };
        let mut req = hyper::Request::builder()
            .method(self.method.clone())
            .uri(&path)
            .header(hyper::header::HOST, &target.authority);
        let (content_type, body) = match &self.body {
            Some((t, b)) => (Some(*t), b.clone()),
            None => (None, Vec::new()),
        };
        if let Some(t) = content_type {
            req = req.header(hyper::header::CONTENT_TYPE, t);
        }
        let headers = req.headers_mut().ok_or_else(|| ClientError::BadHeader {
            name: format!("path {path}"),
        })?;
        for (name, value) in &self.headers {
            let bad = || ClientError::BadHeader { name: name.clone() };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let v = HeaderValue::from_bytes(value).map_err(|_| bad())?;
            headers.append(n, v);
        }
        req.body(Full::new(Bytes::from(body)))
            .map_err(|_| ClientError::BadHeader {
                name: format!("path {path}"),
            })
    }
}

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|e| ClientError::Decode {
            reason: e.to_string(),
        })
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `name=value` of the first cookie the server set.
    pub fn set_cookie(&self) -> Option<String> {
        let v = self.header("set-cookie")?;
        v.split(';')
            .next()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }

    /// What the server said went wrong: its JSON `error`, else the body as it is.
    pub fn error_message(&self) -> String {
        error_message(&self.body)
    }

    /// Itself if the status is a success (2xx), else [`ClientError::Status`].
    pub fn ok(self) -> Result<Response, ClientError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(ClientError::Status {
                status: self.status,
                message: self.error_message(),
            })
        }
    }
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<switchyard_core::api::ApiError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Connection = hyper::client::conn::http1::Connection<TokioIo<Box<dyn Io>>, Full<Bytes>>;
type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// A client of one console. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    server: String,
    target: Arc<Target>,
    tls: Option<tokio_rustls::TlsConnector>,
    options: ClientOptions,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("options", &self.options)
            .finish()
    }
}

impl Client {
    /// A client of the console at `server` (`http://…` or `https://…`), trusting the
    /// platform's roots.
    pub fn new(server: &str) -> Result<Client, ClientError> {
        Self::with_options(server, ClientOptions::default())
    }

    /// A client of the console at `server` with these options. For https, reads the CA file
    /// (or the platform's roots) now, so that a bad file is named before anything is sent.
    pub fn with_options(server: &str, options: ClientOptions) -> Result<Client, ClientError> {
        let server = server.trim_end_matches('/').to_string();
        let target = Target::parse(&server)?;
        let tls = if target.https {
            Some(tls_connector(&server, options.ca_file.as_deref())?)
        } else {
            None
        };
        Ok(Client {
            server,
            target: Arc::new(target),
            tls,
            options,
        })
    }

    /// The server's address, as given (without a trailing slash).
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sends `req` and reads the whole answer, whatever its status.
    pub async fn send(&self, req: Request) -> Result<Response, ClientError> {
        let http = req.build(&self.target)?;
        let after = self.options.request_timeout;
        let exchange = async {
            let (mut sender, conn) = self.connect().await?;
            let work = async move {
                let resp = sender.send_request(http).await?;
                let (parts, body) = resp.into_parts();
                let body = body.collect().await?.to_bytes();
                Ok::<_, hyper::Error>(Response {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body,
                })
            };
            // The connection is driven beside the request; once it ends, what it carried
            // reaches `work` (its answer, or the error that ended it).
            let drive = async move {
                let _ = conn.await;
                std::future::pending::<()>().await
            };
            tokio::select! {
                r = work => r.map_err(|e| self.exchange_error(&e)),
                () = drive => unreachable!("the connection's driver never completes"),
            }
        };
        tokio::time::timeout(after, exchange)
            .await
            .map_err(|_| self.timeout(Stage::Answer, after))?
    }

    /// GET `path`; a success decoded from JSON, else the server's error.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(Request::get(path)).await?.ok()?.json()
    }

    /// POST `body` as JSON to `path`; a success decoded from JSON, else the server's error.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(Request::post(path).json(body)?).await?.ok()?.json()
    }

    /// Opens the Server-Sent Events stream at `req` (a GET): returns once the answer's head is
    /// in, whatever its status; read the events with [`EventStream::next_event`].
    pub async fn events(&self, req: Request) -> Result<EventStream, ClientError> {
        let http = req.header("accept", "text/event-stream").build(&self.target)?;
        let after = self.options.request_timeout;
        let open = async {
            let (mut sender, conn) = self.connect().await?;
            let mut conn = Box::pin(conn);
            let resp = tokio::select! {
                r = sender.send_request(http) => r.map_err(|e| self.exchange_error(&e))?,
                r = &mut conn => {
                    let reason = match r {
                        Ok(()) => "the connection closed before the answer".to_string(),
                        Err(e) => e.to_string(),
                    };
                    return Err(ClientError::Exchange { server: self.server.clone(), reason });
                }
            };
            let (parts, body) = resp.into_parts();
            Ok(EventStream {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
                conn: Some(conn),
                buf: Vec::new(),
                pending: SseEvent::default(),
                server: self.server.clone(),
                read_timeout: self.options.stream_read_timeout,
            })
        };
        tokio::time::timeout(after, open)
            .await
            .map_err(|_| self.timeout(Stage::Answer, after))?
    }

    /// TCP (and TLS for https), then the HTTP/1.1 handshake, within the connect timeout.
    async fn connect(&self) -> Result<(Sender, Connection), ClientError> {
        let after = self.options.connect_timeout;
        let t = &self.target;
        let io = async {
            let tcp = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
                .await
                .map_err(|e| ClientError::Connect {
                    server: self.server.clone(),
                    reason: e.to_string(),
                })?;
            let _ = tcp.set_nodelay(true);
            let io: Box<dyn Io> = match &self.tls {
                None => Box::new(tcp),
                Some(tls) => {
                    let name = ServerName::try_from(t.host.clone()).map_err(|e| {
                        ClientError::BadUrl {
                            url: self.server.clone(),
                            reason: format!("{} is not a host name: {e}", t.host),
                        }
                    })?;
                    Box::new(tls.connect(name, tcp).await.map_err(|e| {
                        // rustls' own error, when it is one, says what was wrong.
                        let reason = e
                            .get_ref()
                            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                            .map_or_else(|| e.to_string(), ToString::to_string);
                        ClientError::Tls {
                            server: self.server.clone(),
                            reason,
                        }
                    })?)
                }
            };
            hyper::client::conn::http1::handshake(TokioIo::new(io))
                .await
                .map_err(|e| self.exchange_error(&e))
        };
        tokio::time::timeout(after, io)
            .await
            .map_err(|_| self.timeout(Stage::Connect, after))?
    }

    fn timeout(&self, stage: Stage, after: Duration) -> ClientError {
        ClientError::Timeout {
            server: self.server.clone(),
            stage,
            after,
        }
    }

    fn exchange_error(&self, e: &hyper::Error) -> ClientError {
        ClientError::Exchange {
            server: self.server.clone(),
            reason: e.to_string(),
        }
    }
}

/// The roots an https client trusts: the CA file's certificates, else the platform's.
fn tls_connector(
    server: &str,
    ca_file: Option<&Path>,
) -> Result<tokio_rustls::TlsConnector, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |reason: String| ClientError::CaFile {
                path: path.to_path_buf(),
                reason,
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in it".into()));
            }
            for c in certs {
                roots.add(c).map_err(|e| bad(e.to_string()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(ClientError::Tls {
                    server: server.to_string(),
                    reason: "this machine has no trusted root certificates; give a CA file".into(),
                });
            }
        }
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientError::Tls {
        server: server.to_string(),
        reason: e.to_string(),
    })?
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name; empty for the default ("message").
    pub event: String,
    /// The `data:` lines, joined with newlines.
    pub data: String,
    pub id: Option<String>,
}

impl SseEvent {
    /// The data decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_str(&self.data).map_err(|e| ClientError::Decode {
            reason: e.to_string(),
        })
    }
}

/// An open event stream. Holding it holds the connection open; dropping it closes it.
pub struct EventStream {
    pub status: u16,
    pub headers: HeaderMap,
    body: Incoming,
    conn: Option<Pin<Box<Connection>>>,
    buf: Vec<u8>,
    pending: SseEvent,
    server: String,
    read_timeout: Duration,
}

impl EventStream {
    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next event; `None` when the server ended the stream. Each read waits at most the
    /// stream read timeout (keep-alive comments count as reads). Cancel-safe: nothing read is
    /// lost when the future is dropped.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent>, ClientError> {
        loop {
            if let Some(ev) = self.take_event() {
                return Ok(Some(ev));
            }
            let after = self.read_timeout;
            let frame = {
                let read = self.body.frame();
                let conn = &mut self.conn;
                let drive = async move {
                    if let Some(c) = conn.as_mut() {
                        let _ = c.as_mut().await;
                        // Ended: its last bytes are in the body; it is not polled again.
                        *conn = None;
                    }
                    std::future::pending::<()>().await
                };
                let both = async {
                    tokio::select! {
                        f = read => f,
                        () = drive => unreachable!("the connection's driver never completes"),
                    }
                };
                tokio::time::timeout(after, both).await
            };
            match frame {
                Err(_) => {
                    return Err(ClientError::Timeout {
                        server: self.server.clone(),
                        stage: Stage::StreamRead,
                        after,
                    })
                }
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => {
                    return Err(ClientError::Exchange {
                        server: self.server.clone(),
                        reason: e.to_string(),
                    })
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// Parses the complete lines in the buffer; returns an event when a blank line ends one.
    fn take_event(&mut self) -> Option<SseEvent> {
        while let Some(nl) = self.buf.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw[..raw.len() - 1]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            if line.is_empty() {
                let ev = std::mem::take(&mut self.pending);
                if !ev.data.is_empty() || !ev.event.is_empty() {
                    return Some(ev);
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.pending.event = value.to_string(),
                "data" => {
                    if !self.pending.data.is_empty() {
                        self.pending.data.push('\n');
                    }
                    self.pending.data.push_str(value);
                }
                "id" => self.pending.id = Some(value.to_string()),
                _ => {}
            }
        }
        None
    }
}

/// A [`Client`] for code without an async runtime (the runbook CLI, synchronous tests): it
/// owns a small runtime and runs each call on it, on a thread of its own when the caller is
/// already inside a runtime. It may be dropped anywhere, in a runtime or not.
pub struct BlockingClient {
    client: Client,
    /// Always `Some` until dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for BlockingClient {
    fn drop(&mut self) {
        // A runtime dropped the ordinary way blocks, which an async context forbids.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl BlockingClient {
    pub fn new(client: Client) -> Result<BlockingClient, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Connect {
                server: client.server.clone(),
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(BlockingClient {
            client,
            rt: Some(rt),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn server(&self) -> &str {
        self.client.server()
    }

    /// [`Client::send`], blocking.
    pub fn send(&self, req: Request) -> Result<Response, ClientError> {
        self.run(self.client.send(req))
    }

    /// [`Client::events`], blocking; read it with [`BlockingClient::run`] and
    /// [`EventStream::next_event`] (the stream belongs to this client's runtime).
    pub fn events(&self, req: Request) -> Result<EventStream, ClientError> {
        self.run(self.client.events(req))
    }

    /// Runs `work` to completion on this client's runtime.
    pub fn run<F>(&self, work: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let rt = self.rt.as_ref().expect("the runtime lives until drop");
        if tokio::runtime::Handle::try_current().is_err() {
            return rt.block_on(work);
        }
        // Inside a runtime a thread may not block on another: use a thread of our own.
        std::thread::scope(|s| {
            s.spawn(|| rt.block_on(work))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use axum::{Json, Router};

    /// An axum app on a loopback port; returns its URL.
    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn app() -> Router {
        Router::new()
            .route("/api/v1/echo", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }))
            .route(
                "/api/v1/who",
                get(|h: axum::http::HeaderMap| async move {
                    let get = |n: &str| {
                        h.get(n)
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    };
                    Json(serde_json::json!({
                        "operator": get(OPERATOR_HEADER),
                        "cookie": get("cookie"),
                        "csrf": get(CSRF_HEADER),
                    }))
                }),
            )
            .route(
                "/api/v1/session",
                post(|| async {
                    (
                        [("set-cookie", "sy_session=abc123; HttpOnly; Path=/")],
                        Json(serde_json::json!({"ok": true})),
                    )
                }),
            )
            .route(
                "/api/v1/missing",
                get(|| async {
                    (
                        axum::http::StatusCode::NOT_FOUND,
                        Json(serde_json::json!({"error": "eu-central-1 is not a configured region"})),
                    )
                }),
            )
            .route(
                "/api/v1/events",
                get(|| async {
                    let body = ": keep-alive\n\nevent: regions\ndata: {\"n\":1}\n\nevent: regions\r\ndata: a\r\ndata: b\r\n\r\n";
                    ([("content-type", "text/event-stream")], body)
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
    }

    #[test]
    fn an_address_must_be_http_or_https_with_a_host() {
        let t = Target::parse("https://console.noc.example/switchyard/").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port, t.base.as_str()),
            (true, "console.noc.example", 443, "/switchyard")
        );
        let t = Target::parse("http://[::1]:8740").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.authority.as_str()), ("::1", 8740, "[::1]:8740"));
        for (url, why) in [
            ("ftp://x", "must start with http:// or https://"),
            ("127.0.0.1:8740", "must start with http:// or https://"),
            ("http://", "not a URL"),
            ("http://u:p@host", "a user or password does not belong in the address"),
            ("http://host/?a=1", "a query does not belong in the address"),
        ] {
            let e = Target::parse(url).unwrap_err();
            assert_eq!(e.to_string(), format!("{url}: {why}"), "{url}");
        }
    }

    #[tokio::test]
    async fn json_goes_out_and_comes_back_with_the_callers_headers() {
        let url = serve(app()).await;
        let c = Client::new(&url).unwrap();
        let back: serde_json::Value = c
            .post_json("/api/v1/echo", &serde_json::json!({"a": [1, 2]}))
            .await
            .unwrap();
        assert_eq!(back, serde_json::json!({"a": [1, 2]}));
        let who = c
            .send(
                Request::get("/api/v1/who")
                    .operator("José")
                    .cookie("sy_session=abc")
                    .csrf("t0k"),
            )
            .await
            .unwrap()
            .ok()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap();
        assert_eq!(
            who,
            serde_json::json!({"operator": "José", "cookie": "sy_session=abc", "csrf": "t0k"})
        );
        let signed = c.send(Request::post("/api/v1/session")).await.unwrap();
        assert_eq!(signed.set_cookie().as_deref(), Some("sy_session=abc123"));
    }

    #[tokio::test]
    async fn an_error_status_carries_the_servers_message() {
        let url = serve(app()).await;
        let c = Client::new(&url).unwrap();
        let e = c
            .get_json::<serde_json::Value>("/api/v1/missing")
            .await
            .unwrap_err();
        assert_eq!(
            e,
            ClientError::Status {
                status: 404,
                message: "eu-central-1 is not a configured region".into()
            }
        );
        let e = c.get_json::<Vec<u8>>("/api/v1/who").await.unwrap_err();
        assert!(matches!(e, ClientError::Decode { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn an_event_stream_is_read_event_by_event_skipping_comments() {
        let url = serve(app()).await;
        let c = Client::new(&url).unwrap();
        let mut s = c.events(Request::get("/api/v1/events")).await.unwrap();
        assert_eq!(s.status, 200);
        assert_eq!(s.header("content-type"), Some("text/event-stream"));
        let first = s.next_event().await.unwrap().unwrap();
        assert_eq!(first.event, "regions");
        assert_eq!(first.json::<serde_json::Value>().unwrap()["n"], 1);
        let second = s.next_event().await.unwrap().unwrap();
        assert_eq!((second.event.as_str(), second.data.as_str()), ("regions", "a\nb"));
        assert_eq!(s.next_event().await.unwrap(), None, "the stream ended");
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error_naming_the_console() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", free.local_addr().unwrap());
        drop(free);
        let e = Client::new(&url)
            .unwrap()
            .send(Request::get("/healthz"))
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::Connect { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!("cannot reach the console at {url}: ")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_request_that_outlives_its_deadline_is_a_timeout() {
        let url = serve(app()).await;
        let c = Client::with_options(
            &url,
            ClientOptions {
                request_timeout: Duration::from_millis(200),
                ..ClientOptions::default()
            },
        )
        .unwrap();
        let e = c.send(Request::get("/slow")).await.unwrap_err();
        assert!(
            matches!(e, ClientError::Timeout { stage: Stage::Answer, .. }),
            "{e:?}"
        );
        assert_eq!(e.to_string(), format!("{url}: no answer within 0.2 s"));
    }

    #[tokio::test]
    async fn a_bad_ca_file_is_named_and_a_stalled_tls_handshake_times_out() {
        // A listener that accepts nothing: the TCP connect succeeds (the backlog), the TLS
        // handshake never completes.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let e = Client::with_options(
            &url,
            ClientOptions {
                ca_file: Some(ca.clone()),
                ..ClientOptions::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("CA file {}: no certificate in it", ca.display())
        );
        let c = Client::with_options(
            &url,
            ClientOptions {
                connect_timeout: Duration::from_millis(200),
                ..ClientOptions::default()
            },
        );
        // A machine without roots says so; one with them times out the handshake.
        match c {
            Err(e) => assert!(matches!(e, ClientError::Tls { .. }), "{e:?}"),
            Ok(c) => {
                let e = c.send(Request::get("/healthz")).await.unwrap_err();
                assert!(
                    matches!(e, ClientError::Timeout { stage: Stage::Connect, .. }),
                    "{e:?}"
                );
            }
        }
    }

    #[test]
    fn the_blocking_client_works_inside_and_outside_a_runtime() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let url = rt.block_on(serve(app()));
        let c = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
        let echo = |c: &BlockingClient| {
            c.send(Request::post("/api/v1/echo").json_text("[7]"))
                .unwrap()
                .text()
        };
        assert_eq!(echo(&c), "[7]");
        assert_eq!(rt.block_on(async { echo(&c) }), "[7]");
        // Made and dropped inside a runtime, as a test's server helper is.
        let inside = rt.block_on(async {
            let c = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
            echo(&c)
        });
        assert_eq!(inside, "[7]");
    }
}
