//! Counts every AWS API call the adapters make, by operation, and how many failed: an SDK
//! interceptor on every client. This is how the console knows its own error rate against a
//! region, and how the tests prove that a poll's calls do not grow with the fleet.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Calls and failures by operation name ("GetMetricData"), since the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub calls: BTreeMap<String, u64>,
    pub failures: BTreeMap<String, u64>,
}

impl CallCounts {
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        let diff = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, v)| (k.clone(), v - then.get(k).copied().unwrap_or(0)))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        CallCounts {
            calls: diff(&self.calls, &earlier.calls),
            failures: diff(&self.failures, &earlier.failures),
        }
    }
}

/// The interceptor; clones share one tally.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<CallCounts>>);

impl CallLog {
    pub fn counts(&self) -> CallCounts {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn bump(&self, cfg: &ConfigBag, failed: bool) {
        let op = cfg
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_string(), |m| m.name().to_string());
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let map = if failed {
            &mut c.failures
        } else {
            &mut c.calls
        };
        *map.entry(op).or_default() += 1;
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "SwitchyardCallLog"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, false);
        if matches!(context.output_or_error(), Some(Err(_))) {
            self.bump(cfg, true);
        }
        Ok(())
    }
}
