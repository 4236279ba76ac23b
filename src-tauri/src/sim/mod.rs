//! The simulated fleet: the default source when no AWS configuration is given, and the lab for
//! drills and training.
//!
//! A discrete-time model, stepped one simulated second at a time, seeded so that a run replays
//! exactly. The rooms:
//! - `config`: [`SimConfig`], the seed, regions, sizes and scheduled faults, and its defaults;
//! - `fleet`: [`SimFleet`], the pure model's state (each device's resolver cache among it),
//!   its controls (active region, reconnect, faults) and what a poll of a region sees;
//! - `step`: how one simulated second passes (devices reconnecting where their resolver cache
//!   sends them, with backoff; gateways buffering and draining; faults on the timeline);
//! - `devices`: single devices answered from the compact state (names, query pages,
//!   histories, deliveries, the connected pages and disconnections);
//! - `buffer`: a gateway's run-length encoded store-and-forward buffer;
//! - `switch`: the simulated traffic switch's three methods, what each depends on, and the one
//!   decision whether it answers given the faults (used by the source and the drill alike);
//! - `source`: [`SimSource`], the model shared with the engine as its ports, and
//!   [`SimSource::run_clock`], which steps it in real time;
//! - `drill`: a simulated drill on a seeded fleet of its own, run as fast as it computes;
//! - `moving`'s tests (`moving_tests.rs`): DNS caching, the connection control and the
//!   reconnect command.
//!
//! Rules kept here: the rooms' own lists; in short, the model is pure and seeded (the same
//! configuration replays exactly), the handle is the only shared state, a poll of a region in
//! outage hangs so the engine's timeout notices, and memory does not grow with an outage.

mod buffer;
mod config;
mod devices;
pub mod drill;
mod fleet;
mod source;
mod step;
pub mod switch;

pub use config::SimConfig;
pub use devices::CONNECTED_PAGE;
pub use fleet::{Deliveries, Disconnects, SimFleet, CHANGES_KEPT};
pub use source::{sim_endpoint, SimSource};

#[cfg(test)]
mod moving_tests;
#[cfg(test)]
mod tests;
