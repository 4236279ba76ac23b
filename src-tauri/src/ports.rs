//! The engine's ports: everything remote is reached through one of these traits. The simulated
//! fleet and the AWS adapters implement the same ones, and the engine cannot tell them apart.

use std::{future::Future, pin::Pin, sync::Arc};
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    failover::ReadinessFacts,
    fault::FaultSpec,
    switch::Pointed,
    Device, EdgeGateway, RegionId, RegionObservation, RegionRole, SourceKind, UnixMs,
};

/// Every edge gateway at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeObservation {
    pub observed_at: UnixMs,
    pub gateways: Vec<EdgeGateway>,
}

/// One page of devices from the source's fleet index.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceListing {
    pub observed_at: UnixMs,
    pub total: u64,
    pub items: Vec<Device>,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a poll failed, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError(pub String);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One remote API operation's tally in one region since the start: what `/metrics` reports as
/// the AWS calls and throttles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCalls {
    pub region: RegionId,
    /// The API's name for it ("GetMetricData").
    pub operation: String,
    pub calls: u64,
    pub failures: u64,
    /// Attempts the service answered with "slow down".
    pub throttles: u64,
}

/// Where fleet observations come from.
///
/// `observe` may take arbitrarily long (a hung endpoint); the engine bounds every call with
/// its own timeout, so an implementation need not.
pub trait FleetSource: Send + Sync + 'static {
    fn kind(&self) -> SourceKind;
    /// The configured regions and their roles at start.
    fn regions(&self) -> Vec<(RegionId, RegionRole)>;
    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>>;
    /// Every edge gateway's buffer.
    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>>;
    /// The devices matching a (validated) query, one page of them.
    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>>;
    /// One device by thing name; `None` when there is no such thing.
    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>>;
    /// The remote API calls made so far, by region and operation (read, never a call); a
    /// source that makes none, like the simulation, has none.
    fn api_calls(&self) -> Vec<ApiCalls> {
        Vec::new()
    }
}

/// Why a traffic switch did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchError {
    /// The switch answered and said no (an ARC safety rule, a denied permission, a control
    /// that does not exist), in its own words: repeating the call changes nothing, so it is
    /// not retried.
    Refused(String),
    /// No answer, or one lost on the way: the switch is idempotent, so this is worth retrying.
    Unanswered(String),
}

impl std::fmt::Display for SwitchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SwitchError::Refused(why) => write!(f, "refused: {why}"),
            SwitchError::Unanswered(why) => f.write_str(why),
        }
    }
}

/// Moving the devices' traffic between regions (a failover's switch), what a preflight needs
/// to know about a target, and where the switch sends the devices now. Implemented by the
/// simulated fleet and the AWS adapters.
///
/// Nothing here may need the region being left: a failover runs when that region is dead.
/// The switch's own state is the truth about the active region: [`TrafficSwitch::pointed_at`]
/// reads it, and the engine follows what it says.
pub trait TrafficSwitch: Send + Sync + 'static {
    /// The facts for failing over from `active` to `target`, the switch path among them.
    /// `target_health`, `failover_in_progress` and the switch path's
    /// `control_plane_region` are the engine's to fill in.
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>>;
    /// Points the devices at `target`; says what was done. Doing it twice is doing it once,
    /// and a switch that fails changes nothing (no half-done batch).
    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SwitchError>>;
    /// Where the switch sends the devices now, read from the switch itself.
    fn pointed_at(&self) -> BoxFuture<'_, Result<Pointed, SourceError>>;
}

/// One page of the things a region's fleet index reports connected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectedPage {
    /// Thing names, which are also the MQTT client ids (fleet indexing's connectivity needs
    /// them to be).
    pub things: Vec<String>,
    /// The token for the next page; `None` on the last.
    pub next: Option<String>,
}

/// What asking a region to drop one connection came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnected {
    /// The connection was dropped.
    Dropped,
    /// No such connection ("not found"): the device had gone already.
    NotFound,
}

/// Dropping devices' connections in one region: how the stragglers a switch leaves connected
/// to the old region are moved. Implemented by the simulated fleet and the AWS adapters (the
/// fleet index's connectivity and IoT Core's `DeleteConnection`).
///
/// Neither call is retried here: a throttled answer is [`DeliveryError::Throttled`], and the
/// engine paces, backs off and retries.
pub trait ConnectionControl: Send + Sync + 'static {
    /// One page of the things `region` reports connected, from `next` (a previous page's
    /// token; `None` for the first).
    fn connected<'a>(
        &'a self,
        region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>>;
    /// Drops `client_id`'s connection in `region`, keeping its persistent session unless
    /// `clean_session`, and never publishing its will message.
    fn disconnect<'a>(
        &'a self,
        region: &'a str,
        client_id: &'a str,
        clean_session: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>>;
}

/// Why a delivery to a device failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The service asked to slow down: worth retrying after a pause.
    Throttled(String),
    Failed(String),
}

/// The device channel: publishing to a device's topic and writing its desired shadow state.
/// Which devices may be sent to is decided by the engine (online only); this only delivers.
pub trait DeviceChannel: Send + Sync + 'static {
    fn publish<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        topic: &'a str,
        payload: &'a [u8],
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
    fn write_shadow<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        document: &'a [u8],
    ) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// Control over the simulated fleet, for operators' training and for tests.
pub trait FaultInjector: Send + Sync + 'static {
    /// Starts `fault`; its `start_secs` counts from now.
    fn inject(&self, fault: FaultSpec) -> Result<(), String>;
    /// Ends every injected fault; returns how many were in force or pending.
    fn clear(&self) -> usize;
}

/// Where alerts go out: one receiver of `[[alerts.receivers]]` (Alertmanager, SNS, a webhook).
///
/// The engine's dispatcher (`engine/deliveries.rs`) owns the order, the retries and the outbox;
/// an implementation only sends what it is given and says what the answer means. `send` is
/// bounded by the receiver's own timeout (a receiver that hangs answers `Verdict::Retry` when it
/// runs out) and never panics on a bad answer.
pub trait AlertReceiver: Send + Sync + 'static {
    /// Its `name` in the configuration: unique, the outbox's key.
    fn name(&self) -> &str;
    fn kind(&self) -> switchyard_core::delivery::ReceiverKind;
    /// Its URLs or topic ARNs, for the page (never a secret).
    fn targets(&self) -> Vec<String>;
    /// Which alerts it takes.
    fn filter(&self) -> &switchyard_core::delivery::Filter;
    /// The most notices one `send` carries (Alertmanager takes a list; a webhook or SNS one).
    fn batch(&self) -> usize;
    /// While an alert fires, how often it is sent again (Alertmanager forgets an alert that is
    /// not re-sent); `None` for receivers told once.
    fn resend_every(&self) -> Option<std::time::Duration>;
    /// Sends `notices` (at most `batch`, in order) at `now`; one verdict for all of them.
    fn send<'a>(
        &'a self,
        notices: &'a [switchyard_core::delivery::Notice],
        now: UnixMs,
    ) -> BoxFuture<'a, switchyard_core::delivery::Verdict>;
}

/// Everything remote a fleet provides, passed to the engine whole at construction: the source
/// it observes, and what of switching, delivering and fault injection that fleet can do.
#[derive(Clone)]
pub struct Adapters {
    pub source: Arc<dyn FleetSource>,
    /// What moves traffic between regions, when the fleet can.
    pub switch: Option<Arc<dyn TrafficSwitch>>,
    /// What delivers commands to devices, when the fleet can.
    pub channel: Option<Arc<dyn DeviceChannel>>,
    /// What drops devices' connections in a region, when the fleet can.
    pub connections: Option<Arc<dyn ConnectionControl>>,
    /// What injects faults (the simulated fleet only).
    pub injector: Option<Arc<dyn FaultInjector>>,
    /// Where alerts go out (`[[alerts.receivers]]`); empty: they stay on the console.
    pub receivers: Vec<Arc<dyn AlertReceiver>>,
}

impl Adapters {
    /// A fleet that can only be observed.
    pub fn observe_only(source: Arc<dyn FleetSource>) -> Adapters {
        Adapters {
            source,
            switch: None,
            channel: None,
            connections: None,
            injector: None,
            receivers: Vec::new(),
        }
    }
}
