//! A request to send and the answer read whole: headers (the operator, the session's cookie
//! and CSRF token), JSON bodies, and the server's error message.

use super::{ClientError, Target};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The header an action is audited under on a console without logins.
pub const OPERATOR_HEADER: &str = "x-switchyard-operator";
/// The header a signed-in session sends its CSRF token back in.
pub const CSRF_HEADER: &str = "x-csrf-token";
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

    pub(super) fn build(
        &self,
        target: &Target,
    ) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
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
