//! Search over matters and bundles, as the citizen types: hanzi substrings, full pinyin with
//! or without spaces, pinyin initials (`kbfd` finds 开办饭店), English words and codes; case-
//! and space-insensitive. Results are ranked by how they matched: exact name, then prefix,
//! then initials, then substring, then keyword.
//!
//! `Entry::rank` below is the one definition of what matches and how well. The index built
//! once per catalog (`search_build.rs`: sorted tables and trigram posting lists in
//! `search_grams.rs`) only finds candidates in rank order, and every candidate is ranked by
//! `Entry::rank`; `search_query.rs` stops as soon as no unread candidate can reach the
//! results. So the index returns exactly what a scan of every entry would, and the tests
//! (`search_tests.rs`) check that against the scan (`search_scan.rs`) on random queries.

use pinyin::ToPinyin;
use serde::Serialize;

use super::model::{Audience, Catalog};

#[path = "search_build.rs"]
mod build;
#[path = "search_grams.rs"]
mod grams;
#[path = "search_query.rs"]
mod query;
#[path = "search_scan.rs"]
pub mod scan;

/// What a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    Matter,
    Bundle,
}

/// How a result matched; earlier variants rank higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchTier {
    Exact,
    Prefix,
    Initials,
    Substring,
    Keyword,
}

/// One result of `kiosk catalog search --json` (other tools read it: add fields, never rename).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub code: String,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub name_zh: String,
    pub name_en: String,
    pub audience: Audience,
    #[serde(rename = "match")]
    pub tier: MatchTier,
}

struct Entry {
    code: String,
    entry_type: EntryType,
    name_zh: String,
    name_en: String,
    audience: Audience,
    /// Normalised forms: lowercase, no whitespace.
    zh: String,
    pinyin: String,
    initials: String,
    en: String,
    /// English name as lowercase words (for word-prefix matches like "restaurant").
    en_words: Vec<String>,
    code_lc: String,
    keywords: Vec<String>,
}

impl EntryType {
    /// Bundles come before matters when everything else ties.
    fn rank(self) -> u8 {
        match self {
            EntryType::Bundle => 0,
            EntryType::Matter => 1,
        }
    }
}

/// A search index over one catalog. Built once when a catalog is loaded; searching takes
/// `&self`, so one index can serve every thread.
pub struct SearchIndex {
    /// In tie-break order (shorter hanzi name, then bundles, then catalog order), so an
    /// entry's id (its position here) settles ties between equal matches.
    entries: Vec<Entry>,
    lookup: build::Lookup,
}

/// The searchable forms of every entry of a catalog, before the index over them is built
/// (the two steps are separate so the benchmark can time them apart).
pub(crate) struct EntryForms(Vec<Entry>);

/// Lowercase with every whitespace character removed.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Full pinyin (no tones, no spaces) and initials of a string; non-hanzi characters are kept
/// as they are (lowercased) in both.
pub fn pinyin_forms(s: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for (ch, py) in s.chars().zip(s.to_pinyin()) {
        match py {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None => {
                if ch.is_whitespace() {
                    continue;
                }
                for lc in ch.to_lowercase() {
                    full.push(lc);
                    initials.push(lc);
                }
            }
        }
    }
    (full, initials)
}

impl EntryForms {
    /// Every bundle, then every matter, in catalog order.
    pub(crate) fn new(catalog: &Catalog) -> EntryForms {
        let dept_names = |code: &str| -> Vec<String> {
            catalog
                .department(code)
                .map(|d| vec![normalize(&d.name_zh), normalize(&d.name_en)])
                .unwrap_or_default()
        };
        let mut entries = Vec::with_capacity(catalog.matters.len() + catalog.bundles.len());
        for b in &catalog.bundles {
            entries.push(Entry::new(
                &b.code,
                EntryType::Bundle,
                &b.name_zh,
                &b.name_en,
                b.audience,
                b.keywords.iter().map(|k| normalize(k)).collect(),
            ));
        }
        for m in &catalog.matters {
            let mut kw: Vec<String> = m.keywords.iter().map(|k| normalize(k)).collect();
            kw.extend(dept_names(&m.department));
            entries.push(Entry::new(
                &m.code,
                EntryType::Matter,
                &m.name_zh,
                &m.name_en,
                m.audience,
                kw,
            ));
        }
        EntryForms(entries)
    }

    /// Bytes these forms hold on the heap (what a scan of every entry would need).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Entry>()
            + self.0.iter().map(Entry::heap_bytes).sum::<usize>()
    }
}

impl SearchIndex {
    pub fn new(catalog: &Catalog) -> SearchIndex {
        SearchIndex::from_forms(EntryForms::new(catalog))
    }

    /// Builds the index over forms made by `EntryForms::new`.
    pub(crate) fn from_forms(forms: EntryForms) -> SearchIndex {
        let entries = build::tie_break_order(forms.0);
        let lookup = build::Lookup::new(&entries);
        SearchIndex { entries, lookup }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the index holds on the heap: the entries' forms and the lookup structures.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.entries.iter().map(Entry::heap_bytes).sum::<usize>()
            + self.lookup.heap_bytes()
    }

    /// The best `limit` results for `query`, best first. An empty query finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = normalize(query);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        query::best(self, &q, limit)
            .into_iter()
            .map(|(tier, id)| self.entries[id as usize].hit(tier))
            .collect()
    }
}

impl Entry {
    fn new(
        code: &str,
        entry_type: EntryType,
        name_zh: &str,
        name_en: &str,
        audience: Audience,
        keywords: Vec<String>,
    ) -> Entry {
        let (pinyin, initials) = pinyin_forms(name_zh);
        let en_lc = name_en.to_lowercase();
        Entry {
            code: code.into(),
            entry_type,
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            audience,
            zh: normalize(name_zh),
            pinyin,
            initials,
            en: normalize(name_en),
            en_words: en_lc
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
            code_lc: code.to_lowercase(),
            keywords,
        }
    }

    fn hit(&self, tier: MatchTier) -> SearchHit {
        SearchHit {
            code: self.code.clone(),
            entry_type: self.entry_type,
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            audience: self.audience,
            tier,
        }
    }

    fn heap_bytes(&self) -> usize {
        let strings = [
            &self.code,
            &self.name_zh,
            &self.name_en,
            &self.zh,
            &self.pinyin,
            &self.initials,
            &self.en,
            &self.code_lc,
        ];
        let lists = [&self.en_words, &self.keywords];
        strings.iter().map(|s| s.capacity()).sum::<usize>()
            + lists
                .iter()
                .map(|l| {
                    l.capacity() * std::mem::size_of::<String>()
                        + l.iter().map(String::capacity).sum::<usize>()
                })
                .sum::<usize>()
    }

    /// The best tier this entry matches `q` at, and the match position (earlier is better).
    /// `q` is normalised and not empty. Hanzi and Latin queries look at different forms;
    /// "kai ban" must not match the English "kaiban" by accident, so ASCII queries skip the
    /// hanzi form and vice versa.
    fn rank(&self, q: &str, ascii: bool) -> Option<(MatchTier, usize)> {
        let names: [&str; 2] = if ascii {
            [&self.pinyin, &self.en]
        } else {
            [&self.zh, ""]
        };
        if names.contains(&q) || self.code_lc == q {
            return Some((MatchTier::Exact, 0));
        }
        if names.iter().any(|n| !n.is_empty() && n.starts_with(q))
            || (ascii && self.code_lc.starts_with(q))
        {
            return Some((MatchTier::Prefix, 0));
        }
        if ascii {
            if self.initials == q {
                return Some((MatchTier::Initials, 0));
            }
            if self.initials.starts_with(q) && q.len() >= 2 {
                return Some((MatchTier::Initials, 1));
            }
            // An English word that starts with the query ("restaurant", "licence").
            if let Some(pos) = self.en_words.iter().position(|w| w.starts_with(q)) {
                return Some((MatchTier::Substring, pos));
            }
        }
        let found = names
            .iter()
            .filter(|n| !n.is_empty())
            .filter_map(|n| n.find(q))
            .min();
        if let Some(pos) = found {
            return Some((MatchTier::Substring, 1 + pos));
        }
        if ascii && q.len() >= 3 && self.initials.contains(q) {
            return Some((MatchTier::Initials, 2));
        }
        if self.keywords.iter().any(|k| k.contains(q)) {
            return Some((MatchTier::Keyword, 0));
        }
        None
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod reference_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::sample;

    fn index() -> (Catalog, SearchIndex) {
        let c = sample::generate().unwrap();
        let i = SearchIndex::new(&c);
        (c, i)
    }

    fn first(i: &SearchIndex, q: &str) -> SearchHit {
        i.search(q, 10)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{q:?} found nothing"))
    }

    #[test]
    fn restaurant_bundle_is_first_for_every_form_of_the_query() {
        let (c, i) = index();
        let bundle = c.bundles.iter().find(|b| b.name_zh == "开办饭店").unwrap();
        let ok = |hit: &SearchHit| hit.code == bundle.code || bundle.matters.contains(&hit.code);
        for q in [
            "kbfd",
            "kai ban fan dian",
            "kaibanfandian",
            "开办饭店",
            "restaurant",
            "KBFD",
            " 开办 饭店 ",
        ] {
            let hit = first(&i, q);
            assert!(ok(&hit), "{q:?} gave {hit:?} first");
        }
        assert_eq!(first(&i, "kbfd").tier, MatchTier::Initials);
        assert_eq!(first(&i, "开办饭店").tier, MatchTier::Exact);
    }

    #[test]
    fn ranking_puts_exact_before_prefix_before_initials_before_substring_before_keyword() {
        let (_, i) = index();
        let hits = i.search("居住证", 50);
        assert_eq!(hits[0].tier, MatchTier::Prefix, "{:?}", hits[0]);
        let tiers: Vec<MatchTier> = hits.iter().map(|h| h.tier).collect();
        let mut sorted = tiers.clone();
        sorted.sort();
        assert_eq!(tiers, sorted, "results come in tier order");
        // A code finds its matter exactly.
        let code = &i.search("居住证申领", 1)[0].code;
        let by_code = first(&i, code);
        assert_eq!(
            (by_code.code.as_str(), by_code.tier),
            (code.as_str(), MatchTier::Exact)
        );
        // A keyword-only hit: 低保 is a keyword of the minimum living allowance.
        let kw = first(&i, "低保");
        assert_eq!(kw.tier, MatchTier::Keyword);
        assert!(kw.name_zh.contains("最低生活保障"));
    }

    #[test]
    fn pinyin_prefix_and_english_words_and_case() {
        let (_, i) = index();
        let hit = first(&i, "juzhuzheng");
        assert!(hit.name_zh.starts_with("居住证"), "{hit:?}");
        assert_eq!(hit.tier, MatchTier::Prefix);
        let hit = first(&i, "Passport");
        assert!(hit.name_en.to_lowercase().contains("passport"), "{hit:?}");
        assert!(i.search("", 10).is_empty());
        assert!(i.search("zzzzqqqq", 10).is_empty());
        assert_eq!(i.search("证", 5).len(), 5, "limit honoured");
    }

    #[test]
    fn pinyin_forms_keep_latin_and_digits() {
        assert_eq!(
            pinyin_forms("开KTV"),
            ("kaiktv".to_string(), "kktv".to_string())
        );
        assert_eq!(normalize(" Kai Ban\tFan "), "kaibanfan");
    }
}
