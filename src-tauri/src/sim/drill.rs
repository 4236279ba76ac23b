//! A simulated drill: a seeded fleet of its own, stepped one simulated second at a time as fast
//! as it computes, watched by the console's own rules (health, recommendation, failover phases)
//! and recorded. The same scenario gives the same record, so its report can be checked number
//! by number and two runs compared.

use super::{SimConfig, SimFleet};
use crate::engine::EngineConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use switchyard_core::drills::{DecidedBy, DrillSample, EventKind, Probe, Recording, Scenario};
use switchyard_core::fault::{FaultKind, FaultSpec};
use switchyard_core::health::assess;
use switchyard_core::{HealthStatus, RegionId};

/// The most samples one drill keeps; longer drills sample less often.
const MAX_SAMPLES: u64 = 1_800;
/// The command probe goes out this long after the devices are back (or at the end).
const PROBE_AFTER_BACK_S: u64 = 5;

/// A failover the script is carrying out.
struct Move {
    to: u8,
    from: u8,
    /// Devices that make "back".
    need: u64,
    confirmed_s: u64,
    failback: bool,
}

/// Runs `sc` (a simulated, scripted scenario) on a fresh fleet over `regions` (the first is
/// active), with the console's polling, health and failover settings.
pub fn run(sc: &Scenario, regions: &[RegionId], cfg: &EngineConfig) -> Result<Recording, String> {
    run_until(sc, regions, cfg, &AtomicBool::new(false))
}

/// [`run`], stopping with an error as soon as `stop` turns true.
pub fn run_until(
    sc: &Scenario,
    regions: &[RegionId],
    cfg: &EngineConfig,
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
    let index = |field: &str, r: &Option<RegionId>| -> Result<Option<u8>, String> {
        match r {
            None => Ok(None),
            Some(code) => regions
                .iter()
                .position(|x| x == code)
                .map(|i| Some(i as u8))
                .ok_or_else(|| {
                    format!(
                        "{field}: {code} is not one of the regions ({})",
                        regions.join(", ")
                    )
                }),
        }
    };
    let mut faults = Vec::new();
    if let Some(o) = &sc.outage {
        let r = index("outage.region", &o.region)?.unwrap_or(0);
        faults.push((r, FaultKind::Outage, o.at_secs, o.duration_secs));
    }
    if let Some(d) = &sc.degradation {
        let r = index("degradation.region", &d.region)?.unwrap_or(0);
        faults.push((r, FaultKind::Degraded, d.at_secs, d.duration_secs));
    }
    let chosen_target = index("failover.target", &sc.failover.target)?;
    if chosen_target == Some(0) {
        return Err(format!(
            "failover.target: {} is the region active when the drill starts",
            regions[0]
        ));
    }

    let mut fleet = SimFleet::new(
        SimConfig {
            seed: sc.seed,
            regions: regions.to_vec(),
            devices: sc.devices,
            gateways: sc.gateways,
            faults: faults
                .iter()
                .map(|&(r, kind, at, dur)| FaultSpec {
                    region: regions[r as usize].clone(),
                    kind,
                    start_secs: at,
                    duration_secs: Some(dur),
                })
                .collect(),
        },
        0,
    );
    let poll_s = cfg.poll_interval.as_secs().max(1);
    let timeout_ms = cfg.poll_timeout.as_millis() as u64;
    let recommend_after_s = cfg.failover.recommend_after.as_secs();
    let verify_timeout_s = cfg.failover.verify_timeout.as_secs().max(1);
    let share = cfg.failover.complete_share;
    let sample_every = sc.duration_secs.div_ceil(MAX_SAMPLES).max(1);
    let outage = faults.iter().find(|f| f.1 == FaultKind::Outage).copied();

    let mut rec = Recording::default();
    let ms = |t: u64| t * 1_000;
    rec.event(
        0,
        EventKind::Started,
        format!(
            "simulated fleet of {} devices and {} gateways, seed {}, {} active",
            sc.devices, sc.gateways, sc.seed, regions[0]
        ),
    );
    let mut health: Vec<HealthStatus> = vec![HealthStatus::Unknown; regions.len()];
    let mut unhealthy_since: Option<u64> = None;
    let mut detected = false;
    let mut recommended_at: Option<u64> = None;
    let mut target: Option<u8> = None;
    let mut moving: Option<Move> = None;
    let mut failed_over_at: Option<u64> = None;
    let mut failed_back = false;
    let mut back_at: Option<u64> = None;
    let mut probe_done = false;
    let mut baseline: Option<(u64, u64)> = None; // (online, backlog) before the disruption
    let mut peaked = false;
    let mut drained = false;

    for t in 0..=sc.duration_secs {
        if stop.load(Ordering::Relaxed) {
            return Err(format!("stopped by an operator at {t} s (simulated)"));
        }
        if t > 0 {
            fleet.step();
        }
        for &(r, kind, at, dur) in &faults {
            let name = &regions[r as usize];
            if t == at {
                rec.event(
                    ms(t),
                    EventKind::FaultInjected,
                    format!("{name}: {kind} for {dur} s"),
                );
            }
            if t == at + dur {
                rec.event(
                    ms(t),
                    EventKind::FaultCleared,
                    format!("{name}: {kind} ended"),
                );
            }
        }
        let edge = fleet.gateways();
        let backlog: u64 = edge.iter().map(|g| g.backlog.messages).sum();
        let dropped: u64 = edge.iter().map(|g| g.backlog.dropped).sum();
        let active = fleet.active_region().to_string();
        let active_i = regions.iter().position(|r| *r == active).unwrap_or(0) as u8;
        let disrupted = outage.is_some_and(|o| t >= o.2) || failed_over_at.is_some();
        if !disrupted {
            baseline = Some((fleet.online_total() as u64, backlog));
        }

        // The console's polls.
        if t % poll_s == 0 {
            for (i, region) in regions.iter().enumerate() {
                let obs = fleet.observe(region).map_err(|e| e.0);
                health[i] = assess(obs.as_ref().map_err(String::as_str), &cfg.thresholds).status;
            }
            let status = health[active_i as usize];
            // A poll that gets no answer is known to have failed when it times out.
            let seen_ms = if status == HealthStatus::Unreachable {
                ms(t) + timeout_ms
            } else {
                ms(t)
            };
            let bad = matches!(status, HealthStatus::Unreachable | HealthStatus::Degraded);
            if bad {
                let since = *unhealthy_since.get_or_insert(t);
                if !detected && outage.is_some_and(|o| o.0 == active_i && t >= o.2) {
                    detected = true;
                    rec.event(
                        seen_ms,
                        EventKind::OutageDetected,
                        format!("{active} {}", status.as_str()),
                    );
                }
                if detected
                    && recommended_at.is_none()
                    && failed_over_at.is_none()
                    && t - since >= recommend_after_s
                {
                    let to = chosen_target.or_else(|| {
                        (0..regions.len() as u8)
                            .find(|&i| i != active_i && health[i as usize] == HealthStatus::Healthy)
                    });
                    if let Some(to) = to {
                        recommended_at = Some(t);
                        target = Some(to);
                        rec.event(
                            ms(t),
                            EventKind::RecommendationShown,
                            format!(
                                "fail over to {}: {active} {} for {} s",
                                regions[to as usize],
                                status.as_str(),
                                t - since
                            ),
                        );
                    }
                }
            } else {
                unhealthy_since = None;
            }
        }

        // The script's decisions.
        let decide_at = match outage {
            Some(_) => recommended_at.map(|r| r + sc.failover.decide_secs),
            None => Some(sc.failover.decide_secs),
        };
        if moving.is_none() && failed_over_at.is_none() && decide_at == Some(t) {
            let to = target
                .or(chosen_target)
                .unwrap_or(if active_i == 0 { 1 } else { 0 });
            let online_before = baseline.map_or(0, |b| b.0);
            rec.event(
                ms(t),
                EventKind::FailoverConfirmed,
                format!("to {} (scripted)", regions[to as usize]),
            );
            moving = Some(start_move(
                &mut fleet,
                &mut rec,
                regions,
                t,
                active_i,
                to,
                online_before,
                share,
                false,
            )?);
        }
        let failback_at = match (&sc.failback, failed_over_at) {
            (Some(fb), Some(done)) => Some(match outage {
                Some(o) => (o.2 + o.3).max(done) + fb.after_secs,
                None => done + fb.after_secs,
            }),
            _ => None,
        };
        if moving.is_none() && !failed_back && failback_at == Some(t) {
            let home = 0u8;
            rec.event(
                ms(t),
                EventKind::FailbackConfirmed,
                format!("back to {} (scripted)", regions[0]),
            );
            let need_of = fleet.online_total() as u64;
            moving = Some(start_move(
                &mut fleet, &mut rec, regions, t, active_i, home, need_of, share, true,
            )?);
        }
        if let Some(m) = &moving {
            let back = fleet.online_in(&regions[m.to as usize]) as u64;
            let done = back >= m.need;
            let timed_out = t - m.confirmed_s >= verify_timeout_s;
            if done || timed_out {
                let verdict = if done {
                    "completed"
                } else {
                    "completed with exceptions"
                };
                rec.event(
                    ms(t),
                    EventKind::Step,
                    format!(
                        "verify: {back} of {} needed back in {} — {verdict}",
                        m.need, regions[m.to as usize]
                    ),
                );
                if m.failback {
                    failed_back = true;
                    rec.event(
                        ms(t),
                        EventKind::FailbackDone,
                        format!("{back} devices in {}", regions[m.to as usize]),
                    );
                } else {
                    failed_over_at = Some(t);
                    if done && back_at.is_none() {
                        back_at = Some(t);
                        rec.event(
                            ms(t),
                            EventKind::DevicesBack,
                            format!("{back} devices online in {}", regions[m.to as usize]),
                        );
                    }
                }
                let _ = m.from;
                moving = None;
            }
        }

        // Backlog peak and drain, for the timeline.
        if let Some((_, base)) = baseline.filter(|_| disrupted) {
            if backlog > base {
                peaked = true;
            } else if peaked && !drained {
                drained = true;
                rec.event(
                    ms(t),
                    EventKind::BacklogDrained,
                    format!("{backlog} messages waiting"),
                );
            }
        }

        // The command probe: a ping to every device, sent only to those online.
        let probe_due = back_at.map_or(t == sc.duration_secs, |b| t == b + PROBE_AFTER_BACK_S)
            || (t == sc.duration_secs && !probe_done);
        if probe_due && !probe_done {
            probe_done = true;
            let p = probe(&mut fleet);
            rec.event(
                ms(t),
                EventKind::CommandProbe,
                format!("ping reached {} of {} devices", p.reached, p.targeted),
            );
            rec.probe = Some(Probe { t_ms: ms(t), ..p });
        }

        if t % sample_every == 0 || t == sc.duration_secs {
            rec.samples.push(DrillSample {
                t_ms: ms(t),
                active: fleet.active_region().to_string(),
                online: regions
                    .iter()
                    .map(|r| (r.clone(), fleet.online_in(r) as u64))
                    .collect(),
                backlog,
                dropped,
            });
        }
    }
    rec.event(
        ms(sc.duration_secs),
        EventKind::Ended,
        format!("{} active", fleet.active_region()),
    );
    // A failed poll's event is stamped when it timed out, after events of the same second.
    rec.events.sort_by_key(|e| e.t_ms);
    Ok(rec)
}

/// Switches traffic and tells the devices on the old region to reconnect: the console's
/// switch and reconnect steps, on the drill's own fleet.
#[allow(clippy::too_many_arguments)]
fn start_move(
    fleet: &mut SimFleet,
    rec: &mut Recording,
    regions: &[RegionId],
    t: u64,
    from: u8,
    to: u8,
    of: u64,
    share: f64,
    failback: bool,
) -> Result<Move, String> {
    let (from_name, to_name) = (&regions[from as usize], &regions[to as usize]);
    fleet.set_active(to_name)?;
    rec.event(
        t * 1_000,
        EventKind::Step,
        format!("switch: the devices' domain now points at {to_name}"),
    );
    let told = fleet.tell_reconnect(from_name)?;
    rec.event(
        t * 1_000,
        EventKind::Step,
        format!("reconnect: told {told} devices still on {from_name} to reconnect"),
    );
    Ok(Move {
        to,
        from,
        need: (of as f64 * share).ceil() as u64,
        confirmed_s: t,
        failback,
    })
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
        let _ = fleet.deliver(&region, &id);
    }
    Probe {
        t_ms: 0,
        targeted,
        reached: fleet.deliveries.received - before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::drills::{metrics, Objectives};

    /// us-east-1 down at 20 s for 400 s; the script confirms the failover 300 s after the
    /// recommendation (a slow decision, so the edge overflows), fails back 30 s after the outage.
    fn scenario() -> Scenario {
        toml::from_str(
            r#"
            name = "us-east-1 outage, slow decision"
            seed = 7
            devices = 1000
            gateways = 10
            duration_secs = 700
            [outage]
            at_secs = 20
            duration_secs = 400
            [failover]
            by = "script"
            decide_secs = 300
            [failback]
            after_secs = 30
            "#,
        )
        .unwrap()
    }

    fn regions() -> Vec<RegionId> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    fn objectives() -> Objectives {
        Objectives {
            rto_secs: 420,
            rpo_messages: 0,
            max_backlog: 100_000,
            recovered_share: 0.95,
        }
    }

    #[test]
    fn a_seeded_drill_is_measured_number_by_number() {
        let cfg = EngineConfig::default();
        let rec = run(&scenario(), &regions(), &cfg).unwrap();
        assert_eq!(
            rec,
            run(&scenario(), &regions(), &cfg).unwrap(),
            "the same scenario gives the same record"
        );
        let at = |k: EventKind| rec.first(k).unwrap_or_else(|| panic!("no {k:?}")).t_ms;
        // What follows from the settings alone.
        assert_eq!(at(EventKind::FaultInjected), 20_000);
        // Polled at 20 s (every 5 s); the unanswered poll is known when it times out (2.5 s).
        assert_eq!(at(EventKind::OutageDetected), 22_500);
        // Unhealthy since the 20 s poll, recommended after 60 s, confirmed 300 s later.
        assert_eq!(at(EventKind::RecommendationShown), 80_000);
        assert_eq!(at(EventKind::FailoverConfirmed), 380_000);
        assert_eq!(at(EventKind::FaultCleared), 420_000);
        // The failback: 30 s after the outage ends, once the failover has completed.
        assert_eq!(at(EventKind::FailbackConfirmed), 458_000);
        // What the seeded fleet did: devices back 48 s after the switch (reconnect backoff).
        assert_eq!(at(EventKind::DevicesBack), 428_000);
        assert_eq!(at(EventKind::FailbackDone), 463_000);
        assert_eq!(at(EventKind::BacklogDrained), 627_000);
        assert_eq!(rec.samples.len(), 701, "one sample a simulated second");

        let m = metrics(&rec, &objectives());
        assert_eq!(m.disruption_at_ms, Some(20_000));
        assert_eq!(m.time_to_detect_ms, Some(2_500));
        assert_eq!(m.time_to_decide_ms, Some(357_500));
        assert_eq!(m.baseline_online, 1_000);
        assert_eq!(m.needed_back, 950);
        assert_eq!(m.recovery_ms, Some(408_000));
        assert_eq!(
            m.recovery_ms,
            Some(at(EventKind::DevicesBack) - at(EventKind::FaultInjected))
        );
        assert_eq!(m.messages_lost, 4_350);
        assert_eq!(m.peak_backlog, 92_647);
        assert_eq!(m.peak_backlog_at_ms, Some(386_000));
        assert_eq!(m.drain_ms, Some(241_000));
        assert_eq!(
            m.peak_backlog_at_ms.zip(m.drain_ms).map(|(a, b)| a + b),
            Some(at(EventKind::BacklogDrained))
        );
        assert_eq!(m.command_reachability, Some(0.985));
        let verdicts: Vec<(&str, bool)> = m
            .objectives
            .iter()
            .map(|o| (o.actual.as_str(), o.passed))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("408 s", true),
                ("4350 messages lost", false),
                ("92647 messages", true)
            ]
        );
        assert!(!m.passed);
        // The slow decision is what lost data: deciding 250 s sooner loses nothing.
        let mut quick = scenario();
        quick.failover.decide_secs = 50;
        let q = metrics(&run(&quick, &regions(), &cfg).unwrap(), &objectives());
        assert_eq!(q.messages_lost, 0);
        assert!(q.recovery_ms.unwrap() < m.recovery_ms.unwrap());
        assert!(q.peak_backlog < m.peak_backlog);
    }

    #[test]
    fn a_practice_failover_without_an_outage_is_scripted_from_the_start() {
        let mut sc = scenario();
        sc.outage = None;
        sc.failover.decide_secs = 10;
        sc.duration_secs = 200;
        let rec = run(&sc, &regions(), &EngineConfig::default()).unwrap();
        assert_eq!(
            rec.first(EventKind::FailoverConfirmed).unwrap().t_ms,
            10_000
        );
        assert!(rec.first(EventKind::OutageDetected).is_none());
        let m = metrics(&rec, &objectives());
        assert_eq!(m.disruption_at_ms, Some(10_000));
        assert!(m.recovery_ms.is_some_and(|r| r > 0 && r < 120_000), "{m:?}");
        assert_eq!(m.messages_lost, 0);
    }

    #[test]
    fn bad_scenarios_are_refused_naming_the_field_and_a_stop_stops() {
        let cfg = EngineConfig::default();
        let mut sc = scenario();
        sc.failover.by = DecidedBy::Operator;
        sc.failback = None;
        assert!(run(&sc, &regions(), &cfg)
            .unwrap_err()
            .starts_with("failover.by"));
        let mut sc = scenario();
        sc.outage.as_mut().unwrap().region = Some("ap-south-1".into());
        let e = run(&sc, &regions(), &cfg).unwrap_err();
        assert!(
            e.starts_with("outage.region: ap-south-1 is not one of"),
            "{e}"
        );
        let mut sc = scenario();
        sc.failover.target = Some("us-east-1".into());
        assert!(run(&sc, &regions(), &cfg)
            .unwrap_err()
            .starts_with("failover.target"));
        let e = run_until(&scenario(), &regions(), &cfg, &AtomicBool::new(true)).unwrap_err();
        assert!(e.contains("stopped by an operator at 0 s"), "{e}");
    }
}
