//! Native notifications of the engine's alerts (standalone mode only).
//!
//! Rules kept here:
//! - Only a raised alert interrupts; a cleared one is news for the list, not a notification.
//! - A missing notification service (a bare X server) is logged, never fatal: the in-window
//!   banner still shows the alert.

use switchyard_core::alerts::{Alert, Severity};
use tauri_plugin_notification::NotificationExt;

/// The native notification for an alert: raised alerts only (a cleared one is news for the
/// list, not a reason to interrupt).
fn notification(a: &Alert) -> Option<(String, String)> {
    if a.cleared_at.is_some() {
        return None;
    }
    let level = match a.severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
    };
    Some((
        format!("Switchyard {level}: {}", a.subject),
        a.message.clone(),
    ))
}

/// Shows `alert` as a desktop notification, if it is one that should interrupt.
pub fn notify(handle: &tauri::AppHandle, alert: &Alert) {
    let Some((title, body)) = notification(alert) else {
        return;
    };
    // Without a notification service (a bare X server) this fails: the in-window banner
    // still shows the alert.
    if let Err(e) = handle
        .notification()
        .builder()
        .title(title)
        .body(body)
        .show()
    {
        tracing::warn!("could not show a desktop notification: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::AlertKind;

    #[test]
    fn raised_alerts_notify_and_cleared_ones_do_not() {
        let mut a = Alert {
            id: 1,
            kind: AlertKind::RegionUnreachable,
            severity: Severity::Critical,
            subject: "us-east-1".into(),
            message: "us-east-1 is unreachable: no answer within 2500 ms".into(),
            raised_at: 1,
            cleared_at: None,
            incident_id: None,
            ack: None,
        };
        assert_eq!(
            notification(&a),
            Some((
                "Switchyard critical: us-east-1".into(),
                "us-east-1 is unreachable: no answer within 2500 ms".into()
            ))
        );
        a.cleared_at = Some(2);
        assert_eq!(notification(&a), None);
    }
}
