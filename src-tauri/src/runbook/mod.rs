//! The runbook commands: `switchyard status`, `preflight`, `failover` (and `--dry-run`) and
//! `command`. They talk to a running console's HTTP API (the engine lives there) through the
//! API's one client (`api::client`, http or https), print what a person reads (or, with
//! `--json`, the console's own JSON answers, one document a line), and exit with a status a
//! script can test (see [`exit`]).
//!
//! Rooms: `caller.rs` (signing in, the one exchange), `status.rs` (status and preflight),
//! `failover.rs` (a failover followed, and its dry run), `command.rs` (a command run),
//! `render.rs` (every text the runbook prints, pure and tested without a server).
//!
//! Rules kept here:
//! - The console is `--server`, else `SWITCHYARD_SERVER`; neither is an error naming both. An
//!   https console is verified against `--ca-file` when given, else the system's roots.
//! - A password is read from `SWITCHYARD_PASSWORD` only, and never printed.
//! - Every time printed is UTC in words (`switchyard_core::time`), never raw milliseconds.
//! - With `--json` standard output holds only the console's JSON answers, one a line (a
//!   refusal's error document too); the one-line error goes to standard error as without it.
//! - A dry run and a preflight only read: nothing is requested of the engine.

mod caller;
mod command;
mod failover;
pub mod render;
mod status;

pub use caller::{sign_in, Caller};
pub use command::{command, command_request, parse_target};
pub use failover::{dry_run, failover};
pub use status::{preflight, status};

use crate::api::client::Response;

/// The exit codes of the runbook commands.
pub mod exit {
    /// Done: completed, nothing to do, would start, no incident open.
    pub const OK: u8 = 0;
    /// Refused, failed, or the console could not be asked.
    pub const ERROR: u8 = 1;
    /// `switchyard status`: an incident is open.
    pub const INCIDENT: u8 = 2;
    /// Completed with exceptions (some failed, still running at the wait's end), or — for
    /// `preflight` and `failover --dry-run` — it would be refused.
    pub const NOT_CLEAN: u8 = 3;
}

/// What a runbook command prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Lines for a person.
    Text,
    /// The console's JSON answers, one compact document a line.
    Json,
}

impl Output {
    pub fn new(json: bool) -> Output {
        if json {
            Output::Json
        } else {
            Output::Text
        }
    }

    /// Prints `line` when the output is text.
    fn say(self, line: impl std::fmt::Display) {
        if self == Output::Text {
            println!("{line}");
        }
    }

    /// Prints the answer's body as one JSON line when the output is JSON.
    fn document(self, resp: &Response) -> Result<(), RunbookError> {
        if self == Output::Json {
            println!("{}", one_line(&resp.body)?);
        }
        Ok(())
    }

    /// The console refused: with `--json` its error document is printed first.
    fn refused(self, resp: &Response) -> RunbookError {
        if self == Output::Json {
            if let Ok(line) = one_line(&resp.body) {
                println!("{line}");
            }
        }
        RunbookError::Refused {
            status: resp.status,
            message: resp.error_message(),
        }
    }

    /// What was followed is gone: with `--json` the console's error document is printed
    /// first.
    fn lost(self, what: String, resp: &Response) -> RunbookError {
        if self == Output::Json {
            if let Ok(line) = one_line(&resp.body) {
                println!("{line}");
            }
        }
        RunbookError::Lost {
            what,
            status: resp.status,
            message: resp.error_message(),
        }
    }
}

/// A JSON body as one compact line.
fn one_line(body: &[u8]) -> Result<String, RunbookError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| RunbookError::Answer(e.to_string()))?;
    Ok(v.to_string())
}

/// What went wrong in a runbook command; each is one line and exits 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunbookError {
    /// The command line asks for something that cannot be sent (no console named, a target
    /// that is not KIND:VALUE, a payload that is not JSON).
    Input(String),
    /// The console could not be reached or spoken to (the client's words, with the flag to
    /// fix when there is one).
    Console(String),
    /// Signing in was refused.
    SignIn { user: String, message: String },
    /// The console refused the request: its status and its words.
    Refused { status: u16, message: String },
    /// Something followed was lost (a failover, a run): its status and its words.
    Lost {
        what: String,
        status: u16,
        message: String,
    },
    /// The console answered something this runbook cannot read.
    Answer(String),
}

impl std::fmt::Display for RunbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunbookError::Input(m) | RunbookError::Console(m) => f.write_str(m),
            RunbookError::SignIn { user, message } => write!(f, "signing in as {user}: {message}"),
            RunbookError::Refused { status, message } => write!(f, "refused ({status}): {message}"),
            RunbookError::Lost {
                what,
                status,
                message,
            } => write!(f, "lost {what} ({status}): {message}"),
            RunbookError::Answer(m) => write!(f, "the console's answer could not be read: {m}"),
        }
    }
}

impl std::error::Error for RunbookError {}

/// The answer's body as `T`.
fn decode<T: serde::de::DeserializeOwned>(resp: &Response) -> Result<T, RunbookError> {
    resp.json().map_err(|e| RunbookError::Answer(e.to_string()))
}

/// `s` as a query value: unreserved characters kept, every other byte percent-encoded.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_value_keeps_a_region_code_and_encodes_anything_else() {
        assert_eq!(query_value("eu-west-1"), "eu-west-1");
        assert_eq!(query_value("a b&c=d"), "a%20b%26c%3Dd");
    }

    #[test]
    fn a_json_answer_is_printed_on_one_line() {
        let pretty = b"{\n  \"a\": [1,\n 2],\n  \"b\": \"x\\ny\"\n}";
        let line = one_line(pretty).unwrap();
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&line).unwrap()["b"],
            "x\ny"
        );
        assert!(matches!(one_line(b"<html>"), Err(RunbookError::Answer(_))));
    }

    #[test]
    fn every_error_is_one_line_naming_what_refused_it() {
        let e = RunbookError::Refused {
            status: 409,
            message: "another failover is under way: f-2".into(),
        };
        assert_eq!(
            e.to_string(),
            "refused (409): another failover is under way: f-2"
        );
        let e = RunbookError::SignIn {
            user: "otto".into(),
            message: "wrong name or password".into(),
        };
        assert_eq!(e.to_string(), "signing in as otto: wrong name or password");
    }
}
