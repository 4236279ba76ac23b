//! The configuration file `switchyard lab` writes: every region on its own moto server, Route 53
//! on one of its own, lab credentials, the counting method moto supports, and the ARC
//! stand-in's cluster endpoints with one routing control per region.
//!
//! Rules kept here:
//! - the written switch is `record` (tests choose another on the resolved settings);
//! - every region gets its routing control, so `switch = "routing_control"` resolves as is.

use super::{data_endpoint, routing_control_arn, Lab, DOMAIN_CONFIGURATION, MOTO_VERSION, RECORD};

impl Lab {
    /// The configuration that points Switchyard at this lab.
    pub fn config_toml(&self) -> String {
        let mut s = format!(
            "# Written by `switchyard lab` for the local AWS lab (moto {MOTO_VERSION} on loopback).\n\
             # Every region has its own moto server; Route 53 has one of its own, as it is global.\n\n\
             [engine]\npoll_interval_secs = 5\npoll_timeout_ms = 2500\n\n\
             [recovery]\nrto_minutes = 30\nrpo_minutes = 5\n\n\
             [aws]\n\
             # moto has no fleet-index aggregation: count by reading the (small) search through.\n\
             connectivity_counts = \"search\"\n\
             thing_groups = [\"sensors\", \"gateways\"]\n\n\
             [aws.route53]\n\
             # record | health_check | routing_control (the ARC stand-in below)\n\
             switch = \"record\"\n\
             hosted_zone_id = \"{}\"\nrecord_name = \"{RECORD}\"\nttl_secs = 60\n\
             endpoint_url = \"{}\"\nlab_credentials = true\n",
            self.hosted_zone_id,
            self.url("route53")
        );
        let endpoints = self.arc.endpoints();
        s.push_str(
            "\n# ARC's data plane: the lab's stand-in (moto has none), five cluster endpoints on loopback.\n\
             [aws.arc]\nendpoints = [\n",
        );
        for e in &endpoints {
            s.push_str(&format!(
                "  {{ region = \"{}\", url = \"{}\" }},\n",
                e.region, e.url
            ));
        }
        s.push_str(&format!(
            "]\nendpoint_timeout_ms = 500\n\
             # The lab's keys need an endpoint override; the endpoints are written above, so this\n\
             # control-config URL is never called.\n\
             control_config_url = \"{}\"\nlab_credentials = true\n",
            endpoints
                .first()
                .map(|e| e.url.as_str())
                .unwrap_or_default()
        ));
        for (i, r) in self.plan.regions.iter().enumerate() {
            let hc = self
                .health_checks
                .iter()
                .find(|(c, _)| c == r)
                .map(|(_, id)| id.as_str())
                .unwrap_or_default();
            s.push_str(&format!(
                "\n[[aws.regions]]\ncode = \"{r}\"\nrole = \"{}\"\ndomain_configuration = \"{DOMAIN_CONFIGURATION}\"\n\
                 data_endpoint = \"{}\"\nprobe_address = \"127.0.0.1:{}\"\nhealth_check_id = \"{hc}\"\n\
                 routing_control_arn = \"{}\"\nendpoint_url = \"{}\"\nlab_credentials = true\n",
                if i == 0 { "active" } else { "standby" },
                data_endpoint(r),
                self.server(r).port,
                routing_control_arn(r),
                self.url(r),
            ));
        }
        s
    }
}
