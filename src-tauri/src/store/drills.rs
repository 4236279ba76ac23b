//! Drills: the reports operators review, and the one-live-drill-at-a-time lock.
//!
//! Rules kept here:
//! - One live drill at a time: the `live` column (1 while a live drill runs, NULL otherwise) is
//!   UNIQUE. A refused drill reads [`StoreError::DrillLocked`] naming the holder's id; simulated
//!   drills are never refused.
//! - Saving a drill that has ended releases the live lock in the same statement; its audit
//!   line is written in the same transaction ([`Store::drill_end`]).
//! - A drill left running by a stopped process (started before this one) is marked aborted at
//!   restart, with why; one this process started meanwhile is left alone.
//! - The columns the list shows are columns; the scenario, objectives, recording and measures
//!   are one JSON document.

use super::{is_constraint, to_json, Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use switchyard_core::drills::{ActionItem, Drill, DrillMode, DrillStatus, DrillSummary};
use switchyard_core::UnixMs;

/// The parts of a drill kept as one JSON document.
#[derive(serde::Serialize, serde::Deserialize)]
struct DrillBody {
    scenario: switchyard_core::drills::Scenario,
    objectives: switchyard_core::drills::Objectives,
    recording: switchyard_core::drills::Recording,
    metrics: Option<switchyard_core::drills::DrillMetrics>,
    error: Option<String>,
}

fn drill_body(d: &Drill) -> Result<String, StoreError> {
    serde_json::to_string(&DrillBody {
        scenario: d.scenario.clone(),
        objectives: d.objectives,
        recording: d.recording.clone(),
        metrics: d.metrics.clone(),
        error: d.error.clone(),
    })
    .map_err(|e| StoreError::Unencodable(format!("cannot encode drill {}: {e}", d.summary.id)))
}

fn drill_mode(s: &str) -> DrillMode {
    if s == "live" {
        DrillMode::Live
    } else {
        DrillMode::Simulated
    }
}

const DRILL_COLUMNS: &str =
    "id, name, mode, source, status, started_by, started_at, ended_at, recovery_ms, messages_lost";

fn drill_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<DrillSummary> {
    Ok(DrillSummary {
        id: r.get(0)?,
        name: r.get(1)?,
        mode: drill_mode(&r.get::<_, String>(2)?),
        source: r.get(3)?,
        status: DrillStatus::parse(&r.get::<_, String>(4)?).unwrap_or(DrillStatus::Aborted),
        started_by: r.get(5)?,
        started_at: r.get::<_, i64>(6)? as UnixMs,
        ended_at: r.get::<_, Option<i64>>(7)?.map(|v| v as UnixMs),
        recovery_ms: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        messages_lost: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
    })
}

/// The live drill running, if any.
fn live_holder(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM drills WHERE live = 1", [], |r| r.get(0))
        .optional()?)
}

/// The statement that saves a drill, on `conn` (a transaction's when the end goes with it).
fn save_on(conn: &Connection, d: &Drill) -> Result<(), StoreError> {
    let s = &d.summary;
    let ended = s.status != DrillStatus::Running;
    conn.execute(
        "UPDATE drills SET status = ?2, ended_at = ?3, recovery_ms = ?4, messages_lost = ?5,
             body = ?6, live = CASE WHEN ?7 THEN NULL ELSE live END
         WHERE id = ?1",
        params![
            s.id,
            s.status.as_str(),
            s.ended_at.map(|v| v as i64),
            s.recovery_ms.map(|v| v as i64),
            s.messages_lost.map(|v| v as i64),
            drill_body(d)?,
            ended,
        ],
    )?;
    Ok(())
}

impl Store {
    /// Records a new drill. A live drill is refused with [`StoreError::DrillLocked`], naming
    /// the other, while another runs.
    pub fn drill_insert(&self, d: &Drill) -> Result<(), StoreError> {
        let live = d.summary.mode == DrillMode::Live;
        let body = drill_body(d)?;
        let mut conn = self.lock();
        // IMMEDIATE: the look for a holder and the insert happen under SQLite's write lock, so
        // another process cannot slip in between; the UNIQUE column stays the last word.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if live {
            if let Some(holder) = live_holder(&tx)? {
                return Err(StoreError::DrillLocked { holder });
            }
        }
        let s = &d.summary;
        let inserted = tx.execute(
            "INSERT INTO drills (id, name, mode, source, status, started_by, started_at, body, live)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                s.id,
                s.name,
                if live { "live" } else { "simulated" },
                s.source,
                s.status.as_str(),
                s.started_by,
                s.started_at as i64,
                body,
                live.then_some(1),
            ],
        );
        match inserted {
            Ok(_) => {
                tx.commit()?;
                Ok(())
            }
            // The lock refused it after all: read back who holds it.
            Err(e) if live && is_constraint(&e) => match live_holder(&tx)? {
                Some(holder) => Err(StoreError::DrillLocked { holder }),
                None => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Saves a drill's record and, once it has ended, its verdict; releases the live lock then.
    pub fn drill_save(&self, d: &Drill) -> Result<(), StoreError> {
        save_on(&self.lock(), d)
    }

    /// Saves a drill that has ended and writes its audit entry's result line in one
    /// transaction: whoever reads the drill as ended finds its audit line written, and when
    /// either write fails neither is made.
    pub fn drill_end(
        &self,
        d: &Drill,
        audit: i64,
        at: UnixMs,
        result: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        save_on(&tx, d)?;
        super::audit::finish_on(&tx, audit, at, result)?;
        tx.commit()?;
        Ok(())
    }

    pub fn drill(&self, id: &str) -> Result<Option<Drill>, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                &format!(
                    "SELECT {DRILL_COLUMNS}, body, notes, action_items FROM drills WHERE id = ?1"
                ),
                params![id],
                |r| {
                    Ok((
                        drill_summary(r)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, String>(11)?,
                        r.get::<_, String>(12)?,
                    ))
                },
            )
            .optional()?;
        let Some((summary, body, notes, items)) = row else {
            return Ok(None);
        };
        let body: DrillBody = serde_json::from_str(&body)
            .map_err(|e| StoreError::Unreadable(format!("drill {id}: unreadable record: {e}")))?;
        let action_items: Vec<ActionItem> = serde_json::from_str(&items).map_err(|e| {
            StoreError::Unreadable(format!("drill {id}: unreadable action items: {e}"))
        })?;
        Ok(Some(Drill {
            summary,
            scenario: body.scenario,
            objectives: body.objectives,
            recording: body.recording,
            metrics: body.metrics,
            error: body.error,
            notes,
            action_items,
        }))
    }

    /// The newest `limit` drills, newest first.
    pub fn drills_recent(&self, limit: u32) -> Result<Vec<DrillSummary>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {DRILL_COLUMNS} FROM drills ORDER BY started_at DESC, id DESC LIMIT ?1"
        ))?;
        let rows = st
            .query_map(params![limit], drill_summary)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// When the newest drill with a verdict ended.
    pub fn drill_last_finished(&self) -> Result<Option<UnixMs>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT MAX(ended_at) FROM drills WHERE status IN ('passed', 'failed')",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .map(|v| v as UnixMs))
    }

    /// Replaces a drill's notes and action items; false when there is no such drill.
    pub fn drill_set_notes(
        &self,
        id: &str,
        notes: &str,
        items: &[ActionItem],
    ) -> Result<bool, StoreError> {
        let items = to_json(items, "action items")?;
        Ok(self.lock().execute(
            "UPDATE drills SET notes = ?2, action_items = ?3 WHERE id = ?1",
            params![id, notes, items],
        )? == 1)
    }

    /// Marks drills left running by a stopped process, those started before `before` (this
    /// process's start), as aborted at `at`; returns their ids. A drill this process started
    /// in the meantime is its own, and left running.
    pub fn drills_interrupted(
        &self,
        before: UnixMs,
        at: UnixMs,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = {
            let conn = self.lock();
            let mut st =
                conn.prepare("SELECT id FROM drills WHERE status = 'running' AND started_at < ?1")?;
            let ids = st
                .query_map(params![before as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids
        };
        for id in &ids {
            if let Some(mut d) = self.drill(id)? {
                d.summary.status = DrillStatus::Aborted;
                d.summary.ended_at = Some(at);
                d.error = Some("interrupted: the console stopped while the drill ran".into());
                self.drill_save(&d)?;
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::drills::{Objectives, Recording, Scenario};

    fn drill(id: &str, mode: DrillMode, at: UnixMs) -> Drill {
        let scenario: Scenario = serde_json::from_value(serde_json::json!({
            "name": "region outage",
            "mode": if mode == DrillMode::Live { "live" } else { "simulated" },
            "duration_secs": 60,
            "outage": { "duration_secs": 20 },
            "failover": { "by": "script" },
        }))
        .unwrap();
        Drill {
            summary: DrillSummary {
                id: id.into(),
                name: scenario.name.clone(),
                mode,
                status: DrillStatus::Running,
                started_by: "alice".into(),
                started_at: at,
                ended_at: None,
                recovery_ms: None,
                messages_lost: None,
                source: "simulated".into(),
            },
            scenario,
            objectives: Objectives {
                rto_secs: 300,
                rpo_messages: 0,
                max_backlog: 1_000,
                recovered_share: 0.5,
            },
            recording: Recording::default(),
            metrics: None,
            error: None,
            notes: String::new(),
            action_items: Vec::new(),
        }
    }

    #[test]
    fn one_live_drill_runs_at_a_time_and_a_second_is_refused_naming_the_holder() {
        let s = Store::in_memory();
        s.drill_insert(&drill("D-1", DrillMode::Live, 1)).unwrap();
        let err = s
            .drill_insert(&drill("D-2", DrillMode::Live, 2))
            .err()
            .unwrap();
        assert_eq!(
            err,
            StoreError::DrillLocked {
                holder: "D-1".into()
            }
        );
        assert_eq!(err.to_string(), "another live drill is running: D-1");
        assert_eq!(
            s.drill("D-2").unwrap(),
            None,
            "nothing of the second stored"
        );
        s.drill_insert(&drill("D-3", DrillMode::Simulated, 3))
            .expect("a simulated drill is never refused");
    }

    #[test]
    fn a_drills_end_and_its_audit_line_are_written_together_or_not_at_all() {
        let s = Store::in_memory();
        let mut d = drill("D-1", DrillMode::Live, 1);
        s.drill_insert(&d).unwrap();
        let audit = s.audit_begin(1, "alice", "drill.start", "r", "{}").unwrap();
        d.summary.status = DrillStatus::Passed;
        d.summary.ended_at = Some(61);
        s.drill_end(&d, audit, 61, "ok: passed").unwrap();
        assert_eq!(
            s.drill("D-1").unwrap().unwrap().summary.status,
            DrillStatus::Passed
        );
        let line = s.audit_entry(audit).unwrap().unwrap();
        assert_eq!(
            (line.result.as_deref(), line.finished_at),
            (Some("ok: passed"), Some(61))
        );
        // A second end finds the entry finished: refused, and the drill's row is left as it was.
        d.summary.status = DrillStatus::Failed;
        assert_eq!(
            s.drill_end(&d, audit, 62, "ok: failed"),
            Err(StoreError::AuditNotOpen { id: audit })
        );
        assert_eq!(
            s.drill("D-1").unwrap().unwrap().summary.status,
            DrillStatus::Passed
        );
    }

    #[test]
    fn a_live_drill_that_ends_releases_the_lock_and_keeps_its_verdict() {
        let s = Store::in_memory();
        let mut d = drill("D-1", DrillMode::Live, 1);
        s.drill_insert(&d).unwrap();
        d.summary.status = DrillStatus::Passed;
        d.summary.ended_at = Some(61);
        d.summary.recovery_ms = Some(42_000);
        d.summary.messages_lost = Some(0);
        s.drill_save(&d).unwrap();
        s.drill_insert(&drill("D-2", DrillMode::Live, 70)).unwrap();
        assert_eq!(
            s.drill("D-1").unwrap(),
            Some(d),
            "the whole record reads back"
        );
        assert_eq!(s.drill_last_finished().unwrap(), Some(61));
        let ids: Vec<String> = s
            .drills_recent(10)
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(ids, vec!["D-2", "D-1"], "newest first");
    }

    #[test]
    fn notes_and_action_items_are_replaced_and_an_unknown_drill_says_so() {
        let s = Store::in_memory();
        s.drill_insert(&drill("D-1", DrillMode::Simulated, 1))
            .unwrap();
        let items = vec![ActionItem {
            text: "raise the backlog limit".into(),
            owner: Some("bob".into()),
            done: false,
        }];
        assert!(s.drill_set_notes("D-1", "went well", &items).unwrap());
        assert!(!s.drill_set_notes("D-9", "x", &[]).unwrap());
        let d = s.drill("D-1").unwrap().unwrap();
        assert_eq!((d.notes.as_str(), d.action_items), ("went well", items));
    }

    #[test]
    fn a_drill_left_running_by_a_stopped_process_is_aborted_at_restart_and_frees_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.drill_insert(&drill("D-1", DrillMode::Live, 1)).unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        // The restarted process starts at 50 and has already started a drill of its own.
        s.drill_insert(&drill("D-0", DrillMode::Simulated, 50))
            .unwrap();
        assert_eq!(
            s.drills_interrupted(50, 99).unwrap(),
            vec!["D-1".to_string()]
        );
        assert_eq!(
            s.drill("D-0").unwrap().unwrap().summary.status,
            DrillStatus::Running,
            "this process's own drill is left running"
        );
        let d = s.drill("D-1").unwrap().unwrap();
        assert_eq!(
            (d.summary.status, d.summary.ended_at, d.error.as_deref()),
            (
                DrillStatus::Aborted,
                Some(99),
                Some("interrupted: the console stopped while the drill ran")
            )
        );
        assert_eq!(s.drill_last_finished().unwrap(), None, "no verdict");
        s.drill_insert(&drill("D-2", DrillMode::Live, 100)).unwrap();
    }
}
