//! The edge view: every gateway's buffer, polled on the same interval as the regions, each
//! compared with its previous observation to tell growth from drain.

use super::{Engine, Error};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use switchyard_core::alerts::{gateway_conditions, AlertKind};
use switchyard_core::edge::{assess, by_risk, GatewayView, GatewaysResponse, TotalsSample};
use switchyard_core::{BacklogTotals, EdgeGateway, UnixMs};

#[derive(Default)]
pub(super) struct EdgeState {
    observed_at: Option<UnixMs>,
    /// The previous observation of each gateway, by id.
    prev: HashMap<String, EdgeGateway>,
    /// Riskiest first.
    views: Vec<GatewayView>,
    totals: BacklogTotals,
    /// Totals at each poll of the last hour, oldest first.
    history: VecDeque<TotalsSample>,
}

const HISTORY: Duration = Duration::from_secs(3_600);

impl EdgeState {
    /// The gateways (riskiest first), when they were observed, and their totals.
    pub(super) fn figures(&self) -> (&[GatewayView], Option<UnixMs>, BacklogTotals) {
        (&self.views, self.observed_at, self.totals)
    }
}

impl Engine {
    /// Polls the gateways once, folds them into the edge view and raises or clears their alerts.
    pub async fn poll_gateways_once(&self) -> Result<(), Error> {
        let obs = self.call(self.inner.source.gateways()).await?;
        let views = {
            let mut edge = self.inner.edge.write().unwrap_or_else(|p| p.into_inner());
            let dt = edge.observed_at.map(|t| obs.observed_at.saturating_sub(t));
            let mut views: Vec<GatewayView> = obs
                .gateways
                .iter()
                .map(|g| assess(dt.and_then(|dt| Some((edge.prev.get(&g.id)?, dt))), g))
                .collect();
            views.sort_by(by_risk);
            let mut totals = BacklogTotals::default();
            for g in &obs.gateways {
                totals.add(&g.backlog);
            }
            edge.prev = obs
                .gateways
                .into_iter()
                .map(|g| (g.id.clone(), g))
                .collect();
            edge.observed_at = Some(obs.observed_at);
            edge.totals = totals;
            edge.history.push_back(TotalsSample {
                at: obs.observed_at,
                messages: totals.messages,
                dropped: totals.dropped,
            });
            let cutoff = obs.observed_at.saturating_sub(HISTORY.as_millis() as u64);
            while edge.history.front().is_some_and(|s| s.at < cutoff) {
                edge.history.pop_front();
            }
            edge.views = views.clone();
            views
        };
        let rules = self.inner.cfg.alert_rules;
        let conditions: Vec<_> = views
            .iter()
            .flat_map(|v| gateway_conditions(v, &rules))
            .collect();
        self.update_alerts(&conditions, |k, _| {
            matches!(k, AlertKind::BacklogNearCapacity | AlertKind::DropsStarted)
        })
        .await;
        Ok(())
    }

    /// The region gateway `id` is connected to, by the latest poll.
    pub(super) fn gateway_region(&self, id: &str) -> Option<String> {
        let edge = self.inner.edge.read().unwrap_or_else(|p| p.into_inner());
        edge.views
            .iter()
            .find(|v| v.id == id)
            .and_then(|v| v.connected_region.clone())
    }

    /// The riskiest `limit` gateways and the fleet's totals.
    pub fn gateways(&self, limit: u32) -> Result<GatewaysResponse, Error> {
        let limit = super::check_limit(limit)? as usize;
        let edge = self.inner.edge.read().unwrap_or_else(|p| p.into_inner());
        Ok(GatewaysResponse {
            server_time: self.now(),
            observed_at: edge.observed_at,
            poll_interval_ms: self.inner.cfg.poll_interval.as_millis() as u64,
            totals: edge.totals,
            total_gateways: edge.views.len() as u64,
            gateways: edge.views.iter().take(limit).cloned().collect(),
            totals_history: edge.history.iter().copied().collect(),
        })
    }
}
