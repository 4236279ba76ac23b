//! Who may do what: roles, the role each API route needs, user names, and the login rate limit.
//!
//! One table ([`required_role`]) decides authorization for every route; the server's middleware
//! and the OpenAPI document both read it, so they cannot disagree.

use serde::{Deserialize, Serialize};

/// What an account may do. Ordered: each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything; changes nothing.
    Viewer,
    /// Fails over, sends commands, runs drills, injects simulated faults.
    Operator,
    /// Manages accounts.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a role: viewer, operator or admin"))
    }

    /// Whether this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a session (health checks, logging in, the first admin's setup).
    Public,
    /// A signed-in account with at least this role.
    Role(Role),
}

/// Whether `method` changes state (and so needs the CSRF token).
pub fn is_state_changing(method: &str) -> bool {
    !matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "OPTIONS"
    )
}

/// The access a route needs. `path` is the route's template as the router declares it
/// (`/api/v1/failovers/{id}/approve`). Reads need a viewer, changes to the fleet an operator,
/// accounts an admin; an unknown route needs an admin (so a route added without a rule here is
/// closed, not open).
pub fn required_access(method: &str, path: &str) -> Access {
    let m = method.to_ascii_uppercase();
    match (m.as_str(), path) {
        (_, "/healthz") => Access::Public,
        ("POST", "/api/v1/session")
        | ("GET", "/api/v1/session")
        | ("DELETE", "/api/v1/session") => Access::Public,
        ("GET", "/api/v1/setup") | ("POST", "/api/v1/setup") => Access::Public,
        (_, p) if p == "/api/v1/users" || p.starts_with("/api/v1/users/") => {
            Access::Role(Role::Admin)
        }
        // A test alert pages people: only an administrator sends one.
        ("POST", p) if p.starts_with("/api/v1/receivers/") => Access::Role(Role::Admin),
        // A scraper's bearer token also opens it ([`scrape_access`]).
        ("GET", "/metrics") => Access::Role(Role::Viewer),
        ("GET" | "HEAD", p) if p.starts_with("/api/v1/") => Access::Role(Role::Viewer),
        (_, p) if p.starts_with("/api/v1/") => Access::Role(Role::Operator),
        _ => Access::Role(Role::Admin),
    }
}

/// Who asks for `GET /metrics`, as the server found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scraper {
    /// The console runs without logins (`--no-auth`).
    pub logins_off: bool,
    /// The request came from a loopback address.
    pub loopback: bool,
    /// Whether the bearer token sent is the configured scrape token; `None`: none was sent.
    pub token: Option<bool>,
    /// The signed-in caller's role, when there is one.
    pub role: Option<Role>,
}

/// What `GET /metrics` answers a [`Scraper`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeAccess {
    Allowed,
    /// 401: who is asking is not known.
    Unauthorized(String),
    /// 403: known, and not allowed.
    Forbidden(String),
}

/// Who may read the metrics: a scraper with the configured bearer token, or a viewer's
/// session; without logins only a caller on loopback (the figures name the fleet's regions and
/// its weak spots, which a console without logins shows to its own machine only).
pub fn scrape_access(s: Scraper) -> ScrapeAccess {
    const HOW: &str =
        "send the scrape token as `Authorization: Bearer …` ([metrics] token_env or token_file)";
    match (s.token, s.logins_off, s.role) {
        (Some(true), _, _) => ScrapeAccess::Allowed,
        (Some(false), _, _) => {
            ScrapeAccess::Unauthorized(format!("the bearer token is not the scrape token: {HOW}"))
        }
        (None, true, _) if s.loopback => ScrapeAccess::Allowed,
        (None, true, _) => ScrapeAccess::Forbidden(format!(
            "without logins (--no-auth) /metrics answers loopback only: {HOW}"
        )),
        (None, false, Some(role)) if role.allows(Role::Viewer) => ScrapeAccess::Allowed,
        (None, false, _) => {
            ScrapeAccess::Unauthorized(format!("sign in (a viewer's session), or {HOW}"))
        }
    }
}

/// Checks a user name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err("username: 1 to 64 letters, digits, . _ - or @".into())
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// The longest (argon2 takes any length; this bounds the work one request can ask for).
pub const MAX_PASSWORD: usize = 1_024;

pub fn check_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD {
        return Err(format!("password: at least {MIN_PASSWORD} characters"));
    }
    if p.len() > MAX_PASSWORD {
        return Err(format!("password: at most {MAX_PASSWORD} bytes"));
    }
    Ok(())
}

/// Failed logins allowed per key (user name, and client address) in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub attempts: usize,
    pub window_ms: u64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            attempts: 5,
            window_ms: 60_000,
        }
    }
}

/// The failures one key has had recently, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures(Vec<u64>);

impl Failures {
    /// Whether another attempt may be made at `now`; if not, how many ms until one may.
    pub fn check(&mut self, now: u64, limit: RateLimit) -> Result<(), u64> {
        self.0.retain(|t| now.saturating_sub(*t) < limit.window_ms);
        if self.0.len() < limit.attempts {
            Ok(())
        } else {
            let oldest = self.0[0];
            Err(limit.window_ms - now.saturating_sub(oldest))
        }
    }

    pub fn record(&mut self, now: u64) {
        self.0.push(now);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A signed-in account, as `GET /api/v1/session` says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    /// Send it back in `X-CSRF-Token` with every state-changing request.
    pub csrf: String,
    pub expires_at: u64,
    /// How the console authenticates: "local", "trusted_header" or "none".
    pub mode: String,
}

/// What `GET /api/v1/session` answers: who is signed in, or that nobody is. A signed-out browser
/// asks too, on every first load, so that answer is a 200 it does not log as an error. When
/// signed in, the fields of [`SessionInfo`] are all here, at the top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStatus {
    pub signed_in: bool,
    /// How the console authenticates: "local", "trusted_header" or "none".
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Send it back in `X-CSRF-Token` with every state-changing request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Why nobody is signed in (no session cookie, the session ended, no trusted header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SessionStatus {
    pub fn signed_in(s: SessionInfo) -> SessionStatus {
        SessionStatus {
            signed_in: true,
            mode: s.mode,
            username: Some(s.username),
            role: Some(s.role),
            csrf: Some(s.csrf),
            expires_at: Some(s.expires_at),
            reason: None,
        }
    }

    pub fn signed_out(mode: &str, reason: String) -> SessionStatus {
        SessionStatus {
            signed_in: false,
            mode: mode.into(),
            username: None,
            role: None,
            csrf: None,
            expires_at: None,
            reason: Some(reason),
        }
    }

    /// The session, when somebody is signed in and every field of it is here.
    pub fn session(self) -> Option<SessionInfo> {
        if !self.signed_in {
            return None;
        }
        Some(SessionInfo {
            username: self.username?,
            role: self.role?,
            csrf: self.csrf?,
            expires_at: self.expires_at.unwrap_or(0),
            mode: self.mode,
        })
    }
}

/// `POST /api/v1/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /api/v1/users` and the first admin's setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@` ([`check_username`]).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._@-]{1,64}$"))]
    pub username: String,
    /// At least 12 characters; the server takes up to 1024 bytes of UTF-8, which 256 characters
    /// never exceed.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 256))]
    pub password: String,
    pub role: Role,
}

/// An account as listed (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub created_at: u64,
    pub created_by: String,
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_session_status_keeps_the_session_fields_at_the_top_and_gives_the_session_back() {
        let info = SessionInfo {
            username: "alice".into(),
            role: Role::Operator,
            csrf: "t0k".into(),
            expires_at: 42,
            mode: "local".into(),
        };
        let status = SessionStatus::signed_in(info.clone());
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            (
                json["signed_in"].clone(),
                json["csrf"].clone(),
                json["role"].clone()
            ),
            (
                serde_json::json!(true),
                serde_json::json!("t0k"),
                serde_json::json!("operator")
            )
        );
        assert_eq!(status.session(), Some(info));
        let out = SessionStatus::signed_out("local", "sign in first".into());
        let json = serde_json::to_value(&out).unwrap();
        assert!(json.get("csrf").is_none() && json["reason"] == "sign in first");
        assert_eq!(out.session(), None);
    }
    use super::*;

    #[test]
    fn roles_are_ordered_and_parsed() {
        assert!(Role::Admin.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Operator.allows(Role::Admin));
        assert_eq!(Role::parse("operator"), Ok(Role::Operator));
        assert!(Role::parse("root")
            .unwrap_err()
            .contains("viewer, operator or admin"));
    }

    #[test]
    fn every_route_has_a_rule_and_unknown_ones_are_closed() {
        use Access::*;
        assert_eq!(required_access("GET", "/healthz"), Public);
        assert_eq!(required_access("POST", "/api/v1/session"), Public);
        assert_eq!(
            required_access("GET", "/api/v1/regions"),
            Role(super::Role::Viewer)
        );
        assert_eq!(
            required_access("GET", "/api/v1/drills/{id}/report.html"),
            Role(super::Role::Viewer)
        );
        assert_eq!(
            required_access("POST", "/api/v1/failovers"),
            Role(super::Role::Operator)
        );
        assert_eq!(
            required_access("DELETE", "/api/v1/sim/faults"),
            Role(super::Role::Operator)
        );
        assert_eq!(
            required_access("GET", "/api/v1/users"),
            Role(super::Role::Admin)
        );
        assert_eq!(
            required_access("POST", "/api/v1/users"),
            Role(super::Role::Admin)
        );
        assert_eq!(
            required_access("GET", "/elsewhere"),
            Role(super::Role::Admin)
        );
        // A test alert pages people; reading where alerts go does not.
        assert_eq!(
            required_access("POST", "/api/v1/receivers/pager/test"),
            Role(super::Role::Admin)
        );
        assert_eq!(
            required_access("GET", "/api/v1/deliveries"),
            Role(super::Role::Viewer)
        );
        assert!(is_state_changing("post") && is_state_changing("DELETE"));
        assert!(!is_state_changing("GET"));
    }

    #[test]
    fn metrics_are_read_with_the_scrape_token_or_a_session_and_without_logins_on_loopback_only() {
        use ScrapeAccess::*;
        let s = |logins_off, loopback, token, role| Scraper {
            logins_off,
            loopback,
            token,
            role,
        };
        assert_eq!(scrape_access(s(false, false, Some(true), None)), Allowed);
        assert_eq!(scrape_access(s(true, false, Some(true), None)), Allowed);
        assert!(matches!(
            scrape_access(s(false, true, Some(false), Some(super::Role::Admin))),
            Unauthorized(m) if m.contains("not the scrape token")
        ));
        assert_eq!(
            scrape_access(s(false, false, None, Some(super::Role::Viewer))),
            Allowed
        );
        assert!(matches!(
            scrape_access(s(false, true, None, None)),
            Unauthorized(m) if m.contains("sign in")
        ));
        assert_eq!(scrape_access(s(true, true, None, None)), Allowed);
        assert!(matches!(
            scrape_access(s(true, false, None, Some(super::Role::Admin))),
            Forbidden(m) if m.contains("loopback only")
        ));
        assert_eq!(
            required_access("GET", "/metrics"),
            Access::Role(super::Role::Viewer)
        );
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_username("alice.b-2@noc").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"x".repeat(65)).is_err());
        assert!(check_password("short").unwrap_err().contains("at least 12"));
        assert!(check_password("correct horse battery").is_ok());
        assert!(check_password(&"x".repeat(2_000)).is_err());
    }

    #[test]
    fn the_rate_limit_opens_again_after_the_window() {
        let limit = RateLimit {
            attempts: 3,
            window_ms: 1_000,
        };
        let mut f = Failures::default();
        for t in [0, 100, 200] {
            assert!(f.check(t, limit).is_ok());
            f.record(t);
        }
        assert_eq!(f.check(300, limit), Err(700));
        assert_eq!(f.check(999, limit), Err(1));
        assert!(
            f.check(1_000, limit).is_ok(),
            "the first failure has aged out"
        );
        f.record(1_000);
        assert_eq!(f.check(1_050, limit), Err(50));
    }
}
