//! Server-Sent Events: an open stream read event by event, its connection driven beside it.

use super::{Client, ClientError, Connection, Request, Stage};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::pin::Pin;
use std::time::Duration;

impl Client {
    /// Opens the Server-Sent Events stream at `req` (a GET): returns once the answer's head is
    /// in, whatever its status; read the events with [`EventStream::next_event`].
    pub async fn events(&self, req: Request) -> Result<EventStream, ClientError> {
        let http = req
            .header("accept", "text/event-stream")
            .build(&self.target)?;
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
