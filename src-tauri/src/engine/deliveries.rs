//! Alerts out: every raise and clear is put in the store's outbox, in the same transaction as
//! the alert itself, for each receiver whose filter takes it; one dispatcher task per receiver
//! sends what is due, in order, batched, and retries with backoff.
//!
//! Rules kept here:
//! - the poll loop never waits on a receiver: it writes the outbox and wakes the dispatcher;
//! - a notice is marked delivered only after its receiver said so; a restart resumes the
//!   outbox where it stopped;
//! - a clear is never sent before its raise is delivered or given up (`delivery::sendable`);
//! - a receiver's failures are shown as its health, never as a fleet alert.

use switchyard_core::delivery::RetryPolicy;

/// How alerts go out.
#[derive(Debug, Clone, Default)]
pub struct DeliveryConfig {
    pub retry: RetryPolicy,
    /// The console's address for the links in notices.
    pub console_url: Option<String>,
}

use crate::ports::AlertReceiver;
use std::sync::{Arc, Mutex};
use switchyard_core::delivery::ReceiverHealth;

/// The receivers and what the dispatcher knows of them.
pub(super) struct Dispatch {
    receivers: Vec<Arc<dyn AlertReceiver>>,
    /// Each receiver's health, by its place in `receivers`. Never held across an await.
    health: Mutex<Vec<ReceiverHealth>>,
    /// Wakes the dispatchers: the outbox has news.
    wake: tokio::sync::Notify,
}

impl Dispatch {
    pub(super) fn new(receivers: Vec<Arc<dyn AlertReceiver>>) -> Dispatch {
        let health = Mutex::new(vec![ReceiverHealth::default(); receivers.len()]);
        Dispatch {
            receivers,
            health,
            wake: tokio::sync::Notify::new(),
        }
    }
}
