//! The audit log: who did what, why, and how it ended, for every state-changing action.
//!
//! Rules kept here:
//! - An entry is written before the action starts ("under way": no result) and finished once,
//!   with its result; a row left without a result by a crash says so.
//! - A finished entry is never rewritten: a second finish is refused.
//! - The operations log (journald under systemd) carries who did what; the detail, which may
//!   carry a command's payload, stays in the database.
//!
//! The writers ([`Store::audit_begin`], [`Store::audit_finish`], and [`Store::drill_end`],
//! which finishes a drill's entry in the transaction that saves its end) are reached only through the
//! engine's one audited path (`engine/audit.rs`); a test there reads the source tree to keep it
//! so. An entry is the API's own type, so what is stored is what is shown.

use super::{Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use switchyard_core::UnixMs;

pub use switchyard_core::api::AuditEntry;

const COLUMNS: &str = "id, at, actor, action, reason, detail, result, finished_at";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get::<_, i64>(1)? as UnixMs,
        actor: r.get(2)?,
        action: r.get(3)?,
        reason: r.get(4)?,
        detail: r.get(5)?,
        result: r.get(6)?,
        finished_at: r.get::<_, Option<i64>>(7)?.map(|v| v as UnixMs),
    })
}

/// Writes entry `id`'s result line on `conn` (a transaction's, when the action's own last
/// writes go with it).
pub(super) fn finish_on(
    conn: &Connection,
    id: i64,
    at: UnixMs,
    result: &str,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE audit SET result = ?2, finished_at = ?3 WHERE id = ?1 AND result IS NULL",
        params![id, result, at as i64],
    )?;
    if n == 1 {
        tracing::info!("audit #{id}: {result}");
        Ok(())
    } else {
        Err(StoreError::AuditNotOpen { id })
    }
}

impl Store {
    /// Journals the start of a state-changing action; returns its audit id. The row says
    /// "under way" (no result) until [`Store::audit_finish`] records how it ended.
    pub fn audit_begin(
        &self,
        at: UnixMs,
        actor: &str,
        action: &str,
        reason: &str,
        detail: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO audit (at, actor, action, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![at as i64, actor, action, reason, detail],
        )?;
        let id = conn.last_insert_rowid();
        // The operations log (journald under systemd) says who did what; the detail, which may
        // carry a command's payload, stays in the database.
        tracing::info!("audit #{id}: {actor}: {action} ({reason})");
        Ok(id)
    }

    /// Records how an action ended. Refused ([`StoreError::AuditNotOpen`]) when the entry does
    /// not exist or is already finished.
    pub fn audit_finish(&self, id: i64, at: UnixMs, result: &str) -> Result<(), StoreError> {
        finish_on(&self.lock(), id, at, result)
    }

    pub fn audit_entry(&self, id: i64) -> Result<Option<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!("SELECT {COLUMNS} FROM audit WHERE id = ?1"),
                params![id],
                entry,
            )
            .optional()?)
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_recent(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The entries written from `from` to `to` (both included), oldest first, at most `limit`.
    pub fn audit_between(
        &self,
        from: UnixMs,
        to: UnixMs,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit WHERE at BETWEEN ?1 AND ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![from as i64, to as i64, limit], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_entry_is_open_until_finished_and_finishes_once() {
        let s = Store::in_memory();
        let id = s
            .audit_begin(5, "alice", "sim.inject_fault", "training", "{}")
            .unwrap();
        assert_eq!(s.audit_entry(id).unwrap().unwrap().result, None);
        s.audit_finish(id, 6, "ok").unwrap();
        let e = s.audit_entry(id).unwrap().unwrap();
        assert_eq!(
            (e.result.as_deref(), e.finished_at, e.actor.as_str()),
            (Some("ok"), Some(6), "alice")
        );
        assert!(s.audit_finish(id, 7, "again").is_err());
    }

    #[test]
    fn a_second_finish_is_refused_with_the_text_operators_read() {
        let s = Store::in_memory();
        let id = s.audit_begin(1, "bob", "a", "r", "").unwrap();
        s.audit_finish(id, 2, "ok").unwrap();
        let err = s.audit_finish(id, 3, "again").err().unwrap();
        assert_eq!(err, StoreError::AuditNotOpen { id });
        assert_eq!(
            err.to_string(),
            format!("audit entry {id} does not exist or is already finished")
        );
        assert_eq!(
            s.audit_entry(id).unwrap().unwrap().result.as_deref(),
            Some("ok"),
            "the first result stays"
        );
    }

    #[test]
    fn recent_audit_entries_come_newest_first_and_limited() {
        let s = Store::in_memory();
        let ids: Vec<i64> = (0..3)
            .map(|i| s.audit_begin(i, "carol", "act", "why", "{}").unwrap())
            .collect();
        let got: Vec<i64> = s.audit_recent(2).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(got, vec![ids[2], ids[1]]);
        assert_eq!(s.audit_entry(9_999).unwrap(), None);
    }
}
