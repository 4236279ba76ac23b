//! Moving the stragglers: after the switch, wait until every device has re-resolved the
//! devices' domain (the record's TTL), then move the devices the old region still reports
//! connected — disconnected there (`DeleteConnection`) or told to reconnect (the catalogue's
//! `reconnect` command) — in waves at the configured rate. And the reconnection curve,
//! recorded at every poll while a failover runs.
//!
//! Rules kept here:
//! - nobody is moved before the TTL has passed since the switch;
//! - a device with a result in this failover is never moved again (the store keeps the first
//!   result), so a step resumed after a restart picks up where it stopped;
//! - the old region's list is read again from its start after every wave (those moved leave
//!   it, and paging over a shrinking list would skip devices); a page whose devices all have
//!   results (the index lags) is passed over; the step ends at a list with nobody new;
//! - the rate holds across waves; a throttled answer is retried with backoff, "not found" is a
//!   device already gone; every call is bounded by the poll timeout;
//! - the step never fails the failover: an old region that does not answer, a method that is
//!   off, a fleet that cannot do it are a skip with the reason;
//! - cancelling is an audited action; the step ends "cancelled" at the next device and the
//!   failover goes on to verify;
//! - the progress is saved (and published) after every wave, and each wave's results in one
//!   transaction.

use super::run::Worked;
use crate::engine::audit;
use crate::engine::{Engine, Error};
use crate::ports::{DeliveryError, Disconnected};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::failover::Failover;
use switchyard_core::moving::{
    estimate, human_secs, reresolve_by, utc_time, CurvePoint, DeviceOutcome, StragglerMethod,
    StragglerResult, StragglerState, Stragglers,
};

/// Attempts per device when the service throttles.
const THROTTLED_ATTEMPTS: u32 = 5;
/// Calls in flight at once, at most.
const MAX_IN_FLIGHT: usize = 64;

/// A request to stop the straggler step of one failover, shared with its run.
#[derive(Default)]
pub(super) struct Stop {
    asked: AtomicBool,
    woken: tokio::sync::Notify,
}

impl Stop {
    fn asked(&self) -> bool {
        self.asked.load(Ordering::SeqCst)
    }
}

impl Engine {
    fn stop_for(&self, id: &str) -> Arc<Stop> {
        let mut st = self.failover_state();
        match &st.stop {
            Some((fid, stop)) if fid == id => stop.clone(),
            _ => {
                let stop = Arc::new(Stop::default());
                st.stop = Some((id.to_string(), stop.clone()));
                stop
            }
        }
    }

    /// Records one point of the reconnection curve of every failover under way, from the
    /// latest poll (called after each poll).
    pub(in crate::engine) async fn record_curve(&self) {
        let running = self.failover_state().running.clone();
        let Some(id) = running else { return };
        let Ok(f) = self.load(&id).await else { return };
        if f.phase.is_final() {
            return;
        }
        let snap = self.snapshot();
        let online = |r: &str| {
            snap.regions
                .iter()
                .find(|x| x.id == r)
                .map_or(0, |x| x.online)
        };
        let p = CurvePoint {
            at: self.now(),
            source: online(&f.source),
            target: online(&f.target),
        };
        let fid = f.id.clone();
        if let Err(e) = self.inner.store.run(move |s| s.curve_record(&fid, p)).await {
            tracing::warn!(id, "could not record the reconnection curve: {e}");
            return;
        }
        if let Ok(fresh) = self.load(&id).await {
            self.publish_failover(&fresh);
        }
    }

    /// Cancels the straggler step of failover `id`: audited; the step stops at its next
    /// device and the failover goes on to verify.
    pub async fn cancel_stragglers(
        &self,
        id: &str,
        operator: &str,
        reason: &str,
    ) -> Result<Failover, Error> {
        let f = self.load(id).await?;
        let under_way = f.stragglers.as_ref().is_some_and(|s| !s.state.is_final());
        if f.phase.is_final() || !under_way {
            let now = f
                .stragglers
                .as_ref()
                .map_or("not started", |s| s.state.as_str());
            return Err(Error::conflict(format!(
                "failover {id}'s straggler step is not under way ({now})"
            )));
        }
        let stop = self.stop_for(id);
        let detail = serde_json::json!({ "failover": id }).to_string();
        let act = audit::Act::new(operator, "failover.stragglers.cancel", reason, detail);
        self.audited(act, |_| async move {
            stop.asked.store(true, Ordering::SeqCst);
            // A permit kept for a wait that has not begun yet.
            stop.woken.notify_one();
            Ok(audit::Done::new((), "asked to stop"))
        })
        .await?;
        self.load(id).await
    }

    /// One page of failover `id`'s straggler results.
    pub async fn straggler_results(
        &self,
        id: &str,
        outcome: Option<DeviceOutcome>,
        offset: u32,
        limit: u32,
    ) -> Result<switchyard_core::moving::StragglerResults, Error> {
        crate::engine::check_limit(limit)?;
        self.load(id).await?;
        let fid = id.to_string();
        let (total, items) = self
            .inner
            .store
            .run(move |s| s.straggler_results(&fid, outcome, offset, limit))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))?;
        Ok(switchyard_core::moving::StragglerResults {
            server_time: self.now(),
            failover: id.to_string(),
            total,
            items,
        })
    }

    /// The reconnecting phase: waits out the TTL, then moves the stragglers. Ends with the
    /// step's state in `f.stragglers`; never fails the failover.
    pub(super) async fn move_stragglers(&self, f: &mut Failover) -> Result<(), Error> {
        let cfg = self.inner.cfg.failover.clone();
        let switched_at = *f.switched_at.get_or_insert_with(|| self.now());
        let not_before = reresolve_by(switched_at, f.dns_ttl_secs);
        let method = cfg.stragglers;
        let rate = match method {
            StragglerMethod::Command => self.inner.cfg.commands.rate_per_sec as f64,
            _ => cfg.stragglers_rate,
        };
        let mut st = f.stragglers.clone().unwrap_or_else(|| Stragglers {
            method,
            region: f.source.clone(),
            rate_per_s: rate,
            state: StragglerState::Waiting,
            not_before,
            estimate: None,
            found: 0,
            moved: 0,
            already_gone: 0,
            failed: 0,
            started_at: None,
            finished_at: None,
            detail: String::new(),
        });
        if st.state.is_final() {
            return Ok(());
        }
        let id = f.id.clone();
        let from = f.source.clone();
        let step_name = format!("move the stragglers off {from} ({})", method.as_str());
        if let Some(why) = self.cannot_move(method) {
            st.state = StragglerState::Skipped;
            st.detail = why.clone();
            f.stragglers = Some(st);
            self.save(f).await?;
            let _: Result<(), _> = self
                .step(&id, &step_name, async move { Err(("skipped".into(), why)) })
                .await?;
            return Ok(());
        }
        let online = self
            .snapshot()
            .regions
            .iter()
            .find(|r| r.id == from)
            .map_or(0, |r| r.online);
        if st.estimate.is_none() {
            st.estimate = Some(estimate(
                method,
                online,
                rate,
                self.inner.cfg.commands.rate_per_sec as f64,
            ));
        }
        f.stragglers = Some(st.clone());
        self.save(f).await?;
        let stop = self.stop_for(&id);

        // 1. Until every device has re-resolved: one dropped before would come straight back.
        if st.started_at.is_none() {
            let me = self.clone();
            let wait_stop = stop.clone();
            let waited = self
                .step(
                    &id,
                    &format!(
                        "wait for devices to re-resolve (TTL {} s, by {})",
                        f.dns_ttl_secs,
                        utc_time(not_before)
                    ),
                    async move {
                        let left = not_before.saturating_sub(me.now());
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(left)) => {
                                Ok(((), "the TTL has passed".to_string()))
                            }
                            _ = wait_stop.woken.notified() => {
                                Err(("cancelled".into(), "cancelled before the TTL passed".into()))
                            }
                        }
                    },
                )
                .await?;
            if waited.is_err() || stop.asked() {
                return self
                    .end_stragglers(
                        f,
                        StragglerState::Cancelled,
                        "cancelled while waiting for the TTL".into(),
                    )
                    .await;
            }
        }

        // 2. Move them.
        let mut st = f.stragglers.clone().unwrap_or(st);
        st.state = StragglerState::Moving;
        st.started_at.get_or_insert(self.now());
        // The tally a previous process left, from the kept results.
        let fid = id.clone();
        let tally = self
            .inner
            .store
            .run(move |s| s.stragglers_tally(&fid))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        st.moved = tally[0] + tally[2];
        st.already_gone = tally[1];
        st.failed = tally[3];
        // Found and not reached by a stopped process: found again by this one.
        st.found = tally.iter().sum();
        f.stragglers = Some(st);
        self.save(f).await?;
        let me = self.clone();
        let work_f = f.clone();
        let work_stop = stop.clone();
        // How the step ended, as the step said it (the journal keeps only its words).
        let ended = Arc::new(std::sync::Mutex::new(StragglerState::Failed));
        let said = ended.clone();
        let work_id = id.clone();
        let outcome = self
            .step_said(&id, &step_name, async move {
                let (state, detail) = match me.move_all(work_f, &work_stop).await {
                    Ok(end) => end,
                    Err(e) => (StragglerState::Failed, e.to_string()),
                };
                *said.lock().unwrap_or_else(|p| p.into_inner()) = state;
                // "Told 0 devices" is not a success: it is nothing to do, and says so.
                let found = me
                    .load(&work_id)
                    .await
                    .ok()
                    .and_then(|f| f.stragglers)
                    .map_or(0, |s| s.found);
                let worked = if found == 0 {
                    Worked::NothingToDo
                } else {
                    Worked::Did
                };
                match state {
                    StragglerState::Done => Ok(((), detail.clone(), worked)),
                    _ => Err((state.as_str().to_string(), detail)),
                }
            })
            .await?;
        *f = self.load(&id).await?;
        let state = *ended.lock().unwrap_or_else(|p| p.into_inner());
        let detail = match outcome {
            Ok(()) => f.steps.last().map(|s| s.detail.clone()).unwrap_or_default(),
            Err(detail) => detail,
        };
        self.end_stragglers(f, state, detail).await
    }

    async fn end_stragglers(
        &self,
        f: &mut Failover,
        state: StragglerState,
        detail: String,
    ) -> Result<(), Error> {
        if let Some(st) = f.stragglers.as_mut() {
            st.state = state;
            st.detail = detail;
            st.finished_at = Some(self.now());
        }
        self.failover_state().stop = None;
        self.save(f).await
    }

    /// Why this fleet cannot move stragglers with `method`, if it cannot.
    fn cannot_move(&self, method: StragglerMethod) -> Option<String> {
        match method {
            StragglerMethod::Off => Some(
                "stragglers = \"off\": devices move when their connections drop by themselves"
                    .into(),
            ),
            _ if self.inner.connections.is_none() => {
                Some("this fleet cannot list or drop devices' connections".into())
            }
            StragglerMethod::Command if self.inner.channel.is_none() => {
                Some("this fleet cannot send commands to devices".into())
            }
            StragglerMethod::Command if self.reconnect_command().is_none() => {
                Some("the command catalogue has no \"reconnect\" command".into())
            }
            _ => None,
        }
    }

    fn reconnect_command(&self) -> Option<switchyard_core::commands::CommandDef> {
        self.inner
            .cfg
            .commands
            .catalogue
            .iter()
            .find(|c| c.name == "reconnect")
            .cloned()
    }

    /// Pages the old region's connected devices and moves each not moved yet, at the rate.
    /// Returns how the step ended and its summary.
    async fn move_all(
        &self,
        mut f: Failover,
        stop: &Stop,
    ) -> Result<(StragglerState, String), Error> {
        let Some(mut st) = f.stragglers.clone() else {
            return Err(Error::internal("the straggler step has no state"));
        };
        let connections = self
            .inner
            .connections
            .clone()
            .ok_or_else(|| Error::internal("no connection control"))?;
        let from = f.source.clone();
        let timeout = self.inner.cfg.poll_timeout;
        let period = Duration::from_secs_f64(1.0 / st.rate_per_s.max(0.001));
        let mut pace = tokio::time::interval(period);
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The command method publishes the catalogue's reconnect command; the other drops.
        let command = match st.method {
            StragglerMethod::Command => self.reconnect_command(),
            _ => None,
        };
        let clean = self.inner.cfg.failover.stragglers_clean_session;
        let started = self.now();
        {
            let mut token: Option<String> = None;
            loop {
                let page = {
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        let call = connections.connected(&from, token.as_deref());
                        match tokio::time::timeout(timeout * 4, call).await {
                            Ok(Ok(page)) => break page,
                            Ok(Err(DeliveryError::Throttled(_)))
                                if attempt < THROTTLED_ATTEMPTS =>
                            {
                                tokio::time::sleep(backoff(attempt)).await;
                            }
                            Ok(Err(DeliveryError::Throttled(why) | DeliveryError::Failed(why))) => {
                                return Ok((
                                    StragglerState::Skipped,
                                    format!(
                                        "{from} did not answer for its connected devices: {why}"
                                    ),
                                ));
                            }
                            Err(_) => {
                                return Ok((
                                    StragglerState::Skipped,
                                    format!(
                                    "{from} did not answer for its connected devices within {} s",
                                    (timeout * 4).as_secs_f64()
                                ),
                                ))
                            }
                        }
                    }
                };
                let (fid, things) = (f.id.clone(), page.things.clone());
                let known = self
                    .inner
                    .store
                    .run(move |s| s.stragglers_known(&fid, &things))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))?;
                let fresh: Vec<String> = page
                    .things
                    .into_iter()
                    .filter(|t| !known.contains(t))
                    .collect();
                if fresh.is_empty() {
                    // Every device of this page has its result (the index lags behind):
                    // the next page, or the end.
                    match page.next {
                        Some(next) => {
                            token = Some(next);
                            continue;
                        }
                        None => break,
                    }
                }
                st.found += fresh.len() as u64;
                // One wave: paced, at most MAX_IN_FLIGHT at once.
                let mut wave = tokio::task::JoinSet::new();
                let gate = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
                for thing in fresh {
                    if stop.asked() {
                        break;
                    }
                    pace.tick().await;
                    let Ok(permit) = gate.clone().acquire_owned().await else {
                        break;
                    };
                    let (me, from, command, c) = (
                        self.clone(),
                        from.clone(),
                        command.clone(),
                        connections.clone(),
                    );
                    wave.spawn(async move {
                        let _permit = permit;
                        let (outcome, detail) = me
                            .move_one(&*c, &from, &thing, command.as_ref(), clean)
                            .await;
                        StragglerResult {
                            device: thing,
                            outcome,
                            detail,
                            at: me.now(),
                        }
                    });
                }
                let mut results = Vec::new();
                while let Some(r) = wave.join_next().await {
                    if let Ok(r) = r {
                        results.push(r);
                    }
                }
                let fid = f.id.clone();
                let kept = results.clone();
                self.inner
                    .store
                    .run(move |s| s.stragglers_record(&fid, &kept))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))?;
                for r in &results {
                    st.count(r.outcome);
                }
                let mut cur = self.load(&f.id).await?;
                cur.stragglers = Some(st.clone());
                self.save(&mut cur).await?;
                f = cur;
                if stop.asked() {
                    return Ok((
                        StragglerState::Cancelled,
                        format!("cancelled after {}", summary(&st)),
                    ));
                }
                // Those moved have left the list: from its start again, so that paging
                // over a list that shrinks skips nobody.
                token = None;
            }
        }
        let took = human_secs(self.now().saturating_sub(started) / 1_000);
        Ok((StragglerState::Done, format!("{} in {took}", summary(&st))))
    }

    /// Moves one device: its outcome and a detail.
    async fn move_one(
        &self,
        c: &dyn crate::ports::ConnectionControl,
        from: &str,
        thing: &str,
        command: Option<&switchyard_core::commands::CommandDef>,
        clean: bool,
    ) -> (DeviceOutcome, String) {
        let timeout = self.inner.cfg.poll_timeout;
        let mut throttled = 0;
        for attempt in 1..=THROTTLED_ATTEMPTS {
            let answer = match (command, &self.inner.channel) {
                (Some(def), Some(channel)) => {
                    let topic = switchyard_core::commands::render_topic(def, thing);
                    let sent = channel.publish(from, thing, &topic, b"{}");
                    match tokio::time::timeout(timeout, sent).await {
                        Ok(Ok(())) => Ok(DeviceOutcome::Told),
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(DeliveryError::Failed(no_answer(timeout))),
                    }
                }
                _ => match tokio::time::timeout(timeout, c.disconnect(from, thing, clean)).await {
                    Ok(Ok(Disconnected::Dropped)) => Ok(DeviceOutcome::Disconnected),
                    Ok(Ok(Disconnected::NotFound)) => Ok(DeviceOutcome::AlreadyGone),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(DeliveryError::Failed(no_answer(timeout))),
                },
            };
            match answer {
                Ok(o) => {
                    let detail = match (o, throttled) {
                        (DeviceOutcome::AlreadyGone, _) => {
                            "not connected when its turn came".into()
                        }
                        (_, 0) => String::new(),
                        (_, n) => format!("throttled {n} times first"),
                    };
                    return (o, detail);
                }
                Err(DeliveryError::Throttled(_)) if attempt < THROTTLED_ATTEMPTS => {
                    throttled += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(DeliveryError::Throttled(why)) => {
                    return (
                        DeviceOutcome::Failed,
                        format!("throttled {THROTTLED_ATTEMPTS} times: {why}"),
                    )
                }
                Err(DeliveryError::Failed(why)) => return (DeviceOutcome::Failed, why),
            }
        }
        (DeviceOutcome::Failed, "no attempt left".into())
    }
}

fn no_answer(timeout: Duration) -> String {
    format!("no answer within {} ms", timeout.as_millis())
}

/// 1 s, 2 s, 4 s, … at most 16 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1 << attempt.saturating_sub(1).min(4))
}

fn summary(st: &Stragglers) -> String {
    let verb = match st.method {
        StragglerMethod::Command => "told",
        _ => "disconnected",
    };
    format!(
        "{} {verb}, {} already gone, {} failed of {} found",
        st.moved, st.already_gone, st.failed, st.found
    )
}
