//! Alerts: raised conditions, open until cleared.
//!
//! Rules kept here:
//! - An alert is cleared once: clearing a cleared alert changes nothing.
//! - An open alert survives pruning whatever its age; a cleared one goes with the samples of its
//!   time.
//! - A stored kind this build does not know is an error, never a guess.

use super::{Store, StoreError};
use rusqlite::{params, Connection};
use switchyard_core::alerts::{Alert, AlertKind, Condition};
use switchyard_core::UnixMs;

/// Deletes alerts cleared before `before`; returns how many went. For [`Store::prune`].
pub(super) fn prune_cleared(conn: &Connection, before: UnixMs) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?1",
        params![before as i64],
    )?)
}

impl Store {
    /// Records a newly raised alert; returns its id.
    pub fn alert_raise(&self, c: &Condition, at: UnixMs) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO alerts (kind, subject, message, raised_at) VALUES (?1, ?2, ?3, ?4)",
            params![c.kind.as_str(), c.subject, c.message, at as i64],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn alert_clear(&self, id: i64, at: UnixMs) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE alerts SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
            params![id, at as i64],
        )?;
        Ok(())
    }

    /// The newest `limit` alerts, open only or all.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, subject, message, raised_at, cleared_at FROM alerts
             WHERE (?1 = 0 OR cleared_at IS NULL) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![open_only as i64, limit], |r| {
            let kind: String = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                kind,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, subject, message, raised_at, cleared_at) = row?;
            let kind = AlertKind::parse(&kind).ok_or_else(|| {
                StoreError::Unreadable(format!("alert {id} has an unknown kind '{kind}'"))
            })?;
            out.push(Alert {
                id,
                kind,
                severity: kind.severity(),
                subject,
                message,
                raised_at: raised_at as UnixMs,
                cleared_at: cleared_at.map(|c| c as UnixMs),
                incident_id: None,
                ack: None,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_stay_open_until_cleared_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let c = |subject: &str| Condition {
            kind: AlertKind::DropsStarted,
            subject: subject.into(),
            message: "full".into(),
        };
        let (a, b) = {
            let s = Store::open(dir.path()).unwrap();
            (
                s.alert_raise(&c("gw-1"), 10).unwrap(),
                s.alert_raise(&c("gw-2"), 20).unwrap(),
            )
        };
        let s = Store::open(dir.path()).unwrap();
        s.alert_clear(a, 30).unwrap();
        let open = s.alerts(true, 10).unwrap();
        assert_eq!(open.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b]);
        let all = s.alerts(false, 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[1].id, all[1].cleared_at, all[1].severity),
            (a, Some(30), switchyard_core::alerts::Severity::Critical)
        );
        assert_eq!(
            s.alerts(false, 1).unwrap()[0].id,
            b,
            "newest first, limited"
        );
    }

    #[test]
    fn an_alert_is_cleared_once_and_keeps_its_first_clearing_time() {
        let s = Store::in_memory();
        let id = s
            .alert_raise(
                &Condition {
                    kind: AlertKind::RegionDegraded,
                    subject: "us-east-1".into(),
                    message: "m".into(),
                },
                1,
            )
            .unwrap();
        s.alert_clear(id, 2).unwrap();
        s.alert_clear(id, 3).unwrap();
        assert_eq!(s.alerts(false, 1).unwrap()[0].cleared_at, Some(2));
    }
}
