//! How a failover's devices really move: the reconnection curve (online in the old and the
//! new region at every poll) and each straggler's result.
//!
//! Rules kept here:
//! - a curve point is one per failover and time: recording it again replaces it;
//! - a straggler's result is one per failover and device, and the first stands: recording a
//!   device again changes nothing, and says so in the count returned — this is what keeps a
//!   resumed step from moving anyone twice;
//! - a failover read carries at most [`CURVE_POINTS`] points of its curve (evenly thinned, the
//!   first and the last kept) and the completion estimate from the full-resolution tail.

use super::{Store, StoreError};
use rusqlite::{params, Connection};
use std::collections::HashSet;
use switchyard_core::failover::Failover;
use switchyard_core::moving::{
    complete_at, thin, CurvePoint, DeviceOutcome, StragglerResult, SLOPE_WINDOW_MS,
};
use switchyard_core::UnixMs;

/// The most curve points a failover read carries.
pub const CURVE_POINTS: usize = 300;

fn points(conn: &Connection, failover: &str, from: UnixMs) -> Result<Vec<CurvePoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, source_online, target_online FROM failover_curve
         WHERE failover_id = ?1 AND at >= ?2 ORDER BY at",
    )?;
    let rows = stmt.query_map(params![failover, from as i64], |r| {
        Ok(CurvePoint {
            at: r.get::<_, i64>(0)? as UnixMs,
            source: r.get::<_, i64>(1)? as u64,
            target: r.get::<_, i64>(2)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Fills a failover's curve (thinned) and its completion estimate, as read.
pub(super) fn fill_curve(conn: &Connection, f: &mut Failover) -> Result<(), StoreError> {
    let all = points(conn, &f.id, 0)?;
    let tail_from = all
        .last()
        .map_or(0, |p| p.at.saturating_sub(SLOPE_WINDOW_MS));
    let tail: Vec<_> = all.iter().copied().filter(|p| p.at >= tail_from).collect();
    f.complete_eta = complete_at(&tail, f.online_before, f.complete_share);
    f.curve = thin(&all, CURVE_POINTS);
    Ok(())
}

impl Store {
    /// Records one point of a failover's reconnection curve.
    pub fn curve_record(&self, failover: &str, p: CurvePoint) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO failover_curve (failover_id, at, source_online, target_online)
             VALUES (?1, ?2, ?3, ?4)",
            params![failover, p.at as i64, p.source as i64, p.target as i64],
        )?;
        Ok(())
    }

    /// Every point of a failover's curve, oldest first (for reports; not thinned).
    pub fn curve(&self, failover: &str) -> Result<Vec<CurvePoint>, StoreError> {
        points(&self.lock(), failover, 0)
    }

    /// Records stragglers' results in one transaction; a device that has one already keeps
    /// it. Returns how many were new.
    pub fn stragglers_record(
        &self,
        failover: &str,
        results: &[StragglerResult],
    ) -> Result<usize, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO failover_stragglers (failover_id, device, outcome, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for r in results {
                added += stmt.execute(params![
                    failover,
                    r.device,
                    r.outcome.as_str(),
                    r.detail,
                    r.at as i64
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Which of `devices` have a result in this failover already.
    pub fn stragglers_known(
        &self,
        failover: &str,
        devices: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT 1 FROM failover_stragglers WHERE failover_id = ?1 AND device = ?2",
        )?;
        let mut known = HashSet::new();
        for d in devices {
            if stmt.exists(params![failover, d])? {
                known.insert(d.clone());
            }
        }
        Ok(known)
    }

    /// How many results of each outcome a failover has, in [`DeviceOutcome::ALL`]'s order.
    pub fn stragglers_tally(&self, failover: &str) -> Result<[u64; 4], StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT outcome, COUNT(*) FROM failover_stragglers WHERE failover_id = ?1
             GROUP BY outcome",
        )?;
        let mut tally = [0u64; 4];
        let rows = stmt.query_map(params![failover], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (outcome, n) = row?;
            if let Some(i) = DeviceOutcome::ALL
                .iter()
                .position(|o| o.as_str() == outcome)
            {
                tally[i] = n as u64;
            }
        }
        Ok(tally)
    }

    /// One page of a failover's straggler results (newest first), of one outcome or all, and
    /// how many there are in all.
    pub fn straggler_results(
        &self,
        failover: &str,
        outcome: Option<DeviceOutcome>,
        offset: u32,
        limit: u32,
    ) -> Result<(u64, Vec<StragglerResult>), StoreError> {
        let conn = self.lock();
        let which = outcome.map(|o| o.as_str()).unwrap_or("");
        let total: i64 = conn.query_row(
            "SELECT COUNT(*) FROM failover_stragglers
             WHERE failover_id = ?1 AND (?2 = '' OR outcome = ?2)",
            params![failover, which],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT device, outcome, detail, at FROM failover_stragglers
             WHERE failover_id = ?1 AND (?2 = '' OR outcome = ?2)
             ORDER BY at DESC, device LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(params![failover, which, limit, offset], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (device, outcome, detail, at) = row?;
            let outcome = DeviceOutcome::parse(&outcome).ok_or_else(|| {
                StoreError::Unreadable(format!("straggler {device}: outcome {outcome:?}"))
            })?;
            items.push(StragglerResult {
                device,
                outcome,
                detail,
                at: at as UnixMs,
            });
        }
        Ok((total as u64, items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(device: &str, outcome: DeviceOutcome, at: UnixMs) -> StragglerResult {
        StragglerResult {
            device: device.into(),
            outcome,
            detail: String::new(),
            at,
        }
    }

    #[test]
    fn a_device_keeps_its_first_result_and_a_second_is_not_counted() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let first = [
            result("d-1", DeviceOutcome::Disconnected, 1),
            result("d-2", DeviceOutcome::AlreadyGone, 2),
        ];
        assert_eq!(s.stragglers_record("F-1", &first).unwrap(), 2);
        let again = [
            result("d-1", DeviceOutcome::Failed, 3),
            result("d-3", DeviceOutcome::Failed, 3),
        ];
        assert_eq!(s.stragglers_record("F-1", &again).unwrap(), 1);
        assert_eq!(s.stragglers_tally("F-1").unwrap(), [1, 1, 0, 1]);
        let known = s
            .stragglers_known("F-1", &["d-1".into(), "d-9".into()])
            .unwrap();
        assert_eq!(known, HashSet::from(["d-1".to_string()]));
        // Another failover's devices are its own.
        assert!(s
            .stragglers_known("F-2", &["d-1".into()])
            .unwrap()
            .is_empty());
        let (total, failed) = s
            .straggler_results("F-1", Some(DeviceOutcome::Failed), 0, 10)
            .unwrap();
        assert_eq!(
            (total, failed.len(), failed[0].device.as_str()),
            (1, 1, "d-3")
        );
        let (all, page) = s.straggler_results("F-1", None, 1, 1).unwrap();
        assert_eq!((all, page.len()), (3, 1));
    }

    #[test]
    fn a_curve_point_recorded_twice_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        for (at, target) in [(1, 10), (2, 20), (2, 25)] {
            s.curve_record(
                "F-1",
                CurvePoint {
                    at,
                    source: 100 - target,
                    target,
                },
            )
            .unwrap();
        }
        let c = s.curve("F-1").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].target, 25);
    }
}
