//! Region samples: the history behind the region charts, and the retention that prunes it.
//!
//! Rules kept here:
//! - One sample per region and instant: a second observation at the same instant replaces the
//!   first.
//! - Pruning drops samples older than the cut-off and alerts cleared before it; an open alert
//!   stays whatever its age.

use super::{Store, StoreError};
use rusqlite::params;
use switchyard_core::{RegionObservation, UnixMs};

/// One stored region sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub region: String,
    pub observed_at: UnixMs,
    pub health: String,
    pub online: u64,
    pub offline: u64,
    pub backlog_messages: u64,
    pub connect_attempts: u64,
    pub connect_errors: u64,
}

impl Store {
    pub fn record_sample(&self, obs: &RegionObservation, health: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO region_samples
             (region, observed_at, health, online, offline, backlog_messages, backlog_bytes, dropped,
              connect_attempts, connect_errors)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                obs.region,
                obs.observed_at as i64,
                health,
                obs.online as i64,
                obs.offline as i64,
                obs.backlog.messages as i64,
                obs.backlog.bytes as i64,
                obs.backlog.dropped as i64,
                obs.connect_attempts as i64,
                obs.connect_errors as i64
            ],
        )?;
        Ok(())
    }

    /// Deletes samples observed before `before`, and alerts cleared before it; returns how many
    /// rows went. Open alerts are kept whatever their age.
    pub fn prune(&self, before: UnixMs) -> Result<usize, StoreError> {
        let conn = self.lock();
        let samples = conn.execute(
            "DELETE FROM region_samples WHERE observed_at < ?1",
            params![before as i64],
        )?;
        let deliveries = super::deliveries::prune_finished(&conn, before)?;
        let alerts = super::alerts::prune_cleared(&conn, before)?;
        Ok(samples + deliveries + alerts)
    }

    /// Samples of `region` observed at or after `since`, oldest first.
    pub fn samples(&self, region: &str, since: UnixMs) -> Result<Vec<Sample>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT region, observed_at, health, online, offline, backlog_messages,
                    connect_attempts, connect_errors
             FROM region_samples WHERE region = ?1 AND observed_at >= ?2 ORDER BY observed_at",
        )?;
        let rows = stmt.query_map(params![region, since as i64], |r| {
            Ok(Sample {
                region: r.get(0)?,
                observed_at: r.get::<_, i64>(1)? as UnixMs,
                health: r.get(2)?,
                online: r.get::<_, i64>(3)? as u64,
                offline: r.get::<_, i64>(4)? as u64,
                backlog_messages: r.get::<_, i64>(5)? as u64,
                connect_attempts: r.get::<_, i64>(6)? as u64,
                connect_errors: r.get::<_, i64>(7)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::{AlertKind, Condition};
    use switchyard_core::BacklogTotals;

    fn obs(region: &str, at: UnixMs, online: u64) -> RegionObservation {
        RegionObservation {
            region: region.into(),
            observed_at: at,
            online,
            offline: 3,
            connect_attempts: 0,
            connect_errors: 0,
            publish_in: 0,
            publish_errors: 0,
            backlog: BacklogTotals {
                gateways: 1,
                messages: 9,
                bytes: 90,
                dropped: 0,
                oldest_age_ms: 0,
            },
            latency_ms: 1,
            problems: Vec::new(),
        }
    }

    #[test]
    fn samples_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.record_sample(&obs("us-east-1", 1_000, 10), "healthy")
                .unwrap();
            s.record_sample(&obs("us-east-1", 2_000, 11), "degraded")
                .unwrap();
            s.record_sample(&obs("eu-west-1", 2_000, 0), "healthy")
                .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let got = s.samples("us-east-1", 1_500).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (
                got[0].online,
                got[0].health.as_str(),
                got[0].backlog_messages
            ),
            (11, "degraded", 9)
        );
        assert_eq!(s.samples("us-east-1", 0).unwrap().len(), 2);
    }

    #[test]
    fn pruning_drops_old_samples_and_cleared_alerts_only() {
        let s = Store::in_memory();
        for at in [1_000, 2_000, 3_000] {
            s.record_sample(&obs("us-east-1", at, 1), "healthy")
                .unwrap();
        }
        let c = |subject: &str| Condition {
            kind: AlertKind::RegionDegraded,
            subject: subject.into(),
            message: "m".into(),
        };
        let old_cleared = s.alert_raise(&c("a"), 500).unwrap().alert;
        s.alert_clear(old_cleared, 600).unwrap();
        let old_open = s.alert_raise(&c("b"), 500).unwrap().alert;
        assert_eq!(
            s.prune(2_500).unwrap(),
            3,
            "two samples and one cleared alert"
        );
        assert_eq!(s.samples("us-east-1", 0).unwrap().len(), 1);
        let left: Vec<i64> = s.alerts(false, 10).unwrap().iter().map(|a| a.id).collect();
        assert_eq!(left, vec![old_open], "an open alert stays whatever its age");
    }
}
