//! Accounts (argon2id hashes) and sessions (the SHA-256 of the token, never the token).
//!
//! Rules kept here:
//! - Password hashes and session-token hashes never leave this module but to the `auth` module
//!   that checks them; a token itself is never stored.
//! - A user name is taken once: a second account of the same name is refused, not replaced.
//! - A session is current only before its expiry; expired sessions are swept when a new one is
//!   written.

use super::{is_constraint, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use switchyard_core::auth::{Role, UserInfo};
use switchyard_core::UnixMs;

impl Store {
    pub fn users_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Adds an account; false when the name is taken.
    pub fn user_insert(&self, u: &UserInfo, hash: &str) -> Result<bool, StoreError> {
        match self.lock().execute(
            "INSERT INTO users (username, role, hash, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                u.username,
                u.role.as_str(),
                hash,
                u.created_at as i64,
                u.created_by
            ],
        ) {
            Ok(_) => Ok(true),
            Err(e) if is_constraint(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserInfo> {
        Ok(UserInfo {
            username: r.get(0)?,
            role: Role::parse(&r.get::<_, String>(1)?).unwrap_or(Role::Viewer),
            created_at: r.get::<_, i64>(2)? as UnixMs,
            created_by: r.get(3)?,
        })
    }

    /// An account and its password hash.
    pub fn user(&self, name: &str) -> Result<Option<(UserInfo, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT username, role, created_at, created_by, hash FROM users WHERE username = ?1",
                params![name],
                |r| Ok((Self::user_row(r)?, r.get::<_, String>(4)?)),
            )
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare(
            "SELECT username, role, created_at, created_by FROM users ORDER BY username",
        )?;
        let rows = st
            .query_map([], Self::user_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    pub fn session_insert(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        at: UnixMs,
        expires_at: UnixMs,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![at as i64],
        )?;
        conn.execute(
            "INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user, csrf, at as i64, expires_at as i64],
        )?;
        Ok(())
    }

    /// The session's user, role, CSRF token and expiry, if it is current.
    #[allow(clippy::type_complexity)]
    pub fn session(
        &self,
        token_hash: &str,
        now: UnixMs,
    ) -> Result<Option<(String, Role, String, UnixMs)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT s.username, u.role, s.csrf, s.expires_at FROM sessions s
                 JOIN users u ON u.username = s.username
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, now as i64],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Role::parse(&r.get::<_, String>(1)?).unwrap_or(Role::Viewer),
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)? as UnixMs,
                    ))
                },
            )
            .optional()?)
    }

    /// Ends a session; returns whose it was.
    pub fn session_delete(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let conn = self.lock();
        let user: Option<String> = conn
            .query_row(
                "SELECT username FROM sessions WHERE token_hash = ?1",
                params![token_hash],
                |r| r.get(0),
            )
            .optional()?;
        conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> UserInfo {
        UserInfo {
            username: name.into(),
            role,
            created_at: 1,
            created_by: "cli:root".into(),
        }
    }

    #[test]
    fn an_account_name_is_taken_once_and_its_hash_reads_back() {
        let s = Store::in_memory();
        assert!(s.user_insert(&user("alice", Role::Operator), "h1").unwrap());
        assert!(!s.user_insert(&user("alice", Role::Viewer), "h2").unwrap());
        s.user_insert(&user("bob", Role::Viewer), "h3").unwrap();
        assert_eq!(s.users_count().unwrap(), 2);
        assert_eq!(
            s.user("alice").unwrap(),
            Some((user("alice", Role::Operator), "h1".to_string())),
            "the first account stays"
        );
        assert_eq!(s.user("carol").unwrap(), None);
        let names: Vec<String> = s.users().unwrap().into_iter().map(|u| u.username).collect();
        assert_eq!(names, vec!["alice", "bob"], "in name order");
    }

    #[test]
    fn a_session_is_found_by_its_token_hash_until_it_expires() {
        let s = Store::in_memory();
        s.user_insert(&user("alice", Role::Operator), "h").unwrap();
        s.session_insert("th-1", "alice", "csrf-1", 100, 200)
            .unwrap();
        assert_eq!(
            s.session("th-1", 150).unwrap(),
            Some((
                "alice".to_string(),
                Role::Operator,
                "csrf-1".to_string(),
                200
            ))
        );
        assert_eq!(
            s.session("th-1", 200).unwrap(),
            None,
            "expired at its expiry"
        );
        assert_eq!(s.session("th-unknown", 150).unwrap(), None);
    }

    #[test]
    fn writing_a_session_sweeps_the_expired_ones() {
        let s = Store::in_memory();
        s.user_insert(&user("alice", Role::Operator), "h").unwrap();
        s.session_insert("old", "alice", "c", 100, 200).unwrap();
        s.session_insert("new", "alice", "c", 300, 400).unwrap();
        assert_eq!(
            s.session_delete("old").unwrap(),
            None,
            "the expired session went when the next was written"
        );
        assert!(s.session("new", 350).unwrap().is_some());
    }

    #[test]
    fn deleting_a_session_ends_it_and_says_whose_it_was() {
        let s = Store::in_memory();
        s.user_insert(&user("alice", Role::Admin), "h").unwrap();
        s.session_insert("th-1", "alice", "c", 100, 200).unwrap();
        assert_eq!(s.session_delete("th-1").unwrap().as_deref(), Some("alice"));
        assert_eq!(s.session("th-1", 150).unwrap(), None);
        assert_eq!(s.session_delete("th-1").unwrap(), None, "only once");
    }
}
