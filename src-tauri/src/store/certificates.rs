//! Each region's certificate set as last listed, for a readiness comparison that does not list
//! a million certificates at every refresh: the rows (id, status, creation date), the pages of
//! a full listing under way (staged aside until it is complete), and per region when the last
//! full listing started, the newest creation date seen and how many were added since.
//!
//! Rules kept here:
//! - A full listing is staged page by page and swapped in whole, in one transaction; until
//!   then the set it replaces stays as it was. The rows created after `keep_after` (read from
//!   the newest end while the listing ran) survive the swap.
//! - Reading from the newest end only adds and updates rows; only a full listing removes them
//!   (deactivated, revoked or deleted certificates are found there).
//! - The comparison counts `ACTIVE` rows only, joined on the primary key (region, id).

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};
use switchyard_core::UnixMs;

/// One certificate as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    pub id: String,
    /// AWS's status word: `ACTIVE`, `INACTIVE`, `REVOKED`, `PENDING_TRANSFER`, …
    pub status: String,
    pub created_at: UnixMs,
}

/// A row a read from the newest end added or changed: its status before (`None`: new) and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateChange {
    pub id: String,
    pub was: Option<String>,
    pub now: String,
}

/// What is known of one region's set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateSweepRecord {
    /// When the last complete full listing started; `None` before the first.
    pub full_at: Option<UnixMs>,
    pub newest_created: Option<UnixMs>,
    /// Certificates read from the newest end since that full listing.
    pub added_since: u64,
    /// Certificates staged by a full listing under way.
    pub staged: u64,
}

/// The active region's active certificates against the target's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateComparison {
    pub active_total: u64,
    /// Of those, how many are active in the target.
    pub in_target: u64,
    pub target_total: u64,
    /// Some of the missing ones, in id order.
    pub missing: Vec<String>,
}

const ACTIVE: &str = "ACTIVE";

impl Store {
    /// What is known of `region`'s set (all defaults for a region never listed).
    pub fn certificate_sweep(&self, region: &str) -> Result<CertificateSweepRecord, StoreError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT full_at, newest_created, added_since FROM certificate_sweeps
                 WHERE region = ?1",
                params![region],
                |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        let staged: i64 = conn.query_row(
            "SELECT count(*) FROM certificates_staged WHERE region = ?1",
            params![region],
            |r| r.get(0),
        )?;
        let (full_at, newest, added) = row.unwrap_or((None, None, 0));
        Ok(CertificateSweepRecord {
            full_at: full_at.map(|t| t as UnixMs),
            newest_created: newest.map(|t| t as UnixMs),
            added_since: added as u64,
            staged: staged as u64,
        })
    }

    /// Adds or updates rows read from the newest end; returns the rows that were new or
    /// changed. The new ones count as added since the last full listing.
    pub fn certificates_upsert(
        &self,
        region: &str,
        rows: &[CertificateRow],
    ) -> Result<Vec<CertificateChange>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let (mut added, mut changed) = (0i64, Vec::new());
        {
            let mut get =
                tx.prepare_cached("SELECT status FROM certificates WHERE region = ?1 AND id = ?2")?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO certificates (region, id, status, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in rows {
                let was: Option<String> = get
                    .query_row(params![region, r.id], |x| x.get(0))
                    .optional()?;
                match &was {
                    Some(s) if *s == r.status => continue,
                    Some(_) => {}
                    None => added += 1,
                }
                changed.push(CertificateChange {
                    id: r.id.clone(),
                    was,
                    now: r.status.clone(),
                });
                put.execute(params![region, r.id, r.status, r.created_at as i64])?;
            }
        }
        let newest = rows.iter().map(|r| r.created_at as i64).max();
        tx.execute(
            "INSERT INTO certificate_sweeps (region, newest_created, added_since)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (region) DO UPDATE SET
                newest_created = max(coalesce(newest_created, excluded.newest_created),
                                     coalesce(excluded.newest_created, newest_created)),
                added_since = added_since + excluded.added_since",
            params![region, newest, added],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// Whether each of `ids` is active in `region` now.
    pub fn certificates_active_of(
        &self,
        region: &str,
        ids: &[String],
    ) -> Result<Vec<bool>, StoreError> {
        let conn = self.lock();
        let mut get =
            conn.prepare_cached("SELECT status FROM certificates WHERE region = ?1 AND id = ?2")?;
        ids.iter()
            .map(|id| {
                let s: Option<String> = get
                    .query_row(params![region, id], |r| r.get(0))
                    .optional()?;
                Ok(s.as_deref() == Some(ACTIVE))
            })
            .collect()
    }

    /// Sets one page of a full listing aside.
    pub fn certificates_stage(
        &self,
        region: &str,
        rows: &[CertificateRow],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO certificates_staged (region, id, status, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in rows {
                put.execute(params![region, r.id, r.status, r.created_at as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops what a full listing set aside (it starts again, or gave up).
    pub fn certificates_unstage(&self, region: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "DELETE FROM certificates_staged WHERE region = ?1",
            params![region],
        )?;
        Ok(())
    }

    /// Swaps the staged listing in as `region`'s set, keeping the rows created after
    /// `keep_after`; the full listing started at `started_at`. Returns the rows now in the set.
    pub fn certificates_swap(
        &self,
        region: &str,
        started_at: UnixMs,
        keep_after: Option<UnixMs>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let staged_newest: Option<i64> = tx.query_row(
            "SELECT max(created_at) FROM certificates_staged WHERE region = ?1",
            params![region],
            |r| r.get(0),
        )?;
        match keep_after {
            Some(k) => tx.execute(
                "DELETE FROM certificates WHERE region = ?1 AND created_at <= ?2",
                params![region, k as i64],
            )?,
            None => tx.execute(
                "DELETE FROM certificates WHERE region = ?1",
                params![region],
            )?,
        };
        tx.execute(
            "INSERT OR REPLACE INTO certificates (region, id, status, created_at)
             SELECT region, id, status, created_at FROM certificates_staged WHERE region = ?1",
            params![region],
        )?;
        tx.execute(
            "DELETE FROM certificates_staged WHERE region = ?1",
            params![region],
        )?;
        let (rows, newest): (i64, Option<i64>) = tx.query_row(
            "SELECT count(*), max(created_at) FROM certificates WHERE region = ?1",
            params![region],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let added: i64 = tx.query_row(
            "SELECT count(*) FROM certificates WHERE region = ?1 AND created_at > ?2",
            params![region, staged_newest.unwrap_or(-1)],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO certificate_sweeps (region, full_at, newest_created, added_since)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (region) DO UPDATE SET full_at = excluded.full_at,
                newest_created = excluded.newest_created, added_since = excluded.added_since",
            params![region, started_at as i64, newest, added],
        )?;
        tx.commit()?;
        Ok(rows as u64)
    }

    /// The active certificates of `active` against those of `target`, with up to `sample` of
    /// the missing ones.
    pub fn certificates_compare(
        &self,
        active: &str,
        target: &str,
        sample: usize,
    ) -> Result<CertificateComparison, StoreError> {
        let conn = self.lock();
        let count = |region: &str| -> Result<u64, StoreError> {
            let n: i64 = conn.query_row(
                "SELECT count(*) FROM certificates WHERE region = ?1 AND status = ?2",
                params![region, ACTIVE],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        };
        let active_total = count(active)?;
        let target_total = count(target)?;
        let in_target: i64 = conn.query_row(
            "SELECT count(*) FROM certificates a
             WHERE a.region = ?1 AND a.status = ?3 AND EXISTS (
                SELECT 1 FROM certificates t
                WHERE t.region = ?2 AND t.id = a.id AND t.status = ?3)",
            params![active, target, ACTIVE],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT a.id FROM certificates a
             WHERE a.region = ?1 AND a.status = ?3 AND NOT EXISTS (
                SELECT 1 FROM certificates t
                WHERE t.region = ?2 AND t.id = a.id AND t.status = ?3)
             ORDER BY a.id LIMIT ?4",
        )?;
        let missing = stmt
            .query_map(params![active, target, ACTIVE, sample as i64], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(CertificateComparison {
            active_total,
            in_target: in_target as u64,
            target_total,
            missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: &str, created_at: UnixMs) -> CertificateRow {
        CertificateRow {
            id: id.into(),
            status: status.into(),
            created_at,
        }
    }

    #[test]
    fn a_full_listing_is_swapped_in_whole_and_finds_what_went_inactive_or_away() {
        let s = Store::in_memory();
        s.certificates_stage("a", &[row("c1", ACTIVE, 1), row("c2", ACTIVE, 2)])
            .unwrap();
        s.certificates_stage("a", &[row("c3", ACTIVE, 3)]).unwrap();
        // Staged, not yet the set.
        assert_eq!(s.certificate_sweep("a").unwrap().staged, 3);
        assert_eq!(s.certificates_compare("a", "a", 5).unwrap().active_total, 0);
        assert_eq!(s.certificates_swap("a", 100, None).unwrap(), 3);
        let rec = s.certificate_sweep("a").unwrap();
        assert_eq!(
            rec,
            CertificateSweepRecord {
                full_at: Some(100),
                newest_created: Some(3),
                added_since: 0,
                staged: 0
            }
        );
        // Read from the newest end while the next full listing runs: c4 is new.
        assert_eq!(
            s.certificates_upsert("a", &[row("c4", ACTIVE, 4), row("c3", ACTIVE, 3)])
                .unwrap(),
            vec![CertificateChange {
                id: "c4".into(),
                was: None,
                now: ACTIVE.into()
            }]
        );
        assert_eq!(s.certificate_sweep("a").unwrap().added_since, 1);
        // The next full listing: c2 went inactive, c1 was deleted; c4 came after its start.
        s.certificates_stage("a", &[row("c2", "INACTIVE", 2), row("c3", ACTIVE, 3)])
            .unwrap();
        s.certificates_swap("a", 200, Some(3)).unwrap();
        let c = s.certificates_compare("a", "a", 5).unwrap();
        assert_eq!(c.active_total, 2, "c3 and c4");
        let rec = s.certificate_sweep("a").unwrap();
        assert_eq!(
            (rec.full_at, rec.newest_created, rec.added_since),
            (Some(200), Some(4), 1)
        );
    }

    #[test]
    fn the_comparison_counts_active_certificates_present_in_both_and_names_some_missing() {
        let s = Store::in_memory();
        s.certificates_upsert(
            "act",
            &[
                row("x1", ACTIVE, 1),
                row("x2", ACTIVE, 2),
                row("x3", ACTIVE, 3),
                row("x4", "REVOKED", 4),
            ],
        )
        .unwrap();
        s.certificates_upsert(
            "tgt",
            &[
                row("x1", ACTIVE, 1),
                row("x2", "INACTIVE", 2),
                row("x4", ACTIVE, 4),
            ],
        )
        .unwrap();
        let c = s.certificates_compare("act", "tgt", 1).unwrap();
        assert_eq!(
            c,
            CertificateComparison {
                active_total: 3,
                in_target: 1,
                target_total: 2,
                missing: vec!["x2".into()]
            }
        );
        // A status change is a change; the same row again is not.
        let changed = s
            .certificates_upsert("tgt", &[row("x2", ACTIVE, 2)])
            .unwrap();
        assert_eq!(changed[0].was.as_deref(), Some("INACTIVE"));
        assert!(s
            .certificates_upsert("tgt", &[row("x2", ACTIVE, 2)])
            .unwrap()
            .is_empty());
        assert_eq!(
            s.certificates_compare("act", "tgt", 5).unwrap().in_target,
            2
        );
        assert_eq!(
            s.certificates_active_of("tgt", &["x1".into(), "x3".into(), "x4".into()])
                .unwrap(),
            vec![true, false, true]
        );
    }
}
