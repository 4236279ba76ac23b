//! SQLite storage: one file, `switchyard.db`, in the data directory. The only module that
//! speaks SQL.
//!
//! rusqlite is synchronous: async callers go through [`Store::run`], which moves the work to
//! tokio's blocking pool so a slow disk never stalls the pollers.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use switchyard_core::alerts::{Alert, AlertKind, Condition};
use switchyard_core::auth::{Role, UserInfo};
use switchyard_core::drills::{ActionItem, Drill, DrillMode, DrillStatus, DrillSummary};
use switchyard_core::failover::{Failover, Phase, Step};
use switchyard_core::{RegionObservation, UnixMs};

/// The schema, one entry per version. A database is brought up to date at open; an entry is
/// never edited once released, only followed by a new one.
const MIGRATIONS: &[&str] = &[
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
];

#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("database error: {e}"))
    }
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: UnixMs,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub detail: String,
    pub result: Option<String>,
    pub finished_at: Option<UnixMs>,
}

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

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`. The directory must exist or be
    /// creatable, and be writable; the error names the directory and what is wrong with it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let unusable = |why: String| {
            StoreError(format!(
                "data directory {} is not usable: {why}",
                dir.display()
            ))
        };
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => return Err(unusable("it is not a directory".into())),
            Ok(m) if m.permissions().readonly() => return Err(unusable("it is read-only".into())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| unusable(format!("cannot create it ({e})")))?;
            }
            Err(e) => return Err(unusable(e.to_string())),
        }
        let path = dir.join("switchyard.db");
        let conn = Connection::open(&path)
            .map_err(|e| unusable(format!("cannot open {} ({e})", path.display())))?;
        let store = Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        };
        store.migrate().map_err(|e| unusable(e.0))?;
        Ok(store)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Store {
        let store = Store {
            conn: Arc::new(Mutex::new(
                Connection::open_in_memory().expect("in-memory sqlite"),
            )),
            path: PathBuf::from(":memory:"),
        };
        store
            .migrate()
            .expect("migrations apply to an empty database");
        store
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.lock();
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError(format!(
                "the database is at schema version {version}, newer than this Switchyard knows ({})",
                MIGRATIONS.len()
            )));
        }
        let tx = conn.transaction()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs blocking store work off the async threads.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError(format!("store task failed: {e}")))?
    }

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
        let alerts = conn.execute(
            "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?1",
            params![before as i64],
        )?;
        Ok(samples + alerts)
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

    /// Journals the start of a state-changing action; returns its audit id. The row says
    /// "under way" (no result) until [`Store::audit_finish`] records how it ended.
    pub fn audit_begin(
        &self,
        at: UnixMs,
        actor: &str,
        action: &str,
        reason: &str,
        detail: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO audit (at, actor, action, reason, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![at as i64, actor, action, reason, detail],
        )?;
        let id = conn.last_insert_rowid();
        // The operations log (journald under systemd) says who did what; the detail, which may
        // carry a command's payload, stays in the database.
        tracing::info!("audit #{id}: {actor}: {action} ({reason})");
        Ok(id)
    }

    pub fn audit_finish(&self, id: i64, at: UnixMs, result: &str) -> Result<(), StoreError> {
        let n = self.lock().execute(
            "UPDATE audit SET result = ?2, finished_at = ?3 WHERE id = ?1 AND result IS NULL",
            params![id, result, at as i64],
        )?;
        if n == 1 {
            tracing::info!("audit #{id}: {result}");
            Ok(())
        } else {
            Err(StoreError(format!(
                "audit entry {id} does not exist or is already finished"
            )))
        }
    }

    pub fn audit_entry(&self, id: i64) -> Result<Option<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT id, at, actor, action, reason, detail, result, finished_at FROM audit WHERE id = ?1",
                params![id],
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get::<_, i64>(1)? as UnixMs,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        reason: r.get(4)?,
                        detail: r.get(5)?,
                        result: r.get(6)?,
                        finished_at: r.get::<_, Option<i64>>(7)?.map(|v| v as UnixMs),
                    })
                },
            )
            .optional()?)
    }
}

/// Failovers: the one-at-a-time lock, the rows and their step journal.
impl Store {
    /// Records a new failover. Refused, naming the other one, while another is under way: the
    /// `in_progress` column's UNIQUE constraint is the lock, so two requests racing from two
    /// processes cannot both win either.
    pub fn failover_insert(&self, f: &Failover) -> Result<Result<(), String>, StoreError> {
        let conn = self.lock();
        let other: Option<String> = conn
            .query_row("SELECT id FROM failovers WHERE in_progress = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(id) = other {
            return Ok(Err(id));
        }
        let preflight = serde_json::to_string(&f.preflight)
            .map_err(|e| StoreError(format!("cannot encode the preflight: {e}")))?;
        match conn.execute(
            "INSERT INTO failovers (id, source, target, reason, requested_by, approved_by, phase,
                 preflight, online_before, back, complete_share, requested_at, updated_at,
                 ended_at, outcome, in_progress)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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
            ],
        ) {
            Ok(_) => Ok(Ok(())),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(Err("another".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Saves a failover's phase and figures; releases the lock once it has ended.
    pub fn failover_update(&self, f: &Failover) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE failovers SET approved_by = ?2, phase = ?3, back = ?4, updated_at = ?5,
                 ended_at = ?6, outcome = ?7, in_progress = ?8
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
                    online_before, back, complete_share, requested_at, updated_at, ended_at, outcome
             FROM failovers WHERE {cond} ORDER BY requested_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![arg, limit], |r| {
            let phase: String = r.get(6)?;
            let preflight: String = r.get(7)?;
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
                },
                preflight,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut f, preflight) = row?;
            f.preflight = serde_json::from_str(&preflight)
                .map_err(|e| StoreError(format!("failover {}: bad preflight: {e}", f.id)))?;
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

    pub fn state_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT value FROM state WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn state_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    pub fn audit_recent(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, at, actor, action, reason, detail, result, finished_at FROM audit
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get::<_, i64>(1)? as UnixMs,
                actor: r.get(2)?,
                action: r.get(3)?,
                reason: r.get(4)?,
                detail: r.get(5)?,
                result: r.get(6)?,
                finished_at: r.get::<_, Option<i64>>(7)?.map(|v| v as UnixMs),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Command runs and their per-device results.
impl Store {
    pub fn command_insert(
        &self,
        r: &switchyard_core::commands::CommandRun,
    ) -> Result<(), StoreError> {
        let enc = |v: &dyn erased::Json| v.json();
        self.lock().execute(
            "INSERT INTO command_runs (id, command, target, payload, offline, reason, requested_by,
                 requested_at, status, total)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                r.id,
                r.command,
                enc(&r.target),
                r.payload.to_string(),
                enc(&r.offline),
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
                let outcome = serde_json::to_string(&x.outcome)
                    .map_err(|e| StoreError(format!("cannot encode a result: {e}")))?;
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
                StoreError(format!("command run {id}: bad {what}: {e}"))
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
                    .map_err(|e| StoreError(format!("result of {device}: {e}")))?,
                device,
                at: at as UnixMs,
                attempts,
            });
        }
        Ok(out)
    }
}

mod erased {
    /// Anything serialisable, as JSON text (for the store's TEXT columns).
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

impl Store {
    /// Records a newly raised alert; returns its id.
    pub fn alert_raise(&self, c: &Condition, at: UnixMs) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO alerts (kind, subject, message, raised_at) VALUES (?1, ?2, ?3, ?4)",
            params![c.kind.as_str(), c.subject, c.message, at as i64],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn alert_clear(&self, id: i64, at: UnixMs) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE alerts SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
            params![id, at as i64],
        )?;
        Ok(())
    }

    /// The newest `limit` alerts, open only or all.
    pub fn alerts(&self, open_only: bool, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, subject, message, raised_at, cleared_at FROM alerts
             WHERE (?1 = 0 OR cleared_at IS NULL) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![open_only as i64, limit], |r| {
            let kind: String = r.get(1)?;
            Ok((
                r.get::<_, i64>(0)?,
                kind,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, subject, message, raised_at, cleared_at) = row?;
            let kind = AlertKind::parse(&kind)
                .ok_or_else(|| StoreError(format!("alert {id} has an unknown kind '{kind}'")))?;
            out.push(Alert {
                id,
                kind,
                severity: kind.severity(),
                subject,
                message,
                raised_at: raised_at as UnixMs,
                cleared_at: cleared_at.map(|c| c as UnixMs),
            });
        }
        Ok(out)
    }
}

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
    .map_err(|e| StoreError(format!("cannot encode drill {}: {e}", d.summary.id)))
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

/// Drills: the reports operators review, and the one-live-drill-at-a-time lock.
impl Store {
    /// Records a new drill. A live drill is refused, naming the other, while another runs.
    pub fn drill_insert(&self, d: &Drill) -> Result<Result<(), String>, StoreError> {
        let conn = self.lock();
        let live = d.summary.mode == DrillMode::Live;
        if live {
            let other: Option<String> = conn
                .query_row("SELECT id FROM drills WHERE live = 1", [], |r| r.get(0))
                .optional()?;
            if let Some(id) = other {
                return Ok(Err(id));
            }
        }
        let s = &d.summary;
        conn.execute(
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
                drill_body(d)?,
                live.then_some(1),
            ],
        )?;
        Ok(Ok(()))
    }

    /// Saves a drill's record and, once it has ended, its verdict; releases the live lock then.
    pub fn drill_save(&self, d: &Drill) -> Result<(), StoreError> {
        let s = &d.summary;
        let ended = s.status != DrillStatus::Running;
        self.lock().execute(
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
            .map_err(|e| StoreError(format!("drill {id}: unreadable record: {e}")))?;
        let action_items: Vec<ActionItem> = serde_json::from_str(&items)
            .map_err(|e| StoreError(format!("drill {id}: unreadable action items: {e}")))?;
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
        let items = serde_json::to_string(items)
            .map_err(|e| StoreError(format!("cannot encode action items: {e}")))?;
        Ok(self.lock().execute(
            "UPDATE drills SET notes = ?2, action_items = ?3 WHERE id = ?1",
            params![id, notes, items],
        )? == 1)
    }

    /// Marks drills left running by a stopped process as aborted; returns their ids.
    pub fn drills_interrupted(&self, at: UnixMs) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = {
            let conn = self.lock();
            let mut st = conn.prepare("SELECT id FROM drills WHERE status = 'running'")?;
            let ids = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
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

/// Accounts and sessions. Password hashes and session-token hashes never leave this module
/// but to the auth module that checks them.
impl Store {
    pub fn users_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Adds an account; false when the name is taken.
    pub fn user_insert(&self, u: &UserInfo, hash: &str) -> Result<bool, StoreError> {
        match self.lock().execute(
            "INSERT INTO users (username, role, hash, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                u.username,
                u.role.as_str(),
                hash,
                u.created_at as i64,
                u.created_by
            ],
        ) {
            Ok(_) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserInfo> {
        Ok(UserInfo {
            username: r.get(0)?,
            role: Role::parse(&r.get::<_, String>(1)?).unwrap_or(Role::Viewer),
            created_at: r.get::<_, i64>(2)? as UnixMs,
            created_by: r.get(3)?,
        })
    }

    /// An account and its password hash.
    pub fn user(&self, name: &str) -> Result<Option<(UserInfo, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT username, role, created_at, created_by, hash FROM users WHERE username = ?1",
                params![name],
                |r| Ok((Self::user_row(r)?, r.get::<_, String>(4)?)),
            )
            .optional()?)
    }

    pub fn users(&self) -> Result<Vec<UserInfo>, StoreError> {
        let conn = self.lock();
        let mut st = conn.prepare(
            "SELECT username, role, created_at, created_by FROM users ORDER BY username",
        )?;
        let rows = st
            .query_map([], Self::user_row)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    pub fn session_insert(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        at: UnixMs,
        expires_at: UnixMs,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![at as i64],
        )?;
        conn.execute(
            "INSERT INTO sessions (token_hash, username, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user, csrf, at as i64, expires_at as i64],
        )?;
        Ok(())
    }

    /// The session's user, role, CSRF token and expiry, if it is current.
    #[allow(clippy::type_complexity)]
    pub fn session(
        &self,
        token_hash: &str,
        now: UnixMs,
    ) -> Result<Option<(String, Role, String, UnixMs)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT s.username, u.role, s.csrf, s.expires_at FROM sessions s
                 JOIN users u ON u.username = s.username
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, now as i64],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Role::parse(&r.get::<_, String>(1)?).unwrap_or(Role::Viewer),
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)? as UnixMs,
                    ))
                },
            )
            .optional()?)
    }

    /// Ends a session; returns whose it was.
    pub fn session_delete(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let conn = self.lock();
        let user: Option<String> = conn
            .query_row(
                "SELECT username FROM sessions WHERE token_hash = ?1",
                params![token_hash],
                |r| r.get(0),
            )
            .optional()?;
        conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            params![token_hash],
        )?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn an_audit_entry_is_open_until_finished_and_finishes_once() {
        let s = Store::in_memory();
        let id = s
            .audit_begin(5, "alice", "sim.inject_fault", "training", "{}")
            .unwrap();
        assert_eq!(s.audit_entry(id).unwrap().unwrap().result, None);
        s.audit_finish(id, 6, "ok").unwrap();
        let e = s.audit_entry(id).unwrap().unwrap();
        assert_eq!(
            (e.result.as_deref(), e.finished_at, e.actor.as_str()),
            (Some("ok"), Some(6), "alice")
        );
        assert!(s.audit_finish(id, 7, "again").is_err());
    }

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
                s.alert_raise(&c("gw-1"), 10).unwrap(),
                s.alert_raise(&c("gw-2"), 20).unwrap(),
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
        let old_cleared = s.alert_raise(&c("a"), 500).unwrap();
        s.alert_clear(old_cleared, 600).unwrap();
        let old_open = s.alert_raise(&c("b"), 500).unwrap();
        assert_eq!(
            s.prune(2_500).unwrap(),
            3,
            "two samples and one cleared alert"
        );
        assert_eq!(s.samples("us-east-1", 0).unwrap().len(), 1);
        let left: Vec<i64> = s.alerts(false, 10).unwrap().iter().map(|a| a.id).collect();
        assert_eq!(left, vec![old_open], "an open alert stays whatever its age");
    }

    #[test]
    fn unusable_directories_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open(&file).err().unwrap().0;
        assert!(
            err.contains("plain-file is not usable: it is not a directory"),
            "{err}"
        );
        let err = Store::open(&file.join("below")).err().unwrap().0;
        assert!(err.contains("plain-file/below is not usable"), "{err}");
    }

    #[test]
    fn a_database_from_a_newer_switchyard_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(dir.path().join("switchyard.db")).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap().0;
        assert!(err.contains("schema version 99, newer than"), "{err}");
    }
}
