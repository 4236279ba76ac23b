//! Alerts: raised conditions, open until cleared.
//!
//! Rules kept here:
//! - An alert is cleared once: clearing a cleared alert changes nothing.
//! - An open alert survives pruning whatever its age; a cleared one goes with the samples of its
//!   time.
//! - A stored kind this build does not know is an error, never a guess.
//! - An alert of an incident is kept as long as its incident (the post-incident review needs
//!   it); pruning takes only alerts of no incident.
//! - An alert is acknowledged once; a second acknowledgement is refused, naming the first.
//! - A raise and a clear go into the outbox in the transaction that stores them.

use super::{Store, StoreError};
use rusqlite::{params, Connection};
use switchyard_core::alerts::{Alert, AlertKind};
use switchyard_core::incidents::Acknowledgement;
use switchyard_core::UnixMs;

/// Deletes alerts cleared before `before`; returns how many went. For [`Store::prune`].
pub(super) fn prune_cleared(conn: &Connection, before: UnixMs) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM alerts
         WHERE cleared_at IS NOT NULL AND cleared_at < ?1 AND incident_id IS NULL",
        params![before as i64],
    )?)
}

impl Store {
    /// Clears alert `id` and, in the same transaction, puts its clear in the outbox of every
    /// receiver that was told of its raise (`deliveries.rs`).
    pub fn alert_clear(&self, id: i64, at: UnixMs) -> Result<(), StoreError> {
        self.alerts_clear(&[id], at)
    }

    /// Clears every one of `ids` in one transaction, as [`Store::alert_clear`] does one.
    pub fn alerts_clear(&self, ids: &[i64], at: UnixMs) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for &id in ids {
            let cleared = tx.execute(
                "UPDATE alerts SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                params![id, at as i64],
            )?;
            if cleared > 0 {
                super::deliveries::enqueue_clear(&tx, id, at)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` alerts, open only or all.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where("(?1 = 0 OR cleared_at IS NULL)", open_only as i64, limit)
    }

    /// One alert, if it exists.
    pub fn alert(&self, id: i64) -> Result<Option<Alert>, StoreError> {
        Ok(self.alerts_where("id = ?1", id, 1)?.pop())
    }

    /// The alerts of an incident, newest first.
    pub fn incident_alerts(&self, incident: i64) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where("incident_id = ?1", incident, u32::MAX)
    }

    /// Records who acknowledged alert `id`, when and why. `Ok(None)`: no such alert; a second
    /// acknowledgement is [`StoreError::AlreadyAcknowledged`].
    pub fn alert_ack(&self, id: i64, ack: &Acknowledgement) -> Result<Option<Alert>, StoreError> {
        let Some(alert) = self.alert(id)? else {
            return Ok(None);
        };
        if let Some(first) = alert.ack {
            return Err(StoreError::AlreadyAcknowledged {
                id,
                by: first.by,
                at: first.at,
            });
        }
        self.lock().execute(
            "UPDATE alerts SET ack_by = ?2, ack_at = ?3, ack_note = ?4 WHERE id = ?1",
            params![id, ack.by, ack.at as i64, ack.note],
        )?;
        self.alert(id)
    }

    /// Alerts matching `filter` (an SQL condition over `?1`), newest first.
    fn alerts_where(&self, filter: &str, arg: i64, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, kind, subject, message, raised_at, cleared_at, incident_id,
                    ack_by, ack_at, ack_note
             FROM alerts WHERE {filter} ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![arg, limit], |r| {
            let ack = match (r.get::<_, Option<String>>(7)?, r.get::<_, Option<i64>>(8)?) {
                (Some(by), Some(at)) => Some(Acknowledgement {
                    by,
                    at: at as UnixMs,
                    note: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                }),
                _ => None,
            };
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                ack,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, subject, message, raised_at, cleared_at, incident_id, ack) = row?;
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
                incident_id,
                ack,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::Condition;

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
                s.alert_raise(&c("gw-1"), 10).unwrap().alert,
                s.alert_raise(&c("gw-2"), 20).unwrap().alert,
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
            .unwrap()
            .alert;
        s.alert_clear(id, 2).unwrap();
        s.alert_clear(id, 3).unwrap();
        assert_eq!(s.alerts(false, 1).unwrap()[0].cleared_at, Some(2));
    }
}
