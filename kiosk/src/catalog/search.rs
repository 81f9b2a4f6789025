//! Search over matters and bundles, as the citizen types: hanzi substrings, full pinyin with
//! or without spaces, pinyin initials (`kbfd` finds 开办饭店), English words and codes; case-
//! and space-insensitive. Results are ranked by how they matched: exact name, then prefix,
//! then initials, then substring, then keyword.
//!
//! The index precomputes every searchable form once (pinyin from the `pinyin` crate), so a
//! keystroke is a scan of short lowercase strings.

use pinyin::ToPinyin;
use serde::Serialize;

use super::model::{Audience, Catalog};

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

/// A search index over one catalog.
pub struct SearchIndex {
    entries: Vec<Entry>,
}

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

impl SearchIndex {
    pub fn new(catalog: &Catalog) -> SearchIndex {
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
        SearchIndex { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best `limit` results for `query`, best first. An empty query finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = normalize(query);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        // Hanzi and Latin queries look at different forms; "kai ban" must not match the
        // English "kaiban" by accident, so ASCII queries skip the hanzi form and vice versa.
        let ascii = q.is_ascii();
        let mut scored: Vec<(MatchTier, usize, usize, u8, usize)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if let Some((tier, pos)) = e.rank(&q, ascii) {
                let type_rank = match e.entry_type {
                    EntryType::Bundle => 0,
                    EntryType::Matter => 1,
                };
                scored.push((tier, pos, e.name_zh.chars().count(), type_rank, i));
            }
        }
        let key = |s: &(MatchTier, usize, usize, u8, usize)| (s.0, s.1, s.2, s.3, s.4);
        if scored.len() > limit {
            scored.select_nth_unstable_by_key(limit - 1, key);
            scored.truncate(limit);
        }
        scored.sort_unstable_by_key(key);
        scored
            .into_iter()
            .map(|(tier, _, _, _, i)| {
                let e = &self.entries[i];
                SearchHit {
                    code: e.code.clone(),
                    entry_type: e.entry_type,
                    name_zh: e.name_zh.clone(),
                    name_en: e.name_en.clone(),
                    audience: e.audience,
                    tier,
                }
            })
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

    /// The best tier this entry matches `q` at, and the match position (earlier is better).
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
