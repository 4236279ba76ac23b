//! How a fleet really moves after a switch, pure: the DNS TTL the devices wait out, the
//! stragglers still connected to the old region and how they are moved, and the reconnection
//! curve with the completion it points to.
//!
//! A switch only changes where devices go the next time they resolve the devices' domain and
//! connect. A device whose MQTT connection to the old region is up stays there; one that
//! reconnects before its resolver's cache expires goes back to the old region if it answers.
//!
//! Rules kept here:
//! - nobody is disconnected before the record's TTL has passed since the switch
//!   ([`reresolve_by`]): before then a dropped device would resolve the old region again;
//! - an estimate is the devices over the rate, rounded up to the second, and says when the
//!   `command` method would be faster;
//! - a device's result is one of four outcomes, and a device with a result is never moved
//!   again in the same failover;
//! - the completion estimate comes from the curve's slope over its last [`SLOPE_WINDOW_MS`];
//!   there is none while the curve is not rising.

use crate::{RegionId, UnixMs};
use serde::{Deserialize, Serialize};

/// How the devices still connected to the old region are moved once the TTL has passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StragglerMethod {
    /// The old region drops each connection (IoT Core's `DeleteConnection`).
    #[default]
    Disconnect,
    /// The catalogue's `reconnect` command is published to each of them.
    Command,
    /// Nobody is moved: devices move when their connections drop by themselves.
    Off,
}

impl StragglerMethod {
    pub const ALL: [StragglerMethod; 3] = [
        StragglerMethod::Disconnect,
        StragglerMethod::Command,
        StragglerMethod::Off,
    ];

    /// The name used in the configuration and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            StragglerMethod::Disconnect => "disconnect",
            StragglerMethod::Command => "command",
            StragglerMethod::Off => "off",
        }
    }

    /// The inverse of [`StragglerMethod::as_str`].
    pub fn parse(s: &str) -> Option<StragglerMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// When every device has re-resolved the devices' domain: the switch plus the record's TTL.
pub fn reresolve_by(switched_at: UnixMs, ttl_secs: u64) -> UnixMs {
    switched_at.saturating_add(ttl_secs.saturating_mul(1_000))
}

/// "14:02:31 UTC": the time of day of a Unix time in milliseconds.
pub fn utc_time(at: UnixMs) -> String {
    let secs = (at / 1_000) % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// How long moving a number of stragglers takes, said before the step starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub devices: u64,
    /// At the method's rate, in seconds.
    pub secs: u64,
    /// The same devices with the `command` method, when it is not the method chosen.
    pub command_secs: Option<u64>,
    /// One line for the panel: "1000000 devices at 50/s: 5 h 33 min; the command method …".
    pub message: String,
}

/// Seconds to move `devices` at `rate` per second, rounded up (zero devices take none).
pub fn duration_secs(devices: u64, rate: f64) -> u64 {
    if devices == 0 {
        return 0;
    }
    if rate.is_nan() || rate <= 0.0 {
        return u64::MAX;
    }
    (devices as f64 / rate).ceil() as u64
}

/// "5 h 33 min", "4 min 10 s", "12 s".
pub fn human_secs(secs: u64) -> String {
    let (h, m, s) = (secs / 3_600, secs % 3_600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}

/// The estimate for moving `devices` with `method` at `rate`; `command_rate` is how fast the
/// command method would deliver (the command runs' rate), to say when it would be faster.
pub fn estimate(method: StragglerMethod, devices: u64, rate: f64, command_rate: f64) -> Estimate {
    let secs = duration_secs(devices, rate);
    let command_secs =
        (method == StragglerMethod::Disconnect).then(|| duration_secs(devices, command_rate));
    let mut message = format!(
        "{devices} devices at {}/s: {}",
        trim(rate),
        human_secs(secs)
    );
    if let Some(c) = command_secs.filter(|c| *c < secs) {
        message.push_str(&format!(
            "; the command method would take {} at {}/s (devices that do not act on it stay)",
            human_secs(c),
            trim(command_rate)
        ));
    }
    Estimate {
        devices,
        secs,
        command_secs,
        message,
    }
}

fn trim(rate: f64) -> String {
    if rate.fract() == 0.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// Where the straggler step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StragglerState {
    /// Waiting for the TTL to pass.
    Waiting,
    Moving,
    Done,
    /// Not done, and why is in `detail` (the method is off, the old region does not answer).
    Skipped,
    Cancelled,
    Failed,
}

impl StragglerState {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            StragglerState::Waiting => "waiting",
            StragglerState::Moving => "moving",
            StragglerState::Done => "done",
            StragglerState::Skipped => "skipped",
            StragglerState::Cancelled => "cancelled",
            StragglerState::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, StragglerState::Waiting | StragglerState::Moving)
    }
}

/// What moving the stragglers is doing, as the panel and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stragglers {
    pub method: StragglerMethod,
    /// The old region, where they are still connected.
    pub region: RegionId,
    /// Devices moved per second.
    pub rate_per_s: f64,
    pub state: StragglerState,
    /// Nothing is moved before this: the switch plus the TTL.
    pub not_before: UnixMs,
    /// Said before the step starts, from the old region's online count.
    pub estimate: Option<Estimate>,
    /// Connected devices found in the old region's fleet index so far.
    pub found: u64,
    /// Disconnected (or, with the command method, told).
    pub moved: u64,
    /// Already gone when their turn came ("not found").
    pub already_gone: u64,
    pub failed: u64,
    pub started_at: Option<UnixMs>,
    pub finished_at: Option<UnixMs>,
    /// Why skipped, cancelled or failed; or the last throttling note.
    pub detail: String,
}

impl Stragglers {
    /// Devices found and not yet given a result.
    pub fn left(&self) -> u64 {
        self.found
            .saturating_sub(self.moved + self.already_gone + self.failed)
    }

    /// Counts one device's result.
    pub fn count(&mut self, outcome: DeviceOutcome) {
        match outcome {
            DeviceOutcome::Disconnected | DeviceOutcome::Told => self.moved += 1,
            DeviceOutcome::AlreadyGone => self.already_gone += 1,
            DeviceOutcome::Failed => self.failed += 1,
        }
    }
}

/// One device's result in the straggler step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceOutcome {
    Disconnected,
    /// Not connected any more when its turn came ("not found").
    AlreadyGone,
    /// The reconnect command was published to it.
    Told,
    Failed,
}

impl DeviceOutcome {
    pub const ALL: [DeviceOutcome; 4] = [
        DeviceOutcome::Disconnected,
        DeviceOutcome::AlreadyGone,
        DeviceOutcome::Told,
        DeviceOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceOutcome::Disconnected => "disconnected",
            DeviceOutcome::AlreadyGone => "already_gone",
            DeviceOutcome::Told => "told",
            DeviceOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeviceOutcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One device's kept result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StragglerResult {
    pub device: String,
    pub outcome: DeviceOutcome,
    pub detail: String,
    pub at: UnixMs,
}

/// `GET /api/v1/failovers/{id}/stragglers`: one page of the per-device results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StragglerResults {
    pub server_time: UnixMs,
    pub failover: String,
    pub total: u64,
    pub items: Vec<StragglerResult>,
}

/// Devices online in the old and the new region at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurvePoint {
    pub at: UnixMs,
    /// Online in the region being left.
    pub source: u64,
    /// Online in the region moved to.
    pub target: u64,
}

/// The stretch of the curve whose slope gives the completion estimate.
pub const SLOPE_WINDOW_MS: UnixMs = 120_000;

/// When `target` reaches `share` of `of`, from the slope of the curve's last
/// [`SLOPE_WINDOW_MS`]: `Some(at)` of the last point when reached already, `None` while the
/// curve is not rising (or has fewer than two points in the window).
pub fn complete_at(curve: &[CurvePoint], of: u64, share: f64) -> Option<UnixMs> {
    let last = curve.last()?;
    let needed = (of as f64 * share).ceil();
    if last.target as f64 >= needed {
        return Some(last.at);
    }
    let from = last.at.saturating_sub(SLOPE_WINDOW_MS);
    let first = curve.iter().find(|p| p.at >= from)?;
    if first.at >= last.at || last.target <= first.target {
        return None;
    }
    let per_ms = (last.target - first.target) as f64 / (last.at - first.at) as f64;
    let more_ms = (needed - last.target as f64) / per_ms;
    Some(last.at + more_ms.ceil() as UnixMs)
}

/// At most `max` points of `curve`, evenly picked, the first and the last always kept.
pub fn thin(curve: &[CurvePoint], max: usize) -> Vec<CurvePoint> {
    if curve.len() <= max || max < 2 {
        return curve.to_vec();
    }
    let step = (curve.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| curve[((i as f64 * step).round() as usize).min(curve.len() - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(at: UnixMs, source: u64, target: u64) -> CurvePoint {
        CurvePoint { at, source, target }
    }

    #[test]
    fn devices_re_resolve_one_ttl_after_the_switch() {
        assert_eq!(reresolve_by(1_000, 60), 61_000);
        // 2026-12-01 14:02:31 UTC.
        assert_eq!(utc_time(1_796_133_751_000), "14:02:31 UTC");
    }

    #[test]
    fn a_million_devices_at_fifty_a_second_take_more_than_five_hours() {
        let e = estimate(StragglerMethod::Disconnect, 1_000_000, 50.0, 200.0);
        assert_eq!(e.secs, 20_000);
        assert_eq!(human_secs(e.secs), "5 h 33 min");
        assert!(e.message.starts_with("1000000 devices at 50/s: 5 h 33 min"));
        assert!(
            e.message
                .contains("the command method would take 1 h 23 min at 200/s"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_command_method_is_not_offered_when_it_is_slower_or_chosen() {
        let slower = estimate(StragglerMethod::Disconnect, 1_000, 50.0, 10.0);
        assert!(!slower.message.contains("command"), "{}", slower.message);
        let chosen = estimate(StragglerMethod::Command, 1_000, 10.0, 10.0);
        assert_eq!(chosen.command_secs, None);
        assert_eq!(chosen.secs, 100);
    }

    #[test]
    fn no_devices_take_no_time_and_no_rate_takes_forever() {
        assert_eq!(duration_secs(0, 0.0), 0);
        assert_eq!(duration_secs(1, 0.0), u64::MAX);
        assert_eq!(duration_secs(101, 50.0), 3);
    }

    #[test]
    fn a_rising_curve_points_to_when_the_share_is_reached() {
        // 100 more every 10 s; 950 needed of 1000; at 500 now.
        let curve: Vec<_> = (0..=12)
            .map(|i| p(i * 10_000, 1_000 - i * 40, i * 40))
            .collect();
        let at = complete_at(&curve, 1_000, 0.95).unwrap();
        // 480 at 120 s rising 4/s: 470 more take 117.5 s.
        assert_eq!(at, 120_000 + 117_500);
    }

    #[test]
    fn a_flat_curve_has_no_completion_and_a_reached_one_is_complete_now() {
        let flat = [p(0, 500, 100), p(60_000, 500, 100)];
        assert_eq!(complete_at(&flat, 1_000, 0.95), None);
        let reached = [p(0, 0, 960), p(5_000, 0, 970)];
        assert_eq!(complete_at(&reached, 1_000, 0.95), Some(5_000));
        assert_eq!(complete_at(&[], 1_000, 0.95), None);
    }

    #[test]
    fn thinning_keeps_the_ends_and_the_count() {
        let curve: Vec<_> = (0..1_000).map(|i| p(i, 0, i)).collect();
        let t = thin(&curve, 100);
        assert_eq!(t.len(), 100);
        assert_eq!(t.first(), curve.first());
        assert_eq!(t.last(), curve.last());
        assert_eq!(thin(&curve[..10], 100).len(), 10);
    }

    #[test]
    fn a_straggler_tally_counts_each_outcome_once() {
        let mut s = Stragglers {
            method: StragglerMethod::Disconnect,
            region: "us-east-1".into(),
            rate_per_s: 50.0,
            state: StragglerState::Moving,
            not_before: 0,
            estimate: None,
            found: 4,
            moved: 0,
            already_gone: 0,
            failed: 0,
            started_at: None,
            finished_at: None,
            detail: String::new(),
        };
        for o in DeviceOutcome::ALL {
            s.count(o);
        }
        assert_eq!((s.moved, s.already_gone, s.failed, s.left()), (2, 1, 1, 0));
    }

    #[test]
    fn names_read_back_to_what_they_name() {
        for m in StragglerMethod::ALL {
            assert_eq!(StragglerMethod::parse(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
        }
        for o in DeviceOutcome::ALL {
            assert_eq!(DeviceOutcome::parse(o.as_str()), Some(o));
        }
        for st in [
            StragglerState::Waiting,
            StragglerState::Moving,
            StragglerState::Done,
            StragglerState::Skipped,
            StragglerState::Cancelled,
            StragglerState::Failed,
        ] {
            assert_eq!(
                serde_json::to_string(&st).unwrap(),
                format!("\"{}\"", st.as_str())
            );
        }
    }
}
