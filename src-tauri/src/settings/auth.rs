//! The `[auth]` section: who may use the server (`switchyard serve`; the desktop app in
//! standalone mode has no login).
//!
//! Rules kept here:
//! - `mode` is "local" (the default) or "trusted_header"; `header` and `proxies` only with
//!   "trusted_header", and then both: a header name, and the proxies' IP addresses.
//! - Sessions last 1..=720 hours, 1..=100 failed sign-ins a minute; the defaults are
//!   [`AuthConfig::default`].
//! - Cookies are Secure when the server itself speaks HTTPS.

use super::error::{between, Fields, SettingsError};
use crate::auth::{AuthConfig, AuthMode};
use serde::Deserialize;
use std::time::Duration;

const HOUR_SECS: u64 = 3_600;

/// Who may use the server (`switchyard serve`; the desktop app in standalone mode has no login).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// "local" (accounts made with `switchyard user add` or by an admin; the default) or
    /// "trusted_header" (an SSO proxy in front names the user).
    pub mode: Option<String>,
    /// trusted_header: the header the proxy sets to the user name (e.g. "X-Forwarded-User").
    pub header: Option<String>,
    /// trusted_header: the proxy's addresses; the header from anywhere else is ignored.
    pub proxies: Option<Vec<String>>,
    /// How long a session lasts, in hours (default 12).
    pub session_hours: Option<u64>,
    /// Failed sign-ins allowed per user name and per client address in a minute (default 5).
    pub login_attempts: Option<usize>,
}

impl AuthSection {
    /// The sign-in configuration; `https` when the server speaks HTTPS itself.
    pub(super) fn resolve(
        &self,
        https: bool,
        fields: &Fields,
    ) -> Result<AuthConfig, SettingsError> {
        let d = AuthConfig::default();
        let mode = self.mode(fields)?;
        let hours = between(
            || fields.at("auth.session_hours"),
            self.session_hours
                .unwrap_or(d.session_ttl.as_secs() / HOUR_SECS),
            1,
            720,
            "hours",
        )?;
        let attempts = between(
            || fields.at("auth.login_attempts"),
            self.login_attempts.unwrap_or(d.rate.attempts),
            1,
            100,
            "",
        )?;
        Ok(AuthConfig {
            mode,
            session_ttl: Duration::from_secs(hours * HOUR_SECS),
            rate: switchyard_core::auth::RateLimit { attempts, ..d.rate },
            secure_cookies: https,
            // `[metrics]` adds it.
            scrape_token: None,
        })
    }

    fn mode(&self, fields: &Fields) -> Result<AuthMode, SettingsError> {
        match self.mode.as_deref() {
            None | Some("local") => {
                if self.header.is_some() || self.proxies.is_some() {
                    return Err(fields
                        .at("auth.mode")
                        .invalid("header and proxies are for mode = \"trusted_header\""));
                }
                Ok(AuthMode::Local)
            }
            Some("trusted_header") => {
                let header = self.header.clone().ok_or_else(|| {
                    fields
                        .at("auth.header")
                        .invalid("the header the proxy sets is required")
                })?;
                let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                if header.is_empty() || !header.bytes().all(token) {
                    return Err(fields
                        .at("auth.header")
                        .invalid(format!("'{header}' is not a header name")));
                }
                let proxies = self
                    .proxies
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| {
                        fields
                            .at("auth.proxies")
                            .invalid("the proxy's addresses are required")
                    })?
                    .iter()
                    .map(|p| {
                        p.parse().map_err(|_| {
                            fields
                                .at("auth.proxies")
                                .invalid(format!("'{p}' is not an IP address"))
                        })
                    })
                    .collect::<Result<Vec<std::net::IpAddr>, _>>()?;
                Ok(AuthMode::TrustedHeader {
                    header: header.to_ascii_lowercase(),
                    proxies,
                })
            }
            Some(other) => Err(fields.at("auth.mode").invalid(format!(
                "'{other}' is not \"local\" or \"trusted_header\" (turn logins off with --no-auth, on loopback only)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigFile, Overrides, Settings};

    #[test]
    fn auth_settings_are_checked_naming_the_field() {
        let parse = |t: &str| {
            Settings::resolve(
                ConfigFile::parse(t, "sy.toml").unwrap(),
                Some("sy.toml"),
                Overrides::default(),
            )
        };
        let s = parse("[auth]\nmode = \"trusted_header\"\nheader = \"X-Forwarded-User\"\nproxies = [\"10.0.0.5\"]\n").unwrap();
        assert_eq!(
            s.auth.mode,
            crate::auth::AuthMode::TrustedHeader {
                header: "x-forwarded-user".into(),
                proxies: vec!["10.0.0.5".parse().unwrap()]
            }
        );
        for (text, needle) in [
            ("[auth]\nmode = \"open\"\n", "auth.mode"),
            ("[auth]\nmode = \"trusted_header\"\nproxies = [\"10.0.0.5\"]\n", "auth.header"),
            ("[auth]\nmode = \"trusted_header\"\nheader = \"X-User\"\n", "auth.proxies"),
            ("[auth]\nmode = \"trusted_header\"\nheader = \"X-User\"\nproxies = [\"proxy.corp\"]\n", "'proxy.corp' is not an IP address"),
            ("[auth]\nheader = \"X-User\"\n", "are for mode = \"trusted_header\""),
            ("[auth]\nsession_hours = 0\n", "auth.session_hours"),
            ("[auth]\nlogin_attempts = 0\n", "auth.login_attempts"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn cookies_are_secure_when_the_server_speaks_https() {
        let parse = |t: &str| {
            Settings::resolve(
                ConfigFile::parse(t, "sy.toml").unwrap(),
                Some("sy.toml"),
                Overrides::default(),
            )
            .unwrap()
        };
        assert!(!parse("").auth.secure_cookies);
        assert!(
            parse("[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n")
                .auth
                .secure_cookies
        );
    }
}
