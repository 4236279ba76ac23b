//! A simulated drill: a seeded fleet of its own, stepped one simulated second at a time as fast
//! as it computes, watched by the console's own rules (health, recommendation, failover phases)
//! and recorded. The same scenario gives the same record, so its report can be checked number
//! by number and two runs compared.
//!
//! Rules kept here: this runner stands for the console on the drill's own fleet (its polls, its
//! preflight and recommendation through `switchyard_core::failover`, its switch, reconnect and
//! verify steps through `failover::next`); its reconnect step is the console's straggler step:
//! it waits the TTL after the switch, then pages the old region's connected devices and
//! disconnects them (or sends them the reconnect command) at the settings' rate, skipped when
//! the old region does not answer or the method is off; verification starts when it ends, and
//! the failover's reconnection curve (online in the old and the new region) is recorded from
//! the switch to the failover's end; what is recorded, and when the script acts, is
//! `switchyard_core::drills::DrillObserver`'s. The simulation takes the console's settings as a
//! [`DrillSettings`] value and knows nothing of the engine. The switch is the fleet's own
//! (`switch.rs`, the scenario's method, by default the record): the preflight judges its
//! switch path, and a switch that does not answer fails the failover (recorded with why, the
//! devices left where they were) without stopping the drill.

use super::{sim_endpoint, SimConfig, SimFleet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_core::drills::{
    DecidedBy, Decision, DrillObserver, DrillSample, EventKind, ObserverSettings, Probe, Recording,
    Scenario, Tick,
};
use switchyard_core::failover::{
    next, readiness, recommend, Event, Phase, ReadinessFacts, ReadinessPolicy,
};
use switchyard_core::fault::FaultSpec;
use switchyard_core::health::{assess, Thresholds};
use switchyard_core::moving::StragglerMethod;
use switchyard_core::{HealthStatus, RegionId};

/// The most samples one drill keeps; longer drills sample less often.
const MAX_SAMPLES: u64 = 1_800;

/// The console's settings a simulated drill is run with: its polling, health and failover
/// settings (the engine passes its own; the defaults are the engine's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct DrillSettings {
    pub poll_interval: Duration,
    /// A poll that gets no answer is known to have failed after this long.
    pub poll_timeout: Duration,
    pub thresholds: Thresholds,
    /// The active region must be unhealthy this long before a failover is recommended.
    pub recommend_after: Duration,
    /// The share of previously online devices back in the target that completes a failover.
    pub complete_share: f64,
    /// How long to watch devices come back before "completed with exceptions".
    pub verify_timeout: Duration,
    pub policy: ReadinessPolicy,
    /// The devices' record's TTL: the drill's fleet caches it, and no straggler is moved
    /// before it has passed since the switch.
    pub dns_ttl: Duration,
    /// How the devices still on the old region after the TTL are moved.
    pub stragglers: StragglerMethod,
    /// Stragglers moved per simulated second.
    pub stragglers_rate: f64,
}

impl Default for DrillSettings {
    fn default() -> Self {
        DrillSettings {
            poll_interval: Duration::from_secs(5),
            poll_timeout: Duration::from_millis(2_500),
            thresholds: Thresholds::default(),
            recommend_after: Duration::from_secs(60),
            complete_share: 0.95,
            verify_timeout: Duration::from_secs(600),
            policy: ReadinessPolicy::default(),
            dns_ttl: Duration::from_secs(60),
            stragglers: StragglerMethod::Disconnect,
            stragglers_rate: 50.0,
        }
    }
}

/// A failover the script is carrying out.
struct Move {
    from: RegionId,
    to: RegionId,
    /// Devices online before, of which `complete_share` makes "back".
    of: u64,
    failback: bool,
    phase: Phase,
    /// The straggler step starts at this second: the switch plus the TTL.
    not_before_s: u64,
    /// The straggler step under way, once started.
    stragglers: Option<stragglers::Stragglers>,
    /// When verification started (the straggler step's end).
    verify_from_s: u64,
}

/// Runs `sc` (a simulated, scripted scenario) on a fresh fleet over `regions` (the first is
/// active), with the console's polling, health and failover settings.
pub fn run(sc: &Scenario, regions: &[RegionId], cfg: &DrillSettings) -> Result<Recording, String> {
    run_until(sc, regions, cfg, &AtomicBool::new(false))
}

/// [`run`], stopping with an error as soon as `stop` turns true.
pub fn run_until(
    sc: &Scenario,
    regions: &[RegionId],
    cfg: &DrillSettings,
    stop: &AtomicBool,
) -> Result<Recording, String> {
    sc.check()?;
    if sc.failover.by != DecidedBy::Script {
        return Err(
            "failover.by: a simulated drill runs faster than anyone can press a button; \
                    use \"script\", or mode = \"live\" to fail over yourself"
                .into(),
        );
    }
    if regions.len() < 2 {
        return Err("a drill needs at least two regions".into());
    }
    let index = |field: &str, r: &Option<RegionId>| -> Result<Option<usize>, String> {
        match r {
            None => Ok(None),
            Some(code) => regions
                .iter()
                .position(|x| x == code)
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "{field}: {code} is not one of the regions ({})",
                        regions.join(", ")
                    )
                }),
        }
    };
    index(
        "outage.region",
        &sc.outage.as_ref().and_then(|o| o.region.clone()),
    )?;
    index(
        "degradation.region",
        &sc.degradation.as_ref().and_then(|d| d.region.clone()),
    )?;
    if index("failover.target", &sc.failover.target)? == Some(0) {
        return Err(format!(
            "failover.target: {} is the region active when the drill starts",
            regions[0]
        ));
    }

    let home = regions[0].clone();
    let poll_s = cfg.poll_interval.as_secs().max(1);
    let mut obs = DrillObserver::new(
        sc,
        regions,
        &home,
        ObserverSettings {
            unanswered_after_ms: cfg.poll_timeout.as_millis() as u64,
            max_samples: Some(MAX_SAMPLES),
        },
    );
    let mut fleet = SimFleet::new(
        SimConfig {
            seed: sc.seed,
            regions: regions.to_vec(),
            devices: sc.devices,
            gateways: sc.gateways,
            // The fleet's own schedule injects them, on the second the observer expects.
            faults: obs
                .faults()
                .iter()
                .map(|f| FaultSpec {
                    region: f.region.clone(),
                    kind: f.kind,
                    start_secs: f.at_ms / 1_000,
                    duration_secs: Some(f.duration_ms / 1_000),
                })
                .collect(),
            // The simulated fleet's own default (routing controls) unless the scenario says.
            switch: sc.switch.unwrap_or(SimConfig::default().switch),
            // A drill is its script: Route 53's control plane fails when the scenario says so
            // (its `route53_control_plane` fault), not as a side effect of the outage.
            control_plane_follows_us_east_1: false,
            dns_ttl_secs: cfg.dns_ttl.as_secs().max(1),
        },
        0,
    );
    let recommend_after_ms = cfg.recommend_after.as_millis() as u64;
    let verify_timeout_s = cfg.verify_timeout.as_secs().max(1);
    let share = cfg.complete_share;
    let ms = |t: u64| t * 1_000;
    obs.event(
        0,
        EventKind::Started,
        format!(
            "simulated fleet of {} devices and {} gateways, seed {}, {home} active",
            sc.devices, sc.gateways, sc.seed
        ),
    );
    let mut health: Vec<HealthStatus> = vec![HealthStatus::Unknown; regions.len()];
    let mut moving: Option<Move> = None;

    for t in 0..=sc.duration_secs {
        if stop.load(Ordering::Relaxed) {
            return Err(format!("stopped by an operator at {t} s (simulated)"));
        }
        if t > 0 {
            fleet.step();
        }
        let now = ms(t);
        for i in obs.faults_due(now) {
            obs.fault_injected(i, now);
        }
        let edge = fleet.gateways();
        let backlog: u64 = edge.iter().map(|g| g.backlog.messages).sum();
        let dropped: u64 = edge.iter().map(|g| g.backlog.dropped).sum();
        let active = fleet.active_region().to_string();
        let active_i = regions.iter().position(|r| *r == active).unwrap_or(0);

        // The console's polls, and what it recommends.
        let polled = t % poll_s == 0;
        if polled {
            for (i, region) in regions.iter().enumerate() {
                let reading = fleet.observe(region).map_err(|e| e.0);
                let reading = reading.as_ref().map_err(String::as_str);
                health[i] = assess(reading, &cfg.thresholds).status;
            }
        }
        obs.observe(&Tick {
            t_ms: now,
            active: &active,
            active_health: polled.then_some(health[active_i]),
            online_total: fleet.online_total() as u64,
            backlog,
        });
        if polled && obs.wants_recommendation() {
            let candidates: Vec<_> = regions
                .iter()
                .zip(&health)
                .filter(|(r, _)| **r != active)
                .map(|(r, h)| {
                    let facts = preflight_facts(&fleet, &active, r, *h);
                    readiness(&facts, &cfg.policy)
                })
                .collect();
            let r = recommend(
                &active,
                health[active_i],
                obs.unhealthy_since(),
                now,
                recommend_after_ms,
                &candidates,
            );
            obs.recommendation(now, r.as_ref());
        }

        // The script's decisions.
        if moving.is_none() {
            match obs.decision(now) {
                Some(Decision::FailOver { to }) => {
                    obs.failover_confirmed(now, format!("to {to} (scripted)"));
                    let of = obs.baseline_online();
                    match start_move(&mut fleet, &mut obs, cfg, t, &active, to, of)? {
                        Ok(m) => moving = Some(m),
                        Err(why) => obs.failover_failed(now, why),
                    }
                }
                Some(Decision::FailBack { to }) => {
                    obs.failback_confirmed(now, format!("back to {to} (scripted)"));
                    let of = fleet.online_total() as u64;
                    match start_move(&mut fleet, &mut obs, cfg, t, &active, to, of)? {
                        Ok(mut m) => {
                            m.failback = true;
                            moving = Some(m);
                        }
                        Err(why) => obs.failback_ended(now, format!("failback failed: {why}")),
                    }
                }
                None => {}
            }
        }
        if let Some(m) = &mut moving {
            if !m.failback {
                let (source, target) = (fleet.online_in(&m.from), fleet.online_in(&m.to));
                obs.curve_point(now, source as u64, target as u64);
            }
            if m.phase == Phase::ReconnectingDevices {
                stragglers::step(&mut fleet, &mut obs, cfg, t, m)?;
            }
        }
        if let Some(m) = moving.as_ref().filter(|m| m.phase == Phase::Verifying) {
            let back = fleet.online_in(&m.to) as u64;
            let of = m.of;
            let reading = if t - m.verify_from_s >= verify_timeout_s {
                Event::TimedOut { back, of }
            } else {
                Event::Progress { back, of }
            };
            let phase = next(m.phase, &reading, share)?;
            if phase.is_final() {
                let to = &m.to;
                obs.step(
                    now,
                    format!(
                        "verify: {back} of {of} devices back in {to} — {}",
                        phase.as_str().replace('_', " ")
                    ),
                );
                if m.failback {
                    obs.failback_ended(now, format!("{back} devices in {to}"));
                } else {
                    obs.failover_ended(now, phase, back, to);
                }
                moving = None;
            }
        }

        // The command probe: a ping to every device, sent only to those online.
        if obs.probe_due(now) {
            let p = probe(&mut fleet);
            let detail = format!("ping reached {} of {} devices", p.reached, p.targeted);
            obs.probed(now, detail, Some(p));
        }

        obs.sample(DrillSample {
            t_ms: now,
            active: fleet.active_region().to_string(),
            online: regions
                .iter()
                .map(|r| (r.clone(), fleet.online_in(r) as u64))
                .collect(),
            backlog,
            dropped,
        });
    }
    let active = fleet.active_region().to_string();
    Ok(obs.finish(ms(sc.duration_secs), None, &active))
}

/// The preflight facts of `target` on the drill's fleet: every certificate and rule is
/// everywhere (one configuration for all regions), the endpoint is enabled, and the devices'
/// record points at the active region (when it can be read); the target's health and the
/// switch path vary.
fn preflight_facts(
    fleet: &SimFleet,
    active: &str,
    target: &str,
    health: HealthStatus,
) -> ReadinessFacts {
    let devices = fleet.config().devices as u64;
    ReadinessFacts {
        target: target.to_string(),
        target_health: health,
        devices,
        certificates_in_target: devices,
        missing_certificates: vec![],
        active_rules: vec![],
        target_rules: vec![],
        domain_configuration_enabled: Some(true),
        dns_points_to: fleet
            .record_readable()
            .then(|| sim_endpoint(fleet.active_region())),
        target_endpoint: sim_endpoint(target),
        failover_in_progress: None,
        active_side: Default::default(),
        switch_path: Some(fleet.switch_path(active)),
        certificate_sweep: None,
    }
}

/// Switches traffic: the console's switch step, on the drill's own fleet, through the console's
/// phases; the straggler step follows once the TTL has passed (`stragglers.rs`). A switch
/// that does not answer fails the failover: `Ok(Err(why))`, the step recorded, nothing moved.
fn start_move(
    fleet: &mut SimFleet,
    obs: &mut DrillObserver,
    cfg: &DrillSettings,
    t: u64,
    from: &str,
    to: RegionId,
    of: u64,
) -> Result<Result<Move, String>, String> {
    let share = cfg.complete_share;
    let did = match fleet.switch_traffic(&to) {
        Ok(did) => did,
        Err(e) => {
            let why = format!("switch traffic to {to}: {e}");
            next(
                Phase::SwitchingTraffic,
                &Event::StepFailed { why: why.clone() },
                share,
            )?;
            obs.step(t * 1_000, format!("switch: failed — {e}"));
            return Ok(Err(why));
        }
    };
    let phase = next(Phase::SwitchingTraffic, &Event::TrafficSwitched, share)?;
    obs.step(t * 1_000, format!("switch: {did}"));
    Ok(Ok(Move {
        from: from.to_string(),
        to,
        of,
        failback: false,
        phase,
        not_before_s: t + cfg.dns_ttl.as_secs().max(1),
        stragglers: None,
        verify_from_s: t,
    }))
}

/// Sends a ping to every online device of the fleet (never to an offline one) and counts what
/// was received.
fn probe(fleet: &mut SimFleet) -> Probe {
    let targeted = fleet.config().devices as u64;
    let before = fleet.deliveries.received;
    for i in 0..fleet.config().devices {
        let id = SimFleet::device_id(i);
        let region = match fleet.device(&id) {
            Some(d) if d.connectivity.is_online() => d.region,
            _ => continue,
        };
        let _ = fleet.deliver(&region, &id, &format!("cmd/{id}/ping"));
    }
    Probe {
        t_ms: 0,
        targeted,
        reached: fleet.deliveries.received - before,
    }
}

mod stragglers;
#[cfg(test)]
mod tests;
