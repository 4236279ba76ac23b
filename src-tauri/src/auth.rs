//! Accounts, sessions and who may do what, for the HTTP API.
//!
//! - Local accounts: argon2id password hashes in SQLite (`users`). A login makes a session: a
//!   random token in an HttpOnly, SameSite=Strict cookie (Secure on TLS); only the token's
//!   SHA-256 is stored (`sessions`), so a copy of the database opens no session. Each session
//!   carries a CSRF token the client sends back in `X-CSRF-Token` on every state-changing
//!   request.
//! - Trusted header: behind an SSO proxy, the proxy's header names the user; it is believed only
//!   from the configured proxy addresses, and the user must have an account (for the role).
//! - None (`--no-auth`): loopback only; actions are audited under the operator header.
//!
//! Authorization is `switchyard_core::auth::required_access` for every route, checked in one
//! middleware; handlers read the caller from the request's `Identity`.

use crate::clock::{now_ms, SystemClock};
use crate::engine::audit::{self, Act, Done};
use crate::store::Store;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::auth::{
    check_password, check_username, Failures, NewUser, RateLimit, Role, SessionInfo, UserInfo,
};

/// How the console knows who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// No login (`--no-auth`, loopback only).
    None,
    /// Local accounts and sessions.
    Local,
    /// An SSO proxy names the user in `header`; believed only from `proxies`.
    TrustedHeader {
        header: String,
        proxies: Vec<IpAddr>,
    },
}

impl AuthMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Local => "local",
            AuthMode::TrustedHeader { .. } => "trusted_header",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// Failed logins allowed per user name and per client address.
    pub rate: RateLimit,
    /// Mark cookies Secure (on when serving TLS).
    pub secure_cookies: bool,
    /// The bearer token a scraper may read `GET /metrics` with (`[metrics]`), besides a
    /// viewer's session.
    pub scrape_token: Option<crate::settings::Secret>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::Local,
            session_ttl: Duration::from_secs(12 * 3_600),
            rate: RateLimit::default(),
            secure_cookies: false,
            scrape_token: None,
        }
    }
}

/// Who is calling, once the middleware has decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub username: String,
    pub role: Role,
}

/// Why a login or an account change did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Wrong name or password (the message does not say which).
    BadCredentials,
    /// Too many failures: try again in this many seconds.
    RateLimited(u64),
    Invalid(String),
    Conflict(String),
    Failed(String),
}

impl From<crate::store::StoreError> for AuthError {
    fn from(e: crate::store::StoreError) -> Self {
        AuthError::Failed(e.to_string())
    }
}

/// The cookie that carries the session.
pub const COOKIE: &str = "sy_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: AuthConfig,
    store: Store,
    failures: Mutex<HashMap<String, Failures>>,
    /// The one-time token that creates the first admin, while there is no account.
    setup: Mutex<Option<String>>,
    /// Behind a trusted proxy there is no session: the CSRF token is derived from this
    /// process's secret and the user name.
    secret: String,
}

/// Compares two strings in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// An argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that a wrong name takes as long
/// as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

impl Auth {
    pub fn new(cfg: AuthConfig, store: Store) -> Auth {
        Auth {
            inner: Arc::new(Inner {
                cfg,
                store,
                failures: Mutex::new(HashMap::new()),
                setup: Mutex::new(None),
                secret: random_token(),
            }),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.inner.cfg
    }

    pub fn mode(&self) -> &AuthMode {
        &self.inner.cfg.mode
    }

    /// With local accounts and none yet: a one-time token that creates the first admin (kept
    /// in memory; a restart makes a new one).
    pub async fn setup_token(&self) -> Result<Option<String>, AuthError> {
        if self.inner.cfg.mode != AuthMode::Local {
            return Ok(None);
        }
        let none = self.inner.store.run(|s| s.users_count()).await? == 0;
        let mut setup = self.inner.setup.lock().unwrap_or_else(|p| p.into_inner());
        if none {
            Ok(Some(setup.get_or_insert_with(random_token).clone()))
        } else {
            *setup = None;
            Ok(None)
        }
    }

    pub async fn setup_needed(&self) -> Result<bool, AuthError> {
        Ok(self.inner.cfg.mode == AuthMode::Local
            && self.inner.store.run(|s| s.users_count()).await? == 0)
    }

    /// Creates the first admin with the one-time token; then signs them in.
    pub async fn setup(
        &self,
        token: &str,
        new: NewUser,
    ) -> Result<(String, SessionInfo), AuthError> {
        let expected = self
            .inner
            .setup
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let ok = expected.is_some_and(|e| same(&e, token));
        if !ok || !self.setup_needed().await? {
            return Err(AuthError::Invalid(
                "the setup link is not valid (it works once, while no account exists)".into(),
            ));
        }
        if new.role != Role::Admin {
            return Err(AuthError::Invalid(
                "role: the first account must be an admin".into(),
            ));
        }
        let password = new.password.clone();
        let name = new.username.clone();
        self.add_user(new, "setup link").await?;
        *self.inner.setup.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.login(&name, &password, None).await
    }

    /// Adds an account (audited).
    pub async fn add_user(&self, new: NewUser, by: &str) -> Result<UserInfo, AuthError> {
        check_username(&new.username).map_err(AuthError::Invalid)?;
        check_password(&new.password).map_err(AuthError::Invalid)?;
        let password = new.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AuthError::Failed(e.to_string()))?
            .map_err(AuthError::Failed)?;
        let by = by.to_string();
        let user = UserInfo {
            username: new.username.clone(),
            role: new.role,
            created_at: now_ms(),
            created_by: by.clone(),
        };
        let row = user.clone();
        let added = self
            .inner
            .store
            .run(move |s| {
                let detail = format!(
                    "{{\"username\":\"{}\",\"role\":\"{}\"}}",
                    row.username,
                    row.role.as_str()
                );
                let act = Act::new(by, "user.add", "account created", detail);
                audit::within(s, &SystemClock, &act, |s, _| {
                    let added = s.user_insert(&row, &hash)?;
                    let result = if added {
                        "ok"
                    } else {
                        "refused: the name is taken"
                    };
                    Ok(Done::new(added, result))
                })
            })
            .await?;
        if added {
            Ok(user)
        } else {
            Err(AuthError::Conflict(format!(
                "username: {} already has an account",
                new.username
            )))
        }
    }

    pub async fn users(&self) -> Result<Vec<UserInfo>, AuthError> {
        Ok(self.inner.store.run(|s| s.users()).await?)
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.inner
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a name and password; on success makes a session and returns its token (for the
    /// cookie) and what the client may know of it. Failed attempts are limited per user name
    /// and per client address, and audited.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<(String, SessionInfo), AuthError> {
        if self.inner.cfg.mode != AuthMode::Local {
            return Err(AuthError::Invalid(format!(
                "this console signs in through {}, not with a password",
                self.inner.cfg.mode.as_str()
            )));
        }
        let now = now_ms();
        let rate = self.inner.cfg.rate;
        let keys = [
            format!("user:{username}"),
            client.map_or_else(|| "client:unknown".into(), |c| format!("client:{c}")),
        ];
        {
            let mut f = self.failures();
            for k in &keys {
                if let Err(wait) = f.entry(k.clone()).or_default().check(now, rate) {
                    return Err(AuthError::RateLimited(wait.div_ceil(1_000)));
                }
            }
        }
        let name = username.to_string();
        let row = self.inner.store.run(move |s| s.user(&name)).await?;
        let (hash, role) = match &row {
            Some((u, h)) => (h.clone(), Some(u.role)),
            None => (decoy_hash().to_string(), None),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
            .await
            .unwrap_or(false)
            && role.is_some();
        let actor = username.chars().take(64).collect::<String>();
        let detail = client.map_or_else(String::new, |c| format!("{{\"client\":\"{c}\"}}"));
        if !ok {
            {
                let mut f = self.failures();
                for k in &keys {
                    f.entry(k.clone()).or_default().record(now);
                }
            }
            self.inner
                .store
                .run(move |s| {
                    let act = Act::new(actor, "session.login", "sign in", detail);
                    audit::within(s, &SystemClock, &act, |_, _| {
                        Ok(Done::new((), "refused: wrong name or password"))
                    })
                })
                .await?;
            return Err(AuthError::BadCredentials);
        }
        {
            let mut f = self.failures();
            for k in &keys {
                f.remove(k);
            }
        }
        let role = role.expect("checked above");
        let token = random_token();
        let csrf = random_token();
        let expires_at = now + self.inner.cfg.session_ttl.as_millis() as u64;
        let (th, c, user) = (token_hash(&token), csrf.clone(), username.to_string());
        self.inner
            .store
            .run(move |s| {
                let act = Act::new(user.clone(), "session.login", "sign in", detail);
                audit::within(s, &SystemClock, &act, |s, _| {
                    s.session_insert(&th, &user, &c, now, expires_at)?;
                    Ok(Done::new((), "ok"))
                })
            })
            .await?;
        Ok((
            token,
            SessionInfo {
                username: username.to_string(),
                role,
                csrf,
                expires_at,
                mode: self.inner.cfg.mode.as_str().into(),
            },
        ))
    }

    /// The session a cookie's token opens, if it is current.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>, AuthError> {
        let th = token_hash(token);
        let now = now_ms();
        let found = self.inner.store.run(move |s| s.session(&th, now)).await?;
        Ok(found.map(|(username, role, csrf, expires_at)| SessionInfo {
            username,
            role,
            csrf,
            expires_at,
            mode: self.inner.cfg.mode.as_str().into(),
        }))
    }

    /// Ends a session (audited).
    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        let th = token_hash(token);
        self.inner
            .store
            .run(move |s| {
                if let Some(user) = s.session_delete(&th)? {
                    let act = Act::new(user, "session.logout", "sign out", "");
                    audit::within(s, &SystemClock, &act, |_, _| Ok(Done::new((), "ok")))?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// The CSRF token of a user signed in by the trusted proxy.
    pub fn trusted_csrf(&self, username: &str) -> String {
        token_hash(&format!("{}:{username}", self.inner.secret))
    }

    /// The user a trusted proxy names, with their role; `None` when the header is missing, the
    /// peer is not a trusted proxy, or the user has no account.
    pub async fn trusted(
        &self,
        value: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<Result<Identity, String>, AuthError> {
        let AuthMode::TrustedHeader { header, proxies } = &self.inner.cfg.mode else {
            return Ok(Err("not in trusted-header mode".into()));
        };
        let Some(peer) = peer.filter(|p| proxies.contains(p)) else {
            return Ok(Err(format!(
                "{header} is believed only from the configured proxies"
            )));
        };
        let _ = peer;
        let Some(name) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Err(format!("the proxy sent no {header}")));
        };
        let n = name.to_string();
        match self.inner.store.run(move |s| s.user(&n)).await? {
            Some((u, _)) => Ok(Ok(Identity {
                username: u.username,
                role: u.role,
            })),
            None => Ok(Err(format!("{name} has no account on this console"))),
        }
    }
}
