//! Device listing: the query an operator builds with filters, checked before it reaches a
//! source, and the page it gets back.

use crate::{regions::is_valid_code, Connectivity, Device, DisconnectReason, UnixMs};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1_000;

/// `GET /api/v1/devices?...`. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct DeviceQuery {
    /// Devices connected to (or, offline, last seen in) this region.
    #[cfg_attr(feature = "openapi", param(format = "aws-region"))]
    pub region: Option<String>,
    pub thing_group: Option<String>,
    /// `true`: online only; `false`: offline only.
    pub connected: Option<bool>,
    /// Offline devices that disconnected for this reason (not with `connected=true`).
    pub reason: Option<DisconnectReason>,
    /// Part of the thing name.
    #[cfg_attr(feature = "openapi", param(max_length = 128))]
    pub q: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 0, default = 0))]
    pub offset: u64,
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000, default = 100))]
    pub limit: Option<u32>,
}

impl DeviceQuery {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Checks the query; the error names the parameter.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(r) = &self.region {
            if !is_valid_code(r) {
                return Err(format!(
                    "region: '{r}' is not an AWS region code such as us-east-1"
                ));
            }
        }
        if let Some(l) = self.limit {
            if l == 0 || l > MAX_LIMIT {
                return Err(format!("limit: must be between 1 and {MAX_LIMIT}, not {l}"));
            }
        }
        if let Some(q) = &self.q {
            if q.chars().count() > 128 {
                return Err("q: at most 128 characters (thing names are at most 128)".into());
            }
        }
        if self.reason.is_some() && self.connected == Some(true) {
            return Err(
                "reason: applies to offline devices; it cannot be combined with connected=true"
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether `d` passes every filter (paging aside).
    pub fn matches(&self, d: &Device) -> bool {
        self.region.as_ref().is_none_or(|r| *r == d.region)
            && self.thing_group.as_ref().is_none_or(|g| d.thing_groups.contains(g))
            && self.connected.is_none_or(|c| c == d.connectivity.is_online())
            && self.reason.is_none_or(|want| matches!(d.connectivity, Connectivity::Offline { reason, .. } if reason == want))
            && self.q.as_ref().is_none_or(|q| d.id.contains(q.as_str()))
    }
}

/// `GET /api/v1/devices/{id}`: the device and its recent connectivity changes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: Device,
    pub history: Vec<crate::ConnectivityChange>,
}

/// One page of devices and how many matched in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicePage {
    pub server_time: UnixMs,
    /// When the source's view of the devices was taken.
    pub observed_at: UnixMs,
    pub total: u64,
    pub offset: u64,
    pub limit: u32,
    pub items: Vec<Device>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: &str, region: &str, online: bool) -> Device {
        Device {
            id: id.into(),
            region: region.into(),
            thing_groups: vec!["meters".into(), "site-03".into()],
            connectivity: if online {
                Connectivity::Online { since: 1 }
            } else {
                Connectivity::Offline {
                    since: 1,
                    reason: DisconnectReason::ConnectionLost,
                }
            },
        }
    }

    #[test]
    fn filters_combine() {
        let d = dev("dev-0000042", "us-east-1", false);
        assert!(DeviceQuery::default().matches(&d));
        let q = DeviceQuery {
            region: Some("us-east-1".into()),
            thing_group: Some("site-03".into()),
            connected: Some(false),
            reason: Some(DisconnectReason::ConnectionLost),
            q: Some("0042".into()),
            ..Default::default()
        };
        assert!(q.matches(&d));
        assert!(!DeviceQuery {
            connected: Some(true),
            ..Default::default()
        }
        .matches(&d));
        assert!(!DeviceQuery {
            region: Some("eu-west-1".into()),
            ..Default::default()
        }
        .matches(&d));
        assert!(!DeviceQuery {
            thing_group: Some("cameras".into()),
            ..Default::default()
        }
        .matches(&d));
        assert!(!DeviceQuery {
            reason: Some(DisconnectReason::Throttled),
            ..Default::default()
        }
        .matches(&d));
        assert!(!DeviceQuery {
            q: Some("0043".into()),
            ..Default::default()
        }
        .matches(&d));
        assert!(!DeviceQuery {
            reason: Some(DisconnectReason::ConnectionLost),
            ..Default::default()
        }
        .matches(&dev("dev-1", "us-east-1", true)));
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        let e = |q: DeviceQuery| q.validate().unwrap_err();
        assert!(e(DeviceQuery {
            limit: Some(0),
            ..Default::default()
        })
        .starts_with("limit:"));
        assert!(e(DeviceQuery {
            limit: Some(5_000),
            ..Default::default()
        })
        .starts_with("limit:"));
        assert!(e(DeviceQuery {
            region: Some("Virginia".into()),
            ..Default::default()
        })
        .starts_with("region:"));
        assert!(e(DeviceQuery {
            q: Some("x".repeat(200)),
            ..Default::default()
        })
        .starts_with("q:"));
        assert!(e(DeviceQuery {
            connected: Some(true),
            reason: Some(DisconnectReason::Throttled),
            ..Default::default()
        })
        .starts_with("reason:"));
        assert_eq!(DeviceQuery::default().validate(), Ok(()));
        assert_eq!(DeviceQuery::default().limit(), 100);
    }
}
