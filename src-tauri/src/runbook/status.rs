//! `switchyard status` and `switchyard preflight --to R`: read-only questions to the console.
//!
//! Rules kept here:
//! - they only read (GET): nothing is requested of the engine, nothing is audited;
//! - the exit code comes from the answer (`render::status_code`, `render::plan_code`), an
//!   answer that could not be had is 1.

use super::{decode, query_value, render, Caller, Output, RunbookError};
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};

/// `GET /api/v1/status`, printed; returns the exit code (0 no incident open, 2 one is).
pub fn status(caller: &Caller, out: Output) -> Result<u8, RunbookError> {
    let resp = caller.get("/api/v1/status")?;
    if resp.status != 200 {
        return Err(out.refused(&resp));
    }
    let s: StatusResponse = decode(&resp)?;
    out.document(&resp)?;
    out.say(render::status(&s).trim_end());
    Ok(render::status_code(&s))
}

/// `GET /api/v1/failover/plan?target=R`, printed; returns the exit code (0 it would start, 3
/// it would be refused or the preflight fails).
pub fn preflight(caller: &Caller, target: &str, out: Output) -> Result<u8, RunbookError> {
    let resp = caller.get(&format!(
        "/api/v1/failover/plan?target={}",
        query_value(target)
    ))?;
    if resp.status != 200 {
        return Err(out.refused(&resp));
    }
    let p: FailoverPlan = decode(&resp)?;
    out.document(&resp)?;
    out.say(render::plan(&p).trim_end());
    Ok(render::plan_code(&p))
}
