//! Disaster-recovery drills: the scenario an operator runs, what the recorder keeps of it, the
//! observer that turns a runner's ticks into that record, and the measures taken from it.
//!
//! Everything here is pure: a drill's record is a list of timestamped events and samples
//! (milliseconds since the drill started), and every figure in a report is a function of that
//! record and the objectives. The runners (the simulated fleet stepped in virtual time, or the
//! live console) act on the fleet and feed [`DrillObserver`] what they see; it keeps the record.
//!
//! - [`scenario`]: what a drill does, and its checks;
//! - [`recording`]: events, samples and the probe;
//! - [`observer`]: the fold from ticks to events, and what the script calls for next;
//! - [`metrics`]: the measures, the objectives' verdicts, the comparison of two drills;
//! - [`kept`]: drills as stored and listed, notes, action items, the overdue warning.

pub mod kept;
pub mod metrics;
pub mod observer;
pub mod recording;
pub mod scenario;

pub use kept::*;
pub use metrics::*;
pub use observer::*;
pub use recording::*;
pub use scenario::*;
