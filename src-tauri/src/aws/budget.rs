//! Request-rate budgets: one token bucket per (AWS API, region), filled at a configured share
//! of the API's request-rate quota and shared by every background reader of the console (the
//! readiness certificate listings, device listings, the straggler disconnections), so that
//! together they stay under that share however many of them run at once.
//!
//! Rules kept here:
//! - a bucket's rate is `share × quota` ([`Api::quota`]); it holds at most one second of calls
//!   (and at least one call), so an idle reader cannot save up a burst;
//! - a throttling answer ([`Bucket::throttled`]) halves the rate, at most once a second (the
//!   answers to one burst count once), never below 1/64 of the share; every 10 s without one
//!   gives back a tenth of the share (additive increase, multiplicative decrease);
//! - the poll's own calls (fleet-index aggregation, CloudWatch) never take from a bucket: a
//!   busy background reader must not make a region look unhealthy;
//! - the clock is tokio's, so tests and benchmarks pace on its paused clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The AWS APIs background readers call, each with its own quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    ListCertificates,
    SearchIndex,
    ListThings,
    ListTopicRules,
    DescribeDomainConfiguration,
    DeleteConnection,
}

impl Api {
    pub const ALL: [Api; 6] = [
        Api::ListCertificates,
        Api::SearchIndex,
        Api::ListThings,
        Api::ListTopicRules,
        Api::DescribeDomainConfiguration,
        Api::DeleteConnection,
    ];

    /// The operation's name, as the call tally ([`super::calls`]) names it.
    pub fn name(self) -> &'static str {
        match self {
            Api::ListCertificates => "ListCertificates",
            Api::SearchIndex => "SearchIndex",
            Api::ListThings => "ListThings",
            Api::ListTopicRules => "ListTopicRules",
            Api::DescribeDomainConfiguration => "DescribeDomainConfiguration",
            Api::DeleteConnection => "DeleteConnection",
        }
    }

    /// Requests a second AWS accepts for this API, per account and region.
    ///
    /// Where the numbers come from: AWS publishes IoT Core's per-API rates in the General
    /// Reference ("AWS IoT Core endpoints and quotas", API throttling limits) and in Service
    /// Quotas. That table could not be read where this was written, so every figure below is
    /// **assumed**, chosen at or under the smallest rate AWS is known to apply to IoT Core
    /// control-plane reads; raise them (or `[aws.budget] share`) once an account's Service
    /// Quotas page says more. Throttling answers slow the bucket down anyway.
    pub fn quota(self) -> f64 {
        match self {
            // Not published here / assumed: 10 a second.
            Api::ListCertificates => 10.0,
            // Fleet indexing search: not published here / assumed: 5 a second (a re:Post
            // report of throttling at ~90/s says it is well under that).
            Api::SearchIndex => 5.0,
            // Not published here / assumed: 10 a second.
            Api::ListThings => 10.0,
            // Rules engine reads: not published here / assumed: 1 a second.
            Api::ListTopicRules => 1.0,
            // Not published here / assumed: 1 a second.
            Api::DescribeDomainConfiguration => 1.0,
            // The data-plane disconnect (August 2025): not published here / assumed: the issue's
            // conservative 50 a second.
            Api::DeleteConnection => 50.0,
        }
    }
}

/// A throttling answer halves the rate at most this often.
const HALVE_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// After this long without a throttling answer, a tenth of the share comes back.
const RECOVER_EVERY: Duration = Duration::from_secs(10);
/// The rate never falls below the share divided by this.
const FLOOR_DIVISOR: f64 = 64.0;

/// One (API, region)'s token bucket.
#[derive(Debug)]
pub struct Bucket {
    /// The share of the quota: the rate with no throttling.
    target: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rate: f64,
    tokens: f64,
    at: Instant,
    /// The last halving.
    halved_at: Option<Instant>,
    /// The start of the current recovery step.
    step_from: Instant,
    throttles: u64,
}

impl State {
    fn capacity(&self) -> f64 {
        self.rate.max(1.0)
    }

    /// Brings the tokens and the rate up to `now`.
    fn catch_up(&mut self, target: f64, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.capacity());
        self.at = now;
        while self.rate < target && now.saturating_duration_since(self.step_from) >= RECOVER_EVERY {
            self.rate = (self.rate + target / 10.0).min(target);
            self.step_from += RECOVER_EVERY;
        }
        if self.rate >= target {
            self.step_from = now;
        }
    }
}

impl Bucket {
    /// A full bucket at `rate` calls a second.
    pub fn new(rate: f64) -> Bucket {
        let rate = rate.max(f64::MIN_POSITIVE);
        let now = Instant::now();
        Bucket {
            target: rate,
            state: Mutex::new(State {
                rate,
                tokens: rate.max(1.0),
                at: now,
                halved_at: None,
                step_from: now,
                throttles: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until one call may be made, and takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.lock();
                s.catch_up(self.target, Instant::now());
                if s.tokens >= 1.0 {
                    s.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.tokens) / s.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// A call taken from this bucket was answered "slow down": halve the rate (at most once a
    /// second) and start from an empty bucket.
    pub fn throttled(&self) {
        let now = Instant::now();
        let mut s = self.lock();
        s.catch_up(self.target, now);
        s.throttles += 1;
        if s.halved_at
            .is_some_and(|t| now.saturating_duration_since(t) < HALVE_AT_MOST_EVERY)
        {
            return;
        }
        s.rate = (s.rate / 2.0).max(self.target / FLOOR_DIVISOR);
        s.tokens = 0.0;
        s.halved_at = Some(now);
        s.step_from = now;
    }

    /// The rate now, in calls a second.
    pub fn rate(&self) -> f64 {
        let mut s = self.lock();
        s.catch_up(self.target, Instant::now());
        s.rate
    }

    /// The rate with no throttling: the share of the quota.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// Throttling answers reported since the start.
    pub fn throttles(&self) -> u64 {
        self.lock().throttles
    }
}

/// Every bucket of one console: made on first use, at `share` of each API's quota.
#[derive(Debug)]
pub struct Budget {
    share: f64,
    buckets: Mutex<HashMap<(Api, String), Arc<Bucket>>>,
}

impl Budget {
    pub fn new(share: f64) -> Budget {
        Budget {
            share,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn share(&self) -> f64 {
        self.share
    }

    /// The one bucket of `api` in `region`, shared by every caller.
    pub fn bucket(&self, api: Api, region: &str) -> Arc<Bucket> {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((api, region.to_string()))
            .or_insert_with(|| Arc::new(Bucket::new(self.share * api.quota())))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn calls_within(bucket: &Bucket, window: Duration) -> u64 {
        let end = Instant::now() + window;
        let mut n = 0;
        loop {
            bucket.acquire().await;
            if Instant::now() >= end {
                return n;
            }
            n += 1;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_paces_its_callers_at_the_share_of_the_quota() {
        let budget = Budget::new(0.5);
        let b = budget.bucket(Api::ListCertificates, "eu-west-1");
        assert_eq!(b.target(), 5.0);
        let t0 = Instant::now();
        for _ in 0..55 {
            b.acquire().await;
        }
        // The first 5 come at once (one second's worth), the next 50 at 5 a second.
        let took = t0.elapsed().as_secs_f64();
        assert!((9.9..=10.1).contains(&took), "{took}");
        // Two readers share the bucket: together they still get 5 a second.
        let (a, c) = tokio::join!(
            calls_within(&b, Duration::from_secs(20)),
            calls_within(&b, Duration::from_secs(20))
        );
        assert!((98..=102).contains(&(a + c)), "{a} + {c}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttling_answer_halves_the_rate_once_a_burst_and_quiet_brings_it_back() {
        let b = Bucket::new(8.0);
        b.throttled();
        // The same burst's other answers do not halve it again.
        b.throttled();
        b.throttled();
        assert_eq!(b.rate(), 4.0);
        assert_eq!(b.throttles(), 3);
        // Paced at the halved rate now.
        let n = calls_within(&b, Duration::from_secs(5)).await;
        assert!((19..=21).contains(&n), "{n}");
        tokio::time::sleep(Duration::from_secs(1)).await;
        b.throttled();
        let low = b.rate();
        assert!(low < 4.0, "{low}");
        // A tenth of the share back every 10 s without throttling, up to the share.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!((b.rate() - (low + 0.8)).abs() < 1e-9, "{}", b.rate());
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(b.rate(), 8.0);
        // Never below 1/64 of the share, however often it is told.
        for _ in 0..20 {
            b.throttled();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert!(b.rate() >= 8.0 / 64.0, "{}", b.rate());
    }

    #[test]
    fn every_reader_of_one_api_and_region_shares_one_bucket() {
        let budget = Budget::new(0.25);
        let a = budget.bucket(Api::SearchIndex, "us-east-1");
        let b = budget.bucket(Api::SearchIndex, "us-east-1");
        let c = budget.bucket(Api::SearchIndex, "eu-west-1");
        let d = budget.bucket(Api::ListCertificates, "us-east-1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c) && !Arc::ptr_eq(&a, &d));
        assert_eq!(d.target(), 0.25 * Api::ListCertificates.quota());
        assert!(Api::ALL.iter().all(|a| a.quota() > 0.0));
    }
}
