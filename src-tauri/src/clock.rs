//! The wall clock, in one place, and injectable.
//!
//! Rules kept here:
//! - Code that needs "now" asks a [`Clock`]; production passes [`SystemClock`]. Only this file
//!   reads the system's time.
//! - [`TokioClock`] follows tokio's clock, so a test on tokio's paused time (`start_paused`)
//!   sees wall time advance exactly as far as its sleeps and timeouts do, without waiting.

use std::sync::Arc;
use switchyard_core::UnixMs;

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> UnixMs;
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> UnixMs {
        now_ms()
    }
}

/// Wall time that advances with tokio's clock: `start` plus the tokio time elapsed since the
/// clock was made. Under `#[tokio::test(start_paused = true)]` it jumps forward when the runtime
/// auto-advances past a sleep, so tests of timeouts and intervals run instantly and exactly.
#[derive(Debug, Clone)]
pub struct TokioClock {
    start_ms: UnixMs,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `start_ms` now. Must be made inside a tokio runtime.
    pub fn starting_at(start_ms: UnixMs) -> TokioClock {
        TokioClock {
            start_ms,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> UnixMs {
        self.start_ms + self.origin.elapsed().as_millis() as UnixMs
    }
}

/// The system's wall time. Prefer a [`Clock`] passed in; this is for the places that have none
/// (the CLI's output, start-up).
pub fn now_ms() -> UnixMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as UnixMs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_advances_with_paused_time_and_no_faster() {
        let clock = TokioClock::starting_at(1_000_000);
        assert_eq!(clock.now_ms(), 1_000_000);
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clock.now_ms(), 1_090_000);
    }

    #[test]
    fn the_system_clock_reads_a_time_after_2024() {
        assert!(SystemClock.now_ms() > 1_704_067_200_000);
    }
}
