//! The `[simulation]` section and its flags: the simulated fleet, used when no `[aws]` is given.
//!
//! Rules kept here:
//! - 1..=[`MAX_DEVICES`] devices, at most [`MAX_GATEWAYS`] gateways, 1..=32 regions, each a
//!   valid region code listed once; every fault is in one of those regions, but Route 53's
//!   control plane, which fails in us-east-1 whether or not it is simulated.
//! - `switch` is one of the three methods (`record`, `health_check`, `routing_control`); a bad
//!   value is refused with the file's line and the field.
//! - `dns_ttl_secs` is 1..=86400 seconds (the record's TTL the simulated devices cache).
//! - The defaults are the simulation's own ([`SimConfig::default`]).
//! - The flags of the simulated fleet are named in [`SIM_FLAGS`], as the command line spells
//!   them (a test holds them to the CLI).

use super::error::{between, Fields, Place, SettingsError};
use super::MAX_REGIONS;
use crate::sim::SimConfig;
use serde::Deserialize;
use switchyard_core::{fault::FaultSpec, regions::is_valid_code, switch::SwitchMethod};

/// Limits that keep a typo from asking for something absurd.
pub const MAX_DEVICES: usize = 10_000_000;
pub const MAX_GATEWAYS: usize = 100_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    pub seed: Option<u64>,
    pub devices: Option<usize>,
    pub gateways: Option<usize>,
    /// Region codes; the first is active at start.
    pub regions: Option<Vec<String>>,
    /// Faults on the timeline, as `REGION:KIND[@START][+DURATION]`.
    pub faults: Option<Vec<String>>,
    /// How the simulated failover moves the devices.
    pub switch: Option<SwitchMethod>,
    /// Whether an outage of us-east-1 also takes Route 53's control plane down.
    pub control_plane_follows_us_east_1: Option<bool>,
    /// The simulated devices' record's TTL: each device re-resolves after this (1..=86400 s).
    pub dns_ttl_secs: Option<u64>,
}

/// The command-line flags of the simulated fleet, in the order of [`SimFlags`]'s fields.
pub(super) const SIM_FLAGS: [&str; 5] =
    ["--seed", "--devices", "--gateways", "--regions", "--fault"];

/// The command-line values for the simulated fleet; each, when given, wins over the file.
#[derive(Debug, Default)]
pub(super) struct SimFlags {
    pub seed: Option<u64>,
    pub devices: Option<usize>,
    pub gateways: Option<usize>,
    pub regions: Option<Vec<String>>,
    pub faults: Vec<FaultSpec>,
}

impl SimFlags {
    /// The first flag given, as the command line spells it (an AWS fleet takes none).
    pub(super) fn first_given(&self) -> Option<&'static str> {
        let given = [
            self.seed.is_some(),
            self.devices.is_some(),
            self.gateways.is_some(),
            self.regions.is_some(),
            !self.faults.is_empty(),
        ];
        SIM_FLAGS
            .into_iter()
            .zip(given)
            .find_map(|(flag, given)| given.then_some(flag))
    }
}

impl SimulationSection {
    /// The simulated fleet, `flags` over the file.
    pub(super) fn resolve(
        self,
        flags: SimFlags,
        fields: &Fields,
    ) -> Result<SimConfig, SettingsError> {
        let d = SimConfig::default();
        let devices = between(
            || fields.at("devices"),
            flags.devices.or(self.devices).unwrap_or(d.devices),
            1,
            MAX_DEVICES,
            "",
        )?;
        let gateways = flags.gateways.or(self.gateways).unwrap_or(d.gateways);
        if gateways > MAX_GATEWAYS {
            return Err(fields
                .at("gateways")
                .bound(format!("must be at most {MAX_GATEWAYS}, not {gateways}")));
        }
        let regions = flags.regions.or(self.regions).unwrap_or(d.regions);
        if regions.is_empty() || regions.len() > MAX_REGIONS {
            return Err(fields
                .at("regions")
                .bound(format!("must name between 1 and {MAX_REGIONS} regions")));
        }
        for (i, r) in regions.iter().enumerate() {
            if !is_valid_code(r) {
                return Err(fields
                    .at("regions")
                    .invalid(format!("'{r}' is not an AWS region code such as us-east-1")));
            }
            if regions[..i].contains(r) {
                return Err(fields.at("regions").invalid(format!("{r} is listed twice")));
            }
        }
        let mut faults = Vec::new();
        for f in self.faults.unwrap_or_default() {
            faults.push(
                f.parse::<FaultSpec>()
                    .map_err(|e| fields.at("simulation.faults").invalid(e))?,
            );
        }
        faults.extend(flags.faults);
        if let Some(f) = faults
            .iter()
            .find(|f| f.kind.is_regional() && !regions.contains(&f.region))
        {
            return Err(Place::Nowhere.invalid(format!(
                "fault in {}: that region is not one of the simulated regions ({})",
                f.region,
                regions.join(", ")
            )));
        }
        let dns_ttl_secs = between(
            || fields.at("simulation.dns_ttl_secs"),
            self.dns_ttl_secs.unwrap_or(d.dns_ttl_secs),
            1,
            86_400,
            "seconds",
        )?;
        Ok(SimConfig {
            dns_ttl_secs,
            seed: flags.seed.or(self.seed).unwrap_or(d.seed),
            regions,
            devices,
            gateways,
            faults,
            switch: self.switch.unwrap_or(d.switch),
            control_plane_follows_us_east_1: self
                .control_plane_follows_us_east_1
                .unwrap_or(d.control_plane_follows_us_east_1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::AWS;
    use super::super::{ConfigFile, Overrides, Settings};
    use super::SIM_FLAGS;

    #[test]
    fn values_out_of_range_are_refused() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                Some("c"),
                Overrides::default(),
            )
            .map_err(|e| e.to_string())
        };
        let err = resolve("[simulation]\ndevices = 0").unwrap_err();
        assert!(
            err.starts_with("devices (in c or on the command line) must be between 1"),
            "{err}"
        );
        assert!(
            resolve("[simulation]\nregions = [\"us-east-1\", \"us-east-1\"]")
                .unwrap_err()
                .contains("listed twice")
        );
        assert!(resolve("[simulation]\nregions = [\"moon\"]")
            .unwrap_err()
            .contains("'moon' is not an AWS region code"));
        assert!(resolve("[simulation]\nfaults = [\"us-west-2:outage\"]")
            .unwrap_err()
            .contains("not one of the simulated regions"));
        assert!(resolve("[simulation]\nfaults = [\"us-east-1:meteor\"]")
            .unwrap_err()
            .contains("simulation.faults"));
    }

    #[test]
    fn the_simulated_switch_is_read_from_the_simulation_section_and_defaults_to_the_routing_controls(
    ) {
        use switchyard_core::switch::SwitchMethod;
        let sim = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                Some("c"),
                Overrides::default(),
            )
            .unwrap()
            .sim
        };
        let d = sim("[simulation]\nseed = 2\n");
        assert_eq!(d.switch, SwitchMethod::RoutingControl);
        assert!(d.control_plane_follows_us_east_1);
        for m in SwitchMethod::ALL {
            let s = sim(&format!("[simulation]\nswitch = \"{m}\"\n"));
            assert_eq!(s.switch, m);
        }
        let s = sim("[simulation]\ncontrol_plane_follows_us_east_1 = false\n");
        assert!(!s.control_plane_follows_us_east_1);
    }

    #[test]
    fn a_bad_simulated_switch_is_refused_naming_the_line_and_the_field() {
        let err = ConfigFile::parse("[simulation]\nseed = 2\nswitch = \"dns\"\n", "c")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("config file c, line 3, field switch:"),
            "{err}"
        );
        assert!(err.contains("routing_control"), "{err}");
    }

    #[test]
    fn route53s_control_plane_may_fail_when_us_east_1_is_not_simulated() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                Some("c"),
                Overrides::default(),
            )
            .map_err(|e| e.to_string())
        };
        let s = resolve(
            "[simulation]\nregions = [\"eu-west-1\", \"us-west-2\"]\n\
             faults = [\"us-east-1:route53_control_plane@1m\"]\n",
        )
        .unwrap();
        assert_eq!(s.sim.faults.len(), 1);
        let err =
            resolve("[simulation]\nfaults = [\"eu-west-1:route53_control_plane\"]\n").unwrap_err();
        assert!(err.contains("simulation.faults"), "{err}");
        assert!(err.contains("served from us-east-1 only"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = ConfigFile::parse(
            "[simulation]\ndevices = 10\nseed = 4\n[engine]\npoll_interval_secs = 2\n",
            "x",
        )
        .unwrap();
        let o = Overrides {
            devices: Some(20),
            ..Overrides::default()
        };
        let s = Settings::resolve(file, Some("x"), o).unwrap();
        assert_eq!((s.sim.devices, s.sim.seed), (20, 4));
        assert_eq!(s.engine.poll_interval, std::time::Duration::from_secs(2));
    }

    #[test]
    fn every_simulation_flag_is_refused_for_an_aws_fleet_by_its_name() {
        let fault = "us-east-1:outage".parse().unwrap();
        let given = [
            Overrides {
                seed: Some(1),
                ..Overrides::default()
            },
            Overrides {
                devices: Some(1),
                ..Overrides::default()
            },
            Overrides {
                gateways: Some(1),
                ..Overrides::default()
            },
            Overrides {
                regions: Some(vec!["us-east-1".into()]),
                ..Overrides::default()
            },
            Overrides {
                faults: vec![fault],
                ..Overrides::default()
            },
        ];
        for (flag, o) in SIM_FLAGS.into_iter().zip(given) {
            let err = Settings::resolve(
                ConfigFile::parse(AWS, "site.toml").unwrap(),
                Some("site.toml"),
                o,
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{flag} applies to the simulated fleet, but site.toml watches AWS")
            );
        }
    }

    #[test]
    fn the_simulation_flags_named_in_errors_are_the_command_lines_flags() {
        use clap::Args;
        let cmd = crate::cli::FleetArgs::augment_args(clap::Command::new("fleet"));
        let longs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        for flag in SIM_FLAGS {
            assert!(
                longs.contains(&flag.trim_start_matches("--")),
                "{flag} is not a flag of the command line ({longs:?})"
            );
        }
    }
}
