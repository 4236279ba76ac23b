//! Incidents: opened by the first critical alert, joined by every alert raised while open,
//! closed once all their alerts have cleared and no failover is under way.
//!
//! Rules kept here:
//! - raising an alert and opening or joining an incident is one transaction, decided by
//!   `switchyard_core::incidents::on_raise`: no alert is left outside an open incident;
//! - at most one incident is open at a time (the open one is the newest without `closed_at`);
//! - an incident's severity, regions and counts are read from its alerts, never stored twice.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};
use switchyard_core::alerts::{Condition, Severity};
use switchyard_core::incidents::{self, Incident, Joining};
use switchyard_core::UnixMs;

/// What raising one alert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    pub alert: i64,
    pub incident: Option<i64>,
    /// The incident was opened by this alert.
    pub opened: bool,
}

impl Store {
    /// Records a newly raised alert and puts it in the open incident, or opens one for it.
    pub fn alert_raise(&self, c: &Condition, at: UnixMs) -> Result<Raised, StoreError> {
        self.alert_raise_out(c, at, &super::Outbound::default())
    }

    /// [`Store::alert_raise`], putting the raise in the outbox of `out`'s receivers in the same
    /// transaction.
    pub fn alert_raise_out(
        &self,
        c: &Condition,
        at: UnixMs,
        out: &super::Outbound,
    ) -> Result<Raised, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let raised = raise_in(&tx, c, at, out)?;
        tx.commit()?;
        Ok(raised)
    }

    /// Raises every one of `items` in one transaction (a burst is one write, and its receivers
    /// see it whole), in order.
    pub fn alerts_raise_out(
        &self,
        items: &[(Condition, super::Outbound)],
        at: UnixMs,
    ) -> Result<Vec<Raised>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let raised = items
            .iter()
            .map(|(c, out)| raise_in(&tx, c, at, out))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(raised)
    }

    /// The open incident's id, if one is open.
    pub fn incident_open_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT id FROM incidents WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Closes incident `id` at `at` when [`incidents::may_close`] says so; returns whether it
    /// closed now.
    pub fn incident_close_if_done(
        &self,
        id: i64,
        at: UnixMs,
        failover_under_way: bool,
    ) -> Result<bool, StoreError> {
        let conn = self.lock();
        let open: u32 = conn.query_row(
            "SELECT COUNT(*) FROM alerts WHERE incident_id = ?1 AND cleared_at IS NULL",
            params![id],
            |r| r.get(0),
        )?;
        if !incidents::may_close(open, failover_under_way) {
            return Ok(false);
        }
        Ok(conn.execute(
            "UPDATE incidents SET closed_at = ?2 WHERE id = ?1 AND closed_at IS NULL",
            params![id, at as i64],
        )? == 1)
    }

    /// One incident, if it exists.
    pub fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        Ok(self.incidents_where("id = ?1", id, 1)?.pop())
    }

    /// The newest `limit` incidents, open only or all.
    pub fn incidents(&self, open_only: bool, limit: u32) -> Result<Vec<Incident>, StoreError> {
        self.incidents_where("(?1 = 0 OR closed_at IS NULL)", open_only as i64, limit)
    }

    fn incidents_where(
        &self,
        filter: &str,
        arg: i64,
        limit: u32,
    ) -> Result<Vec<Incident>, StoreError> {
        let heads: Vec<(i64, String, i64, Option<i64>)> = {
            let conn = self.lock();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT id, title, opened_at, closed_at FROM incidents WHERE {filter}
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![arg, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(heads.len());
        for (id, title, opened_at, closed_at) in heads {
            let alerts = self.incident_alerts(id)?;
            let mut regions: Vec<String> = Vec::new();
            // Oldest first, so the regions come in the order they first appeared.
            for a in alerts.iter().rev() {
                if incidents::names_a_region(a.kind) && !regions.contains(&a.subject) {
                    regions.push(a.subject.clone());
                }
            }
            let open = alerts.iter().filter(|a| a.cleared_at.is_none());
            out.push(Incident {
                id,
                title,
                severity: if alerts.iter().any(|a| a.severity == Severity::Critical) {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                regions,
                opened_at: opened_at as UnixMs,
                closed_at: closed_at.map(|c| c as UnixMs),
                alerts_open: open.clone().count() as u32,
                alerts_total: alerts.len() as u32,
                unacknowledged: open.filter(|a| a.ack.is_none()).count() as u32,
            });
        }
        Ok(out)
    }
}

fn raise_in(
    tx: &rusqlite::Transaction<'_>,
    c: &Condition,
    at: UnixMs,
    out: &super::Outbound,
) -> Result<Raised, StoreError> {
    let open: Option<i64> = tx
        .query_row(
            "SELECT id FROM incidents WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let (incident, opened) = match incidents::on_raise(open, c.kind.severity()) {
        Joining::Join(id) => (Some(id), false),
        Joining::Alone => (None, false),
        Joining::Open => {
            tx.execute(
                "INSERT INTO incidents (title, opened_at) VALUES (?1, ?2)",
                params![incidents::title(c.kind, &c.subject), at as i64],
            )?;
            (Some(tx.last_insert_rowid()), true)
        }
    };
    tx.execute(
        "INSERT INTO alerts (kind, subject, message, raised_at, incident_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![c.kind.as_str(), c.subject, c.message, at as i64, incident],
    )?;
    let alert = tx.last_insert_rowid();
    super::deliveries::enqueue_raise(tx, alert, at, out)?;
    Ok(Raised {
        alert,
        incident,
        opened,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::AlertKind;
    use switchyard_core::incidents::Acknowledgement;

    fn condition(kind: AlertKind, subject: &str) -> Condition {
        Condition {
            kind,
            subject: subject.into(),
            message: format!("{} {subject}", kind.as_str()),
        }
    }

    #[test]
    fn a_critical_alert_opens_an_incident_that_later_alerts_join() {
        let s = Store::in_memory();
        let warn = s
            .alert_raise(&condition(AlertKind::RegionDegraded, "eu-west-1"), 1)
            .unwrap();
        assert_eq!(
            (warn.incident, warn.opened),
            (None, false),
            "a lone warning opens none"
        );
        let crit = s
            .alert_raise(&condition(AlertKind::RegionUnreachable, "us-east-1"), 2)
            .unwrap();
        assert!(crit.opened);
        let gw = s
            .alert_raise(&condition(AlertKind::BacklogNearCapacity, "gw-1"), 3)
            .unwrap();
        assert_eq!((gw.incident, gw.opened), (crit.incident, false));
        let i = s.incident(crit.incident.unwrap()).unwrap().unwrap();
        assert_eq!(i.title, "us-east-1 unreachable");
        assert_eq!(
            (i.severity, i.alerts_open, i.alerts_total),
            (Severity::Critical, 2, 2)
        );
        assert_eq!(
            i.regions,
            vec!["us-east-1".to_string()],
            "a gateway is not a region"
        );
    }

    #[test]
    fn an_incident_closes_only_once_its_alerts_cleared_and_no_failover_runs() {
        let s = Store::in_memory();
        let r = s
            .alert_raise(&condition(AlertKind::RegionUnreachable, "us-east-1"), 2)
            .unwrap();
        let id = r.incident.unwrap();
        assert!(
            !s.incident_close_if_done(id, 3, false).unwrap(),
            "an alert is open"
        );
        s.alert_clear(r.alert, 4).unwrap();
        assert!(
            !s.incident_close_if_done(id, 5, true).unwrap(),
            "a failover runs"
        );
        assert!(s.incident_close_if_done(id, 6, false).unwrap());
        assert!(
            !s.incident_close_if_done(id, 7, false).unwrap(),
            "closed once"
        );
        assert_eq!(s.incident(id).unwrap().unwrap().closed_at, Some(6));
        assert_eq!(s.incident_open_id().unwrap(), None);
        let next = s
            .alert_raise(&condition(AlertKind::DropsStarted, "gw-2"), 8)
            .unwrap();
        assert!(
            next.opened && next.incident != Some(id),
            "a new incident, not the closed one"
        );
    }

    #[test]
    fn an_acknowledgement_is_kept_once_and_a_second_names_the_first() {
        let s = Store::in_memory();
        let r = s
            .alert_raise(&condition(AlertKind::RegionUnreachable, "us-east-1"), 2)
            .unwrap();
        let ack = |by: &str, at| Acknowledgement {
            by: by.into(),
            at,
            note: "looking".into(),
        };
        let a = s.alert_ack(r.alert, &ack("ana", 10)).unwrap().unwrap();
        assert_eq!(a.ack, Some(ack("ana", 10)));
        let again = s.alert_ack(r.alert, &ack("bob", 11)).err().unwrap();
        assert!(again.to_string().contains("by ana"), "{again}");
        assert_eq!(s.alert_ack(999, &ack("ana", 12)).unwrap(), None);
        let i = s.incident(r.incident.unwrap()).unwrap().unwrap();
        assert_eq!(i.unacknowledged, 0);
    }

    #[test]
    fn alerts_of_an_incident_survive_pruning() {
        let s = Store::in_memory();
        let r = s
            .alert_raise(&condition(AlertKind::RegionUnreachable, "us-east-1"), 2)
            .unwrap();
        s.alert_clear(r.alert, 3).unwrap();
        let conn = s.lock();
        assert_eq!(
            super::super::alerts::prune_cleared(&conn, 1_000).unwrap(),
            0
        );
    }
}
