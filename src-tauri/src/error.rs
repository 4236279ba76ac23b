//! The engine's one error type: a kind that decides how every face reports it, and a message an
//! operator can act on.
//!
//! Rules kept here:
//! - Every operation of the engine fails with [`Error`]; the faces (the HTTP API, the desktop's
//!   IPC, the CLI) choose a status or an exit code from [`ErrorKind`] alone, never from the
//!   message's words.
//! - The message is written for the operator: it names what is wrong and, where there is one,
//!   what to do about it. It never carries a secret.
//! - "Nothing to do" is not an error: operations that may find nothing to do say so in their
//!   result.

use std::fmt;

/// What went wrong, as far as a caller needs to know to react.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request could not be read as asked (a list limit out of range, a malformed query):
    /// nothing was looked at.
    Malformed,
    /// The request was read but cannot be carried out as asked (a bad region, a preflight that
    /// forbids it, a payload that breaks its schema): nothing was done.
    Invalid,
    /// What the request names does not exist.
    NotFound,
    /// Something else holds what the request needs (another failover, a live drill); nothing
    /// was done. The message names the holder.
    Conflict,
    /// A source, the switch or the store did not answer in time or failed; the request may
    /// succeed later.
    Unavailable,
    /// A defect or a broken invariant of the console itself.
    Internal,
}

/// An engine operation that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn malformed(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Malformed, message)
    }
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unavailable, message)
    }
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Storage failures are the console's own trouble unless the store says what they are.
impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Error {
        use crate::store::StoreError as S;
        match e {
            S::FailoverLocked { .. } | S::DrillLocked { .. } | S::AlreadyAcknowledged { .. } => {
                Error::conflict(e.to_string())
            }
            S::Unusable { .. } => Error::unavailable(e.to_string()),
            _ => Error::internal(e.to_string()),
        }
    }
}
