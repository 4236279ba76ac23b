//! Switchyard's engine and its faces that need no webview.
//!
//! - [`engine`]: pollers on an interval fold observations from a [`ports::FleetSource`] into a
//!   versioned fleet state, publish changes as events and keep history in the [`store`].
//! - [`sim`]: the simulated fleet, the default source when no AWS configuration is given.
//! - [`aws`]: the AWS adapters (the only module that names the AWS SDK) and the local lab.
//! - [`store`]: SQLite, the only module that speaks SQL.
//! - [`report`]: a drill's report as HTML with plotters charts (SVG, PNG).
//! - [`api`]: axum, the only module that knows HTTP.
//! - [`notify`]: where alerts go out (Alertmanager, webhooks; SNS in [`aws`]), the
//!   `AlertReceiver` port's implementations.
//! - [`error`]: the engine's one error type; the faces pick a status from its kind.
//! - [`app`]: wiring from [`settings::Settings`] to a running engine, shared by the server and
//!   the desktop shell.

pub mod api;
pub mod app;
pub mod auth;
pub mod aws;
pub mod cli;
pub mod clock;
pub mod engine;
pub mod error;
pub mod notify;
pub mod ports;
pub mod report;
pub mod runbook;
pub mod settings;
pub mod sim;
pub mod store;
