//! A certificate set generated on the fly, page by page, for the tests and the benchmark: a
//! million certificates cost nothing until a page of them is asked for.
//!
//! Rules kept here:
//! - certificate `i` has the id `{i:064x}` and was created `i` seconds after [`BASE_SECS`];
//!   new ones are added at the newest end;
//! - a marker is the position in the asked order (oldest or newest first), as text.

use aws_sdk_iot::operation::list_certificates::{ListCertificatesInput, ListCertificatesOutput};
use aws_sdk_iot::types::{Certificate, CertificateStatus};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The creation date of certificate 0 (2024-01-01T00:00:00Z).
pub const BASE_SECS: i64 = 1_704_067_200;

/// `n` certificates, some of them inactive.
#[derive(Debug, Default)]
pub struct GeneratedSet {
    n: AtomicU64,
    inactive: Mutex<BTreeSet<u64>>,
}

impl GeneratedSet {
    pub fn new(n: u64) -> GeneratedSet {
        GeneratedSet {
            n: AtomicU64::new(n),
            inactive: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn len(&self) -> u64 {
        self.n.load(Ordering::SeqCst)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of certificate `i`.
    pub fn id(i: u64) -> String {
        format!("{i:064x}")
    }

    /// `k` new certificates at the newest end.
    pub fn add(&self, k: u64) {
        self.n.fetch_add(k, Ordering::SeqCst);
    }

    pub fn deactivate(&self, i: u64) {
        self.inactive
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(i);
    }

    /// The page `ListCertificates` would answer to `req`.
    pub fn page(&self, req: &ListCertificatesInput) -> ListCertificatesOutput {
        let n = self.len();
        let size = req.page_size().unwrap_or(25).clamp(1, 250) as u64;
        let from: u64 = req.marker().and_then(|m| m.parse().ok()).unwrap_or(0);
        let newest_first = req.ascending_order() != Some(true);
        let to = (from + size).min(n);
        let inactive = self.inactive.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = ListCertificatesOutput::builder();
        for pos in from..to {
            let i = if newest_first { n - 1 - pos } else { pos };
            out = out.certificates(
                Certificate::builder()
                    .certificate_id(Self::id(i))
                    .status(if inactive.contains(&i) {
                        CertificateStatus::Inactive
                    } else {
                        CertificateStatus::Active
                    })
                    .creation_date(aws_smithy_types::DateTime::from_secs(BASE_SECS + i as i64))
                    .build(),
            );
        }
        if to < n {
            out = out.next_marker(to.to_string());
        }
        out.build()
    }
}
