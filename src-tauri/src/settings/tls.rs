//! The `[tls]` section: HTTPS for the server.
//!
//! Rules kept here:
//! - Both paths, or no section (serde refuses one without the other).

use serde::Deserialize;
use std::path::PathBuf;

/// The server's certificate chain and private key, PEM files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsSection {
    /// The certificate chain and the key, in that order.
    pub(super) fn paths(self) -> (PathBuf, PathBuf) {
        (self.cert, self.key)
    }
}
