//! The outbox of alerts going out: one row per notice (a raise, a clear, a test) per receiver,
//! written in the transaction that stores the alert, and marked as the dispatcher sends it.
//!
//! Rules kept here:
//! - a notice is one row per (receiver, alert, event): raising or clearing twice adds nothing;
//! - a clear goes to the receivers that were told of the raise (not given up, not refused);
//! - a row leaves `pending`/`retrying` only by a mark: delivered, retried (with its next
//!   time), gave up or refused; every mark counts an attempt, and a delivered row keeps the
//!   error of the attempt before it;
//! - finished rows go with the retention period; open rows stay whatever their age.

use super::{Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use switchyard_core::alerts::{Alert, AlertKind};
use switchyard_core::delivery::{Delivery, DeliveryState, Event};
use switchyard_core::UnixMs;

/// Who is to be told of a raise, and of which region the alert is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbound {
    /// The receivers whose filter takes the alert.
    pub receivers: Vec<String>,
    pub region: Option<String>,
}

/// An open row of one receiver's outbox, with its alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub event: Event,
    pub attempts: u32,
    pub created_at: UnixMs,
    pub next_at: UnixMs,
    pub region: Option<String>,
    /// `None` for a test notice.
    pub alert: Option<Alert>,
    /// Who sent a test notice.
    pub requested_by: Option<String>,
}

/// What became of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Delivered,
    /// Failed; try again at `next_at`.
    Retry {
        error: String,
        next_at: UnixMs,
    },
    /// Failed for good: `GaveUp` or `Refused`.
    Final {
        state: DeliveryState,
        error: String,
    },
}

pub(super) fn enqueue_raise(
    tx: &Transaction<'_>,
    alert: i64,
    at: UnixMs,
    out: &Outbound,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (receiver, alert_id, event, state, created_at, next_at, region)
         VALUES (?1, ?2, 'firing', 'pending', ?3, ?3, ?4)",
    )?;
    for r in &out.receivers {
        stmt.execute(params![r, alert, at as i64, out.region])?;
    }
    Ok(())
}

pub(super) fn enqueue_clear(
    tx: &Transaction<'_>,
    alert: i64,
    at: UnixMs,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO deliveries (receiver, alert_id, event, state, created_at, next_at, region)
         SELECT receiver, alert_id, 'resolved', 'pending', ?2, ?2, region FROM deliveries
         WHERE alert_id = ?1 AND event = 'firing' AND state NOT IN ('gave_up', 'refused')",
        params![alert, at as i64],
    )?;
    Ok(())
}

/// Deletes finished rows made before `before`. For [`Store::prune`].
pub(super) fn prune_finished(conn: &Connection, before: UnixMs) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM deliveries
         WHERE created_at < ?1 AND state NOT IN ('pending', 'retrying')",
        params![before as i64],
    )?)
}

fn parse_event(id: i64, s: &str) -> Result<Event, StoreError> {
    Event::parse(s)
        .ok_or_else(|| StoreError::Unreadable(format!("delivery {id} has an unknown event '{s}'")))
}

/// An outbox row as read: id, alert, event, attempts, created, next, region, requested by.
type OutboxColumns = (
    i64,
    Option<i64>,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

impl Store {
    /// The oldest `limit` open rows of `receiver`'s outbox, oldest first.
    pub fn outbox(&self, receiver: &str, limit: u32) -> Result<Vec<Queued>, StoreError> {
        let rows: Vec<OutboxColumns> = {
            let conn = self.lock();
            let mut stmt = conn.prepare_cached(
                "SELECT id, alert_id, event, attempts, created_at, next_at, region, requested_by FROM deliveries
                 WHERE receiver = ?1 AND state IN ('pending', 'retrying') ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![receiver, limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, alert_id, event, attempts, created_at, next_at, region, requested_by) in rows {
            let alert = match alert_id {
                Some(a) => Some(self.alert(a)?.ok_or_else(|| {
                    StoreError::Unreadable(format!("delivery {id} names alert {a}, which is gone"))
                })?),
                None => None,
            };
            out.push(Queued {
                id,
                event: parse_event(id, &event)?,
                attempts: attempts as u32,
                created_at: created_at as UnixMs,
                next_at: next_at as UnixMs,
                region,
                alert,
                requested_by,
            });
        }
        Ok(out)
    }

    /// The raises delivered to `receiver` whose alert is still open: what Alertmanager is told
    /// again while they fire. `(delivery id, region, alert)`, oldest first.
    pub fn firing_delivered(
        &self,
        receiver: &str,
    ) -> Result<Vec<(i64, Option<String>, Alert)>, StoreError> {
        let rows: Vec<(i64, i64, Option<String>)> = {
            let conn = self.lock();
            let mut stmt = conn.prepare_cached(
                "SELECT d.id, d.alert_id, d.region FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                 WHERE d.receiver = ?1 AND d.event = 'firing' AND d.state = 'delivered'
                   AND a.cleared_at IS NULL ORDER BY d.id",
            )?;
            let rows =
                stmt.query_map(params![receiver], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, alert, region) in rows {
            if let Some(a) = self.alert(alert)? {
                out.push((id, region, a));
            }
        }
        Ok(out)
    }

    /// Adds a test notice from `by` to `receiver`'s log, pending; returns its id.
    pub fn delivery_test(&self, receiver: &str, by: &str, at: UnixMs) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO deliveries (receiver, alert_id, event, state, created_at, next_at, requested_by)
             VALUES (?1, NULL, 'test', 'pending', ?2, ?2, ?3)",
            params![receiver, at as i64, by],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Marks open rows `ids` after an attempt at `at`. Rows that are no longer open are left.
    pub fn deliveries_mark(&self, ids: &[i64], mark: &Mark, at: UnixMs) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries SET state = ?2, attempts = attempts + 1,
                        last_error = COALESCE(?3, last_error),
                        next_at = ?4, delivered_at = ?5
                 WHERE id = ?1 AND state IN ('pending', 'retrying')",
            )?;
            let (state, error, next_at, delivered_at) = match mark {
                Mark::Delivered => (DeliveryState::Delivered, None, at, Some(at as i64)),
                Mark::Retry { error, next_at } => (
                    DeliveryState::Retrying,
                    Some(error.as_str()),
                    *next_at,
                    None,
                ),
                Mark::Final { state, error } => (*state, Some(error.as_str()), at, None),
            };
            for id in ids {
                stmt.execute(params![
                    id,
                    state.as_str(),
                    error,
                    next_at as i64,
                    delivered_at
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many rows of `receiver` are still to be sent.
    pub fn deliveries_queued(&self, receiver: &str) -> Result<u64, StoreError> {
        let n: i64 = self.lock().query_row(
            "SELECT COUNT(*) FROM deliveries WHERE receiver = ?1 AND state IN ('pending', 'retrying')",
            params![receiver],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// One row of the log.
    pub fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        Ok(self.deliveries_where("d.id = ?1", id, 1)?.pop())
    }

    /// The newest `limit` rows of the log, newest first.
    pub fn deliveries(&self, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries_where("?1 = ?1", 0, limit)
    }

    fn deliveries_where(
        &self,
        filter: &str,
        arg: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT d.id, d.receiver, d.alert_id, d.event, d.state, d.attempts, d.last_error,
                    d.created_at, d.next_at, d.delivered_at, a.kind, a.subject
             FROM deliveries d LEFT JOIN alerts a ON a.id = d.alert_id
             WHERE {filter} ORDER BY d.id DESC LIMIT ?2"
        ))?;
        type Row = (
            i64,
            String,
            Option<i64>,
            String,
            String,
            i64,
            Option<String>,
            i64,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows = stmt.query_map(params![arg, limit as i64], |r| {
            Ok::<Row, rusqlite::Error>((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                receiver,
                alert_id,
                event,
                state,
                attempts,
                last_error,
                created,
                next,
                done,
                kind,
                subject,
            ) = row?;
            let state = DeliveryState::parse(&state).ok_or_else(|| {
                StoreError::Unreadable(format!("delivery {id} has an unknown state '{state}'"))
            })?;
            out.push(Delivery {
                id,
                receiver,
                alert_id,
                event: parse_event(id, &event)?,
                state,
                attempts: attempts as u32,
                last_error,
                created_at: created as UnixMs,
                next_attempt_at: state.is_open().then_some(next as UnixMs),
                delivered_at: done.map(|d| d as UnixMs),
                alert_kind: kind.as_deref().and_then(AlertKind::parse),
                subject,
            });
        }
        Ok(out)
    }

    /// The state of row `id`, if it exists (tests and the test-alert answer).
    pub fn delivery_state(&self, id: i64) -> Result<Option<DeliveryState>, StoreError> {
        let s: Option<String> = self
            .lock()
            .query_row(
                "SELECT state FROM deliveries WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.as_deref().and_then(DeliveryState::parse))
    }
}

#[cfg(test)]
mod tests;
