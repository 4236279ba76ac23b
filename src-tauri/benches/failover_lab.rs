//! The console's time from a confirmed failover to the switch answered, against a bare SDK call
//! to the same lab in the same run: the record (`ChangeResourceRecordSets` to moto; target at
//! most 1.5× the bare call) and the routing controls (`UpdateRoutingControlStates` to the lab's
//! ARC stand-in; target at most 1.3×). Needs moto (`cargo xtask setup`). `cargo bench --bench failover_lab`
//! runs 30 of each; under `cargo test --benches` it runs 3 of each as a smoke test.

use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::aws::lab::{self, Lab, LabPlan};
use switchyard::aws::AwsSource;
use switchyard::engine::{Adapters, Engine, EngineConfig, FailoverConfig};
use switchyard::ports::{BoxFuture, SourceError, SwitchError, TrafficSwitch};
use switchyard::settings::SwitchMethod;
use switchyard::store::Store;
use switchyard_core::api::FleetEvent;
use switchyard_core::failover::ReadinessFacts;
use switchyard_core::failover::{FailoverRequest, Phase};
use switchyard_core::switch::Pointed;
use switchyard_core::HealthStatus;

/// The lab's switch, noting the instant each Route 53 change has been submitted (answered).
struct Timed {
    aws: AwsSource,
    submitted: Arc<std::sync::Mutex<Option<Instant>>>,
}

impl TrafficSwitch for Timed {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>> {
        TrafficSwitch::readiness_facts(&self.aws, active, target)
    }

    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SwitchError>> {
        Box::pin(async move {
            let r = self.aws.switch_to(target).await;
            *self.submitted.lock().unwrap() = Some(Instant::now());
            r
        })
    }

    fn pointed_at(&self) -> BoxFuture<'_, Result<Pointed, SourceError>> {
        TrafficSwitch::pointed_at(&self.aws)
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The console on the lab with `method`, its switch timed; healthy before it returns.
async fn console(
    lab: &Lab,
    dir: &std::path::Path,
    method: SwitchMethod,
) -> (Engine, Arc<std::sync::Mutex<Option<Instant>>>) {
    let file = switchyard::settings::ConfigFile::load(&lab.config_path).unwrap();
    let mut settings = switchyard::settings::Settings::resolve(
        file,
        Some("lab"),
        switchyard::settings::Overrides::default(),
    )
    .unwrap();
    settings
        .aws
        .as_mut()
        .unwrap()
        .route53
        .as_mut()
        .unwrap()
        .switch = method;
    let aws = AwsSource::connect(settings.aws.clone().unwrap(), Duration::from_millis(2_500)).await;
    let cfg = EngineConfig {
        poll_interval: Duration::from_millis(500),
        failover: FailoverConfig {
            stragglers: switchyard_core::moving::StragglerMethod::Off,
            ..FailoverConfig::default()
        },
        ..EngineConfig::default()
    };
    let submitted = Arc::new(std::sync::Mutex::new(None));
    let adapters = Adapters {
        switch: Some(Arc::new(Timed {
            aws: aws.clone(),
            submitted: submitted.clone(),
        })),
        ..Adapters::observe_only(Arc::new(aws))
    };
    let db = dir.join(format!("db-{method}"));
    let engine = Engine::new(cfg, adapters, Store::open(&db).unwrap());
    engine.start();
    while !engine
        .snapshot()
        .regions
        .iter()
        .all(|r| r.health.status == HealthStatus::Healthy)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (engine, submitted)
}

/// `n` failovers back and forth (after one to warm up): from the confirmation (the request)
/// to the switch answered, and to the switch journalled and on the event stream.
async fn confirmations(
    engine: &Engine,
    submitted: &std::sync::Mutex<Option<Instant>>,
    n: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut console = Vec::new();
    let mut to_event = Vec::new();
    for i in 0..n + 1 {
        let target = if engine.active_region().as_deref() == Some("us-east-1") {
            "us-west-2"
        } else {
            "us-east-1"
        };
        // What the operator was shown: a fresh preflight, as the panel keeps one.
        engine.readiness(target).await.unwrap();
        let mut events = engine.subscribe();
        let t0 = Instant::now();
        let f = engine
            .request_failover(
                FailoverRequest {
                    target: target.into(),
                    confirm: target.into(),
                    reason: "benchmark".into(),
                    override_warnings: true,
                },
                "bench",
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
            .started()
            .expect("a failover started");
        loop {
            match events.recv().await {
                Ok(FleetEvent::Failover(x))
                    if x.id == f.id && x.phase != Phase::SwitchingTraffic =>
                {
                    break
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        let journalled = t0.elapsed();
        let at = submitted.lock().unwrap().take().expect("the switch ran");
        if i > 0 {
            console.push(at - t0);
            to_event.push(journalled);
        }
        loop {
            let cur = engine.failover(&f.id).await.unwrap().unwrap();
            if cur.phase.is_final() {
                assert_eq!(cur.phase, Phase::Completed, "{cur:?}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    (console, to_event)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 30 } else { 3 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let moto = lab::find_moto_server(None).unwrap_or_else(|e| panic!("{e}"));
        let lab = Lab::start(&moto, dir.path(), LabPlan::default()).await.unwrap();

        // The record: the bare call UPSERTs the same record with the same SDK, one at a time.
        // (Before the console watches the switch: a move it did not make would be followed.)
        let r53 = lab.route53().await;
        let mut bare = Vec::new();
        // The last one, untimed, puts the record back on us-east-1, where the lab started.
        for i in 0..n + 2 {
            let target = lab::data_endpoint(if i % 2 == 0 && i <= n { "us-west-2" } else { "us-east-1" });
            let change = aws_sdk_route53::types::Change::builder()
                .action(aws_sdk_route53::types::ChangeAction::Upsert)
                .resource_record_set(
                    aws_sdk_route53::types::ResourceRecordSet::builder()
                        .name(format!("{}.", lab::RECORD))
                        .r#type(aws_sdk_route53::types::RrType::Cname)
                        .ttl(60)
                        .resource_records(
                            aws_sdk_route53::types::ResourceRecord::builder()
                                .value(target)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap();
            let t0 = Instant::now();
            r53.change_resource_record_sets()
                .hosted_zone_id(&lab.hosted_zone_id)
                .change_batch(
                    aws_sdk_route53::types::ChangeBatch::builder()
                        .changes(change)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
            if i > 0 && i <= n {
                bare.push(t0.elapsed()); // the first call warms the connection
            }
        }
        // The read a confirmation makes first (the switch's state, right before switching).
        let mut reads = Vec::new();
        for _ in 0..n {
            let t0 = Instant::now();
            r53.list_resource_record_sets()
                .hosted_zone_id(&lab.hosted_zone_id)
                .max_items(1)
                .send()
                .await
                .unwrap();
            reads.push(t0.elapsed());
        }
        let read = median(reads);
        let (engine, submitted) = console(&lab, dir.path(), SwitchMethod::Record).await;
        let (console_ms, to_event) = confirmations(&engine, &submitted, n).await;
        let (b, c, s) = (median(bare), median(console_ms), median(to_event));
        println!(
            "failover_lab record: bare ListResourceRecordSets (the re-read) median {:.1} ms; console ÷ (bare read + \
             bare change) {:.2}×",
            ms(read),
            c.as_secs_f64() / (b + read).as_secs_f64(),
        );
        println!(
            "failover_lab record: {n} runs each; bare ChangeResourceRecordSets median {:.1} ms; console confirmation → \
             Route 53 change submitted median {:.1} ms; ratio {:.2}× (target ≤ 1.5×); confirmation → switch journalled \
             and on the event stream median {:.1} ms",
            ms(b),
            ms(c),
            c.as_secs_f64() / b.as_secs_f64(),
            ms(s),
        );
        engine.shutdown();

        // Routing controls: the bare call is one UpdateRoutingControlStates to the lab's ARC
        // stand-in with the SDK, the same batch the console sends.
        let ep = &lab.arc().endpoints()[1];
        let conf = switchyard::aws::sdk_config(
            &ep.region,
            &switchyard::settings::EndpointSettings {
                credentials: switchyard::settings::CredentialSource::Lab,
                endpoint_url: Some(ep.url.clone()),
            },
            switchyard::aws::Timeouts::for_poll(Duration::from_millis(2_500)),
        )
        .await;
        let arc = aws_sdk_route53recoverycluster::Client::new(&conf);
        let mut bare = Vec::new();
        for i in 0..n + 1 {
            let (on, off) = if i % 2 == 0 { ("us-east-1", "us-west-2") } else { ("us-west-2", "us-east-1") };
            let entry = |region: &str, state| {
                aws_sdk_route53recoverycluster::types::UpdateRoutingControlStateEntry::builder()
                    .routing_control_arn(lab.routing_control(region))
                    .routing_control_state(state)
                    .build()
                    .unwrap()
            };
            use aws_sdk_route53recoverycluster::types::RoutingControlState::{Off, On};
            let t0 = Instant::now();
            arc.update_routing_control_states()
                .update_routing_control_state_entries(entry(on, On))
                .update_routing_control_state_entries(entry(off, Off))
                .send()
                .await
                .unwrap();
            if i > 0 {
                bare.push(t0.elapsed());
            }
        }
        // Back to us-east-1 On, where the lab started, before the console watches the switch
        // (a move it did not make would be followed, and a confirmation refused).
        if lab.routing_control_on("us-east-1") != Some(true) {
            use aws_sdk_route53recoverycluster::types::{RoutingControlState, UpdateRoutingControlStateEntry};
            let entry = |region: &str, state| {
                UpdateRoutingControlStateEntry::builder()
                    .routing_control_arn(lab.routing_control(region))
                    .routing_control_state(state)
                    .build()
                    .unwrap()
            };
            arc.update_routing_control_states()
                .update_routing_control_state_entries(entry("us-east-1", RoutingControlState::On))
                .update_routing_control_state_entries(entry("us-west-2", RoutingControlState::Off))
                .send()
                .await
                .unwrap();
        }
        let mut reads = Vec::new();
        for _ in 0..n {
            let t0 = Instant::now();
            arc.list_routing_controls().send().await.unwrap();
            reads.push(t0.elapsed());
        }
        let read = median(reads);
        let (engine, submitted) = console(&lab, dir.path(), SwitchMethod::RoutingControl).await;
        let (console_ms, to_event) = confirmations(&engine, &submitted, n).await;
        let (b, c, s) = (median(bare), median(console_ms), median(to_event));
        println!(
            "failover_lab routing_control: bare ListRoutingControls (the re-read) median {:.2} ms; console ÷ (bare \
             read + bare update) {:.2}×",
            ms(read),
            c.as_secs_f64() / (b + read).as_secs_f64(),
        );
        println!(
            "failover_lab routing_control: {n} runs each; bare UpdateRoutingControlStates median {:.2} ms; console \
             confirmation → routing controls updated median {:.2} ms; ratio {:.2}× (target ≤ 1.3×); difference {:.2} ms; \
             confirmation → switch journalled and on the event stream median {:.2} ms",
            ms(b),
            ms(c),
            c.as_secs_f64() / b.as_secs_f64(),
            ms(c.saturating_sub(b)),
            ms(s),
        );
        engine.shutdown();
        drop(lab);
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
