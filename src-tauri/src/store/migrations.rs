//! The schema: numbered migrations, applied at open and recorded in `PRAGMA user_version`.
//!
//! Rules kept here:
//! - An entry of [`MIGRATIONS`] is never edited once released, only followed by a new one.
//! - A database brought up to date applies every missing entry in one transaction, or none.
//! - A database at a newer version than this build knows is refused, never downgraded.

use super::{Store, StoreError};

/// The schema, one entry per version. A database is brought up to date at open; an entry is
/// never edited once released, only followed by a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: history of region observations, and the audit log of state-changing actions.
    "CREATE TABLE region_samples (
        region      TEXT    NOT NULL,
        observed_at INTEGER NOT NULL,
        health      TEXT    NOT NULL,
        online      INTEGER NOT NULL,
        offline     INTEGER NOT NULL,
        backlog_messages INTEGER NOT NULL,
        backlog_bytes    INTEGER NOT NULL,
        dropped     INTEGER NOT NULL,
        PRIMARY KEY (region, observed_at)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        actor     TEXT    NOT NULL,
        action    TEXT    NOT NULL,
        reason    TEXT    NOT NULL,
        detail    TEXT    NOT NULL,
        -- NULL while the action is under way: a row left NULL by a crash says so.
        result    TEXT,
        finished_at INTEGER
    );",
    // 2: alerts, open until cleared.
    "CREATE TABLE alerts (
        id         INTEGER PRIMARY KEY,
        kind       TEXT    NOT NULL,
        subject    TEXT    NOT NULL,
        message    TEXT    NOT NULL,
        raised_at  INTEGER NOT NULL,
        cleared_at INTEGER
    );
    CREATE INDEX alerts_open ON alerts (cleared_at) WHERE cleared_at IS NULL;",
    // 3: connection attempts and errors per sample, for the region charts.
    "ALTER TABLE region_samples ADD COLUMN connect_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE region_samples ADD COLUMN connect_errors INTEGER NOT NULL DEFAULT 0;",
    // 4: failovers and their step journal; which region is active, kept across restarts.
    "CREATE TABLE failovers (
        id           TEXT    PRIMARY KEY,
        source       TEXT    NOT NULL,
        target       TEXT    NOT NULL,
        reason       TEXT    NOT NULL,
        requested_by TEXT    NOT NULL,
        approved_by  TEXT,
        phase        TEXT    NOT NULL,
        preflight    TEXT    NOT NULL,
        online_before INTEGER NOT NULL,
        back         INTEGER NOT NULL DEFAULT 0,
        complete_share REAL  NOT NULL,
        requested_at INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        ended_at     INTEGER,
        outcome      TEXT,
        -- 1 while under way, NULL once ended: UNIQUE makes it the one-at-a-time lock.
        in_progress  INTEGER UNIQUE CHECK (in_progress = 1)
    );
    CREATE TABLE failover_steps (
        id          INTEGER PRIMARY KEY,
        failover_id TEXT    NOT NULL REFERENCES failovers (id),
        step        TEXT    NOT NULL,
        started_at  INTEGER NOT NULL,
        -- NULL while under way: a row left NULL by a crash says so.
        finished_at INTEGER,
        outcome     TEXT,
        detail      TEXT    NOT NULL DEFAULT ''
    );
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 5: command runs and what happened to each device.
    "CREATE TABLE command_runs (
        id           TEXT    PRIMARY KEY,
        command      TEXT    NOT NULL,
        target       TEXT    NOT NULL,
        payload      TEXT    NOT NULL,
        offline      TEXT    NOT NULL,
        reason       TEXT    NOT NULL,
        requested_by TEXT    NOT NULL,
        requested_at INTEGER NOT NULL,
        status       TEXT    NOT NULL,
        total        INTEGER NOT NULL,
        sent         INTEGER NOT NULL DEFAULT 0,
        shadowed     INTEGER NOT NULL DEFAULT 0,
        skipped      INTEGER NOT NULL DEFAULT 0,
        failed       INTEGER NOT NULL DEFAULT 0,
        cancelled    INTEGER NOT NULL DEFAULT 0,
        ended_at     INTEGER
    );
    CREATE TABLE command_results (
        run_id   TEXT    NOT NULL REFERENCES command_runs (id),
        device   TEXT    NOT NULL,
        outcome  TEXT    NOT NULL,
        at       INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (run_id, device)
    ) WITHOUT ROWID;",
    // 6: drills and their reports. The columns the list shows are columns; the scenario,
    // objectives, recording and measures are one JSON document.
    "CREATE TABLE drills (
        id            TEXT    PRIMARY KEY,
        name          TEXT    NOT NULL,
        mode          TEXT    NOT NULL,
        source        TEXT    NOT NULL,
        status        TEXT    NOT NULL,
        started_by    TEXT    NOT NULL,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        recovery_ms   INTEGER,
        messages_lost INTEGER,
        body          TEXT    NOT NULL,
        notes         TEXT    NOT NULL DEFAULT '',
        action_items  TEXT    NOT NULL DEFAULT '[]',
        -- 1 while a live drill runs, NULL otherwise: UNIQUE makes it one live drill at a time.
        live          INTEGER UNIQUE CHECK (live = 1)
    );
    CREATE INDEX drills_started ON drills (started_at);",
    // 7: accounts (argon2id hashes) and sessions (SHA-256 of the token, never the token).
    "CREATE TABLE users (
        username   TEXT    PRIMARY KEY,
        role       TEXT    NOT NULL,
        hash       TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT    NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT    PRIMARY KEY,
        username   TEXT    NOT NULL REFERENCES users (username),
        csrf       TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );",
    // 8: how a failover's devices really move: the switch time and the TTL, the stragglers'
    // step, the reconnection curve at every poll, and each straggler's result (one a device:
    // a device with a result is never moved again in the same failover).
    "ALTER TABLE failovers ADD COLUMN switched_at INTEGER;
    ALTER TABLE failovers ADD COLUMN dns_ttl_secs INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE failovers ADD COLUMN stragglers TEXT;
    CREATE TABLE failover_curve (
        failover_id   TEXT    NOT NULL,
        at            INTEGER NOT NULL,
        source_online INTEGER NOT NULL,
        target_online INTEGER NOT NULL,
        PRIMARY KEY (failover_id, at)
    ) WITHOUT ROWID;
    CREATE TABLE failover_stragglers (
        failover_id TEXT    NOT NULL,
        device      TEXT    NOT NULL,
        outcome     TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (failover_id, device)
    ) WITHOUT ROWID;
    CREATE INDEX failover_stragglers_outcome ON failover_stragglers (failover_id, outcome, at);",
    // 9: each region's certificate set as last listed (id, status, creation date), the pages
    // of a full listing under way, and per region when the last full listing started and the
    // newest creation date seen.
    "CREATE TABLE certificates (
        region     TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (region, id)
    ) WITHOUT ROWID;
    CREATE TABLE certificates_staged (
        region     TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (region, id)
    ) WITHOUT ROWID;
    CREATE TABLE certificate_sweeps (
        region         TEXT    PRIMARY KEY,
        -- When the last complete full listing started; NULL before the first is complete.
        full_at        INTEGER,
        newest_created INTEGER,
        -- Certificates read from the newest end since that full listing.
        added_since    INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;",
    // 10: incidents, the incident each alert joined, and who acknowledged an alert.
    "CREATE TABLE incidents (
        id        INTEGER PRIMARY KEY,
        title     TEXT    NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER
    );
    CREATE INDEX incidents_open ON incidents (closed_at) WHERE closed_at IS NULL;
    ALTER TABLE alerts ADD COLUMN incident_id INTEGER REFERENCES incidents (id);
    ALTER TABLE alerts ADD COLUMN ack_by TEXT;
    ALTER TABLE alerts ADD COLUMN ack_at INTEGER;
    ALTER TABLE alerts ADD COLUMN ack_note TEXT;
    CREATE INDEX alerts_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;",
    // 11: the outbox of alerts going out: one row per notice per receiver.
    "CREATE TABLE deliveries (
        id           INTEGER PRIMARY KEY,
        receiver     TEXT    NOT NULL,
        -- NULL for a test notice.
        alert_id     INTEGER REFERENCES alerts (id),
        event        TEXT    NOT NULL,
        state        TEXT    NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        created_at   INTEGER NOT NULL,
        next_at      INTEGER NOT NULL,
        delivered_at INTEGER,
        region       TEXT,
        -- Who sent a test notice.
        requested_by TEXT
    );
    CREATE UNIQUE INDEX deliveries_once ON deliveries (receiver, alert_id, event)
        WHERE alert_id IS NOT NULL;
    CREATE INDEX deliveries_open ON deliveries (receiver, id)
        WHERE state IN ('pending', 'retrying');",
];

impl Store {
    pub(super) fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::NewerSchema {
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let tx = conn.transaction()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn a_database_from_a_newer_switchyard_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join("switchyard.db")).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("schema version 99, newer than"), "{err}");
    }

    #[test]
    fn a_new_database_is_brought_to_the_newest_version_and_a_reopen_applies_nothing() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let version = |dir: &std::path::Path| -> usize {
            Connection::open(dir.join("switchyard.db"))
                .unwrap()
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        };
        assert_eq!(version(dir.path()), MIGRATIONS.len());
        drop(Store::open(dir.path()).unwrap());
        assert_eq!(version(dir.path()), MIGRATIONS.len());
    }
}
