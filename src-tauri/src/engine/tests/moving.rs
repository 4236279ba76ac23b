//! The straggler step against a connection control the test holds (paging, the rate,
//! throttling and retry, "not found", resume without repeats, cancel), in tokio's paused time.
//! The simulated fleet's own model of the move is tested in `failover.rs` and `sim/`.

use super::failover::{request, until};
use super::*;
use crate::ports::{BoxFuture, ConnectedPage, ConnectionControl, DeliveryError, Disconnected};
use std::sync::Mutex as StdMutex;
use switchyard_core::failover::{Failover, Phase};
use switchyard_core::moving::{DeviceOutcome, StragglerMethod, StragglerState};

/// A region's connected devices, as the fleet index would list them: pages of 100 from an
/// offset token, over the devices not disconnected yet (so the list shrinks as it is read).
#[derive(Default)]
struct Index {
    connected: StdMutex<Vec<String>>,
    /// (device, tokio time since the test's start) of every disconnect call, in order.
    calls: StdMutex<Vec<(String, Duration)>>,
    /// The next this many disconnect calls answer "throttled".
    throttle_next: StdMutex<u32>,
    /// Devices that answer "not found" (they left on their own).
    gone: StdMutex<Vec<String>>,
    /// The region does not answer.
    dead: StdMutex<bool>,
    start: StdMutex<Option<tokio::time::Instant>>,
}

impl Index {
    fn with(n: usize) -> Arc<Index> {
        let ix = Index::default();
        *ix.connected.lock().unwrap() = (0..n).map(|i| format!("dev-{i:05}")).collect();
        *ix.start.lock().unwrap() = Some(tokio::time::Instant::now());
        Arc::new(ix)
    }

    fn calls(&self) -> Vec<(String, Duration)> {
        self.calls.lock().unwrap().clone()
    }
}

impl ConnectionControl for Index {
    fn connected<'a>(
        &'a self,
        _region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>> {
        Box::pin(async move {
            if *self.dead.lock().unwrap() {
                return Err(DeliveryError::Failed("us-east-1 did not answer".into()));
            }
            let all = self.connected.lock().unwrap().clone();
            let from: usize = next.map_or(0, |t| t.parse().unwrap());
            let to = (from + 100).min(all.len());
            Ok(ConnectedPage {
                things: all[from.min(to)..to].to_vec(),
                next: (to < all.len()).then(|| to.to_string()),
            })
        })
    }

    fn disconnect<'a>(
        &'a self,
        _region: &'a str,
        client_id: &'a str,
        _clean: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>> {
        Box::pin(async move {
            let at = self.start.lock().unwrap().unwrap().elapsed();
            self.calls.lock().unwrap().push((client_id.to_string(), at));
            {
                let mut t = self.throttle_next.lock().unwrap();
                if *t > 0 {
                    *t -= 1;
                    return Err(DeliveryError::Throttled("Rate exceeded".into()));
                }
            }
            let mut connected = self.connected.lock().unwrap();
            connected.retain(|d| d != client_id);
            if self.gone.lock().unwrap().iter().any(|g| g == client_id) {
                return Ok(Disconnected::NotFound);
            }
            Ok(Disconnected::Dropped)
        })
    }
}

fn config(ttl_secs: u64, rate: f64, method: StragglerMethod) -> EngineConfig {
    EngineConfig {
        poll_interval: Duration::from_millis(100),
        poll_timeout: Duration::from_millis(200),
        failover: FailoverConfig {
            readiness_every: Duration::from_millis(200),
            verify_timeout: Duration::from_secs(10),
            dns_ttl: Duration::from_secs(ttl_secs),
            stragglers: method,
            stragglers_rate: rate,
            ..FailoverConfig::default()
        },
        commands: crate::engine::CommandConfig {
            catalogue: crate::settings::default_catalogue(),
            ..crate::engine::CommandConfig::default()
        },
        ..EngineConfig::default()
    }
}

fn engine(store: Store, ix: &Arc<Index>, cfg: EngineConfig) -> (SimSource, Engine) {
    let sim = super::sim(3).fail_fast();
    tokio::spawn(sim.clone().run_clock(Duration::from_millis(100)));
    let e = EngineKit::sim(&sim)
        .connections(ix.clone())
        .config(cfg)
        .store(store)
        .tokio_clock(crate::clock::now_ms())
        .build();
    (sim, e)
}

async fn healthy(e: &Engine) {
    until("a healthy start", 10, async || {
        (region(&e.snapshot(), "us-east-1").online > 900).then_some(())
    })
    .await;
    until("a passing preflight", 10, async || {
        e.readiness("eu-west-1")
            .await
            .ok()
            .filter(|r| r.overall == switchyard_core::failover::Verdict::Pass)
    })
    .await;
}

/// An engine on a fleet that has settled, and a practice failover to eu-west-1 started.
async fn started(ix: &Arc<Index>, cfg: EngineConfig) -> (SimSource, Engine, Failover) {
    let (sim, e) = engine(Store::in_memory(), ix, cfg);
    e.start();
    healthy(&e).await;
    let f = start(&e).await;
    (sim, e, f)
}

async fn start(e: &Engine) -> Failover {
    e.request_failover(request("eu-west-1"), "alice")
        .await
        .unwrap()
        .started()
        .expect("a failover started")
}

async fn stragglers_end(e: &Engine, id: &str, secs: u64) -> switchyard_core::failover::Failover {
    until("the straggler step to end", secs, async || {
        let f = e.failover(id).await.unwrap().unwrap();
        f.stragglers
            .as_ref()
            .is_some_and(|s| s.state.is_final())
            .then_some(f)
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn nobody_is_disconnected_before_the_ttl_and_nobody_twice_while_the_list_shrinks() {
    let ix = Index::with(450);
    let (_sim, e) = engine(
        Store::in_memory(),
        &ix,
        config(5, 50.0, StragglerMethod::Disconnect),
    );
    e.start();
    healthy(&e).await;
    let requested = ix.start.lock().unwrap().unwrap().elapsed();
    let f = start(&e).await;
    let done = stragglers_end(&e, &f.id, 60).await;
    let st = done.stragglers.clone().unwrap();
    assert_eq!(st.state, StragglerState::Done, "{st:?}");
    assert_eq!(
        (st.found, st.moved, st.already_gone, st.failed),
        (450, 450, 0, 0)
    );
    let calls = ix.calls();
    assert_eq!(calls.len(), 450, "one call a device");
    let mut devices: Vec<_> = calls.iter().map(|(d, _)| d.clone()).collect();
    devices.sort();
    devices.dedup();
    assert_eq!(devices.len(), 450, "nobody twice");
    // The switch happened at switched_at; nobody before it plus the TTL.
    assert_eq!(done.reresolve_by(), Some(done.switched_at.unwrap() + 5_000));
    // The first call came at least the TTL after the request (the switch follows it).
    assert!(
        calls[0].1 >= requested + Duration::from_secs(5),
        "first disconnect {:?} after the start, the request at {requested:?}",
        calls[0].1
    );
    // 450 at 50 a second: nine seconds, within a tick.
    let took = calls.last().unwrap().1 - calls[0].1;
    assert!(
        (8.9..9.1).contains(&took.as_secs_f64()),
        "450 at 50/s took {took:?}"
    );
    // Every result is kept and paged.
    let page = e
        .straggler_results(&f.id, Some(DeviceOutcome::Disconnected), 0, 10)
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (450, 10));
    // The steps say what was done.
    let names: Vec<_> = done.steps.iter().map(|s| s.step.as_str()).collect();
    assert!(
        names[1].starts_with("wait for devices to re-resolve (TTL 5 s, by "),
        "{names:?}"
    );
    assert_eq!(names[2], "move the stragglers off us-east-1 (disconnect)");
}

#[tokio::test(start_paused = true)]
async fn a_throttled_disconnect_is_retried_and_not_found_is_a_device_already_gone() {
    let ix = Index::with(120);
    *ix.throttle_next.lock().unwrap() = 3;
    *ix.gone.lock().unwrap() = vec!["dev-00007".into(), "dev-00100".into()];
    let (_sim, e, f) = started(&ix, config(1, 100.0, StragglerMethod::Disconnect)).await;
    let st = stragglers_end(&e, &f.id, 60).await.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Done, "{st:?}");
    assert_eq!(
        (st.moved, st.already_gone, st.failed),
        (118, 2, 0),
        "{st:?}"
    );
    // Three throttled answers cost three more calls, and nobody failed for them.
    assert_eq!(ix.calls().len(), 123);
    let gone = e
        .straggler_results(&f.id, Some(DeviceOutcome::AlreadyGone), 0, 10)
        .await
        .unwrap();
    let mut names: Vec<_> = gone.items.iter().map(|r| r.device.as_str()).collect();
    names.sort();
    assert_eq!(names, ["dev-00007", "dev-00100"]);
    let all = e.straggler_results(&f.id, None, 0, 200).await.unwrap();
    assert!(
        all.items
            .iter()
            .any(|r| r.detail.starts_with("throttled 1 times first")
                || r.detail.starts_with("throttled 3 times first")),
        "a throttled device says so"
    );
}

#[tokio::test(start_paused = true)]
async fn an_old_region_that_does_not_answer_is_skipped_with_the_reason() {
    let ix = Index::with(50);
    *ix.dead.lock().unwrap() = true;
    let (_sim, e, f) = started(&ix, config(1, 50.0, StragglerMethod::Disconnect)).await;
    let done = stragglers_end(&e, &f.id, 60).await;
    let st = done.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Skipped);
    assert!(
        st.detail.contains("us-east-1 did not answer"),
        "{}",
        st.detail
    );
    assert!(ix.calls().is_empty());
    // The failover is not failed for it: it goes on to verify.
    let ended = until("the failover to end", 30, async || {
        let f = e.failover(&f.id).await.unwrap().unwrap();
        f.phase.is_final().then_some(f)
    })
    .await;
    assert_ne!(ended.phase, Phase::Failed, "{ended:?}");
}

#[tokio::test(start_paused = true)]
async fn with_stragglers_off_nobody_is_disconnected_and_the_step_says_why() {
    let ix = Index::with(50);
    let (_sim, e, f) = started(&ix, config(1, 50.0, StragglerMethod::Off)).await;
    let st = stragglers_end(&e, &f.id, 30).await.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Skipped);
    assert!(
        st.detail.starts_with("stragglers = \"off\""),
        "{}",
        st.detail
    );
    assert!(ix.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_step_is_audited_and_stops_it_at_the_next_device() {
    let ix = Index::with(2_000);
    let (_sim, e, f) = started(&ix, config(1, 20.0, StragglerMethod::Disconnect)).await;
    until("the step to be moving", 30, async || {
        (ix.calls().len() >= 30).then_some(())
    })
    .await;
    // A reason is the API's to ask for; the engine records it.
    let asked = e
        .cancel_stragglers(&f.id, "bob", "the old region is back; leave them")
        .await
        .unwrap();
    assert_eq!(asked.id, f.id);
    let st = stragglers_end(&e, &f.id, 30).await.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Cancelled, "{st:?}");
    let moved = ix.calls().len();
    assert!(moved < 200, "stopped early: {moved} calls");
    let audit = e.store().audit_recent(50).unwrap();
    let entry = audit
        .iter()
        .find(|a| a.action == "failover.stragglers.cancel")
        .expect("the cancel is audited");
    assert_eq!(entry.actor, "bob");
    assert_eq!(entry.reason, "the old region is back; leave them");
    // Cancelling again is a conflict that says why.
    let again = e
        .cancel_stragglers(&f.id, "bob", "again")
        .await
        .unwrap_err();
    assert_eq!(again.kind, crate::error::ErrorKind::Conflict, "{again:?}");
    assert!(
        again.message.contains("not under way (cancelled)"),
        "{}",
        again.message
    );
}

/// A runtime on tokio's paused clock: dropping it stops every task it ran, as a process
/// that stops does.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn a_step_resumed_after_a_restart_moves_nobody_twice() {
    let dir = tempfile::tempdir().unwrap();
    let ix = Index::with(600);
    let cfg = || config(1, 20.0, StragglerMethod::Disconnect);
    // The first process: stopped in the middle of the step.
    let id = paused_runtime().block_on(async {
        let (_sim, e) = engine(Store::open(dir.path()).unwrap(), &ix, cfg());
        e.start();
        healthy(&e).await;
        let f = e
            .request_failover(request("eu-west-1"), "alice")
            .await
            .unwrap()
            .started()
            .unwrap();
        until("a few waves", 60, async || {
            (ix.calls().len() >= 250).then_some(())
        })
        .await;
        f.id
    });
    let before = ix.calls().len();
    assert!((250..600).contains(&before), "{before}");
    // The second: resumes from the journal and the kept results.
    let st = paused_runtime().block_on(async {
        let (_sim, e) = engine(Store::open(dir.path()).unwrap(), &ix, cfg());
        e.start();
        stragglers_end(&e, &id, 120).await.stragglers.unwrap()
    });
    assert_eq!(st.state, StragglerState::Done, "{st:?}");
    let calls = ix.calls();
    let mut seen = std::collections::HashSet::new();
    for (d, _) in &calls {
        assert!(seen.insert(d.clone()), "{d} was disconnected twice");
    }
    // Everyone was called once in all.
    assert_eq!(calls.len(), 600, "{before} before the restart");
    // The wave a stopped process had not finished has no results: those devices were moved
    // and are not connected any more, so nobody moves them again; every other has one.
    assert!(st.moved + st.already_gone >= 500, "{st:?}");
}

#[tokio::test(start_paused = true)]
async fn the_command_method_publishes_the_catalogues_reconnect_to_each_connected_device() {
    let ix = Index::with(150);
    let (sim, e) = engine(
        Store::in_memory(),
        &ix,
        config(1, 50.0, StragglerMethod::Command),
    );
    e.start();
    healthy(&e).await;
    let received_before = sim.with(|f| f.deliveries.received + f.deliveries.lost);
    let f = start(&e).await;
    let st = stragglers_end(&e, &f.id, 60).await.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Done, "{st:?}");
    assert_eq!(st.method, StragglerMethod::Command);
    // The command runs' rate (200/s), not the disconnections'.
    assert_eq!(st.rate_per_s, 200.0);
    assert_eq!(st.moved, 150, "{st:?}");
    assert!(
        ix.calls().is_empty(),
        "nobody is disconnected by the command method"
    );
    let published = sim.with(|f| f.deliveries.received + f.deliveries.lost) - received_before;
    assert_eq!(published, 150);
    let told = e
        .straggler_results(&f.id, Some(DeviceOutcome::Told), 0, 1)
        .await
        .unwrap();
    assert_eq!(told.total, 150);
}

/// The simulated fleet's own connection control, with every disconnect call counted and timed
/// (by the engine's clock).
struct Counted {
    sim: SimSource,
    clock: crate::clock::SharedClock,
    calls: StdMutex<Vec<(String, u64)>>,
}

impl ConnectionControl for Counted {
    fn connected<'a>(
        &'a self,
        region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>> {
        self.sim.connected(region, next)
    }

    fn disconnect<'a>(
        &'a self,
        region: &'a str,
        client_id: &'a str,
        clean: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>> {
        self.calls
            .lock()
            .unwrap()
            .push((client_id.to_string(), self.clock.now_ms()));
        self.sim.disconnect(region, client_id, clean)
    }
}

/// A practice failover away from a region that is only degraded (it still answers), with
/// 20,000 devices: the simulated second is 100 ms, the TTL 30 simulated seconds (3 s here).
async fn degraded_failover(
    method: StragglerMethod,
) -> (switchyard_core::failover::Failover, Vec<(String, u64)>) {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            seed: 11,
            devices: 20_000,
            gateways: 0,
            dns_ttl_secs: 30,
            ..SimConfig::default()
        },
        1_000_000,
    ))
    .fail_fast();
    tokio::spawn(sim.clone().run_clock(Duration::from_millis(100)));
    let start = crate::clock::now_ms();
    let clock: crate::clock::SharedClock = Arc::new(crate::clock::TokioClock::starting_at(start));
    let counted = Arc::new(Counted {
        sim: sim.clone(),
        clock: clock.clone(),
        calls: StdMutex::new(vec![]),
    });
    let mut cfg = config(3, 2_000.0, method);
    cfg.failover.verify_timeout = Duration::from_secs(30);
    let e = EngineKit::sim(&sim)
        .connections(counted.clone())
        .config(cfg)
        .clock(clock)
        .build();
    e.start();
    until("a healthy start", 20, async || {
        (region(&e.snapshot(), "us-east-1").online > 19_000).then_some(())
    })
    .await;
    sim.with(|f| {
        f.inject(FaultSpec {
            region: "us-east-1".into(),
            kind: FaultKind::Degraded,
            start_secs: 0,
            duration_secs: None,
        })
        .unwrap()
    });
    let mut req = request("eu-west-1");
    req.reason = "us-east-1 degraded: practice moving off it".into();
    req.override_warnings = true;
    let f = e
        .request_failover(req, "alice")
        .await
        .unwrap()
        .started()
        .unwrap();
    let done = until("the failover to end", 120, async || {
        let f = e.failover(&f.id).await.unwrap().unwrap();
        f.phase.is_final().then_some(f)
    })
    .await;
    let calls = counted.calls.lock().unwrap().clone();
    (done, calls)
}

#[tokio::test(start_paused = true)]
async fn from_a_degraded_region_with_stragglers_off_most_devices_stay_and_it_completes_with_exceptions(
) {
    let (done, calls) = degraded_failover(StragglerMethod::Off).await;
    eprintln!(
        "stragglers off: {:?}; last point {:?}",
        done.outcome,
        done.curve.last()
    );
    assert_eq!(
        done.phase,
        Phase::CompletedWithExceptions,
        "{:?}",
        done.outcome
    );
    assert!(calls.is_empty());
    let last = done.curve.last().unwrap();
    assert!(
        last.source > last.target,
        "most stay on the old region while it answers: {last:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn from_a_degraded_region_the_stragglers_are_moved_after_the_ttl_once_each_and_it_completes()
{
    let (done, calls) = degraded_failover(StragglerMethod::Disconnect).await;
    eprintln!(
        "stragglers disconnected: {:?}; {} calls; first point {:?}, last {:?}; {:?}",
        done.phase,
        calls.len(),
        done.curve.first(),
        done.curve.last(),
        done.stragglers.as_ref().map(|s| s.detail.clone())
    );
    assert_eq!(
        done.phase,
        Phase::Completed,
        "{:?} {:?}",
        done.outcome,
        done.stragglers
    );
    let by = done.reresolve_by().unwrap();
    assert!(!calls.is_empty());
    assert!(
        calls.iter().all(|(_, at)| *at >= by),
        "a device was disconnected before the TTL had passed"
    );
    let mut devices: Vec<_> = calls.iter().map(|(d, _)| d.as_str()).collect();
    devices.sort();
    let n = devices.len();
    devices.dedup();
    assert_eq!(devices.len(), n, "nobody twice");
    // The record's curve shows the old region emptying and the new one filling.
    let first = done.curve.first().unwrap();
    let last = done.curve.last().unwrap();
    assert!(first.source > 19_000 && first.target < 1_000, "{first:?}");
    assert!(last.source < 1_000, "the old region emptied: {last:?}");
    assert!(
        last.target as f64 >= 0.95 * done.online_before as f64,
        "{last:?}"
    );
    let st = done.stragglers.unwrap();
    assert_eq!(st.state, StragglerState::Done, "{st:?}");
    assert!(st.moved > 10_000, "{st:?}");
}
