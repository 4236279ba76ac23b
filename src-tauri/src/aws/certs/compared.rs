//! The comparison of two regions' kept sets: made in the store (a join on the primary key),
//! kept while neither set changed, and brought up to date from the rows refreshes changed.
//!
//! Rules kept here:
//! - a comparison is kept under the versions of the two sets it was made from, while holding
//!   the write lock, so it always matches them;
//! - an update looks up only the changed rows (both regions' statuses now, and the status each
//!   had before); a swapped-in full listing, or a log too short, makes it compared again in the
//!   store;
//! - the missing sample is kept in id order, at most [`MISSING_SAMPLE`] of them.

use super::{CertError, Certificates};
use crate::store::CertificateComparison;
use std::collections::{BTreeMap, BTreeSet};

/// Missing certificates named in the facts, at most.
const MISSING_SAMPLE: usize = 20;

/// A comparison and the versions of the two sets it was made from.
pub(super) struct Kept {
    versions: (u64, u64),
    comparison: CertificateComparison,
}

impl Certificates {
    /// The rows `region` changed after version `from` up to `to`, by id with the status each
    /// had before the first of them; `None` when a swap came between or the log is too short.
    fn changes_between(
        &self,
        region: &str,
        from: u64,
        to: u64,
    ) -> Option<BTreeMap<String, Option<String>>> {
        self.memory(region, |m| {
            let mut out = BTreeMap::new();
            for v in from + 1..=to {
                let (_, rows) = m.log.iter().find(|(at, _)| *at == v)?;
                for c in rows.as_ref()? {
                    out.entry(c.id.clone()).or_insert_with(|| c.was.clone());
                }
            }
            Some(out)
        })
    }

    /// The active certificates of `active` against `target`'s, from the store; kept while
    /// neither set changed, and brought up to date from the rows refreshes changed.
    pub async fn compare(
        &self,
        active: &str,
        target: &str,
    ) -> Result<CertificateComparison, CertError> {
        let _write = self.inner.write.lock().await;
        let versions = (
            self.memory(active, |m| m.version),
            self.memory(target, |m| m.version),
        );
        let key = (active.to_string(), target.to_string());
        let kept = self
            .inner
            .compared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .map(|k| (k.versions, k.comparison.clone()));
        let comparison = match kept {
            Some((v, c)) if v == versions => return Ok(c),
            Some((v, c)) if active != target => {
                match self.update(active, target, v, versions, c).await? {
                    Some(c) => c,
                    None => self.compare_in_store(active, target).await?,
                }
            }
            _ => self.compare_in_store(active, target).await?,
        };
        // Kept only if nothing changed while it was made.
        let now = (
            self.memory(active, |m| m.version),
            self.memory(target, |m| m.version),
        );
        if now == versions {
            self.inner
                .compared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    key,
                    Kept {
                        versions,
                        comparison: comparison.clone(),
                    },
                );
        }
        Ok(comparison)
    }

    pub(super) async fn compare_in_store(
        &self,
        active: &str,
        target: &str,
    ) -> Result<CertificateComparison, CertError> {
        let (a, t) = (active.to_string(), target.to_string());
        self.store(move |s| s.certificates_compare(&a, &t, MISSING_SAMPLE))
            .await
    }

    /// `kept` (made at versions `from`) brought to versions `to` from the changed rows alone;
    /// `None` when a full listing was swapped in between.
    async fn update(
        &self,
        active: &str,
        target: &str,
        from: (u64, u64),
        to: (u64, u64),
        mut kept: CertificateComparison,
    ) -> Result<Option<CertificateComparison>, CertError> {
        let (Some(a_was), Some(t_was)) = (
            self.changes_between(active, from.0, to.0),
            self.changes_between(target, from.1, to.1),
        ) else {
            return Ok(None);
        };
        let ids: Vec<String> = a_was
            .keys()
            .chain(t_was.keys())
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (a, t, q) = (active.to_string(), target.to_string(), ids.clone());
        let (a_now, t_now) = self
            .store(move |s| {
                Ok((
                    s.certificates_active_of(&a, &q)?,
                    s.certificates_active_of(&t, &q)?,
                ))
            })
            .await?;
        let active_was = |was: &Option<String>| was.as_deref() == Some("ACTIVE");
        let step = |n: &mut u64, before: bool, after: bool| {
            *n = (*n + u64::from(after)).saturating_sub(u64::from(before));
        };
        for (i, id) in ids.iter().enumerate() {
            let (an, tn) = (a_now[i], t_now[i]);
            let ab = a_was.get(id).map_or(an, active_was);
            let tb = t_was.get(id).map_or(tn, active_was);
            step(&mut kept.active_total, ab, an);
            step(&mut kept.target_total, tb, tn);
            step(&mut kept.in_target, ab && tb, an && tn);
            kept.missing.retain(|m| m != id);
            if an && !tn {
                kept.missing.push(id.clone());
            }
        }
        kept.missing.sort();
        kept.missing.truncate(MISSING_SAMPLE);
        Ok(Some(kept))
    }
}
