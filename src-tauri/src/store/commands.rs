//! Command runs and their per-device results.
//!
//! Rules kept here:
//! - A run's tallies and status, and the batch of per-device results they count, are saved in
//!   one transaction: the tallies never run ahead of (or behind) the results stored.
//! - One result per device and run: a later result for the same device replaces the earlier.
//! - Results are read in device order, a page at a time.

use super::{to_json, Store, StoreError};
use rusqlite::params;
use switchyard_core::UnixMs;

impl Store {
    pub fn command_insert(
        &self,
        r: &switchyard_core::commands::CommandRun,
    ) -> Result<(), StoreError> {
        let (target, offline) = (
            to_json(&r.target, "the target")?,
            to_json(&r.offline, "the offline policy")?,
        );
        self.lock().execute(
            "INSERT INTO command_runs (id, command, target, payload, offline, reason, requested_by,
                 requested_at, status, total)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                r.id,
                r.command,
                target,
                r.payload.to_string(),
                offline,
                r.reason,
                r.requested_by,
                r.requested_at as i64,
                r.status.as_str(),
                r.total as i64
            ],
        )?;
        Ok(())
    }

    /// Saves a run's tallies and status, and a batch of per-device results, in one transaction.
    pub fn command_progress(
        &self,
        r: &switchyard_core::commands::CommandRun,
        results: &[switchyard_core::commands::DeviceResult],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE command_runs SET status = ?2, sent = ?3, shadowed = ?4, skipped = ?5,
                 failed = ?6, cancelled = ?7, ended_at = ?8 WHERE id = ?1",
            params![
                r.id,
                r.status.as_str(),
                r.sent as i64,
                r.shadowed as i64,
                r.skipped as i64,
                r.failed as i64,
                r.cancelled as i64,
                r.ended_at.map(|v| v as i64)
            ],
        )?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO command_results (run_id, device, outcome, at, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for x in results {
                let outcome = to_json(&x.outcome, "a result")?;
                stmt.execute(params![r.id, x.device, outcome, x.at as i64, x.attempts])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn command_rows(
        &self,
        cond: &str,
        arg: &str,
        limit: u32,
    ) -> Result<Vec<switchyard_core::commands::CommandRun>, StoreError> {
        use switchyard_core::commands::{CommandRun, RunStatus};
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT id, command, target, payload, offline, reason, requested_by, requested_at,
                    status, total, sent, shadowed, skipped, failed, cancelled, ended_at
             FROM command_runs WHERE {cond} ORDER BY requested_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![arg, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
                [
                    r.get::<_, i64>(9)?,
                    r.get(10)?,
                    r.get(11)?,
                    r.get(12)?,
                    r.get(13)?,
                    r.get(14)?,
                ],
                r.get::<_, Option<i64>>(15)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, command, target, payload, offline, reason, by, at, status, n, ended) = row?;
            let bad = |what: &str, e: serde_json::Error| {
                StoreError::Unreadable(format!("command run {id}: bad {what}: {e}"))
            };
            out.push(CommandRun {
                target: serde_json::from_str(&target).map_err(|e| bad("target", e))?,
                payload: serde_json::from_str(&payload).map_err(|e| bad("payload", e))?,
                offline: serde_json::from_str(&offline).map_err(|e| bad("offline policy", e))?,
                id,
                command,
                reason,
                requested_by: by,
                requested_at: at as UnixMs,
                status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
                total: n[0] as u64,
                sent: n[1] as u64,
                shadowed: n[2] as u64,
                skipped: n[3] as u64,
                failed: n[4] as u64,
                cancelled: n[5] as u64,
                ended_at: ended.map(|v| v as UnixMs),
            });
        }
        Ok(out)
    }

    pub fn command_run(
        &self,
        id: &str,
    ) -> Result<Option<switchyard_core::commands::CommandRun>, StoreError> {
        Ok(self.command_rows("id = ?1", id, 1)?.pop())
    }

    pub fn command_runs_recent(
        &self,
        limit: u32,
    ) -> Result<Vec<switchyard_core::commands::CommandRun>, StoreError> {
        self.command_rows("?1 = ?1", "", limit)
    }

    /// A run's per-device results in device order, one page.
    pub fn command_results(
        &self,
        id: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<switchyard_core::commands::DeviceResult>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT device, outcome, at, attempts FROM command_results WHERE run_id = ?1
             ORDER BY device LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![id, limit, offset as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, u32>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (device, outcome, at, attempts) = row?;
            out.push(switchyard_core::commands::DeviceResult {
                outcome: serde_json::from_str(&outcome)
                    .map_err(|e| StoreError::Unreadable(format!("result of {device}: {e}")))?,
                device,
                at: at as UnixMs,
                attempts,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::commands::{
        CommandRun, DeviceResult, OfflinePolicy, Outcome, RunStatus, Target,
    };

    fn run(id: &str, at: UnixMs) -> CommandRun {
        CommandRun {
            id: id.into(),
            command: "reboot".into(),
            target: Target::Devices {
                ids: vec!["d-1".into(), "d-2".into(), "d-3".into()],
            },
            payload: serde_json::json!({ "delay_s": 5 }),
            offline: OfflinePolicy::Shadow,
            reason: "patch".into(),
            requested_by: "alice".into(),
            requested_at: at,
            status: RunStatus::Running,
            total: 3,
            sent: 0,
            shadowed: 0,
            skipped: 0,
            failed: 0,
            cancelled: 0,
            ended_at: None,
        }
    }

    fn result(device: &str, outcome: Outcome, at: UnixMs) -> DeviceResult {
        DeviceResult {
            device: device.into(),
            outcome,
            at,
            attempts: 1,
        }
    }

    #[test]
    fn a_run_and_its_batched_results_are_written_and_read_back_with_their_tallies() {
        let s = Store::in_memory();
        let mut r = run("C-1", 10);
        s.command_insert(&r).unwrap();
        assert_eq!(s.command_run("C-1").unwrap().as_ref(), Some(&r));

        r.sent = 1;
        r.shadowed = 1;
        s.command_progress(
            &r,
            &[
                result("d-2", Outcome::Shadowed, 11),
                result("d-1", Outcome::Sent, 11),
            ],
        )
        .unwrap();
        r.failed = 1;
        r.status = RunStatus::Completed;
        r.ended_at = Some(12);
        let failed = Outcome::Failed {
            error: "throttled".into(),
        };
        s.command_progress(&r, &[result("d-3", failed.clone(), 12)])
            .unwrap();

        let back = s.command_run("C-1").unwrap().unwrap();
        assert_eq!(
            back, r,
            "target, payload, policy, tallies and status read back"
        );
        assert_eq!(back.done(), 3);
        let results = s.command_results("C-1", 0, 10).unwrap();
        assert_eq!(
            results
                .iter()
                .map(|x| (x.device.as_str(), &x.outcome))
                .collect::<Vec<_>>(),
            vec![
                ("d-1", &Outcome::Sent),
                ("d-2", &Outcome::Shadowed),
                ("d-3", &failed)
            ],
            "in device order"
        );
        assert_eq!(
            s.command_results("C-1", 1, 1).unwrap()[0].device,
            "d-2",
            "one page"
        );
    }

    #[test]
    fn a_later_result_for_the_same_device_replaces_the_earlier() {
        let s = Store::in_memory();
        let r = run("C-1", 10);
        s.command_insert(&r).unwrap();
        let failed = Outcome::Failed {
            error: "timeout".into(),
        };
        s.command_progress(&r, &[result("d-1", failed, 11)])
            .unwrap();
        let mut retried = result("d-1", Outcome::Sent, 12);
        retried.attempts = 2;
        s.command_progress(&r, &[retried.clone()]).unwrap();
        assert_eq!(s.command_results("C-1", 0, 10).unwrap(), vec![retried]);
    }

    #[test]
    fn recent_runs_come_newest_first_and_an_unknown_run_is_none() {
        let s = Store::in_memory();
        for (id, at) in [("C-1", 1), ("C-2", 2), ("C-3", 3)] {
            s.command_insert(&run(id, at)).unwrap();
        }
        let ids: Vec<String> = s
            .command_runs_recent(2)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec!["C-3", "C-2"]);
        assert_eq!(s.command_run("C-9").unwrap(), None);
        assert!(s.command_results("C-9", 0, 10).unwrap().is_empty());
    }
}
