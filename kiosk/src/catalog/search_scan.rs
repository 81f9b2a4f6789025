//! The linear scan: rank every entry of the catalog with `Entry::rank` (in catalog order)
//! and sort, as search worked before the index. It is the definition the index must
//! reproduce (`search_tests.rs` checks they agree on every query) and the benchmark's peer
//! for the index's keystroke latency.

use super::{normalize, Catalog, Entry, EntryForms, MatchTier, SearchHit};

/// The linear scan.
pub struct LinearScan(pub(super) Vec<Entry>);

impl LinearScan {
    pub fn new(catalog: &Catalog) -> LinearScan {
        LinearScan(EntryForms::new(catalog).0)
    }

    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = normalize(query);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let ascii = q.is_ascii();
        let mut scored: Vec<(MatchTier, usize, usize, u8, usize)> = Vec::new();
        for (i, e) in self.0.iter().enumerate() {
            if let Some((tier, pos)) = e.rank(&q, ascii) {
                let type_rank = e.entry_type.rank();
                scored.push((tier, pos, e.name_zh.chars().count(), type_rank, i));
            }
        }
        if scored.len() > limit {
            scored.select_nth_unstable(limit - 1);
            scored.truncate(limit);
        }
        scored.sort_unstable();
        scored
            .into_iter()
            .map(|(tier, _, _, _, i)| self.0[i].hit(tier))
            .collect()
    }
}
