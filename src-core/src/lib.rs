//! The vocabulary and the decisions of Switchyard.
//!
//! Everything here is true whatever the transport or the cloud: the domain types, the API's
//! request and response types (shared with the wasm UI), and every decision that can be a pure
//! function. This crate does no I/O and reads no clock: callers pass the time in.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod cockpit;
pub mod commands;
pub mod delivery;
pub mod devices;
pub mod domain;
pub mod drills;
pub mod edge;
pub mod failover;
pub mod fault;
pub mod freshness;
pub mod health;
pub mod incidents;
pub mod moving;
pub mod regions;
pub mod rng;
pub mod series;
pub mod switch;
pub mod time;

pub use domain::*;
