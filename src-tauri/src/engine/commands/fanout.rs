//! A command run: started (checked, audited, stored), fanned out in the background at a
//! bounded rate and concurrency, cancelled on request, its results kept in batches.
//!
//! Rules kept here:
//! - online only: a device planned for a publish gets one only while online; past
//!   `recheck_after` into a run its connectivity is checked again at send time, and one gone
//!   offline is skipped;
//! - at most `rate_per_sec` sends started a second and `concurrency` in flight;
//! - a send is retried only after throttling, up to `max_attempts`, with a growing pause;
//! - every device gets a result (skipped, sent, shadowed, failed or cancelled), written in
//!   batches of `RESULT_BATCH` or every half second, and published as the run's progress;
//! - the run is audited before it starts and after it ends, the end before it is stored and
//!   published; a cancel is audited with its operator, a refused one too;
//! - no lock is held across an await.

use crate::engine::audit;
use crate::engine::{Engine, Error};
use crate::ports::{DeliveryError, DeviceChannel};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::api::FleetEvent;
use switchyard_core::commands::{
    render_topic, shadow_document, CommandDef, CommandRequest, CommandRun, DeviceResult, Outcome,
    RunStatus,
};
use switchyard_core::Connectivity;
use tokio::time::Instant;

const RESULT_BATCH: usize = 500;

impl Engine {
    /// Starts a run: checked, audited, stored, then fanned out in the background.
    pub async fn run_command(
        &self,
        req: CommandRequest,
        operator: &str,
    ) -> Result<CommandRun, Error> {
        if req.reason.trim().is_empty() {
            return Err(Error::invalid("reason: required"));
        }
        let (def, payload, devices, p) = self.prepare(&req).await?;
        switchyard_core::commands::check_confirm(
            (p.publish.len() + p.shadow.len()) as u64,
            self.inner.cfg.commands.confirm_above,
            req.confirm_count,
        )
        .map_err(Error::invalid)?;
        let now = self.now();
        let run = CommandRun {
            id: format!("cmd-{now}-{}", devices.len()),
            command: def.name.clone(),
            target: req.target.clone(),
            // What the devices get: the request with its schema defaults filled in.
            payload: switchyard_core::commands::with_defaults(&def.schema, &req.payload),
            offline: req.offline,
            reason: req.reason.trim().to_string(),
            requested_by: operator.to_string(),
            requested_at: now,
            status: RunStatus::Running,
            total: devices.len() as u64,
            sent: 0,
            shadowed: 0,
            skipped: 0,
            failed: 0,
            cancelled: 0,
            ended_at: None,
        };
        let detail = serde_json::json!({
            "run": run.id, "command": run.command, "target": run.target,
            "publish": p.publish.len(), "shadow": p.shadow.len(), "skip": p.skip.len(),
        })
        .to_string();
        let act = audit::Act::new(operator, "command.run", run.reason.clone(), detail);
        let audit = self
            .audit_open(act)
            .await
            .map_err(|e| Error::unavailable(e.message))?;
        let row = run.clone();
        if let Err(e) = self.inner.store.run(move |s| s.command_insert(&row)).await {
            let why = format!("failed: could not store the run: {e}");
            let _ = audit.finish(why).await;
            return Err(Error::unavailable(e.to_string()));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.inner
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancel
            .insert(run.id.clone(), cancel.clone());
        let region_of: HashMap<String, String> = devices
            .iter()
            .map(|d| (d.id.clone(), d.region.clone()))
            .collect();
        let engine = self.clone();
        let first = run.clone();
        tokio::spawn(async move {
            engine
                .fan_out(run, def, payload, p, region_of, cancel, audit)
                .await;
        });
        Ok(first)
    }

    /// Cancels a run: devices not yet sent to are marked cancelled. Audited with the operator
    /// who asked; a run that is not running is refused (and that refusal audited too).
    pub async fn cancel_command(&self, id: &str, operator: &str) -> Result<(), Error> {
        let detail = serde_json::json!({ "run": id }).to_string();
        let act = audit::Act::new(operator, "command.cancel", "cancel requested", detail);
        let engine = self.clone();
        let id = id.to_string();
        let (_, outcome) = self
            .audited(act, |_| async move {
                let flag = engine
                    .inner
                    .runs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .cancel
                    .get(&id)
                    .cloned();
                Ok(match flag {
                    Some(flag) => {
                        flag.store(true, Ordering::SeqCst);
                        audit::Done::new(Ok(()), "ok")
                    }
                    None => {
                        let why =
                            format!("no running command {id} (finished runs cannot be cancelled)");
                        audit::Done::new(Err(why.clone()), format!("refused: {why}"))
                    }
                })
            })
            .await
            .map_err(|e| Error::unavailable(e.message))?;
        outcome.map_err(Error::not_found)
    }

    #[allow(clippy::too_many_arguments)]
    async fn fan_out(
        &self,
        mut run: CommandRun,
        def: CommandDef,
        payload: Vec<u8>,
        p: switchyard_core::commands::Plan,
        region_of: HashMap<String, String>,
        cancel: Arc<AtomicBool>,
        audit: audit::OpenAudit,
    ) {
        let cfg = self.inner.cfg.commands.clone();
        let channel = match self.channel() {
            Ok(c) => c,
            Err(_) => return,
        };
        let started = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<DeviceResult>(1_024);
        // Skipped devices have their result at once.
        for s in &p.skip {
            let _ = tx
                .send(DeviceResult {
                    device: s.id.clone(),
                    outcome: Outcome::SkippedOffline {
                        since: s.since,
                        reason: s.reason,
                    },
                    at: self.now(),
                    attempts: 0,
                })
                .await;
        }
        let shadow_doc =
            serde_json::to_vec(&shadow_document(&def, &run.payload)).unwrap_or_default();
        let sender = {
            let engine = self.clone();
            let cancel = cancel.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let sem = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1)));
                let mut tick = tokio::time::interval(Duration::from_secs_f64(
                    1.0 / f64::from(cfg.rate_per_sec.max(1)),
                ));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let work = p
                    .publish
                    .into_iter()
                    .map(|id| (id, false))
                    .chain(p.shadow.into_iter().map(|id| (id, true)));
                for (id, shadow) in work {
                    if cancel.load(Ordering::SeqCst) {
                        let _ = tx
                            .send(DeviceResult {
                                device: id,
                                outcome: Outcome::Cancelled,
                                at: engine.now(),
                                attempts: 0,
                            })
                            .await;
                        continue;
                    }
                    tick.tick().await;
                    let Ok(permit) = sem.clone().acquire_owned().await else {
                        break;
                    };
                    let (engine, channel, tx) = (engine.clone(), channel.clone(), tx.clone());
                    let region = region_of.get(&id).cloned().unwrap_or_default();
                    let topic = render_topic(&def, &id);
                    let (payload, shadow_doc) = (payload.clone(), shadow_doc.clone());
                    let (recheck, max_attempts) = (
                        started.elapsed() > cfg.recheck_after,
                        cfg.max_attempts.max(1),
                    );
                    tokio::spawn(async move {
                        let _permit = permit;
                        let result = engine
                            .deliver(
                                &*channel,
                                &id,
                                &region,
                                &topic,
                                &payload,
                                &shadow_doc,
                                shadow,
                                recheck,
                                max_attempts,
                            )
                            .await;
                        let _ = tx.send(result).await;
                    });
                }
            })
        };
        drop(tx);
        let mut batch = Vec::with_capacity(RESULT_BATCH);
        let mut last_flush = Instant::now();
        while let Some(r) = rx.recv().await {
            match &r.outcome {
                Outcome::Sent => run.sent += 1,
                Outcome::Shadowed => run.shadowed += 1,
                Outcome::SkippedOffline { .. } => run.skipped += 1,
                Outcome::Failed { .. } => run.failed += 1,
                Outcome::Cancelled => run.cancelled += 1,
            }
            batch.push(r);
            if batch.len() >= RESULT_BATCH || last_flush.elapsed() > Duration::from_millis(500) {
                self.flush(&run, std::mem::take(&mut batch)).await;
                last_flush = Instant::now();
            }
        }
        let _ = sender.await;
        run.status = if cancel.load(Ordering::SeqCst) {
            RunStatus::Cancelled
        } else {
            RunStatus::Completed
        };
        run.ended_at = Some(self.now());
        self.inner.metrics.command_run_ended(&run);
        // The end is audited before it is stored and published, so whoever sees the run ended
        // finds the audit entry too.
        let result = format!(
            "{}: {} sent, {} shadowed, {} skipped offline, {} failed, {} cancelled",
            run.status.as_str(),
            run.sent,
            run.shadowed,
            run.skipped,
            run.failed,
            run.cancelled
        );
        if let Err(e) = audit.finish(result).await {
            tracing::error!("could not finish the audit of a command run: {e}");
        }
        self.inner
            .runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cancel
            .remove(&run.id);
        self.flush(&run, batch).await;
    }

    async fn flush(&self, run: &CommandRun, batch: Vec<DeviceResult>) {
        let row = run.clone();
        if let Err(e) = self
            .inner
            .store
            .run(move |s| s.command_progress(&row, &batch))
            .await
        {
            tracing::error!(run = run.id, "could not store command results: {e}");
        }
        let _ = self
            .inner
            .events
            .send(FleetEvent::Command(Box::new(run.clone())));
    }

    /// Sends to one device: checks it is still online when asked to, retries after throttling.
    #[allow(clippy::too_many_arguments)]
    async fn deliver(
        &self,
        channel: &dyn DeviceChannel,
        id: &str,
        region: &str,
        topic: &str,
        payload: &[u8],
        shadow_doc: &[u8],
        shadow: bool,
        recheck: bool,
        max_attempts: u32,
    ) -> DeviceResult {
        let result = |outcome, attempts| DeviceResult {
            device: id.to_string(),
            outcome,
            at: self.now(),
            attempts,
        };
        let mut region = region.to_string();
        if recheck && !shadow {
            match self.device(id).await {
                Ok(Some(d)) => match d.device.connectivity {
                    Connectivity::Offline { since, reason } => {
                        return result(Outcome::SkippedOffline { since, reason }, 0)
                    }
                    Connectivity::Online { .. } => region = d.device.region,
                },
                Ok(None) => {
                    return result(
                        Outcome::Failed {
                            error: "the device no longer exists".into(),
                        },
                        0,
                    )
                }
                Err(e) => {
                    return result(
                        Outcome::Failed {
                            error: format!("could not re-check its connectivity: {e:?}"),
                        },
                        0,
                    )
                }
            }
        }
        let timeout = self.inner.cfg.poll_timeout * 2;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let call = if shadow {
                channel.write_shadow(&region, id, shadow_doc)
            } else {
                channel.publish(&region, id, topic, payload)
            };
            let r = match tokio::time::timeout(timeout, call).await {
                Ok(r) => r,
                Err(_) => Err(DeliveryError::Failed(format!(
                    "no answer within {} ms",
                    timeout.as_millis()
                ))),
            };
            match r {
                Ok(()) => {
                    return result(
                        if shadow {
                            Outcome::Shadowed
                        } else {
                            Outcome::Sent
                        },
                        attempt,
                    )
                }
                Err(DeliveryError::Throttled(e)) if attempt < max_attempts => {
                    tracing::debug!(id, "throttled ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                }
                Err(DeliveryError::Throttled(e) | DeliveryError::Failed(e)) => {
                    return result(Outcome::Failed { error: e }, attempt)
                }
            }
        }
    }
}
