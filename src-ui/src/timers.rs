//! Timers that end with the view that starts them.
//!
//! Rules kept here: periodic work a view starts stops when the view goes away (another page,
//! or the whole console at sign-out), so no timer reads the view's signals once they are
//! disposed.

use leptos::prelude::*;
use std::time::Duration;

/// Runs `f` every `period` until the view that called this goes away.
pub fn every(f: impl Fn() + 'static, period: Duration) {
    if let Ok(h) = set_interval_with_handle(f, period) {
        on_cleanup(move || h.clear());
    }
}
