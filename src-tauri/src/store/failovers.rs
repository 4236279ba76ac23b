//! Failovers: the one-at-a-time lock, the rows and their step journal.
//!
//! Rules kept here:
//! - One failover under way at a time: the `in_progress` column (1 while under way, NULL once
//!   ended) is UNIQUE, so two requests racing from two processes cannot both win. A refused
//!   request reads [`StoreError::FailoverLocked`] naming the holder's id.
//! - Ending a failover (a final phase) releases the lock in the same statement that saves it.
//! - Every step is journalled when it starts and again when it ends; a step left open by a
//!   stopped process is closed as "interrupted" at restart, never left looking under way.

use super::{is_constraint, to_json, Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use switchyard_core::failover::{Failover, Phase, Step};
use switchyard_core::UnixMs;

/// The failover under way, if any.
fn lock_holder(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM failovers WHERE in_progress = 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

impl Store {
    /// Records a new failover. Refused with [`StoreError::FailoverLocked`], naming the other
    /// one, while another is under way: the `in_progress` column's UNIQUE constraint is the
    /// lock, so two requests racing from two processes cannot both win either.
    pub fn failover_insert(&self, f: &Failover) -> Result<(), StoreError> {
        let preflight = to_json(&f.preflight, "the preflight")?;
        let mut conn = self.lock();
        // IMMEDIATE: the look for a holder and the insert happen under SQLite's write lock, so
        // another process cannot slip in between; the UNIQUE column stays the last word.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(holder) = lock_holder(&tx)? {
            return Err(StoreError::FailoverLocked { holder });
        }
        let inserted = tx.execute(
            "INSERT INTO failovers (id, source, target, reason, requested_by, approved_by, phase,
                 preflight, online_before, back, complete_share, requested_at, updated_at,
                 ended_at, outcome, in_progress, dns_ttl_secs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)",
            params![
                f.id,
                f.source,
                f.target,
                f.reason,
                f.requested_by,
                f.approved_by,
                f.phase.as_str(),
                preflight,
                f.online_before as i64,
                f.back as i64,
                f.complete_share,
                f.requested_at as i64,
                f.updated_at as i64,
                f.ended_at.map(|v| v as i64),
                f.outcome,
                (!f.phase.is_final()).then_some(1),
                f.dns_ttl_secs as i64,
            ],
        );
        match inserted {
            Ok(_) => {
                tx.commit()?;
                Ok(())
            }
            // The lock refused it after all: read back who holds it.
            Err(e) if is_constraint(&e) => match lock_holder(&tx)? {
                Some(holder) => Err(StoreError::FailoverLocked { holder }),
                None => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Saves a failover's phase and figures; releases the lock once it has ended.
    pub fn failover_update(&self, f: &Failover) -> Result<(), StoreError> {
        let stragglers = match &f.stragglers {
            Some(st) => Some(to_json(st, "the stragglers' step")?),
            None => None,
        };
        self.lock().execute(
            "UPDATE failovers SET approved_by = ?2, phase = ?3, back = ?4, updated_at = ?5,
                 ended_at = ?6, outcome = ?7, in_progress = ?8, switched_at = ?9,
                 dns_ttl_secs = ?10, stragglers = ?11
             WHERE id = ?1",
            params![
                f.id,
                f.approved_by,
                f.phase.as_str(),
                f.back as i64,
                f.updated_at as i64,
                f.ended_at.map(|v| v as i64),
                f.outcome,
                (!f.phase.is_final()).then_some(1),
                f.switched_at.map(|v| v as i64),
                f.dns_ttl_secs as i64,
                stragglers,
            ],
        )?;
        Ok(())
    }

    /// Journals the start of a step; returns its id.
    pub fn step_begin(&self, failover: &str, step: &str, at: UnixMs) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO failover_steps (failover_id, step, started_at) VALUES (?1, ?2, ?3)",
            params![failover, step, at as i64],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Journals how a step ended.
    pub fn step_finish(
        &self,
        id: i64,
        at: UnixMs,
        outcome: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE failover_steps SET finished_at = ?2, outcome = ?3, detail = ?4 WHERE id = ?1",
            params![id, at as i64, outcome, detail],
        )?;
        Ok(())
    }

    /// Marks every unfinished step of a failover as interrupted.
    pub fn close_open_steps(
        &self,
        failover: &str,
        at: UnixMs,
        detail: &str,
    ) -> Result<usize, StoreError> {
        Ok(self.lock().execute(
            "UPDATE failover_steps SET finished_at = ?2, outcome = 'interrupted', detail = ?3
             WHERE failover_id = ?1 AND finished_at IS NULL",
            params![failover, at as i64, detail],
        )?)
    }

    fn failovers_where(
        &self,
        cond: &str,
        arg: &str,
        limit: u32,
    ) -> Result<Vec<Failover>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT id, source, target, reason, requested_by, approved_by, phase, preflight,
                    online_before, back, complete_share, requested_at, updated_at, ended_at, outcome,
                    switched_at, dns_ttl_secs, stragglers
             FROM failovers WHERE {cond} ORDER BY requested_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![arg, limit], |r| {
            let phase: String = r.get(6)?;
            let preflight: String = r.get(7)?;
            let stragglers: Option<String> = r.get(17)?;
            Ok((
                Failover {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    target: r.get(2)?,
                    reason: r.get(3)?,
                    requested_by: r.get(4)?,
                    approved_by: r.get(5)?,
                    phase: Phase::parse(&phase).unwrap_or(Phase::Failed),
                    preflight: switchyard_core::failover::Readiness {
                        target: String::new(),
                        overall: switchyard_core::failover::Verdict::Fail,
                        checks: vec![],
                    },
                    online_before: r.get::<_, i64>(8)? as u64,
                    back: r.get::<_, i64>(9)? as u64,
                    complete_share: r.get(10)?,
                    requested_at: r.get::<_, i64>(11)? as UnixMs,
                    updated_at: r.get::<_, i64>(12)? as UnixMs,
                    ended_at: r.get::<_, Option<i64>>(13)?.map(|v| v as UnixMs),
                    outcome: r.get(14)?,
                    steps: vec![],
                    switched_at: r.get::<_, Option<i64>>(15)?.map(|v| v as UnixMs),
                    dns_ttl_secs: r.get::<_, i64>(16)? as u64,
                    stragglers: None,
                    curve: vec![],
                    complete_eta: None,
                },
                preflight,
                stragglers,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut f, preflight, stragglers) = row?;
            f.preflight = serde_json::from_str(&preflight).map_err(|e| {
                StoreError::Unreadable(format!("failover {}: bad preflight: {e}", f.id))
            })?;
            if let Some(st) = stragglers {
                f.stragglers = Some(serde_json::from_str(&st).map_err(|e| {
                    StoreError::Unreadable(format!("failover {}: bad stragglers: {e}", f.id))
                })?);
            }
            super::moving::fill_curve(&conn, &mut f)?;
            let mut steps = conn.prepare_cached(
                "SELECT step, started_at, finished_at, outcome, detail FROM failover_steps
                 WHERE failover_id = ?1 ORDER BY id",
            )?;
            f.steps = steps
                .query_map(params![f.id], |r| {
                    Ok(Step {
                        step: r.get(0)?,
                        started_at: r.get::<_, i64>(1)? as UnixMs,
                        finished_at: r.get::<_, Option<i64>>(2)?.map(|v| v as UnixMs),
                        outcome: r.get(3)?,
                        detail: r.get(4)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            out.push(f);
        }
        Ok(out)
    }

    pub fn failover(&self, id: &str) -> Result<Option<Failover>, StoreError> {
        Ok(self.failovers_where("id = ?1", id, 1)?.pop())
    }

    /// The failover under way, if any.
    pub fn failover_current(&self) -> Result<Option<Failover>, StoreError> {
        Ok(self
            .failovers_where("in_progress = 1 AND ?1 = ?1", "", 1)?
            .pop())
    }

    /// The newest `limit` failovers.
    pub fn failovers_recent(&self, limit: u32) -> Result<Vec<Failover>, StoreError> {
        self.failovers_where("?1 = ?1", "", limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::failover::{Check, Readiness, Verdict};

    fn failover(id: &str, phase: Phase, at: UnixMs) -> Failover {
        Failover {
            id: id.into(),
            source: "us-east-1".into(),
            target: "eu-west-1".into(),
            reason: "drill".into(),
            requested_by: "alice".into(),
            approved_by: None,
            phase,
            preflight: Readiness {
                target: "eu-west-1".into(),
                overall: Verdict::Warn,
                checks: vec![Check {
                    name: "certificates".into(),
                    verdict: Verdict::Warn,
                    reasons: vec!["2 missing".into()],
                }],
            },
            online_before: 40,
            back: 0,
            complete_share: 0.95,
            requested_at: at,
            updated_at: at,
            ended_at: None,
            outcome: None,
            steps: vec![],
            switched_at: None,
            dns_ttl_secs: 0,
            stragglers: None,
            curve: vec![],
            complete_eta: None,
        }
    }

    #[test]
    fn a_failover_lock_held_by_one_id_refuses_a_second_and_names_the_holder() {
        let s = Store::in_memory();
        s.failover_insert(&failover("F-12", Phase::SwitchingTraffic, 1))
            .unwrap();
        let err = s
            .failover_insert(&failover("F-13", Phase::SwitchingTraffic, 2))
            .err()
            .unwrap();
        assert_eq!(
            err,
            StoreError::FailoverLocked {
                holder: "F-12".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "failover F-12 is in progress: one at a time"
        );
        assert_eq!(
            s.failover("F-13").unwrap(),
            None,
            "nothing of the second stored"
        );
        assert_eq!(s.failover_current().unwrap().unwrap().id, "F-12");
    }

    #[test]
    fn the_lock_holds_across_two_connections_to_one_database() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            Store::open(dir.path()).unwrap(),
            Store::open(dir.path()).unwrap(),
        );
        a.failover_insert(&failover("F-1", Phase::AwaitingApproval, 1))
            .unwrap();
        assert_eq!(
            b.failover_insert(&failover("F-2", Phase::SwitchingTraffic, 2)),
            Err(StoreError::FailoverLocked {
                holder: "F-1".into()
            })
        );
    }

    #[test]
    fn ending_a_failover_releases_the_lock_for_the_next() {
        let s = Store::in_memory();
        let mut f = failover("F-1", Phase::SwitchingTraffic, 1);
        s.failover_insert(&f).unwrap();
        f.phase = Phase::Completed;
        f.ended_at = Some(9);
        f.outcome = Some("all back".into());
        f.back = 40;
        s.failover_update(&f).unwrap();
        assert_eq!(s.failover_current().unwrap(), None);
        s.failover_insert(&failover("F-2", Phase::SwitchingTraffic, 10))
            .unwrap();
        let got = s.failover("F-1").unwrap().unwrap();
        assert_eq!(
            (got.phase, got.ended_at, got.outcome.as_deref(), got.back),
            (Phase::Completed, Some(9), Some("all back"), 40)
        );
        assert_eq!(got.preflight, f.preflight, "the preflight reads back whole");
        let recent: Vec<String> = s
            .failovers_recent(10)
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(recent, vec!["F-2", "F-1"], "newest first");
    }

    #[test]
    fn steps_are_journalled_before_and_after_and_read_back_in_order() {
        let s = Store::in_memory();
        s.failover_insert(&failover("F-1", Phase::SwitchingTraffic, 1))
            .unwrap();
        let a = s.step_begin("F-1", "switch_traffic", 2).unwrap();
        let open = &s.failover("F-1").unwrap().unwrap().steps;
        assert_eq!(
            open,
            &vec![Step {
                step: "switch_traffic".into(),
                started_at: 2,
                finished_at: None,
                outcome: None,
                detail: String::new(),
            }],
            "a started step reads as under way before it finishes"
        );
        s.step_finish(a, 3, "ok", "dns weights moved").unwrap();
        let b = s.step_begin("F-1", "reconnect_devices", 4).unwrap();
        s.step_finish(b, 5, "failed", "timeout").unwrap();
        let steps = s.failover("F-1").unwrap().unwrap().steps;
        let got: Vec<_> = steps
            .iter()
            .map(|x| {
                (
                    x.step.as_str(),
                    x.started_at,
                    x.finished_at,
                    x.outcome.as_deref(),
                    x.detail.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "switch_traffic",
                    2,
                    Some(3),
                    Some("ok"),
                    "dns weights moved"
                ),
                ("reconnect_devices", 4, Some(5), Some("failed"), "timeout"),
            ]
        );
    }

    #[test]
    fn a_step_left_open_by_a_stopped_process_is_closed_as_interrupted_at_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.failover_insert(&failover("F-1", Phase::ReconnectingDevices, 1))
                .unwrap();
            let done = s.step_begin("F-1", "switch_traffic", 2).unwrap();
            s.step_finish(done, 3, "ok", "").unwrap();
            s.step_begin("F-1", "reconnect_devices", 4).unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let f = s.failover_current().unwrap().expect("still under way");
        assert_eq!(
            s.close_open_steps(&f.id, 50, "the console stopped")
                .unwrap(),
            1,
            "only the open step"
        );
        let steps = s.failover("F-1").unwrap().unwrap().steps;
        assert_eq!(
            (
                steps[0].outcome.as_deref(),
                steps[0].finished_at,
                steps[1].outcome.as_deref(),
                steps[1].finished_at,
                steps[1].detail.as_str()
            ),
            (
                Some("ok"),
                Some(3),
                Some("interrupted"),
                Some(50),
                "the console stopped"
            )
        );
        assert_eq!(s.close_open_steps(&f.id, 60, "again").unwrap(), 0);
    }
}
