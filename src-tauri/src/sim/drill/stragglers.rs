//! A simulated drill's straggler step: one TTL after the switch, the old region's connected
//! devices are paged and moved (disconnected, or sent the reconnect command) at the settings'
//! rate, as the console's straggler step does; verification starts when it ends.
//!
//! Rules kept here:
//! - nothing is moved before the switch plus the TTL;
//! - skipped, and said why, when the method is off, the rate is zero or the old region does
//!   not answer its first page; a page that goes unanswered later ends the step;
//! - at most the rate a second (what a second leaves unused is not saved up beyond one second's
//!   worth); each listed device is moved once, or counted as already gone;
//! - the step's start (how many, at what rate, how long) and its end are recorded as steps.

use super::{DrillObserver, DrillSettings, Move, SimFleet};
use switchyard_core::failover::{next, Event};
use switchyard_core::moving::{duration_secs, human_secs, StragglerMethod};

/// The straggler step of a drill's failover: the connected pages of the old region, moved at
/// the rate.
#[derive(Default)]
pub(super) struct Stragglers {
    /// Thing names listed and not yet moved.
    listed: std::collections::VecDeque<String>,
    /// The next page's token; `None` once the last page is listed.
    next: Option<String>,
    /// Devices this second may still move (the rate, accumulated).
    allowance: f64,
    moved: u64,
    gone: u64,
}

/// One second of the straggler step: nothing before the TTL has passed; then skipped (the
/// method is off, the old region does not answer) or the old region's connected devices,
/// page by page, moved at the rate; once the last is moved, verification starts.
pub(super) fn step(
    fleet: &mut SimFleet,
    obs: &mut DrillObserver,
    cfg: &DrillSettings,
    t: u64,
    m: &mut Move,
) -> Result<(), String> {
    if t < m.not_before_s {
        return Ok(());
    }
    let now = t * 1_000;
    let from = m.from.clone();
    let rate = cfg.stragglers_rate.max(0.0);
    let skipped = if cfg.stragglers == StragglerMethod::Off {
        Some("off: devices move as their connections drop by themselves".to_string())
    } else if m.stragglers.is_none() && rate == 0.0 {
        Some("a rate of 0 a second moves nobody".to_string())
    } else if m.stragglers.is_none() {
        match fleet.connected_page(&from, None) {
            Err(_) => Some(format!("skipped: {from} does not answer")),
            Ok(page) => {
                let left = fleet.online_in(&from) as u64;
                let secs = duration_secs(left, rate);
                obs.step(
                    now,
                    format!(
                        "reconnect: {left} devices still on {from} after the TTL; {} at {rate}/s \
                         takes {}",
                        cfg.stragglers.as_str(),
                        human_secs(secs)
                    ),
                );
                m.stragglers = Some(Stragglers {
                    listed: page.things.into(),
                    next: page.next,
                    ..Stragglers::default()
                });
                None
            }
        }
    } else {
        None
    };
    if let Some(why) = skipped {
        obs.step(now, format!("reconnect: {why}"));
        return verify_from(m, t, cfg.complete_share);
    }
    let Some(st) = m.stragglers.as_mut() else {
        return Ok(());
    };
    st.allowance += rate;
    while st.allowance >= 1.0 {
        if st.listed.is_empty() {
            let Some(token) = st.next.take() else { break };
            match fleet.connected_page(&from, Some(&token)) {
                Ok(page) => {
                    st.listed = page.things.into();
                    st.next = page.next;
                }
                // The old region stopped answering: the rest cannot be moved.
                Err(_) => break,
            }
            continue;
        }
        let Some(thing) = st.listed.pop_front() else {
            break;
        };
        st.allowance -= 1.0;
        let moved = match cfg.stragglers {
            StragglerMethod::Command => {
                let before = fleet.deliveries.received;
                let topic = format!("cmd/{thing}/reconnect");
                fleet.deliver(&from, &thing, &topic).is_ok() && fleet.deliveries.received > before
            }
            _ => matches!(
                fleet.disconnect(&from, &thing),
                Ok(crate::ports::Disconnected::Dropped)
            ),
        };
        if moved {
            st.moved += 1;
        } else {
            st.gone += 1;
        }
    }
    // The allowance does not build up while there is nothing to move.
    st.allowance = st.allowance.min(rate.max(1.0));
    if st.listed.is_empty() && st.next.is_none() {
        let verb = match cfg.stragglers {
            StragglerMethod::Command => "told",
            _ => "disconnected",
        };
        let detail = format!(
            "reconnect: {verb} {} devices still on {from} at {rate}/s ({} already gone)",
            st.moved, st.gone
        );
        obs.step(now, detail);
        return verify_from(m, t, cfg.complete_share);
    }
    Ok(())
}

/// The straggler step ended at `t`: verification starts.
fn verify_from(m: &mut Move, t: u64, share: f64) -> Result<(), String> {
    m.phase = next(m.phase, &Event::DevicesToldToReconnect, share)?;
    m.verify_from_s = t;
    Ok(())
}
