//! Failover decisions, pure: is the target region ready (the preflight), should the console
//! recommend a failover, may this confirmation start one, and how a failover moves from step
//! to step. The adapters gather the facts; the engine runs the steps; the rules live here.
//! (Past 500 lines: the preflight, the recommendation, the confirmation and the phase machine
//! are one chain of decisions over the same facts; about 700 lines of code, the rest tests.)
//!
//! Nothing here starts a failover: the console recommends, an operator decides (BP 3.2.8.2).

use crate::{HealthStatus, RegionId, UnixMs};
use serde::{Deserialize, Serialize};

/// An IoT topic rule as the readiness check compares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicRule {
    pub name: String,
    pub sql: String,
    pub enabled: bool,
}

/// What the adapters found about a failover target, before any verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadinessFacts {
    pub target: RegionId,
    pub target_health: HealthStatus,
    /// Devices of the fleet, and how many of their certificates are registered in the target.
    pub devices: u64,
    pub certificates_in_target: u64,
    /// Some devices whose certificate is missing in the target (for the operator to look at).
    pub missing_certificates: Vec<String>,
    pub active_rules: Vec<TopicRule>,
    pub target_rules: Vec<TopicRule>,
    /// The target's IoT domain configuration (the configurable endpoint): `None` if not found.
    pub domain_configuration_enabled: Option<bool>,
    /// Where the devices' DNS record points now: `None` if the record was not found.
    pub dns_points_to: Option<String>,
    /// The endpoint the record must point to for the target to receive the devices.
    pub target_endpoint: String,
    /// Another failover under way, if any (its id).
    pub failover_in_progress: Option<String>,
    /// Where the active region's side of the comparison (its certificates and rules) comes
    /// from: read now, a copy read earlier because it does not answer now, or nothing.
    #[serde(default)]
    pub active_side: ActiveSide,
    /// What this failover's switch depends on and how it answered (`None` from a source that
    /// cannot tell: then there is no "switch path" check).
    #[serde(default)]
    pub switch_path: Option<crate::switch::SwitchPath>,
    /// How old the certificate comparison is, for a source that keeps the certificate sets
    /// and lists them in full only now and then (`None`: compared from a full reading now).
    #[serde(default)]
    pub certificate_sweep: Option<CertificateSweep>,
}

/// The age of a certificate comparison kept between full listings: both regions' sets come
/// from a full listing started at `full_at` (the older of the two), plus `added_since`
/// certificates read since from the newest end. Until both regions' first full listing is
/// done the comparison is `complete: false`, and it can neither pass nor fail the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateSweep {
    pub full_at: Option<UnixMs>,
    pub added_since: u64,
    pub complete: bool,
}

/// The active region's certificates and rules, as compared with the target's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ActiveSide {
    /// Read from the active region now.
    #[default]
    Live,
    /// The active region does not answer; this copy was read at `at`.
    Copy { at: UnixMs },
    /// The active region does not answer and was never read: nothing to compare with.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One line of the preflight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub name: String,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

/// The preflight of a failover to one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub target: RegionId,
    /// The worst verdict of the checks.
    pub overall: Verdict,
    pub checks: Vec<Check>,
}

/// Where a share of certificates stops being good enough.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadinessPolicy {
    /// At or above: pass.
    pub certificates_pass: f64,
    /// At or above (and below pass): warn; below: fail.
    pub certificates_warn: f64,
}

impl Default for ReadinessPolicy {
    fn default() -> Self {
        ReadinessPolicy {
            certificates_pass: 0.999,
            certificates_warn: 0.95,
        }
    }
}

fn check(name: &str, verdict: Verdict, reasons: Vec<String>) -> Check {
    Check {
        name: name.to_string(),
        verdict,
        reasons,
    }
}

/// The preflight: every check with its verdict and reasons.
pub fn readiness(f: &ReadinessFacts, p: &ReadinessPolicy) -> Readiness {
    let mut checks = Vec::new();

    checks.push(match f.target_health {
        HealthStatus::Healthy => check(
            "target health",
            Verdict::Pass,
            vec![format!("{} is healthy", f.target)],
        ),
        HealthStatus::Degraded => check(
            "target health",
            Verdict::Warn,
            vec![format!("{} is degraded", f.target)],
        ),
        HealthStatus::Unreachable => check(
            "target health",
            Verdict::Fail,
            vec![format!("{} is unreachable", f.target)],
        ),
        HealthStatus::Unknown => check(
            "target health",
            Verdict::Fail,
            vec![format!("{}'s health is not known yet", f.target)],
        ),
    });

    let share = if f.devices == 0 {
        1.0
    } else {
        f.certificates_in_target as f64 / f.devices as f64
    };
    let mut reasons = vec![format!(
        "{} of {} device certificates registered in {} ({:.1}%)",
        f.certificates_in_target,
        f.devices,
        f.target,
        share * 100.0
    )];
    if !f.missing_certificates.is_empty() {
        reasons.push(format!(
            "missing, for example: {}",
            f.missing_certificates.join(", ")
        ));
    }
    let verdict = if share >= p.certificates_pass {
        Verdict::Pass
    } else if share >= p.certificates_warn {
        Verdict::Warn
    } else {
        Verdict::Fail
    };
    let verdict = match f.active_side {
        ActiveSide::Live => verdict,
        ActiveSide::Copy { at } => {
            reasons.push(format!(
                "the active region does not answer: compared with its certificates as read at {}",
                clock_time(at)
            ));
            verdict
        }
        ActiveSide::Unknown => {
            reasons.push(
                "the active region does not answer and was never read: the count is the target's own registry, not compared"
                    .into(),
            );
            verdict.max(Verdict::Warn)
        }
    };
    let verdict = match &f.certificate_sweep {
        None => verdict,
        Some(CertificateSweep {
            complete: true,
            full_at,
            added_since,
        }) => {
            let since = match full_at {
                Some(at) => format!("full comparison {}", clock_minute(*at)),
                None => "full comparison".to_string(),
            };
            reasons.push(format!(
                "{since}, {added_since} certificate{} added since",
                if *added_since == 1 { "" } else { "s" }
            ));
            verdict
        }
        // A partial listing would pass or fail the fleet on what happens to be read so far.
        Some(_) => {
            reasons.push(
                "the comparison is incomplete: the first full listing of the certificates is still under way"
                    .into(),
            );
            Verdict::Warn
        }
    };
    checks.push(check("device certificates", verdict, reasons));

    let mut rules = Verdict::Pass;
    let mut reasons = Vec::new();
    for a in &f.active_rules {
        match f.target_rules.iter().find(|t| t.name == a.name) {
            None => {
                rules = rules.max(Verdict::Fail);
                reasons.push(format!("rule {} is missing in {}", a.name, f.target));
            }
            Some(t) if a.enabled && !t.enabled => {
                rules = rules.max(Verdict::Fail);
                reasons.push(format!("rule {} is disabled in {}", a.name, f.target));
            }
            Some(t) if t.sql.trim() != a.sql.trim() => {
                rules = rules.max(Verdict::Warn);
                reasons.push(format!("rule {} has different SQL in {}", a.name, f.target));
            }
            Some(_) => {}
        }
    }
    if reasons.is_empty() {
        reasons.push(format!(
            "all {} rules of the active region are in {} as they are",
            f.active_rules.len(),
            f.target
        ));
    }
    match f.active_side {
        ActiveSide::Live => {}
        ActiveSide::Copy { at } => reasons.push(format!(
            "the active region does not answer: compared with its rules as read at {}",
            clock_time(at)
        )),
        ActiveSide::Unknown => {
            rules = rules.max(Verdict::Warn);
            reasons = vec![format!(
                "the active region does not answer and its rules were never read: {} has {} rules, not compared",
                f.target,
                f.target_rules.len()
            )];
        }
    }
    checks.push(check("topic rules", rules, reasons));

    checks.push(match f.domain_configuration_enabled {
        Some(true) => check(
            "domain configuration",
            Verdict::Pass,
            vec![format!("enabled in {}", f.target)],
        ),
        Some(false) => check(
            "domain configuration",
            Verdict::Fail,
            vec![format!("disabled in {}", f.target)],
        ),
        None => check(
            "domain configuration",
            Verdict::Fail,
            vec![format!("not found in {}", f.target)],
        ),
    });

    if let Some(path) = &f.switch_path {
        let (verdict, reasons) = crate::switch::path_verdict(path);
        checks.push(check("switch path", verdict, reasons));
    }

    // Routing controls leave the record alone (failover records follow the controls' health
    // checks); the other two methods read or change it through Route 53's control plane.
    let record_unread = f.switch_path.as_ref().is_some_and(|p| {
        p.method.needs_route53_control_plane() && p.probes.iter().any(|x| !x.answered)
    });
    let uses_record = f
        .switch_path
        .as_ref()
        .is_none_or(|p| p.method != crate::switch::SwitchMethod::RoutingControl);
    if uses_record && record_unread && f.dns_points_to.is_none() {
        checks.push(check(
            "DNS record",
            Verdict::Fail,
            vec!["not read: Route 53's control plane does not answer".into()],
        ));
    } else if uses_record {
        checks.push(match &f.dns_points_to {
            None => check(
                "DNS record",
                Verdict::Fail,
                vec!["the devices' DNS record was not found".into()],
            ),
            // The devices already go to this standby, yet the console has another region active:
            // the record was moved outside Switchyard (or the console's memory of its last failover
            // is gone). Worth a look before anything else is done.
            Some(to) if *to == f.target_endpoint => check(
                "DNS record",
                Verdict::Warn,
                vec![format!(
                    "already points to {to}: the devices are sent to {target}, not to the active \
                 region. The record was changed outside Switchyard; failing over to {target} \
                 makes the console agree (its switch then changes nothing)",
                    target = f.target
                )],
            ),
            Some(to) => check(
                "DNS record",
                Verdict::Pass,
                vec![format!("found; points to {to} now")],
            ),
        });
    }

    checks.push(match &f.failover_in_progress {
        None => check(
            "no other failover",
            Verdict::Pass,
            vec!["no failover is in progress".into()],
        ),
        Some(id) => check(
            "no other failover",
            Verdict::Fail,
            vec![format!("failover {id} is in progress")],
        ),
    });

    let overall = checks
        .iter()
        .map(|c| c.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    Readiness {
        target: f.target.clone(),
        overall,
        checks,
    }
}

/// `at` as HH:MM:SS UTC (core reads no clock; the caller gives the time).
fn clock_time(at: UnixMs) -> String {
    let s = (at / 1_000) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3_600, (s / 60) % 60, s % 60)
}

/// `at` as HH:MM UTC (core reads no clock; the caller gives the time).
fn clock_minute(at: UnixMs) -> String {
    let m = (at / 60_000) % 1_440;
    format!("{:02}:{:02} UTC", m / 60, m % 60)
}

/// The console's advice: fail over to `target`, and why. Never acted on without an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    pub target: RegionId,
    pub reasons: Vec<String>,
}

/// Recommends a failover when the active region has been unreachable or degraded for at least
/// `after_ms`, to the first candidate whose preflight does not fail.
pub fn recommend(
    active: &RegionId,
    active_status: HealthStatus,
    unhealthy_since: Option<UnixMs>,
    now: UnixMs,
    after_ms: u64,
    candidates: &[Readiness],
) -> Option<Recommendation> {
    let since = unhealthy_since?;
    if !matches!(
        active_status,
        HealthStatus::Unreachable | HealthStatus::Degraded
    ) {
        return None;
    }
    let lasted = now.saturating_sub(since);
    if lasted < after_ms {
        return None;
    }
    let best = candidates
        .iter()
        .filter(|r| r.overall != Verdict::Fail)
        .min_by_key(|r| r.overall)?;
    let word = if active_status == HealthStatus::Unreachable {
        "unreachable"
    } else {
        "degraded"
    };
    Some(Recommendation {
        target: best.target.clone(),
        reasons: vec![
            format!(
                "{active} has been {word} for {} s (recommendation after {} s)",
                lasted / 1_000,
                after_ms / 1_000
            ),
            format!(
                "{} passes its preflight{}",
                best.target,
                if best.overall == Verdict::Warn {
                    " with warnings"
                } else {
                    ""
                }
            ),
        ],
    })
}

/// What an operator submits to start a failover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FailoverRequest {
    /// The region to move traffic to.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "aws-region"))]
    pub target: RegionId,
    /// The target region's name typed again, as a deliberate act.
    pub confirm: String,
    /// Why, for the audit log.
    #[cfg_attr(feature = "openapi", schema(pattern = "\\S"))]
    pub reason: String,
    /// Proceed although the preflight warns.
    #[serde(default)]
    pub override_warnings: bool,
}

/// May this request start a failover, given the preflight? The error says what is missing.
pub fn confirm(req: &FailoverRequest, active: &RegionId, pre: &Readiness) -> Result<(), String> {
    if req.target == *active {
        return Err(format!(
            "{} is already the active region: there is nothing to do",
            req.target
        ));
    }
    if pre.target != req.target {
        return Err(format!(
            "the preflight is for {}, not {}",
            pre.target, req.target
        ));
    }
    if req.confirm.trim() != req.target {
        return Err(format!(
            "type the target region's name, {}, to confirm",
            req.target
        ));
    }
    if req.reason.trim().is_empty() {
        return Err("a reason is required".into());
    }
    match pre.overall {
        Verdict::Fail => {
            let failed: Vec<&str> = pre
                .checks
                .iter()
                .filter(|c| c.verdict == Verdict::Fail)
                .map(|c| c.name.as_str())
                .collect();
            Err(format!(
                "the preflight fails ({}): fix it first",
                failed.join(", ")
            ))
        }
        Verdict::Warn if !req.override_warnings => {
            Err("the preflight warns: confirm the override to proceed".into())
        }
        _ => Ok(()),
    }
}

/// The steps of a failover, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for a second operator (two-person rule).
    AwaitingApproval,
    SwitchingTraffic,
    ReconnectingDevices,
    /// Watching devices come back to the target.
    Verifying,
    Completed,
    CompletedWithExceptions,
    Failed,
    Cancelled,
}

impl Phase {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::CompletedWithExceptions | Phase::Failed | Phase::Cancelled
        )
    }
}

/// What happens to a failover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = FailoverEvent))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Approved,
    TrafficSwitched,
    /// Reconnect commands sent (or skipped by configuration).
    DevicesToldToReconnect,
    /// A progress reading: devices back in the target out of those online before.
    Progress {
        back: u64,
        of: u64,
    },
    TimedOut {
        back: u64,
        of: u64,
    },
    StepFailed {
        why: String,
    },
    Cancel,
}

/// The next phase, or why the event does not apply. `complete_share` is the share of devices
/// that must be back for the failover to be complete (default 0.95).
pub fn next(phase: Phase, event: &Event, complete_share: f64) -> Result<Phase, String> {
    use Phase::*;
    let done = |back: u64, of: u64| of == 0 || back as f64 / of as f64 >= complete_share;
    match (phase, event) {
        (p, _) if p.is_final() => Err(format!("the failover has already ended ({p:?})")),
        (AwaitingApproval, Event::Approved) => Ok(SwitchingTraffic),
        (AwaitingApproval, Event::Cancel) => Ok(Cancelled),
        (SwitchingTraffic, Event::TrafficSwitched) => Ok(ReconnectingDevices),
        (ReconnectingDevices, Event::DevicesToldToReconnect) => Ok(Verifying),
        (Verifying, Event::Progress { back, of }) => Ok(if done(*back, *of) {
            Completed
        } else {
            Verifying
        }),
        (Verifying, Event::TimedOut { back, of }) => Ok(if done(*back, *of) {
            Completed
        } else {
            CompletedWithExceptions
        }),
        (_, Event::StepFailed { .. }) => Ok(Failed),
        // Once traffic has moved, cancelling would strand devices: fail back instead.
        (p, Event::Cancel) => Err(format!(
            "a failover cannot be cancelled once it is {p:?}; fail back instead"
        )),
        (p, e) => Err(format!("{e:?} does not apply while the failover is {p:?}")),
    }
}

impl Phase {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::AwaitingApproval => "awaiting_approval",
            Phase::SwitchingTraffic => "switching_traffic",
            Phase::ReconnectingDevices => "reconnecting_devices",
            Phase::Verifying => "verifying",
            Phase::Completed => "completed",
            Phase::CompletedWithExceptions => "completed_with_exceptions",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    /// The inverse of [`Phase::as_str`].
    pub fn parse(s: &str) -> Option<Phase> {
        use Phase::*;
        [
            AwaitingApproval,
            SwitchingTraffic,
            ReconnectingDevices,
            Verifying,
            Completed,
            CompletedWithExceptions,
            Failed,
            Cancelled,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// One journalled step of a failover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub step: String,
    pub started_at: UnixMs,
    /// `None` while the step is under way (or was, when the process stopped).
    pub finished_at: Option<UnixMs>,
    /// "ok", "nothing_to_do" (it succeeded and found nothing to do), "skipped", "failed" (or
    /// the step's own word for how it stopped); `None` while under way.
    pub outcome: Option<String>,
    pub detail: String,
}

/// What a failover request came to when it was not refused: a failover started (or waiting
/// for approval), or nothing to do because the target is active already. Over IPC it reads
/// `{"started": …}` or `{"nothing_to_do": "…"}`; the HTTP API answers 202 with the failover or
/// 200 with `{"nothing_to_do": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Started(Box<Failover>),
    NothingToDo(String),
}

impl Requested {
    /// The failover started, if one did.
    pub fn started(self) -> Option<Failover> {
        match self {
            Requested::Started(f) => Some(*f),
            Requested::NothingToDo(_) => None,
        }
    }
}

/// A failover (or failback) as the API and the UI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Failover {
    pub id: String,
    /// The region the devices leave, and the one they move to.
    pub source: RegionId,
    pub target: RegionId,
    pub reason: String,
    pub requested_by: String,
    pub approved_by: Option<String>,
    pub phase: Phase,
    /// The preflight as it was when the failover was requested.
    pub preflight: Readiness,
    /// Devices online in the source region when the failover was requested.
    pub online_before: u64,
    /// Of those, how many are online in the target now (last reading).
    pub back: u64,
    /// The share of `online_before` that completes the failover.
    pub complete_share: f64,
    pub requested_at: UnixMs,
    pub updated_at: UnixMs,
    pub ended_at: Option<UnixMs>,
    /// The last words: why it failed, or what was left when it completed with exceptions.
    pub outcome: Option<String>,
    pub steps: Vec<Step>,
    /// When the switch was done; `None` before.
    #[serde(default)]
    pub switched_at: Option<UnixMs>,
    /// The devices' record's TTL: devices re-resolve by `switched_at` plus this.
    #[serde(default)]
    pub dns_ttl_secs: u64,
    /// The stragglers' step, once the switch is done.
    #[serde(default)]
    pub stragglers: Option<crate::moving::Stragglers>,
    /// Online in the old and the new region at every poll since the request (thinned to at
    /// most a few hundred points for the API).
    #[serde(default)]
    pub curve: Vec<crate::moving::CurvePoint>,
    /// When the complete share will be reached, from the curve's slope; `None` while it is
    /// not rising.
    #[serde(default)]
    pub complete_eta: Option<UnixMs>,
}

impl Failover {
    /// When every device has re-resolved the devices' domain, once the switch is done.
    pub fn reresolve_by(&self) -> Option<UnixMs> {
        self.switched_at
            .map(|at| crate::moving::reresolve_by(at, self.dns_ttl_secs))
    }
}

/// `GET /api/v1/failover`: what the failover panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailoverOverview {
    pub server_time: UnixMs,
    pub active: Option<RegionId>,
    /// The latest preflight of every other region, refreshed in the background.
    pub readiness: Vec<Readiness>,
    pub recommendation: Option<Recommendation>,
    /// The failover under way, if any.
    pub current: Option<Failover>,
    /// The last few, newest first.
    pub recent: Vec<Failover>,
    /// Whether a second operator must approve.
    pub two_person_rule: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, sql: &str, enabled: bool) -> TopicRule {
        TopicRule {
            name: name.into(),
            sql: sql.into(),
            enabled,
        }
    }

    fn facts() -> ReadinessFacts {
        ReadinessFacts {
            target: "eu-west-1".into(),
            target_health: HealthStatus::Healthy,
            devices: 1_000,
            certificates_in_target: 1_000,
            missing_certificates: vec![],
            active_rules: vec![rule("telemetry", "SELECT * FROM 't/#'", true)],
            target_rules: vec![rule("telemetry", "SELECT * FROM 't/#'", true)],
            domain_configuration_enabled: Some(true),
            dns_points_to: Some("a1-ats.iot.us-east-1.example".into()),
            target_endpoint: "a1-ats.iot.eu-west-1.example".into(),
            failover_in_progress: None,
            active_side: ActiveSide::Live,
            switch_path: None,
            certificate_sweep: None,
        }
    }

    #[test]
    fn a_kept_comparison_says_when_it_was_full_and_how_many_were_added_since() {
        let p = ReadinessPolicy::default();
        // 14:02 UTC on some day, and 3 certificates read from the newest end since.
        let kept = readiness(
            &ReadinessFacts {
                certificate_sweep: Some(CertificateSweep {
                    full_at: Some(1_764_597_720_000),
                    added_since: 3,
                    complete: true,
                }),
                ..facts()
            },
            &p,
        );
        assert_eq!(kept.checks[1].verdict, Verdict::Pass);
        assert!(
            kept.checks[1]
                .reasons
                .contains(&"full comparison 14:02 UTC, 3 certificates added since".to_string()),
            "{kept:?}"
        );
        assert_eq!(clock_minute(59_999), "00:00 UTC");
        assert_eq!(clock_minute(86_400_000 - 1), "23:59 UTC");
    }

    #[test]
    fn an_incomplete_comparison_warns_and_never_passes_or_fails_the_fleet() {
        let p = ReadinessPolicy::default();
        for in_target in [0, 1_000] {
            let r = readiness(
                &ReadinessFacts {
                    certificates_in_target: in_target,
                    certificate_sweep: Some(CertificateSweep {
                        full_at: None,
                        added_since: 0,
                        complete: false,
                    }),
                    ..facts()
                },
                &p,
            );
            assert_eq!(r.checks[1].verdict, Verdict::Warn, "{r:?}");
            assert!(
                r.checks[1]
                    .reasons
                    .iter()
                    .any(|x| x.contains("the comparison is incomplete")),
                "{r:?}"
            );
        }
    }

    #[test]
    fn a_dead_active_region_is_compared_from_its_copy_or_warned_about() {
        let p = ReadinessPolicy::default();
        let copy = readiness(
            &ReadinessFacts {
                active_side: ActiveSide::Copy { at: 3_723_000 },
                ..facts()
            },
            &p,
        );
        assert_eq!(copy.overall, Verdict::Pass);
        assert!(
            copy.checks[1]
                .reasons
                .iter()
                .any(|r| r.contains("as read at 01:02:03 UTC")),
            "{copy:?}"
        );
        let unknown = readiness(
            &ReadinessFacts {
                active_side: ActiveSide::Unknown,
                ..facts()
            },
            &p,
        );
        assert_eq!(unknown.overall, Verdict::Warn, "{unknown:?}");
        assert!(
            unknown.checks[2].reasons[0].contains("never read"),
            "{unknown:?}"
        );
    }

    fn verdict(r: &Readiness, name: &str) -> Verdict {
        r.checks.iter().find(|c| c.name == name).unwrap().verdict
    }

    #[test]
    fn a_record_already_pointing_at_the_standby_is_a_warning() {
        let r = readiness(
            &ReadinessFacts {
                dns_points_to: Some("a1-ats.iot.eu-west-1.example".into()),
                ..facts()
            },
            &ReadinessPolicy::default(),
        );
        assert_eq!(verdict(&r, "DNS record"), Verdict::Warn);
        assert_eq!(r.overall, Verdict::Warn);
        let why = &r
            .checks
            .iter()
            .find(|c| c.name == "DNS record")
            .unwrap()
            .reasons[0];
        assert!(
            why.contains("the devices are sent to eu-west-1, not to the active region"),
            "{why}"
        );
    }

    #[test]
    fn a_ready_target_passes_every_check() {
        let r = readiness(&facts(), &ReadinessPolicy::default());
        assert_eq!(r.overall, Verdict::Pass);
        assert_eq!(r.checks.len(), 6);
    }

    #[test]
    fn certificates_pass_warn_and_fail_by_share() {
        let p = ReadinessPolicy::default();
        let with = |n| {
            readiness(
                &ReadinessFacts {
                    certificates_in_target: n,
                    missing_certificates: vec!["dev-1".into()],
                    ..facts()
                },
                &p,
            )
        };
        assert_eq!(verdict(&with(999), "device certificates"), Verdict::Pass);
        assert_eq!(verdict(&with(990), "device certificates"), Verdict::Warn);
        let r = with(900);
        assert_eq!(verdict(&r, "device certificates"), Verdict::Fail);
        let c = r
            .checks
            .iter()
            .find(|c| c.name == "device certificates")
            .unwrap();
        assert_eq!(
            c.reasons,
            vec![
                "900 of 1000 device certificates registered in eu-west-1 (90.0%)",
                "missing, for example: dev-1"
            ]
        );
    }

    #[test]
    fn rule_parity_names_what_differs() {
        let f = ReadinessFacts {
            active_rules: vec![
                rule("a", "SELECT 1", true),
                rule("b", "SELECT 2", true),
                rule("c", "SELECT 3", true),
            ],
            target_rules: vec![rule("b", "SELECT 22", true), rule("c", "SELECT 3", false)],
            ..facts()
        };
        let r = readiness(&f, &ReadinessPolicy::default());
        let c = r.checks.iter().find(|c| c.name == "topic rules").unwrap();
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(
            c.reasons,
            vec![
                "rule a is missing in eu-west-1",
                "rule b has different SQL in eu-west-1",
                "rule c is disabled in eu-west-1"
            ]
        );
        let only_sql = ReadinessFacts {
            active_rules: vec![rule("b", "SELECT 2", true)],
            target_rules: vec![rule("b", "SELECT 22", true)],
            ..facts()
        };
        assert_eq!(
            readiness(&only_sql, &ReadinessPolicy::default()).overall,
            Verdict::Warn
        );
    }

    #[test]
    fn missing_endpoint_pieces_and_a_running_failover_fail() {
        let p = ReadinessPolicy::default();
        assert_eq!(
            verdict(
                &readiness(
                    &ReadinessFacts {
                        domain_configuration_enabled: None,
                        ..facts()
                    },
                    &p
                ),
                "domain configuration"
            ),
            Verdict::Fail
        );
        assert_eq!(
            verdict(
                &readiness(
                    &ReadinessFacts {
                        domain_configuration_enabled: Some(false),
                        ..facts()
                    },
                    &p
                ),
                "domain configuration"
            ),
            Verdict::Fail
        );
        assert_eq!(
            verdict(
                &readiness(
                    &ReadinessFacts {
                        dns_points_to: None,
                        ..facts()
                    },
                    &p
                ),
                "DNS record"
            ),
            Verdict::Fail
        );
        assert_eq!(
            verdict(
                &readiness(
                    &ReadinessFacts {
                        failover_in_progress: Some("f-7".into()),
                        ..facts()
                    },
                    &p
                ),
                "no other failover"
            ),
            Verdict::Fail
        );
        assert_eq!(
            verdict(
                &readiness(
                    &ReadinessFacts {
                        target_health: HealthStatus::Unreachable,
                        ..facts()
                    },
                    &p
                ),
                "target health"
            ),
            Verdict::Fail
        );
        assert_eq!(
            readiness(
                &ReadinessFacts {
                    target_health: HealthStatus::Degraded,
                    ..facts()
                },
                &p
            )
            .overall,
            Verdict::Warn
        );
    }

    #[test]
    fn recommends_only_after_the_configured_time_and_never_a_failing_target() {
        let ok = readiness(&facts(), &ReadinessPolicy::default());
        let bad = readiness(
            &ReadinessFacts {
                target: "ap-southeast-2".into(),
                domain_configuration_enabled: None,
                ..facts()
            },
            &ReadinessPolicy::default(),
        );
        let active = "us-east-1".to_string();
        let cands = [bad.clone(), ok];
        assert_eq!(
            recommend(
                &active,
                HealthStatus::Unreachable,
                Some(0),
                59_000,
                60_000,
                &cands
            ),
            None,
            "too soon"
        );
        let r = recommend(
            &active,
            HealthStatus::Unreachable,
            Some(0),
            60_000,
            60_000,
            &cands,
        )
        .unwrap();
        assert_eq!(r.target, "eu-west-1");
        assert_eq!(
            r.reasons[0],
            "us-east-1 has been unreachable for 60 s (recommendation after 60 s)"
        );
        assert_eq!(
            recommend(
                &active,
                HealthStatus::Healthy,
                Some(0),
                600_000,
                60_000,
                &cands
            ),
            None
        );
        assert_eq!(
            recommend(
                &active,
                HealthStatus::Unreachable,
                Some(0),
                600_000,
                60_000,
                &[bad]
            ),
            None,
            "nothing ready"
        );
    }

    #[test]
    fn confirmation_needs_the_name_a_reason_and_a_clean_or_overridden_preflight() {
        let active = "us-east-1".to_string();
        let pass = readiness(&facts(), &ReadinessPolicy::default());
        let req = FailoverRequest {
            target: "eu-west-1".into(),
            confirm: "eu-west-1".into(),
            reason: "outage".into(),
            override_warnings: false,
        };
        assert_eq!(confirm(&req, &active, &pass), Ok(()));
        assert!(confirm(
            &FailoverRequest {
                confirm: "eu-west".into(),
                ..req.clone()
            },
            &active,
            &pass
        )
        .unwrap_err()
        .starts_with("type the target region's name"));
        assert_eq!(
            confirm(
                &FailoverRequest {
                    reason: " ".into(),
                    ..req.clone()
                },
                &active,
                &pass
            ),
            Err("a reason is required".into())
        );
        assert!(confirm(
            &FailoverRequest {
                target: active.clone(),
                confirm: active.clone(),
                ..req.clone()
            },
            &active,
            &pass
        )
        .unwrap_err()
        .contains("nothing to do"));
        let warn = readiness(
            &ReadinessFacts {
                target_health: HealthStatus::Degraded,
                ..facts()
            },
            &ReadinessPolicy::default(),
        );
        assert!(confirm(&req, &active, &warn)
            .unwrap_err()
            .contains("confirm the override"));
        assert_eq!(
            confirm(
                &FailoverRequest {
                    override_warnings: true,
                    ..req.clone()
                },
                &active,
                &warn
            ),
            Ok(())
        );
        let fail = readiness(
            &ReadinessFacts {
                dns_points_to: None,
                ..facts()
            },
            &ReadinessPolicy::default(),
        );
        let e = confirm(
            &FailoverRequest {
                override_warnings: true,
                ..req
            },
            &active,
            &fail,
        )
        .unwrap_err();
        assert_eq!(
            e, "the preflight fails (DNS record): fix it first",
            "an override never passes a failure"
        );
    }

    #[test]
    fn phases_advance_in_order_and_end_once() {
        use Phase::*;
        let s = 0.95;
        assert_eq!(
            next(AwaitingApproval, &Event::Approved, s),
            Ok(SwitchingTraffic)
        );
        assert_eq!(
            next(SwitchingTraffic, &Event::TrafficSwitched, s),
            Ok(ReconnectingDevices)
        );
        assert_eq!(
            next(ReconnectingDevices, &Event::DevicesToldToReconnect, s),
            Ok(Verifying)
        );
        assert_eq!(
            next(
                Verifying,
                &Event::Progress {
                    back: 900,
                    of: 1_000
                },
                s
            ),
            Ok(Verifying)
        );
        assert_eq!(
            next(
                Verifying,
                &Event::Progress {
                    back: 950,
                    of: 1_000
                },
                s
            ),
            Ok(Completed)
        );
        assert_eq!(
            next(
                Verifying,
                &Event::TimedOut {
                    back: 900,
                    of: 1_000
                },
                s
            ),
            Ok(CompletedWithExceptions)
        );
        assert_eq!(
            next(
                SwitchingTraffic,
                &Event::StepFailed {
                    why: "route 53 refused".into()
                },
                s
            ),
            Ok(Failed)
        );
        assert_eq!(next(AwaitingApproval, &Event::Cancel, s), Ok(Cancelled));
        assert!(next(Verifying, &Event::Cancel, s)
            .unwrap_err()
            .contains("fail back instead"));
        assert!(next(Completed, &Event::Approved, s)
            .unwrap_err()
            .contains("already ended"));
        assert!(
            next(SwitchingTraffic, &Event::Approved, s).is_err(),
            "steps cannot be skipped or repeated"
        );
        // Whatever the event, a final phase stays final.
        for p in [Completed, CompletedWithExceptions, Failed, Cancelled] {
            for e in [
                Event::Approved,
                Event::TrafficSwitched,
                Event::Cancel,
                Event::Progress { back: 1, of: 1 },
            ] {
                assert!(next(p, &e, s).is_err());
            }
        }
    }
}
