//! The one audited path: every state-changing action runs through here.
//!
//! Rules kept here:
//! - An action's audit entry (who, when, what, why, detail) is written *before* the action does
//!   anything, and its result line after it ends, whatever the ending. A failure on the way is
//!   written as the result too ("failed: …"), so no entry stays "under way" because of an error.
//! - Only this file calls the store's `audit_begin` / `audit_finish` / `drill_end` (a drill's
//!   end saved with its result line); a test below reads the source tree and fails when any
//!   other file does.
//! - Three shapes, one path: [`Engine::audited`] for an action that ends before the call
//!   returns, [`Engine::audit_open`] for one that runs on as a task (a command run, a drill)
//!   and is finished by its task, and [`within`] for an action that is itself a few store
//!   writes (a failover's lock, a sign-in) made in the same blocking call as its entry.

use super::Engine;
use crate::clock::Clock;
use crate::error::Error;
use crate::store::{Store, StoreError};
use std::future::Future;
use switchyard_core::drills::Drill;

/// What an audited action is: written before it runs.
#[derive(Debug, Clone)]
pub struct Act {
    pub actor: String,
    pub action: String,
    pub reason: String,
    /// JSON with the action's parameters (never a secret).
    pub detail: String,
}

impl Act {
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        reason: impl Into<String>,
        detail: impl Into<String>,
    ) -> Act {
        Act {
            actor: actor.into(),
            action: action.into(),
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// An audited action's value and the result line written for it.
pub struct Done<T> {
    pub value: T,
    pub result: String,
}

impl<T> Done<T> {
    pub fn new(value: T, result: impl Into<String>) -> Done<T> {
        Done {
            value,
            result: result.into(),
        }
    }
}

/// An audit entry whose action is still under way. Finish it with [`OpenAudit::finish`].
#[must_use = "an audited action must be finished"]
pub struct OpenAudit {
    id: i64,
    store: Store,
    clock: crate::clock::SharedClock,
}

impl OpenAudit {
    /// The entry's id, which the action may name (a command run's audit id, say).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Writes the action's result line.
    pub async fn finish(self, result: impl Into<String>) -> Result<(), Error> {
        let (id, at, result) = (self.id, self.clock.now_ms(), result.into());
        self.store
            .run(move |s| s.audit_finish(id, at, &result))
            .await
            .map_err(Error::from)
    }

    /// Saves a drill that has ended and writes the result line in one transaction
    /// ([`Store::drill_end`]): whoever reads the drill as ended finds its audit line written.
    /// When that fails, the line says the record could not be saved.
    pub async fn finish_drill(self, drill: Drill, result: String) -> Result<(), Error> {
        let (id, at) = (self.id, self.clock.now_ms());
        let ended = self
            .store
            .run(move |s| s.drill_end(&drill, id, at, &result))
            .await;
        match ended {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::error!("could not save the end of a drill (audit #{id}): {e}");
                self.finish(format!(
                    "failed: the drill's record could not be saved: {e}"
                ))
                .await
            }
        }
    }
}

impl Engine {
    /// Writes `act`'s entry and hands back the open entry, for an action that runs on as a task
    /// and finishes its entry when it ends.
    pub async fn audit_open(&self, act: Act) -> Result<OpenAudit, Error> {
        let at = self.now();
        let id = self
            .inner
            .store
            .run(move |s| s.audit_begin(at, &act.actor, &act.action, &act.reason, &act.detail))
            .await?;
        Ok(OpenAudit {
            id,
            store: self.inner.store.clone(),
            clock: self.inner.clock.clone(),
        })
    }

    /// Runs `work` as one audited action: the entry first, then the work, then its result line
    /// (`Done::result` on success, "failed: …" on an error). Returns the entry's id and the
    /// work's value.
    pub async fn audited<T, F, Fut>(&self, act: Act, work: F) -> Result<(i64, T), Error>
    where
        F: FnOnce(i64) -> Fut,
        Fut: Future<Output = Result<Done<T>, Error>>,
    {
        let open = self.audit_open(act).await?;
        let id = open.id();
        match work(id).await {
            Ok(done) => {
                open.finish(done.result).await?;
                Ok((id, done.value))
            }
            Err(e) => {
                open.finish(format!("failed: {e}")).await?;
                Err(e)
            }
        }
    }
}

/// Runs `work` as one audited action inside a blocking store call: the entry, the work's own
/// store writes and the result line are made one after the other on the same connection.
pub fn within<T>(
    s: &Store,
    clock: &dyn Clock,
    act: &Act,
    work: impl FnOnce(&Store, i64) -> Result<Done<T>, StoreError>,
) -> Result<T, StoreError> {
    let id = s.audit_begin(
        clock.now_ms(),
        &act.actor,
        &act.action,
        &act.reason,
        &act.detail,
    )?;
    match work(s, id) {
        Ok(done) => {
            s.audit_finish(id, clock.now_ms(), &done.result)?;
            Ok(done.value)
        }
        Err(e) => {
            s.audit_finish(id, clock.now_ms(), &format!("failed: {e}"))?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the source tree is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn only_the_audited_path_writes_audit_entries() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_files(&crate_dir.join("src"), &mut files);
        rust_files(&crate_dir.join("desktop/src"), &mut files);
        let store_dir = crate_dir.join("src/store");
        let this = crate_dir.join("src/engine/audit.rs");
        let offenders: Vec<String> = files
            .iter()
            .filter(|p| !p.starts_with(&store_dir) && **p != this)
            .filter(|p| {
                let text = std::fs::read_to_string(p).expect("a source file is readable");
                [".audit_begin(", ".audit_finish(", ".drill_end("]
                    .iter()
                    .any(|w| text.contains(w))
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(files.len() > 40, "the scan found the source tree");
        assert!(
            offenders.is_empty(),
            "these files write audit entries outside engine/audit.rs: {offenders:?}"
        );
    }
}
