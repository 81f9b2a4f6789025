//! Building the lookup structures once per catalog: a sorted table per field for exact and
//! prefix matches, trigram lists for substrings (hanzi name, pinyin + English name, initials,
//! the starts of English words), and the distinct keywords with the entries holding each.

use std::collections::HashMap;

use super::grams::{boundary_grams, gram_at, GramBuilder, GramIndex, Packing};
use super::Entry;

/// Puts entries in tie-break order: shorter hanzi name first, then bundles before matters,
/// then catalog order (the sort is stable). An entry's id is its position afterwards.
pub(super) fn tie_break_order(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by_cached_key(|e| (e.name_zh.chars().count(), e.entry_type.rank()));
    entries
}

/// A normalised form of an entry that a sorted table covers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Field {
    Zh,
    Pinyin,
    En,
    Code,
    Initials,
}

impl Field {
    fn of(self, e: &Entry) -> &str {
        match self {
            Field::Zh => &e.zh,
            Field::Pinyin => &e.pinyin,
            Field::En => &e.en,
            Field::Code => &e.code_lc,
            Field::Initials => &e.initials,
        }
    }
}

/// Entry ids sorted by one field, so equal and prefixed values are contiguous runs.
pub(super) struct Table {
    field: Field,
    ids: Vec<u32>,
}

impl Table {
    fn new(entries: &[Entry], field: Field) -> Table {
        // Sorting the strings next to their ids saves a trip through each entry per compare.
        let mut keyed: Vec<(&str, u32)> = entries
            .iter()
            .enumerate()
            .map(|(id, e)| (field.of(e), id as u32))
            .collect();
        keyed.sort_unstable();
        let ids = keyed.into_iter().map(|(_, id)| id).collect();
        Table { field, ids }
    }

    /// The ids whose field equals `q`, and those whose field starts with `q` but is longer.
    pub(super) fn equal_and_longer<'a>(
        &'a self,
        entries: &[Entry],
        q: &str,
    ) -> (&'a [u32], &'a [u32]) {
        let value = |id: &u32| self.field.of(&entries[*id as usize]);
        let lo = self.ids.partition_point(|id| value(id) < q);
        let rest = &self.ids[lo..];
        let equal = rest.partition_point(|id| value(id) == q);
        let prefixed = rest.partition_point(|id| value(id).starts_with(q));
        (&rest[..equal], &rest[equal..prefixed])
    }

    fn heap_bytes(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<u32>()
    }
}

/// The distinct keywords (department names among them) and the entries holding each.
pub(super) struct Keywords {
    pub(super) strings: Vec<String>,
    /// The ids of `strings[k]` are `ids[starts[k]..starts[k + 1]]`, ascending.
    starts: Vec<usize>,
    ids: Vec<u32>,
    /// Grams of the keyword strings; postings hold keyword numbers.
    pub(super) grams: GramIndex,
}

impl Keywords {
    fn new(entries: &[Entry]) -> Keywords {
        let mut number: HashMap<&str, u32> = HashMap::new();
        let mut strings: Vec<String> = Vec::new();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut own: Vec<u32> = Vec::new();
        for (id, e) in entries.iter().enumerate() {
            own.clear();
            for k in &e.keywords {
                let n = *number.entry(k.as_str()).or_insert_with(|| {
                    strings.push(k.clone());
                    (strings.len() - 1) as u32
                });
                own.push(n);
            }
            own.sort_unstable();
            own.dedup();
            pairs.extend(own.iter().map(|&k| (k, id as u32)));
        }
        // Stable: ids stay ascending within each keyword.
        pairs.sort_by_key(|&(k, _)| k);
        let mut starts = Vec::with_capacity(strings.len() + 1);
        let mut at = 0;
        for k in 0..strings.len() as u32 {
            starts.push(at);
            at += pairs[at..].partition_point(|&(pk, _)| pk == k);
        }
        starts.push(at);
        let ids = pairs.into_iter().map(|(_, id)| id).collect();
        let mut grams = GramBuilder::new(Packing::for_ids(strings.len()));
        for (k, s) in strings.iter().enumerate() {
            grams.add(k as u32, boundary_grams(s).map(|(g, _)| (g, 0)));
        }
        Keywords {
            strings,
            starts,
            ids,
            grams: grams.finish(),
        }
    }

    /// The entries holding keyword `k`, ascending.
    pub(super) fn ids_of(&self, k: u32) -> &[u32] {
        let k = k as usize;
        &self.ids[self.starts[k]..self.starts[k + 1]]
    }

    fn heap_bytes(&self) -> usize {
        self.strings.capacity() * std::mem::size_of::<String>()
            + self.strings.iter().map(String::capacity).sum::<usize>()
            + self.starts.capacity() * std::mem::size_of::<usize>()
            + self.ids.capacity() * std::mem::size_of::<u32>()
            + self.grams.heap_bytes()
    }
}

/// Everything a query looks up, over entries in tie-break order.
pub(super) struct Lookup {
    pub(super) zh: Table,
    pub(super) pinyin: Table,
    pub(super) en: Table,
    pub(super) code: Table,
    pub(super) initials: Table,
    /// Hanzi names; positions are bytes.
    pub(super) zh_grams: GramIndex,
    /// Full pinyin and English name of each entry in one list; positions are bytes in
    /// whichever of the two holds the gram first.
    pub(super) name_grams: GramIndex,
    /// Initials; no positions (their tier ranks them all alike).
    pub(super) initials_grams: GramIndex,
    /// The first three bytes of each English word; positions are word numbers.
    pub(super) word_starts: GramIndex,
    pub(super) keywords: Keywords,
}

impl Lookup {
    pub(super) fn new(entries: &[Entry]) -> Lookup {
        let packing = Packing::for_ids(entries.len());
        let mut zh = GramBuilder::new(packing);
        let mut names = GramBuilder::new(packing);
        let mut initials = GramBuilder::new(packing);
        let mut words = GramBuilder::new(packing);
        // At most one gram per byte: reserving avoids regrowing millions of pairs at 100k.
        let bytes = |f: fn(&Entry) -> usize| entries.iter().map(f).sum::<usize>();
        zh.reserve(bytes(|e| e.zh.len()));
        names.reserve(bytes(|e| e.pinyin.len() + e.en.len()));
        initials.reserve(bytes(|e| e.initials.len()));
        words.reserve(bytes(|e| e.en_words.len()));
        for (id, e) in entries.iter().enumerate() {
            let id = id as u32;
            zh.add(id, boundary_grams(&e.zh));
            names.add(id, boundary_grams(&e.pinyin).chain(boundary_grams(&e.en)));
            initials.add(id, boundary_grams(&e.initials).map(|(g, _)| (g, 0)));
            words.add(
                id,
                e.en_words
                    .iter()
                    .enumerate()
                    .map(|(w, word)| (gram_at(word.as_bytes(), 0), w)),
            );
        }
        Lookup {
            zh: Table::new(entries, Field::Zh),
            pinyin: Table::new(entries, Field::Pinyin),
            en: Table::new(entries, Field::En),
            code: Table::new(entries, Field::Code),
            initials: Table::new(entries, Field::Initials),
            zh_grams: zh.finish(),
            name_grams: names.finish(),
            initials_grams: initials.finish(),
            word_starts: words.finish(),
            keywords: Keywords::new(entries),
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        [&self.zh, &self.pinyin, &self.en, &self.code, &self.initials]
            .iter()
            .map(|t| t.heap_bytes())
            .sum::<usize>()
            + [
                &self.zh_grams,
                &self.name_grams,
                &self.initials_grams,
                &self.word_starts,
            ]
            .iter()
            .map(|g| g.heap_bytes())
            .sum::<usize>()
            + self.keywords.heap_bytes()
    }
}
