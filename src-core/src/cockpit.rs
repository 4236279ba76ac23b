//! What the header, the incident strip and `switchyard status` say: one set of figures, and
//! the next step of an incident.
//!
//! Rules kept here:
//! - a region's figures are current only while it answers and its data is fresh; otherwise
//!   they are its *last known* figures, said with their time, and never added to the totals;
//! - the header names what is not known ("us-east-1 not reporting since 14:02 UTC") rather
//!   than showing a zero;
//! - the next step after a failover is decided here, from the failover, the regions and the
//!   edge backlog (one source: the edge poll, each gateway counted once).

use crate::failover::{Failover, Phase};
use crate::freshness::{freshness, Freshness};
use crate::time::{duration, utc_hm};
use crate::{fleet_totals, HealthStatus, RegionSummary, SourceKind, UnixMs};
use serde::{Deserialize, Serialize};

/// How a region's figures stand at the time of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Figures {
    /// Observed on the last poll, and the region answers.
    Current,
    /// The region does not answer, or its data is stale: these are the figures of
    /// `observed_at`.
    LastKnown,
    /// Never observed.
    #[default]
    Missing,
}

/// How `r`'s figures stand at `now`.
pub fn figures(r: &RegionSummary, now: UnixMs) -> Figures {
    match freshness(r.observed_at, now, r.poll_interval_ms) {
        Freshness::Missing => Figures::Missing,
        Freshness::Stale => Figures::LastKnown,
        Freshness::Fresh if r.health.status == HealthStatus::Unreachable => Figures::LastKnown,
        Freshness::Fresh => Figures::Current,
    }
}

/// A region whose figures are not current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotReporting {
    pub region: String,
    /// Its last good observation, if it ever had one.
    pub since: Option<UnixMs>,
}

/// The fleet's headline: what is known and what is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Headline {
    pub online: u64,
    pub offline: u64,
    /// Regions whose figures are current (the totals are theirs).
    pub reporting: u32,
    pub not_reporting: Vec<NotReporting>,
}

/// The headline of `regions` at `now`.
pub fn headline(source: SourceKind, regions: &[RegionSummary], now: UnixMs) -> Headline {
    let current = |r: &&RegionSummary| figures(r, now) == Figures::Current;
    let (online, offline) = fleet_totals(source, regions.iter().filter(current));
    Headline {
        online,
        offline,
        reporting: regions.iter().filter(current).count() as u32,
        not_reporting: regions
            .iter()
            .filter(|r| !current(r))
            .map(|r| NotReporting {
                region: r.id.clone(),
                since: r.observed_at,
            })
            .collect(),
    }
}

/// A count with its thousands separated: "19,800" (the CLI's too).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Headline {
    /// "19,800 online in 2 regions · us-east-1 not reporting since 14:02 UTC".
    pub fn text(&self) -> String {
        let mut t = format!(
            "{} online in {} region{}",
            thousands(self.online),
            self.reporting,
            if self.reporting == 1 { "" } else { "s" }
        );
        for n in &self.not_reporting {
            match n.since {
                Some(at) => t.push_str(&format!(
                    " · {} not reporting since {}",
                    n.region,
                    utc_hm(at)
                )),
                None => t.push_str(&format!(" · {} never reported", n.region)),
            }
        }
        t
    }
}

/// What is due once a failover has ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextStep {
    /// Gateways still hold messages: watch them drain into the new region.
    DrainWatch { messages: u64, gateways: u32 },
    /// The old region answers again: preflight it before failing back.
    FailbackPreflight { region: String },
    /// The old region is still down: nothing to do but wait for it.
    AwaitRecovery { region: String },
    /// The failover did not move the fleet: decide again.
    Retry { target: String },
}

impl NextStep {
    pub fn text(&self) -> String {
        match self {
            NextStep::DrainWatch { messages, gateways } => format!(
                "watch the edge backlog drain: {} messages in {} gateway{}",
                thousands(*messages),
                gateways,
                if *gateways == 1 { "" } else { "s" }
            ),
            NextStep::FailbackPreflight { region } => {
                format!("{region} answers again: run the failback preflight")
            }
            NextStep::AwaitRecovery { region } => {
                format!("wait for {region} to recover before failing back")
            }
            NextStep::Retry { target } => {
                format!("the fleet did not move: check {target}'s preflight and decide again")
            }
        }
    }
}

/// The next step after `f`, given the regions now and the edge backlog (`messages` waiting in
/// `gateways`, from the edge poll). `None` while the failover is under way.
pub fn next_step(
    f: &Failover,
    regions: &[RegionSummary],
    backlog: (u64, u32),
    now: UnixMs,
) -> Option<NextStep> {
    match f.phase {
        Phase::Failed | Phase::Cancelled => Some(NextStep::Retry {
            target: f.target.clone(),
        }),
        Phase::Completed | Phase::CompletedWithExceptions => {
            if backlog.0 > 0 {
                return Some(NextStep::DrainWatch {
                    messages: backlog.0,
                    gateways: backlog.1,
                });
            }
            let old = regions.iter().find(|r| r.id == f.source);
            let back = old.is_some_and(|r| {
                figures(r, now) == Figures::Current && r.health.status == HealthStatus::Healthy
            });
            Some(if back {
                NextStep::FailbackPreflight {
                    region: f.source.clone(),
                }
            } else {
                NextStep::AwaitRecovery {
                    region: f.source.clone(),
                }
            })
        }
        _ => None,
    }
}

/// A failover's summary line that stays once it has ended: "completed in 4 min 10 s · 19,802
/// of 20,000 devices back".
pub fn summary(f: &Failover) -> String {
    let took = f
        .ended_at
        .map(|e| duration(e.saturating_sub(f.requested_at)))
        .unwrap_or_else(|| "—".into());
    format!(
        "{} in {took} · {} of {} devices back",
        f.phase.as_str().replace('_', " "),
        thousands(f.back),
        thousands(f.online_before)
    )
}

/// `GET /api/v1/status`: what the header, the incident strip and `switchyard status` show, in
/// one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusResponse {
    pub server_time: UnixMs,
    pub source: SourceKind,
    pub headline: Headline,
    /// Every region, each with its `figures` set.
    pub regions: Vec<RegionSummary>,
    pub active: Option<String>,
    /// The open incident, if there is one.
    pub incident: Option<crate::incidents::Incident>,
    /// The failover under way, or the latest one while its next step is due.
    pub failover: Option<Failover>,
    /// Its summary once it has ended ([`summary`]).
    pub failover_summary: Option<String>,
    pub next_step: Option<NextStep>,
    pub recommendation: Option<crate::failover::Recommendation>,
    /// The edge backlog from the edge poll (each gateway once), and when it was observed.
    pub edge: crate::BacklogTotals,
    pub edge_observed_at: Option<UnixMs>,
    /// Open alerts by severity.
    pub alerts_critical: u32,
    pub alerts_warning: u32,
}

/// What a failover to `target` would do, said before it is requested: the UI's form shows it,
/// `switchyard failover --dry-run` prints it. `GET /api/v1/failover/plan?target=R`, or
/// `POST /api/v1/failovers/plan` with a whole request (then `refused` also checks the typed
/// confirmation and the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailoverPlan {
    pub server_time: UnixMs,
    pub source: String,
    pub target: String,
    /// What the switch changes, in words ("ARC routing control arn:…: us-east-1 off,
    /// eu-west-1 on", "Route 53 devices.example.com: us-east-1 → eu-west-1").
    pub switch: String,
    /// Devices online in the source now (last known if it does not answer), and whether that
    /// figure is current.
    pub devices_in_source: u64,
    pub devices_figures: Figures,
    /// How the stragglers will be moved after the TTL, and the estimate for them.
    pub stragglers: crate::moving::StragglerMethod,
    pub dns_ttl_secs: u64,
    pub estimate: Option<crate::moving::Estimate>,
    pub preflight: crate::failover::Readiness,
    pub two_person_rule: bool,
    /// Why a request would be refused now; `None`: it would start.
    pub refused: Option<String>,
}

/// Why a failover to `target` would be refused now: with the whole request, exactly as a
/// request would be ([`crate::failover::confirm`]); with the target alone, for what the form
/// shows before anything is typed (the preflight's verdict, the target being active already;
/// a warning is not a refusal then: the form asks for the override).
pub fn plan_refusal(
    req: Option<&crate::failover::FailoverRequest>,
    target: &str,
    active: &str,
    pre: &crate::failover::Readiness,
) -> Option<String> {
    let untyped;
    let req = match req {
        Some(r) => r,
        None => {
            untyped = crate::failover::FailoverRequest {
                target: target.to_string(),
                confirm: target.to_string(),
                reason: "plan".into(),
                override_warnings: true,
            };
            &untyped
        }
    };
    crate::failover::confirm(req, &active.to_string(), pre).err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BacklogTotals, Health, RegionRole};

    fn region(
        id: &str,
        status: HealthStatus,
        observed_at: Option<UnixMs>,
        online: u64,
    ) -> RegionSummary {
        RegionSummary {
            id: id.into(),
            name: id.into(),
            role: RegionRole::Standby,
            health: Health {
                status,
                reasons: vec![],
            },
            online,
            offline: 10,
            backlog: BacklogTotals::default(),
            observed_at,
            last_attempt_at: observed_at,
            poll_interval_ms: 5_000,
            figures: Figures::Missing,
        }
    }

    #[test]
    fn an_unreachable_region_shows_last_known_figures_never_current_ones() {
        let r = region("us-east-1", HealthStatus::Unreachable, Some(9_000), 20_000);
        assert_eq!(figures(&r, 10_000), Figures::LastKnown);
        let stale = region("eu-west-1", HealthStatus::Healthy, Some(0), 5);
        assert_eq!(figures(&stale, 60_000), Figures::LastKnown);
        let never = region("ap-south-1", HealthStatus::Unknown, None, 0);
        assert_eq!(figures(&never, 60_000), Figures::Missing);
    }

    #[test]
    fn the_headline_counts_current_regions_and_names_the_others_with_their_time() {
        // 14:02 UTC on some day.
        let at = 1_796_133_720_000;
        let regions = [
            region("us-east-1", HealthStatus::Unreachable, Some(at), 20_000),
            region(
                "eu-west-1",
                HealthStatus::Healthy,
                Some(at + 60_000),
                19_000,
            ),
            region("ap-south-1", HealthStatus::Healthy, Some(at + 60_000), 800),
        ];
        let h = headline(SourceKind::Simulated, &regions, at + 61_000);
        assert_eq!((h.online, h.offline, h.reporting), (19_800, 20, 2));
        assert_eq!(
            h.text(),
            "19,800 online in 2 regions · us-east-1 not reporting since 14:02 UTC"
        );
    }

    fn readiness(overall: crate::failover::Verdict) -> crate::failover::Readiness {
        crate::failover::Readiness {
            target: "eu-west-1".into(),
            overall,
            checks: vec![crate::failover::Check {
                name: "certificates".into(),
                verdict: overall,
                reasons: vec![],
            }],
        }
    }

    #[test]
    fn a_plan_before_typing_is_refused_only_for_a_failing_preflight_or_an_active_target() {
        use crate::failover::Verdict;
        let warn = readiness(Verdict::Warn);
        assert_eq!(plan_refusal(None, "eu-west-1", "us-east-1", &warn), None);
        let fail = plan_refusal(None, "eu-west-1", "us-east-1", &readiness(Verdict::Fail));
        assert!(fail.unwrap().contains("preflight fails (certificates)"));
        let active = plan_refusal(None, "eu-west-1", "eu-west-1", &warn);
        assert!(active.unwrap().contains("already the active region"));
    }

    #[test]
    fn a_dry_run_checks_the_request_as_a_real_one_would() {
        let req = crate::failover::FailoverRequest {
            target: "eu-west-1".into(),
            confirm: "eu-west".into(),
            reason: "outage".into(),
            override_warnings: false,
        };
        let pre = readiness(crate::failover::Verdict::Pass);
        let why = plan_refusal(Some(&req), "eu-west-1", "us-east-1", &pre).unwrap();
        assert!(why.contains("type the target region's name"), "{why}");
    }
    #[test]
    fn after_a_failover_the_backlog_is_watched_first_then_the_old_region_decides_the_next_step() {
        use crate::failover::{Failover, Phase, Readiness, Verdict};
        let at = 1_796_133_720_000;
        let f = Failover {
            id: "fo-1".into(),
            source: "us-east-1".into(),
            target: "eu-west-1".into(),
            reason: "r".into(),
            requested_by: "ana".into(),
            approved_by: None,
            phase: Phase::Completed,
            preflight: Readiness {
                target: "eu-west-1".into(),
                overall: Verdict::Pass,
                checks: vec![],
            },
            online_before: 100,
            back: 99,
            complete_share: 0.95,
            requested_at: at,
            updated_at: at,
            ended_at: Some(at + 90_000),
            outcome: None,
            steps: vec![],
            switched_at: None,
            dns_ttl_secs: 60,
            stragglers: None,
            curve: vec![],
            complete_eta: None,
        };
        let down = [region("us-east-1", HealthStatus::Unreachable, Some(at), 0)];
        let up = [region("us-east-1", HealthStatus::Healthy, Some(at), 0)];
        assert_eq!(
            next_step(&f, &down, (40, 2), at),
            Some(NextStep::DrainWatch {
                messages: 40,
                gateways: 2
            })
        );
        assert_eq!(
            next_step(&f, &down, (0, 0), at),
            Some(NextStep::AwaitRecovery {
                region: "us-east-1".into()
            })
        );
        assert_eq!(
            next_step(&f, &up, (0, 0), at + 1_000),
            Some(NextStep::FailbackPreflight {
                region: "us-east-1".into()
            })
        );
        let running = Failover {
            phase: Phase::Verifying,
            ..f.clone()
        };
        assert_eq!(next_step(&running, &up, (40, 2), at), None);
        assert_eq!(
            summary(&f),
            "completed in 1 min 30 s · 99 of 100 devices back"
        );
    }
}
