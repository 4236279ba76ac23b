//! Checking a command request and working out who would get what: the catalogue command, its
//! payload, the offline policy, the target's devices and every topic, before anything is sent.
//!
//! Rules kept here:
//! - nothing is sent from here: a preview and a run are checked by the same `prepare`;
//! - nothing is sent when the request is invalid: the command, the payload, the offline policy,
//!   the target and the topics are all checked first, and a target the source refuses is the
//!   request's fault (`target: …`), not the console's;
//! - one run targets at most `max_targets` devices, and a target that matches none is refused,
//!   saying why (a region left by a failover names where its devices went);
//! - a payload's missing properties take their schema defaults before it is checked;
//! - an offline device never gets a publish (`switchyard_core::commands::plan` decides).

use crate::engine::{Engine, Error};
use switchyard_core::commands::{
    check_payload, check_thing_name, check_topic, plan, render_topic, why_none, with_defaults,
    CommandDef, CommandRequest, Target,
};
use switchyard_core::devices::DeviceQuery;
use switchyard_core::Device;

/// What a preview shows before anything is sent (the API's own type).
pub use switchyard_core::commands::CommandPreview;

/// A checked request: its command, the payload's bytes, the devices and who gets what.
pub(super) type Prepared = (
    CommandDef,
    Vec<u8>,
    Vec<Device>,
    switchyard_core::commands::Plan,
);

const LIST_PAGE: u32 = switchyard_core::devices::MAX_LIMIT;

impl Engine {
    /// The devices a target names, with their connectivity now.
    async fn resolve(&self, target: &Target) -> Result<Vec<Device>, Error> {
        // A listing the source refuses is this request's target being wrong.
        let unavailable = |e: Error| match e.kind {
            crate::error::ErrorKind::Malformed => Error::invalid(format!("target: {}", e.message)),
            _ => e,
        };
        let max = self.inner.cfg.commands.max_targets;
        match target {
            Target::Devices { ids } => {
                if ids.is_empty() || ids.len() > 10_000 {
                    return Err(Error::invalid(
                        "target.ids: between 1 and 10000 thing names",
                    ));
                }
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    check_thing_name(id).map_err(|e| Error::invalid(format!("target.ids: {e}")))?;
                    match self.device(id).await.map_err(unavailable)? {
                        Some(d) => out.push(d.device),
                        None => {
                            return Err(Error::invalid(format!(
                                "target.ids: no device named '{id}'"
                            )))
                        }
                    }
                }
                Ok(out)
            }
            Target::ThingGroup { name } => {
                check_thing_name(name).map_err(|e| Error::invalid(format!("target.name: {e}")))?;
                self.list_all(
                    DeviceQuery {
                        thing_group: Some(name.clone()),
                        ..DeviceQuery::default()
                    },
                    max,
                )
                .await
                .map_err(unavailable)
            }
            Target::Region { code } => self
                .list_all(
                    DeviceQuery {
                        region: Some(code.clone()),
                        ..DeviceQuery::default()
                    },
                    max,
                )
                .await
                .map_err(unavailable),
            Target::Query { query } => {
                let q = switchyard_core::commands::index_query(query)
                    .map_err(|e| Error::invalid(format!("target.{e}")))?;
                self.list_all(q, max).await.map_err(unavailable)
            }
        }
    }

    /// Every device matching `q`, page by page, up to `max`.
    async fn list_all(&self, mut q: DeviceQuery, max: u64) -> Result<Vec<Device>, Error> {
        q.limit = Some(LIST_PAGE);
        let mut out = Vec::new();
        loop {
            let page = self.devices(&q).await?;
            if page.total > max {
                return Err(Error::malformed(format!(
                    "{} devices match; one run may target at most {max}",
                    page.total
                )));
            }
            let n = page.items.len() as u64;
            out.extend(page.items);
            q.offset += n;
            if n == 0 || q.offset >= page.total {
                return Ok(out);
            }
        }
    }

    /// Checks a request and works out who would get what; sends nothing. A target that
    /// matches no device is refused, saying why.
    pub(super) async fn prepare(&self, req: &CommandRequest) -> Result<Prepared, Error> {
        match self.prepare_any(req).await? {
            Some(p) => Ok(p),
            None => {
                let why = self
                    .why_none(&req.target, 0, 0)
                    .await
                    .unwrap_or_else(|| "no device matches".into());
                Err(Error::invalid(format!("target: {why}")))
            }
        }
    }

    /// As [`Engine::prepare`], with `None` for a target that matches no device.
    async fn prepare_any(&self, req: &CommandRequest) -> Result<Option<Prepared>, Error> {
        self.channel()?;
        let def = self.command_def(&req.command)?;
        let filled = with_defaults(&def.schema, &req.payload);
        let payload = check_payload(&def, &filled).map_err(Error::invalid)?;
        if req.offline == switchyard_core::commands::OfflinePolicy::Shadow && !def.persist_as_shadow
        {
            return Err(Error::invalid(format!(
                "offline: command {} may not be written as shadow state; choose skip",
                def.name
            )));
        }
        let devices = self.resolve(&req.target).await?;
        if devices.is_empty() {
            return Ok(None);
        }
        let p = plan(&devices, req.offline, def.persist_as_shadow);
        for id in &p.publish {
            check_topic(&render_topic(&def, id))
                .map_err(|e| Error::invalid(format!("topic for {id}: {e}")))?;
        }
        Ok(Some((def, payload, devices, p)))
    }

    /// How many devices would receive the command, and who would be skipped.
    pub async fn preview_command(&self, req: &CommandRequest) -> Result<CommandPreview, Error> {
        let prepared = self.prepare(req).await?;
        Ok(self.preview_of(req, prepared).await)
    }

    /// The preview, or `None` when the target matches no device (a drill's probe counts such
    /// a region as nothing to reach).
    pub async fn preview_command_if_any(
        &self,
        req: &CommandRequest,
    ) -> Result<Option<CommandPreview>, Error> {
        match self.prepare_any(req).await? {
            Some(prepared) => Ok(Some(self.preview_of(req, prepared).await)),
            None => Ok(None),
        }
    }

    async fn preview_of(&self, req: &CommandRequest, prepared: Prepared) -> CommandPreview {
        let (def, _, devices, p) = prepared;
        let reachable = (p.publish.len() + p.shadow.len()) as u64;
        let why_none = self
            .why_none(&req.target, devices.len() as u64, reachable)
            .await;
        CommandPreview {
            example_topic: p.publish.first().map(|id| render_topic(&def, id)),
            command: def,
            total: devices.len() as u64,
            publish: p.publish.len() as u64,
            shadow: p.shadow.len() as u64,
            skip: p.skip.len() as u64,
            skipped: p.skip.into_iter().take(100).collect(),
            why_none,
            confirm_above: Some(self.inner.cfg.commands.confirm_above),
        }
    }

    /// Why `target` finds nobody to send to (`None` when it does): where a region's devices
    /// went, or that the region does not answer, or that they are offline.
    async fn why_none(&self, target: &Target, matched: u64, reachable: u64) -> Option<String> {
        let code = match target {
            Target::Region { code } => Some(code.clone()),
            _ => None,
        };
        let moved = match &code {
            Some(code) => {
                let code = code.clone();
                self.inner
                    .store
                    .run(move |s| s.failovers_recent(20))
                    .await
                    .ok()
                    .and_then(|fs| {
                        fs.into_iter().find(|f| {
                            f.source == code && f.switched_at.is_some() && f.phase.is_final()
                        })
                    })
                    .map(|f| (f.target.clone(), f.switched_at.unwrap_or(f.requested_at)))
            }
            None => None,
        };
        let answers = code.as_ref().is_none_or(|c| {
            self.snapshot().regions.iter().any(|r| {
                r.id == *c && r.health.status != switchyard_core::HealthStatus::Unreachable
            })
        });
        why_none(
            target,
            matched,
            reachable,
            moved.as_ref().map(|(to, at)| (to.as_str(), *at)),
            answers,
        )
    }
}
