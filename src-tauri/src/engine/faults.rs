//! Faults injected into the simulated fleet, and their clearing.
//!
//! Rules kept here:
//! - only a fleet with a fault injector (the simulation) takes faults; never AWS;
//! - a reason is required, and the fault is checked before anything is written;
//! - injecting and clearing are audited before and after.

use super::{audit, Engine, Error};
use switchyard_core::fault::FaultSpec;

impl Engine {
    /// Injects a fault into the simulated fleet, audited before and after.
    pub async fn inject_fault(
        &self,
        actor: &str,
        reason: &str,
        fault: FaultSpec,
    ) -> Result<i64, Error> {
        let injector = self.inner.injector.clone().ok_or_else(|| {
            Error::invalid("faults can only be injected into the simulated fleet")
        })?;
        if reason.trim().is_empty() {
            return Err(Error::invalid("a reason is required"));
        }
        fault.validate().map_err(Error::invalid)?;
        let detail = serde_json::to_string(&fault).expect("a fault serialises");
        let act = audit::Act::new(actor, "sim.inject_fault", reason, detail);
        let (id, outcome) = self
            .audited(act, |_| async move {
                let outcome = injector.inject(fault);
                let result = match &outcome {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("rejected: {e}"),
                };
                Ok(audit::Done::new(outcome, result))
            })
            .await
            .map_err(|e| Error::internal(e.message))?;
        outcome.map(|()| id).map_err(Error::invalid)
    }

    /// Ends every injected fault, audited before and after. Returns the audit id and how many
    /// faults were ended.
    pub async fn clear_faults(&self, actor: &str, reason: &str) -> Result<(i64, usize), Error> {
        let injector = self.inner.injector.clone().ok_or_else(|| {
            Error::invalid("faults can only be injected into the simulated fleet")
        })?;
        if reason.trim().is_empty() {
            return Err(Error::invalid("a reason is required"));
        }
        let act = audit::Act::new(actor, "sim.clear_faults", reason, "{}");
        self.audited(act, |_| async move {
            let n = injector.clear();
            Ok(audit::Done::new(n, format!("ok: {n} fault(s) ended")))
        })
        .await
        .map_err(|e| Error::internal(e.message))
    }
}
