//! The index against the reference: a scan that ranks every entry of the catalog (in catalog
//! order) with `Entry::rank` and sorts, as search worked before the index. They must agree
//! on every query, results and order, for the sample catalog, a scaled one and random ones.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::scan::LinearScan as Scan;
use super::*;
use crate::catalog::sample;

struct Both {
    index: SearchIndex,
    scan: Scan,
    /// Strings citizens could type parts of: every searchable form of every entry.
    texts: Vec<String>,
}

impl Both {
    fn new(catalog: &Catalog) -> Both {
        let scan = Scan::new(catalog);
        let mut texts = Vec::new();
        for e in &scan.0 {
            texts.extend(
                [&e.name_zh, &e.name_en, &e.pinyin, &e.initials, &e.code].map(Clone::clone),
            );
            texts.extend(e.keywords.iter().cloned());
        }
        Both {
            index: SearchIndex::new(catalog),
            scan,
            texts,
        }
    }

    fn agree(&self, query: &str, limit: usize) -> Result<(), TestCaseError> {
        let got = self.index.search(query, limit);
        let want = self.scan.search(query, limit);
        prop_assert_eq!(got, want, "query {:?} limit {}", query, limit);
        Ok(())
    }

    /// A piece of one of the texts, from `start` for `len` characters (both taken modulo),
    /// with some letters upper-cased and a space put in, as citizens type.
    fn piece(&self, pick: &Pick) -> String {
        let text = &self.texts[pick.text % self.texts.len()];
        let chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            return String::new();
        }
        let start = pick.start % chars.len();
        let len = 1 + pick.len % (chars.len() - start);
        let mut out: String = chars[start..start + len].iter().collect();
        if pick.upper {
            out = out.to_uppercase();
        }
        if pick.space && out.chars().count() > 1 {
            let at = out.char_indices().nth(1).map_or(0, |(i, _)| i);
            out.insert(at, ' ');
        }
        out
    }
}

#[derive(Debug, Clone)]
struct Pick {
    text: usize,
    start: usize,
    len: usize,
    upper: bool,
    space: bool,
}

fn pick() -> impl Strategy<Value = Pick> {
    (
        any::<usize>(),
        any::<usize>(),
        0usize..12,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(text, start, len, upper, space)| Pick {
            text,
            start,
            len,
            upper,
            space,
        })
}

/// Characters the random catalogs and queries are made of: hanzi that share pinyin, Latin
/// letters that are pinyin initials, digits, spaces, punctuation, and letters whose lower
/// case differs between `char` and `str` (Σ).
const ALPHABET: &[char] = &[
    '开', '办', '饭', '店', '证', '居', '住', '营', '业', '执', '照', '社', '保', '绿', '女', '长',
    '行', 'a', 'b', 'k', 'z', 'h', 'n', 'g', 'i', 'o', 'A', 'K', ' ', '1', '3', '0', '-', '(', ')',
    '（', '）', 'é', 'É', 'Σ', 'ς',
];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

/// Few characters, so that names share grams everywhere and small limits fill up.
fn few(chars: &'static [char], len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(chars), len).prop_map(|v| v.into_iter().collect())
}

const HANZI: &[char] = &['甲', '乙', '丙'];
const LATIN: &[char] = &['j', 'i', 'a', 'y', 'b', ' '];

fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..25, Just(0), Just(usize::MAX)]
}

static BASE: LazyLock<Catalog> = LazyLock::new(|| sample::generate().unwrap());
static SAMPLE: LazyLock<Both> = LazyLock::new(|| Both::new(&BASE));
static SCALED: LazyLock<Both> = LazyLock::new(|| Both::new(&sample::scaled(4_000).unwrap()));

/// A catalog of random entries on the sample's departments.
fn random_catalog(rows: &[(String, String, Vec<String>, String)], bundles: usize) -> Catalog {
    let mut c = Catalog {
        matters: Vec::new(),
        bundles: Vec::new(),
        ..BASE.clone()
    };
    let (base_matters, base_bundles) = (&BASE.matters, &BASE.bundles);
    for (i, (zh, en, kw, code)) in rows.iter().enumerate() {
        if i < bundles {
            let mut b = base_bundles[i % base_bundles.len()].clone();
            (b.name_zh, b.name_en, b.keywords, b.code) =
                (zh.clone(), en.clone(), kw.clone(), code.clone());
            c.bundles.push(b);
        } else {
            let mut m = base_matters[i % base_matters.len()].clone();
            (m.name_zh, m.name_en, m.keywords, m.code) =
                (zh.clone(), en.clone(), kw.clone(), code.clone());
            c.matters.push(m);
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn index_matches_scan_on_the_sample_catalog(p in pick(), typed in text(6), limit in limit()) {
        let both = &*SAMPLE;
        both.agree(&both.piece(&p), limit)?;
        both.agree(&typed, limit)?;
    }

    #[test]
    fn index_matches_scan_on_a_scaled_catalog(p in pick(), typed in text(5), limit in limit()) {
        let both = &*SCALED;
        both.agree(&both.piece(&p), limit)?;
        both.agree(&typed, limit)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn index_matches_scan_on_random_catalogs(
        rows in prop::collection::vec(
            (text(10), text(14), prop::collection::vec(text(6), 0..3), text(4)),
            1..40,
        ),
        bundles in 0usize..5,
        picks in prop::collection::vec(pick(), 1..12),
        typed in prop::collection::vec(text(4), 1..12),
        limit in limit(),
    ) {
        let both = Both::new(&random_catalog(&rows, bundles));
        for p in &picks {
            both.agree(&both.piece(p), limit)?;
        }
        for t in &typed {
            both.agree(t, limit)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn index_matches_scan_on_crowded_catalogs(
        rows in prop::collection::vec(
            (few(HANZI, 1..8), few(LATIN, 1..9), prop::collection::vec(few(HANZI, 1..3), 0..2)),
            1..30,
        ),
        picks in prop::collection::vec(pick(), 1..8),
        typed in prop::collection::vec(prop_oneof![few(HANZI, 2..4), few(LATIN, 2..7)], 1..16),
        limit in 1usize..5,
    ) {
        let rows: Vec<(String, String, Vec<String>, String)> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (zh, en, kw))| (zh, en, kw, format!("310104{i:06}")))
            .collect();
        let both = Both::new(&random_catalog(&rows, 2));
        for p in &picks {
            both.agree(&both.piece(p), limit)?;
        }
        for t in &typed {
            both.agree(t, limit)?;
        }
    }
}

/// A query's rarest gram may sit after its start and may also occur earlier in a name than
/// the query does: the walk must bound positions by the query's start, or it stops early.
#[test]
fn a_rare_gram_inside_the_query_bounds_by_the_query_start() {
    let rows = [
        ("乙丙甲乙", "One", "310104000001"),
        ("丙甲乙丁丁", "Two", "310104000002"),
        ("甲", "Three", "310104000003"),
    ];
    let rows: Vec<(String, String, Vec<String>, String)> = rows
        .iter()
        .map(|(zh, en, code)| (zh.to_string(), en.to_string(), vec![], code.to_string()))
        .collect();
    let both = Both::new(&random_catalog(&rows, 0));
    let hits = both.index.search("甲乙", 1);
    assert_eq!(hits[0].name_zh, "丙甲乙丁丁", "{hits:?}");
    for limit in [1, 2, 5] {
        both.agree("甲乙", limit).unwrap();
        both.agree("jiayi", limit).unwrap();
    }
}

/// The benchmark's queries, keystroke by keystroke, on both catalogs and with a small and an
/// unlimited limit.
#[test]
fn index_matches_scan_for_every_keystroke_of_the_benchmark_queries() {
    let queries = [
        "kbfd",
        "kai ban fan dian",
        "开办饭店",
        "restaurant",
        "juzhuzheng",
        "居住证",
        "shebao",
        "passport",
        "营业执照",
        "310104",
        "gongjijin",
        "food licence",
        "district",
        "区",
        "低保",
        "batch 3",
        "第1批",
    ];
    for both in [&*SAMPLE, &*SCALED] {
        for q in queries {
            let chars: Vec<char> = q.chars().collect();
            for n in 1..=chars.len() {
                let prefix: String = chars[..n].iter().collect();
                for limit in [1, 20, usize::MAX] {
                    both.agree(&prefix, limit).unwrap();
                }
            }
        }
    }
}

/// Every entry's own name, pinyin, initials and code find the same results both ways.
#[test]
fn index_matches_scan_for_every_name_of_the_sample() {
    let both = &*SAMPLE;
    for e in &both.scan.0 {
        for q in [&e.name_zh, &e.name_en, &e.pinyin, &e.initials, &e.code] {
            both.agree(q, 20).unwrap();
        }
    }
}

/// The scan checks "contains in the initials" after substrings, though it ranks it above
/// them: an entry holding the query both ways ranks as a substring, one holding it only in
/// its initials as initials, so the second comes first.
#[test]
fn initials_inside_a_name_rank_as_the_scan_ranks_them() {
    let rows = [
        ("开kmm", "Open", "310104000001"),
        ("大开明明", "Big", "310104000002"),
        ("明", "Bright", "310104000003"),
    ];
    let rows: Vec<(String, String, Vec<String>, String)> = rows
        .iter()
        .map(|(zh, en, code)| (zh.to_string(), en.to_string(), vec![], code.to_string()))
        .collect();
    let both = Both::new(&random_catalog(&rows, 0));
    let hits = both.index.search("kmm", 10);
    let tiers: Vec<(&str, MatchTier)> = hits.iter().map(|h| (h.name_zh.as_str(), h.tier)).collect();
    assert_eq!(
        tiers,
        vec![
            ("大开明明", MatchTier::Initials),
            ("开kmm", MatchTier::Substring)
        ]
    );
    for q in ["kmm", "km", "m", "ming", "dkmm", "明"] {
        for limit in [1, 2, 10] {
            both.agree(q, limit).unwrap();
        }
    }
}
