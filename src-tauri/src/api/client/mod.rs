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

mod blocking;
mod error;
mod message;
mod sse;
#[cfg(test)]
mod tests;
mod tls;

pub use blocking::BlockingClient;
pub use error::{ClientError, Stage};
pub use message::{Request, Response, CSRF_HEADER, OPERATOR_HEADER};
pub use sse::{EventStream, SseEvent};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

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
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
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
            Some(tls::connector(&server, options.ca_file.as_deref())?)
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
        self.send(Request::post(path).json(body)?)
            .await?
            .ok()?
            .json()
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
                    let name =
                        ServerName::try_from(t.host.clone()).map_err(|e| ClientError::BadUrl {
                            url: self.server.clone(),
                            reason: format!("{} is not a host name: {e}", t.host),
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
