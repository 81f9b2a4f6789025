//! The staged catalog, already parsed, passed from the thread that verified and staged it
//! (the sync engine's) to the thread that switches to it at Home (the app's).
//!
//! Verifying an envelope parses and checks the whole catalog (~15 ms for 673 matters); doing
//! that again at Home would put it between the citizen's last touch and the next Home screen.
//! So the verified `Catalog` waits here, tagged with the version and SHA-256 it was staged
//! under, and the switch is a pointer flip in the store plus this hand-over. A catalog that
//! does not match what is staged (another process staged a newer one, or none was offered)
//! is not used: the switch then reads and parses the staged row as before.

use std::sync::{Arc, Mutex};

use super::model::Catalog;

/// Cloneable; every clone is the same slot. Give one clone to [`super::pull::CatalogPull`]
/// (`with_handoff`) and keep one for [`super::update::switch_at_home_with`].
#[derive(Clone, Default)]
pub struct StagedHandoff {
    ready: Arc<Mutex<Option<Ready>>>,
}

struct Ready {
    version: u64,
    sha256: String,
    catalog: Catalog,
}

impl StagedHandoff {
    pub fn new() -> StagedHandoff {
        StagedHandoff::default()
    }

    /// Offers the catalog just staged as `version` with payload hash `sha256` (replacing any
    /// earlier offer: only one version is staged at a time).
    pub(crate) fn offer(&self, version: u64, sha256: String, catalog: Catalog) {
        *self.lock() = Some(Ready {
            version,
            sha256,
            catalog,
        });
    }

    /// Takes the catalog if it is the one staged as `version` with `sha256`. The slot is
    /// emptied either way (a stale offer is never used later).
    pub(crate) fn take(&self, version: u64, sha256: &str) -> Option<Catalog> {
        let ready = self.lock().take()?;
        (ready.version == version && ready.sha256 == sha256).then_some(ready.catalog)
    }

    /// The version waiting, if any (diagnostics, tests).
    pub fn ready_version(&self) -> Option<u64> {
        self.lock().as_ref().map(|r| r.version)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Ready>> {
        // A panic elsewhere while holding the lock leaves a whole value behind: keep using it.
        self.ready.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for StagedHandoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedHandoff")
            .field("ready_version", &self.ready_version())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::catalog;

    #[test]
    fn only_the_offer_matching_version_and_hash_is_taken_and_only_once() {
        let h = StagedHandoff::new();
        assert!(h.take(2, "aa").is_none());
        h.offer(2, "aa".into(), catalog(2, "2027-06-30T00:00:00Z"));
        let clone = h.clone();
        assert_eq!(clone.ready_version(), Some(2));
        assert_eq!(clone.take(2, "aa").unwrap().version, 2);
        assert!(h.take(2, "aa").is_none(), "taken once");
        h.offer(3, "bb".into(), catalog(3, "2027-06-30T00:00:00Z"));
        assert!(
            h.take(3, "cc").is_none(),
            "another payload under the same version"
        );
        assert_eq!(h.ready_version(), None, "a mismatched offer is dropped");
    }
}
