//! Readiness at a constant cost: each region's certificate set is kept in the store, brought up
//! to date at every refresh by reading only its newest end, and listed in full now and then in
//! the background, paced by the `ListCertificates` budget. The comparison of two regions is
//! answered from the store.
//!
//! Rules kept here:
//! - a refresh reads newest first (`ascendingOrder = false`) until a certificate older than the
//!   newest already stored: one call while fewer than a page were added since. A set that fits
//!   on one page is read whole at every refresh (one call either way), deactivations included;
//! - the full listing reads oldest first (certificates created while it runs land on its last
//!   pages), stages each page and swaps the set in when complete, keeping what the refreshes
//!   read meanwhile. It starts every `every`, start to start. A throttled page waits for the
//!   slowed bucket and is asked again; three other failures in a row give up, and the listing
//!   starts again five minutes later;
//! - a region with nothing stored starts its first full listing at its first refresh (the first
//!   page read there and then); until it is complete the comparison says it is incomplete;
//! - the comparison is kept while neither region's stored set changed, and brought up to date
//!   from the rows a refresh added or changed (a few lookups), so a refresh does not join a
//!   million rows again; only a full listing's swap makes it compared in the store again.

use super::budget::{Api, Bucket, Budget};
use super::iot::{CertificatePage, Iot};
use super::{AwsError, AwsErrorKind};
use crate::clock::SharedClock;
use crate::store::{CertificateChange, Store, StoreError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::{failover::CertificateSweep, UnixMs};

/// Failures in a row (other than throttling) after which a full listing gives up.
const GIVE_UP_AFTER: u32 = 3;
/// A full listing that gave up starts again after this.
const RETRY_AFTER: Duration = Duration::from_secs(300);
/// The changes kept per region to bring a kept comparison up to date.
const LOG: usize = 64;

/// The certificate sets of every region, shared by the readiness refreshes and the background
/// full listings they start.
#[derive(Clone)]
pub struct Certificates {
    inner: Arc<Shared>,
}

struct Shared {
    store: Store,
    budget: Arc<Budget>,
    clock: SharedClock,
    every: Duration,
    regions: Mutex<HashMap<String, Memory>>,
    compared: Mutex<HashMap<(String, String), compared::Kept>>,
    /// Held by every write that changes a set (with its version bump) and by a comparison
    /// being made, so that a kept comparison always matches the versions it is kept under.
    write: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Memory {
    /// Bumped whenever the stored set changes.
    version: u64,
    /// What each of the last versions changed: the rows, or `None` for a swap.
    log: VecDeque<(u64, Option<Vec<CertificateChange>>)>,
    sweeping: bool,
    /// No full listing starts before this (wall ms), after one gave up.
    retry_at: Option<UnixMs>,
}

/// How fresh one region's stored set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAge {
    /// When the full listing the set rests on started; `None` before the first is complete.
    pub full_at: Option<UnixMs>,
    /// Certificates read from the newest end since.
    pub added_since: u64,
    /// A full listing is under way.
    pub sweeping: bool,
}

impl SetAge {
    /// The pair's age, as the facts show it: the older full listing, the additions of both.
    pub fn pair(a: SetAge, b: SetAge) -> CertificateSweep {
        let full_at = match (a.full_at, b.full_at) {
            (Some(x), Some(y)) => Some(x.min(y)),
            _ => None,
        };
        CertificateSweep {
            full_at,
            added_since: a.added_since + b.added_since,
            complete: full_at.is_some(),
        }
    }
}

/// Why a certificate read failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertError {
    /// The region did not answer as asked.
    Aws(AwsError),
    /// The store could not keep or read the set.
    Store(StoreError),
}

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertError::Aws(e) => write!(f, "{e}"),
            CertError::Store(e) => write!(f, "certificate store: {e}"),
        }
    }
}

impl std::error::Error for CertError {}

impl From<StoreError> for CertError {
    fn from(e: StoreError) -> Self {
        CertError::Store(e)
    }
}

/// One page, taken from the bucket; a throttling answer slows the bucket down.
async fn paced_page(
    iot: &Iot,
    bucket: &Bucket,
    newest_first: bool,
    marker: Option<String>,
) -> Result<CertificatePage, AwsError> {
    bucket.acquire().await;
    iot.certificate_page(newest_first, marker)
        .await
        .inspect_err(|e| {
            if e.kind == AwsErrorKind::Throttled {
                bucket.throttled();
            }
        })
}

impl Certificates {
    /// The sets kept in `store`, listed in full every `every` under `budget`.
    pub fn new(
        store: Store,
        budget: Arc<Budget>,
        clock: SharedClock,
        every: Duration,
    ) -> Certificates {
        Certificates {
            inner: Arc::new(Shared {
                store,
                budget,
                clock,
                every,
                regions: Mutex::new(HashMap::new()),
                write: tokio::sync::Mutex::new(()),
                compared: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn memory<R>(&self, region: &str, f: impl FnOnce(&mut Memory) -> R) -> R {
        let mut m = self.inner.regions.lock().unwrap_or_else(|p| p.into_inner());
        f(m.entry(region.to_string()).or_default())
    }

    fn changed(&self, region: &str, rows: Option<Vec<CertificateChange>>) {
        self.memory(region, |m| {
            m.version += 1;
            m.log.push_back((m.version, rows));
            while m.log.len() > LOG {
                m.log.pop_front();
            }
        });
    }

    async fn store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, CertError> {
        Ok(self.inner.store.run(f).await?)
    }

    /// Brings `region`'s stored set up to date (usually one call), and starts its full listing
    /// when one is due. An error means the region did not answer (or the store failed); the
    /// stored set is then as it was.
    pub async fn refresh(&self, region: &str, iot: &Iot) -> Result<SetAge, CertError> {
        let r = region.to_string();
        let rec = self.store(move |s| s.certificate_sweep(&r)).await?;
        let now = self.inner.clock.now_ms();
        let may_start = self.memory(region, |m| {
            !m.sweeping && m.retry_at.is_none_or(|t| now >= t)
        });
        match rec.full_at {
            None if may_start => {
                self.start_full(region, iot, rec.newest_created, true)
                    .await?
            }
            None => {}
            Some(full_at) => {
                self.read_newest(region, iot, rec.newest_created).await?;
                let due = now.saturating_sub(full_at) >= self.inner.every.as_millis() as UnixMs;
                if due && may_start {
                    self.start_full(region, iot, rec.newest_created, false)
                        .await?;
                }
            }
        }
        self.age(region).await
    }

    /// How fresh `region`'s stored set is, from the store (no call).
    pub async fn age(&self, region: &str) -> Result<SetAge, CertError> {
        let r = region.to_string();
        let rec = self.store(move |s| s.certificate_sweep(&r)).await?;
        Ok(SetAge {
            full_at: rec.full_at,
            added_since: rec.added_since,
            sweeping: self.memory(region, |m| m.sweeping),
        })
    }

    /// Whether a full listing of `region` is under way.
    pub fn sweeping(&self, region: &str) -> bool {
        self.memory(region, |m| m.sweeping)
    }

    /// Reads newest first down to the newest stored creation date and keeps what is new.
    async fn read_newest(
        &self,
        region: &str,
        iot: &Iot,
        newest: Option<UnixMs>,
    ) -> Result<(), CertError> {
        let bucket = self.inner.budget.bucket(Api::ListCertificates, region);
        let (mut marker, mut rows, mut first) = (None, Vec::new(), true);
        loop {
            let page = paced_page(iot, &bucket, true, marker)
                .await
                .map_err(CertError::Aws)?;
            if first && page.next.is_none() && !self.sweeping(region) {
                // The whole set on one page: this is a full listing.
                let (r, at) = (region.to_string(), self.inner.clock.now_ms());
                let _write = self.inner.write.lock().await;
                self.store(move |s| {
                    s.certificates_unstage(&r)?;
                    s.certificates_stage(&r, &page.certificates)?;
                    s.certificates_swap(&r, at, None)
                })
                .await?;
                self.changed(region, None);
                return Ok(());
            }
            first = false;
            let reached = page
                .certificates
                .iter()
                .any(|c| newest.is_some_and(|n| c.created_at < n));
            rows.extend(
                page.certificates
                    .into_iter()
                    .filter(|c| newest.is_none_or(|n| c.created_at >= n)),
            );
            match page.next {
                Some(m) if !reached => marker = Some(m),
                _ => break,
            }
        }
        let r = region.to_string();
        let _write = self.inner.write.lock().await;
        let changed = self
            .store(move |s| s.certificates_upsert(&r, &rows))
            .await?;
        if !changed.is_empty() {
            self.changed(region, Some(changed));
        }
        Ok(())
    }

    /// Starts a full listing of `region`: its first page now when `first_now` (a region with
    /// nothing stored), the rest in the background.
    async fn start_full(
        &self,
        region: &str,
        iot: &Iot,
        keep_after: Option<UnixMs>,
        first_now: bool,
    ) -> Result<(), CertError> {
        let started = self.memory(region, |m| !std::mem::replace(&mut m.sweeping, true));
        if !started {
            return Ok(());
        }
        let started_at = self.inner.clock.now_ms();
        let r = region.to_string();
        if let Err(e) = self.store(move |s| s.certificates_unstage(&r)).await {
            self.memory(region, |m| m.sweeping = false);
            return Err(e);
        }
        let mut marker = None;
        if first_now {
            let bucket = self.inner.budget.bucket(Api::ListCertificates, region);
            let page = match paced_page(iot, &bucket, false, None).await {
                Ok(p) => p,
                Err(e) => {
                    self.memory(region, |m| m.sweeping = false);
                    return Err(CertError::Aws(e));
                }
            };
            let r = region.to_string();
            let rows = page.certificates;
            let staged = self.store(move |s| s.certificates_stage(&r, &rows)).await;
            if let Err(e) = staged {
                self.memory(region, |m| m.sweeping = false);
                return Err(e);
            }
            match page.next {
                None => {
                    let r = region.to_string();
                    let _write = self.inner.write.lock().await;
                    let swapped = self
                        .store(move |s| s.certificates_swap(&r, started_at, keep_after))
                        .await;
                    self.memory(region, |m| m.sweeping = false);
                    swapped?;
                    self.changed(region, None);
                    return Ok(());
                }
                Some(m) => marker = Some(m),
            }
        }
        let this = self.clone();
        let (region, iot) = (region.to_string(), iot.clone());
        tokio::spawn(async move {
            let outcome = this
                .list_rest(&region, &iot, marker, started_at, keep_after)
                .await;
            if let Err(why) = &outcome {
                tracing::warn!(region, "full certificate listing gave up: {why}");
                let r = region.clone();
                let _ = this.store(move |s| s.certificates_unstage(&r)).await;
            }
            let retry = this.inner.clock.now_ms() + RETRY_AFTER.as_millis() as UnixMs;
            this.memory(&region, |m| {
                m.sweeping = false;
                if outcome.is_err() {
                    m.retry_at = Some(retry);
                }
            });
        });
        Ok(())
    }

    /// The rest of a full listing from `marker`, page by page under the budget, then the swap.
    async fn list_rest(
        &self,
        region: &str,
        iot: &Iot,
        mut marker: Option<String>,
        started_at: UnixMs,
        keep_after: Option<UnixMs>,
    ) -> Result<u64, CertError> {
        let bucket = self.inner.budget.bucket(Api::ListCertificates, region);
        let mut failures = 0u32;
        loop {
            let page = match paced_page(iot, &bucket, false, marker.clone()).await {
                Ok(p) => p,
                // The bucket slowed down; the next acquire waits for it.
                Err(e) if e.kind == AwsErrorKind::Throttled => continue,
                Err(e) => {
                    failures += 1;
                    if failures >= GIVE_UP_AFTER {
                        return Err(CertError::Aws(e));
                    }
                    tokio::time::sleep(Duration::from_secs(10 * u64::from(failures))).await;
                    continue;
                }
            };
            failures = 0;
            let r = region.to_string();
            let rows = page.certificates;
            self.store(move |s| s.certificates_stage(&r, &rows)).await?;
            match page.next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        let r = region.to_string();
        let _write = self.inner.write.lock().await;
        let n = self
            .store(move |s| s.certificates_swap(&r, started_at, keep_after))
            .await?;
        self.changed(region, None);
        Ok(n)
    }
}

mod compared;
#[doc(hidden)]
pub mod generated;
#[cfg(test)]
mod tests;
