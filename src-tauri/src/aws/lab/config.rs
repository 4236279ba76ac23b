//! The configuration file `switchyard lab` writes: every region on its own moto server, Route 53
//! on one of its own, lab credentials, and the counting method moto supports.

use super::{data_endpoint, Lab, DOMAIN_CONFIGURATION, MOTO_VERSION, RECORD};

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
             [aws.route53]\nhosted_zone_id = \"{}\"\nrecord_name = \"{RECORD}\"\nttl_secs = 60\n\
             endpoint_url = \"{}\"\nlab_credentials = true\n",
            self.hosted_zone_id,
            self.url("route53")
        );
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
                 endpoint_url = \"{}\"\nlab_credentials = true\n",
                if i == 0 { "active" } else { "standby" },
                data_endpoint(r),
                self.server(r).port,
                self.url(r),
            ));
        }
        s
    }
}
