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
        Error::internal(e.to_string())
    }
}

/// The engine's older per-operation error enums map onto the one kind each stands for, so that
/// the faces need only [`Error`].
impl From<crate::engine::QueryError> for Error {
    fn from(e: crate::engine::QueryError) -> Error {
        use crate::engine::QueryError as Q;
        match e {
            Q::Invalid(m) => Error::malformed(m),
            Q::NotFound(m) => Error::not_found(m),
            Q::Unavailable(m) => Error::unavailable(m),
        }
    }
}

impl From<crate::engine::ActionError> for Error {
    fn from(e: crate::engine::ActionError) -> Error {
        use crate::engine::ActionError as A;
        match e {
            A::Rejected(m) => Error::invalid(m),
            A::Failed(m) => Error::internal(m),
        }
    }
}

impl From<crate::engine::CommandError> for Error {
    fn from(e: crate::engine::CommandError) -> Error {
        use crate::engine::CommandError as C;
        match e {
            C::Invalid(m) => Error::invalid(m),
            C::NotFound(m) => Error::not_found(m),
            C::Unavailable(m) => Error::unavailable(m),
        }
    }
}

impl From<crate::engine::FailoverError> for Error {
    /// `NothingToDo` is a result, not an error: a face answers it as one before converting
    /// (the API's `POST /failovers` does). Converted anyway, it reads as a request that cannot
    /// be carried out as asked, which is what it is to a caller that wanted a change.
    fn from(e: crate::engine::FailoverError) -> Error {
        use crate::engine::FailoverError as F;
        match e {
            F::Rejected(m) | F::NothingToDo(m) => Error::invalid(m),
            F::Conflict(m) => Error::conflict(m),
            F::NotFound(m) => Error::not_found(m),
            F::Failed(m) => Error::internal(m),
        }
    }
}

impl From<crate::engine::drills::DrillError> for Error {
    fn from(e: crate::engine::drills::DrillError) -> Error {
        use crate::engine::drills::DrillError as D;
        match e {
            D::Invalid(m) => Error::invalid(m),
            D::Conflict(m) => Error::conflict(m),
            D::NotFound(m) => Error::not_found(m),
            D::Failed(m) => Error::internal(m),
        }
    }
}
