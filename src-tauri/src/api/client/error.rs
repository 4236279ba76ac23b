//! What can go wrong talking to a console, as types: the runbook names the flag to fix, tests
//! match on the kind.

use std::path::PathBuf;
use std::time::Duration;

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
