//! The traffic switch in the local lab with us-east-1 dead: moto per region and for Route 53,
//! and the lab's stand-in for ARC's data plane (five cluster endpoints), all over real HTTP
//! through the official SDK. Then two console processes on one lab, each its own
//! `switchyard serve`, one failing over and the other following. Run by `cargo xtask test`;
//! by hand: `cargo test --workspace --exclude switchyard-ui --test lab_switch -- --ignored`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchyard::api::client::{Client, Request};
use switchyard::aws::lab::{self, Lab, LabPlan};
use switchyard::aws::AwsSource;
use switchyard::engine::{Adapters, Engine};
use switchyard::settings::{ConfigFile, Overrides, Settings, SwitchMethod};
use switchyard::store::Store;
use switchyard_core::alerts::{AlertKind, AlertsResponse};
use switchyard_core::api::RegionsResponse;
use switchyard_core::failover::{FailoverRequest, Phase, Readiness, Verdict};
use switchyard_core::{HealthStatus, RegionRole};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

async fn start(plan: LabPlan) -> (Lab, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let moto = lab::find_moto_server(None).unwrap();
    let lab = Lab::start(&moto, dir.path(), plan).await.unwrap();
    (lab, dir)
}

/// The lab's settings with `switch` as the method and readiness kept for `readiness_secs`.
fn settings(
    lab: &Lab,
    data: &std::path::Path,
    switch: SwitchMethod,
    readiness_secs: u64,
) -> Settings {
    let file = ConfigFile::load(&lab.config_path).unwrap();
    let mut s = Settings::resolve(
        file,
        Some("lab"),
        Overrides {
            data_dir: Some(data.to_path_buf()),
            ..Overrides::default()
        },
    )
    .unwrap();
    s.aws.as_mut().unwrap().route53.as_mut().unwrap().switch = switch;
    s.engine.failover.readiness_every = Duration::from_secs(readiness_secs);
    s
}

async fn engine(s: &Settings, data: &std::path::Path) -> Engine {
    let aws = AwsSource::connect(s.aws.clone().unwrap(), s.engine.poll_timeout).await;
    let adapters = Adapters {
        switch: Some(std::sync::Arc::new(aws.clone())),
        ..Adapters::observe_only(std::sync::Arc::new(aws))
    };
    let e = Engine::new(s.engine.clone(), adapters, Store::open(data).unwrap());
    e.start();
    wait_for("both lab regions healthy", 15, || async {
        let snap = e.snapshot();
        snap.regions
            .iter()
            .all(|r| r.health.status == HealthStatus::Healthy)
            .then_some(())
    })
    .await;
    e
}

/// Waits for `f` to say `Some` (polled every 100 ms) for at most `secs`.
async fn wait_for<T, F>(what: &str, secs: u64, mut f: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn health(e: &Engine, region: &str) -> HealthStatus {
    e.snapshot()
        .regions
        .iter()
        .find(|r| r.id == region)
        .map_or(HealthStatus::Unknown, |r| r.health.status)
}

fn check<'a>(r: &'a Readiness, name: &str) -> &'a switchyard_core::failover::Check {
    r.checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check in {r:?}"))
}

fn request(target: &str, reason: &str, override_warnings: bool) -> FailoverRequest {
    FailoverRequest {
        target: target.into(),
        confirm: target.into(),
        reason: reason.into(),
        override_warnings,
    }
}

async fn ended(e: &Engine, id: &str, secs: u64) -> switchyard_core::failover::Failover {
    wait_for("the failover to end", secs, || async {
        e.failover(id).await.unwrap().filter(|f| f.phase.is_final())
    })
    .await
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn with_us_east_1_route53_and_four_cluster_endpoints_dead_routing_controls_fail_over() {
    let (mut lab, dir) = start(LabPlan::default()).await;
    let s = settings(&lab, dir.path(), SwitchMethod::RoutingControl, 30);
    let e = engine(&s, dir.path()).await;
    let pre = e.readiness("us-west-2").await.unwrap();
    let path = check(&pre, "switch path");
    assert_eq!(path.verdict, Verdict::Pass, "{pre:?}");
    assert_eq!(
        path.reasons[1].split(':').next(),
        Some("5 answered"),
        "{path:?}"
    );

    // us-east-1 dies (its moto, Route 53's moto, its cluster endpoint), and three more of the
    // cluster's endpoints with it: one of five is left, in ap-southeast-2.
    lab.kill_us_east_1().await;
    for r in ["us-west-2", "eu-west-1", "ap-northeast-1"] {
        let i = lab.arc().index_of(r).unwrap();
        lab.arc().kill(i).await;
    }
    wait_for("us-east-1 unreachable", 10, || async {
        (health(&e, "us-east-1") == HealthStatus::Unreachable).then_some(())
    })
    .await;
    let pre = e.readiness("us-west-2").await.unwrap();
    assert_eq!(pre.overall, Verdict::Pass, "{pre:?}");
    let path = check(&pre, "switch path");
    assert!(path.reasons[1] == "1 answered: ap-southeast-2", "{path:?}");
    assert!(
        !pre.checks.iter().any(|c| c.name == "DNS record"),
        "routing controls leave the record alone: {pre:?}"
    );

    let f = e
        .request_failover(
            request("us-west-2", "lab: us-east-1 dead", false),
            "lab-test",
        )
        .await
        .unwrap()
        .started()
        .expect("a failover started");
    let done = ended(&e, &f.id, 30).await;
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    assert!(
        done.steps[0]
            .detail
            .starts_with("routing controls us-east-1 Off, us-west-2 On (UpdateRoutingControlStates through ap-southeast-2"),
        "{:?}",
        done.steps
    );
    // The stand-in's own state, read back: the target On, every other Off.
    assert_eq!(lab.routing_control_on("us-west-2"), Some(true));
    assert_eq!(lab.routing_control_on("us-east-1"), Some(false));
    assert_eq!(e.active_region().as_deref(), Some("us-west-2"));
    // And the console still agrees with the switch a poll later (it reads it every poll).
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(e.active_region().as_deref(), Some("us-west-2"));
    e.shutdown();
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn with_us_east_1_dead_the_record_switch_fails_its_preflight_and_a_forced_request_its_switch()
{
    let (mut lab, dir) = start(LabPlan::default()).await;
    // Readiness kept for 5 minutes: the request below is checked against the preflight the
    // operator saw while us-east-1 answered (the "forced" request of a stale screen).
    let s = settings(&lab, dir.path(), SwitchMethod::Record, 300);
    let e = engine(&s, dir.path()).await;
    let pre = e.readiness("us-west-2").await.unwrap();
    let path = check(&pre, "switch path");
    assert_eq!(path.verdict, Verdict::Warn, "{pre:?}");
    assert!(
        path.reasons[0] == "record: needs Route 53's control plane (served from us-east-1)"
            && path.reasons[1].contains("us-east-1 is the region being left"),
        "{path:?}"
    );

    lab.kill_us_east_1().await;
    let f = e
        .request_failover(
            request("us-west-2", "lab: forced on a stale preflight", true),
            "lab-test",
        )
        .await
        .unwrap()
        .started()
        .expect("a failover started on the stale preflight");
    let done = ended(&e, &f.id, 40).await;
    assert_eq!(done.phase, Phase::Failed, "{done:?}");
    let why = done.outcome.clone().unwrap_or_default();
    assert!(
        why.starts_with("the traffic switch failed: ") && why.contains("ChangeResourceRecordSets"),
        "{why}"
    );
    assert_eq!(done.steps[0].outcome.as_deref(), Some("failed"));
    // Nothing moved: the console keeps us-east-1 active.
    assert_eq!(e.active_region().as_deref(), Some("us-east-1"));

    // A fresh preflight now fails, naming the control plane.
    wait_for("us-east-1 unreachable", 10, || async {
        (health(&e, "us-east-1") == HealthStatus::Unreachable).then_some(())
    })
    .await;
    let pre = e.readiness("us-west-2").await.unwrap();
    let path = check(&pre, "switch path");
    assert_eq!(path.verdict, Verdict::Fail, "{pre:?}");
    assert!(
        path.reasons[1]
            .starts_with("it does not answer: Route 53 control plane: ListResourceRecordSets"),
        "{path:?}"
    );
    assert_eq!(check(&pre, "DNS record").verdict, Verdict::Fail);
    let err = e
        .request_failover(request("us-west-2", "lab: again", true), "lab-test")
        .await;
    // The cached preflight was replaced by this failing one: refused before anything is done.
    assert!(
        matches!(&err, Err(e) if e.message.contains("switch path")),
        "{err:?}"
    );
    e.shutdown();
}

/// A `switchyard serve` console on the lab's configuration (with `edit` applied), its own data
/// directory, no logins; killed on drop.
struct Console {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn console(lab: &Lab, edit: impl Fn(String) -> String) -> Console {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("console.toml");
    let text = std::fs::read_to_string(&lab.config_path).unwrap();
    std::fs::write(&config, edit(text)).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-auth", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    Console {
        child,
        url,
        _dir: dir,
    }
}

fn routing_controls(text: String) -> String {
    text.replace("switch = \"record\"", "switch = \"routing_control\"")
}

async fn active_of(c: &Client) -> Option<String> {
    let r: RegionsResponse = c.get_json("/api/v1/regions").await.ok()?;
    r.regions
        .into_iter()
        .find(|r| r.role == RegionRole::Active)
        .map(|r| r.id)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn two_consoles_on_one_lab_the_second_follows_the_first_alerts_and_refuses_a_stale_confirmation(
) {
    let (lab, _dir) = start(LabPlan {
        regions: vec!["us-east-1".into(), "us-west-2".into(), "eu-west-1".into()],
        ..LabPlan::default()
    })
    .await;
    // A, the team server; B, a standalone desk polling every 5 s; C, a desk that polled once
    // at start and not again for two minutes (its screen is stale).
    let a = console(&lab, routing_controls);
    let b = console(&lab, routing_controls);
    let c = console(&lab, |t| {
        routing_controls(t).replace("poll_interval_secs = 5", "poll_interval_secs = 120")
    });
    let (ca, cb, cc) = (
        Client::new(&a.url).unwrap(),
        Client::new(&b.url).unwrap(),
        Client::new(&c.url).unwrap(),
    );
    for (name, cl) in [("A", &ca), ("B", &cb), ("C", &cc)] {
        wait_for(&format!("{name}'s preflight of eu-west-1"), 30, || async {
            let r: Readiness = cl
                .get_json("/api/v1/readiness?target=eu-west-1")
                .await
                .ok()?;
            (r.overall == Verdict::Pass).then_some(())
        })
        .await;
        assert_eq!(active_of(cl).await.as_deref(), Some("us-east-1"));
    }

    // A fails over to us-west-2.
    let body = serde_json::json!({
        "target": "us-west-2", "confirm": "us-west-2", "reason": "INC-16 from A",
    });
    let r = ca
        .send(
            Request::post("/api/v1/failovers")
                .operator("noc-a")
                .json(&body)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    wait_for("the routing controls to move", 20, || async {
        (lab.routing_control_on("us-west-2") == Some(true)).then_some(())
    })
    .await;
    let moved = Instant::now();

    // B shows the new active region within one poll, with the alert and the audit entry.
    wait_for("B to follow the switch", 8, || async {
        (active_of(&cb).await.as_deref() == Some("us-west-2")).then_some(())
    })
    .await;
    let followed = moved.elapsed();
    eprintln!(
        "B followed the switch {} ms after it moved (poll 5 s)",
        followed.as_millis()
    );
    assert!(followed <= Duration::from_millis(7_500), "{followed:?}");
    let alerts: AlertsResponse = cb.get_json("/api/v1/alerts?open=true").await.unwrap();
    let alert = alerts
        .alerts
        .iter()
        .find(|x| x.kind == AlertKind::TrafficMovedOutside)
        .unwrap_or_else(|| panic!("{alerts:?}"));
    assert!(
        alert
            .message
            .starts_with("device traffic was moved to us-west-2 outside this console (it had us-east-1 active): routing controls: us-east-1 Off, us-west-2 On, eu-west-1 Off"),
        "{}",
        alert.message
    );
    let audit = cb.send(Request::get("/api/v1/audit")).await.unwrap().text();
    assert!(audit.contains("\"switch.follow\""), "{audit}");

    // C, on its stale screen, confirms a failover from us-east-1 to eu-west-1: refused with
    // 409, naming where the devices are; nothing switched.
    let body = serde_json::json!({
        "target": "eu-west-1", "confirm": "eu-west-1", "reason": "INC-16 from C",
    });
    let r = cc
        .send(
            Request::post("/api/v1/failovers")
                .operator("noc-c")
                .json(&body)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text()
            .contains("the switch sends them to us-west-2 now, not us-east-1"),
        "{}",
        r.text()
    );
    assert_eq!(lab.routing_control_on("us-west-2"), Some(true));
    assert_eq!(lab.routing_control_on("eu-west-1"), Some(false));
    assert_eq!(active_of(&cc).await.as_deref(), Some("us-west-2"));
}
