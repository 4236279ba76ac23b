//! One way to build an engine for tests and benchmarks.
//!
//! Rules kept here:
//! - Tests, the API tests and the benchmarks wire a fleet to an engine here, not by hand, so a
//!   change to the engine's construction has one place to go.
//! - The defaults are the production ones (configuration, system clock) but for the store,
//!   which is in memory; a test states what it changes.

use super::{Engine, EngineConfig};
use crate::clock::{SharedClock, SystemClock, TokioClock};
use crate::ports::Adapters;
use crate::sim::SimSource;
use crate::store::Store;
use std::sync::Arc;
use switchyard_core::UnixMs;

/// A builder of engines for tests and benchmarks.
pub struct EngineKit {
    cfg: EngineConfig,
    adapters: Adapters,
    store: Option<Store>,
    clock: SharedClock,
}

impl EngineKit {
    /// An engine on `adapters`, with the default configuration and an in-memory store.
    pub fn new(adapters: Adapters) -> EngineKit {
        EngineKit {
            cfg: EngineConfig::default(),
            adapters,
            store: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// An engine on the simulated fleet, with everything it can do (switch, commands, faults).
    pub fn sim(sim: &SimSource) -> EngineKit {
        EngineKit::new(sim.adapters())
    }

    pub fn config(mut self, cfg: EngineConfig) -> EngineKit {
        self.cfg = cfg;
        self
    }

    pub fn store(mut self, store: Store) -> EngineKit {
        self.store = Some(store);
        self
    }

    /// Wall time follows tokio's clock from `start_ms` (for `start_paused` tests).
    pub fn tokio_clock(mut self, start_ms: UnixMs) -> EngineKit {
        self.clock = Arc::new(TokioClock::starting_at(start_ms));
        self
    }

    /// The engine asks `clock` for the time (a test that also hands it to a stand-in).
    pub fn clock(mut self, clock: SharedClock) -> EngineKit {
        self.clock = clock;
        self
    }

    /// The fleet cannot move traffic.
    pub fn without_switch(mut self) -> EngineKit {
        self.adapters.switch = None;
        self
    }

    /// The fleet cannot deliver commands.
    pub fn without_channel(mut self) -> EngineKit {
        self.adapters.channel = None;
        self
    }

    /// Devices' connections are listed and dropped through `c` instead of the fleet's own.
    pub fn connections(mut self, c: Arc<dyn crate::ports::ConnectionControl>) -> EngineKit {
        self.adapters.connections = Some(c);
        self
    }

    /// Faults cannot be injected through the engine.
    pub fn without_injector(mut self) -> EngineKit {
        self.adapters.injector = None;
        self
    }

    /// Alerts go out to `receivers`.
    pub fn receivers(mut self, receivers: Vec<Arc<dyn crate::ports::AlertReceiver>>) -> EngineKit {
        self.adapters.receivers = receivers;
        self
    }

    pub fn build(self) -> Engine {
        let store = self.store.unwrap_or_else(Store::in_memory);
        Engine::with_clock(self.cfg, self.adapters, store, self.clock)
    }
}
