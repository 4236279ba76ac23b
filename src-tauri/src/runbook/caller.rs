//! Who the runbook acts as, and the one exchange with the console.
//!
//! Rules kept here:
//! - The console is `--server`, else `SWITCHYARD_SERVER`; when neither is given the error
//!   names both, and nothing is sent.
//! - A password is read from `SWITCHYARD_PASSWORD` only (never the command line), and never
//!   printed.
//! - A bad address names `--server`; an untrusted certificate points at `--ca-file`.

use super::RunbookError;
use crate::api::client::{BlockingClient, Client, ClientError, ClientOptions, Request, Response};
use crate::cli::ConsoleArgs;

/// Who the runbook acts as, and the console it talks to: the operator name (for a console
/// without logins), or a session made by signing in.
pub struct Caller {
    client: BlockingClient,
    /// Whether `--ca-file` was given (a TLS error then does not suggest it).
    ca_file: bool,
    pub operator: String,
    /// `sy_session=…`, once signed in.
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Caller {
    /// `req` as this caller: the operator, and the session's cookie and CSRF token.
    fn request(&self, req: Request) -> Request {
        let mut req = req.operator(&self.operator);
        if let Some(c) = &self.cookie {
            req = req.cookie(c);
        }
        if let Some(t) = &self.csrf {
            req = req.csrf(t);
        }
        req
    }

    /// One exchange with the console; any status is an answer.
    pub(super) fn send(&self, req: Request) -> Result<Response, RunbookError> {
        self.client
            .send(self.request(req))
            .map_err(|e| RunbookError::Console(explain(e, self.ca_file)))
    }

    pub(super) fn get(&self, path: &str) -> Result<Response, RunbookError> {
        self.send(Request::get(path))
    }

    pub(super) fn post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Response, RunbookError> {
        let req = Request::post(path)
            .json(body)
            .map_err(|e| RunbookError::Input(e.to_string()))?;
        self.send(req)
    }

    pub(super) fn server(&self) -> &str {
        self.client.server()
    }
}

/// The client's error as the runbook says it: a bad address names `--server`; an untrusted
/// certificate points at `--ca-file`.
fn explain(e: ClientError, ca_file: bool) -> String {
    match e {
        ClientError::BadUrl { .. } => format!("--server {e}"),
        ClientError::CaFile { .. } => format!("--ca-file {e}"),
        ClientError::Tls { .. } if !ca_file => format!(
            "{e} (a console with a certificate of a private CA: give that CA's certificate with --ca-file)"
        ),
        e => e.to_string(),
    }
}

/// What is said when no console is named.
pub(super) const NO_SERVER: &str =
    "no console to talk to: give --server URL or set SWITCHYARD_SERVER (e.g. http://127.0.0.1:8740)";

/// Signs in to the console as `user` with the password in `SWITCHYARD_PASSWORD` (never on the
/// command line); without a user, acts under `operator` (a console started with --no-auth).
pub fn sign_in(
    console: &ConsoleArgs,
    operator: &str,
    user: Option<&str>,
) -> Result<Caller, RunbookError> {
    let server = console
        .server
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RunbookError::Input(NO_SERVER.into()))?;
    let options = ClientOptions {
        ca_file: console.ca_file.clone(),
        ..ClientOptions::default()
    };
    let ca_file = console.ca_file.is_some();
    let client = Client::with_options(server, options)
        .and_then(BlockingClient::new)
        .map_err(|e| RunbookError::Console(explain(e, ca_file)))?;
    let mut caller = Caller {
        client,
        ca_file,
        operator: operator.to_string(),
        cookie: None,
        csrf: None,
    };
    let Some(user) = user else {
        return Ok(caller);
    };
    let password = std::env::var("SWITCHYARD_PASSWORD").map_err(|_| {
        RunbookError::Input(format!(
            "--user {user}: put the password in SWITCHYARD_PASSWORD"
        ))
    })?;
    let body = serde_json::json!({ "username": user, "password": password });
    let resp = caller.post("/api/v1/session", &body)?;
    let refused = |message: String| RunbookError::SignIn {
        user: user.to_string(),
        message,
    };
    if resp.status != 200 {
        return Err(refused(resp.error_message()));
    }
    let cookie = resp
        .set_cookie()
        .ok_or_else(|| refused("the console set no session cookie".into()))?;
    let info: switchyard_core::auth::SessionInfo =
        serde_json::from_slice(&resp.body).map_err(|e| refused(e.to_string()))?;
    caller.operator = info.username;
    caller.cookie = Some(cookie);
    caller.csrf = Some(info.csrf);
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_server_the_error_names_the_flag_and_the_variable() {
        let console = ConsoleArgs {
            server: None,
            ca_file: None,
        };
        let Err(e) = sign_in(&console, "otto", None) else {
            panic!("signed in without a server")
        };
        let line = e.to_string();
        assert!(
            line.contains("--server") && line.contains("SWITCHYARD_SERVER"),
            "{line}"
        );
    }

    #[test]
    fn a_bad_address_names_the_server_flag() {
        let console = ConsoleArgs {
            server: Some("ftp://console".into()),
            ca_file: None,
        };
        let Err(e) = sign_in(&console, "otto", None) else {
            panic!("an ftp console")
        };
        assert!(e.to_string().starts_with("--server ftp://console"), "{e}");
    }
}
