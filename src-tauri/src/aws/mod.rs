//! The AWS adapters: the only module that names the AWS SDK.
//!
//! - [`config`]: the SDK configuration of one endpoint (credentials, timeouts, retries);
//! - [`errors`]: what went wrong with a call, classified while the SDK's error is at hand;
//! - the per-service files: [`iot`], [`cloudwatch`], [`route53`], [`arc`] (routing controls),
//!   [`dataplane`], the endpoint
//!   [`probe`], and the call tally [`calls`];
//! - the request-rate [`budget`] every background reader takes from, and the kept
//!   certificate sets of the readiness comparison ([`certs`]);
//! - the engine's ports: [`source`] ([`AwsSource`] as the `FleetSource`), [`switch`] (the
//!   `TrafficSwitch`: readiness facts and the Route 53 switch), [`channel`] (the
//!   `DeviceChannel`: publishing and shadow writes), [`connections`] (the `ConnectionControl`:
//!   the connected devices and `DeleteConnection`);
//! - [`sns`]: Amazon SNS as an alert receiver (`Publish` to the first topic that takes it);
//! - [`lab`]: the local moto lab the adapters are tested against.
//!
//! Rules kept here:
//! - the ports are implemented on top of the per-service files, never the other way round;
//! - errors are turned into one line an operator can act on ([`describe`]), and keep their
//!   kind ([`AwsErrorKind`]) where a caller decides by it.

pub mod arc;
pub mod budget;
pub mod calls;
pub mod certs;
pub mod channel;
pub mod cloudwatch;
pub mod config;
pub mod connections;
pub mod dataplane;
pub mod errors;
pub mod iot;
pub mod lab;
pub mod probe;
pub mod route53;
pub mod sns;
pub mod source;
pub mod switch;

pub use config::{sdk_config, Interceptors, Timeouts, LAB_ACCESS_KEY};
pub use errors::{chain, classify, describe, is_unsupported, AwsError, AwsErrorKind};
pub use source::AwsSource;
