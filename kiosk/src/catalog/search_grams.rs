//! Trigram posting lists: for every three bytes that start at a character boundary of an
//! entry's string, the entries holding them, each with the first position they occur at.
//!
//! A query's occurrence at byte `s` of a string puts its gram at offset `j` at `s + j`, so
//! the gram's first position `p` gives `s >= p - j`: a lower bound the query walks in order.
//! Queries shorter than a gram use every gram that starts with them (strings are padded past
//! their end with 0xFF, a byte UTF-8 never holds, so the last characters have grams too).
//!
//! A posting is one `u32`: the position in the high bits and the entry id in the low bits, so
//! ascending postings are ascending (position, id). Positions too large for the bits left are
//! clamped, which keeps them lower bounds.

/// Three bytes packed big-endian, so numeric order is byte order.
pub(super) type Gram = u32;

const PAD: u8 = 0xFF;

/// The gram starting at byte `at` of `bytes`.
pub(super) fn gram_at(bytes: &[u8], at: usize) -> Gram {
    let b = |i: usize| u32::from(bytes.get(at + i).copied().unwrap_or(PAD));
    (b(0) << 16) | (b(1) << 8) | b(2)
}

/// Every gram of `s` at a character boundary, with its byte position.
pub(super) fn boundary_grams(s: &str) -> impl Iterator<Item = (Gram, usize)> + '_ {
    s.char_indices().map(|(p, _)| (gram_at(s.as_bytes(), p), p))
}

/// How postings pack (position, id) into a `u32`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Packing {
    id_bits: u32,
}

impl Packing {
    /// Plain ids (position 0) are their own postings.
    pub(super) const IDS: Packing = Packing { id_bits: 32 };

    /// Room for ids `0..n` (`n` at most 2^32).
    pub(super) fn for_ids(n: usize) -> Packing {
        let top = n.saturating_sub(1) as u64;
        Packing {
            id_bits: (64 - top.leading_zeros()).clamp(1, 32),
        }
    }

    fn max_pos(self) -> u64 {
        (1u64 << (32 - self.id_bits)) - 1
    }

    pub(super) fn pack(self, pos: usize, id: u32) -> u32 {
        let pos = (pos as u64).min(self.max_pos());
        ((pos << self.id_bits) | u64::from(id)) as u32
    }

    /// (position, id) of a posting.
    pub(super) fn unpack(self, posting: u32) -> (usize, u32) {
        let v = u64::from(posting);
        let id = v & ((1u64 << self.id_bits) - 1);
        ((v >> self.id_bits) as usize, id as u32)
    }
}

/// How a query uses the grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The query occurs anywhere: use its rarest gram.
    Contains,
    /// The indexed string starts with the query (positions index words, not bytes): use the
    /// query's first gram.
    StartsWith,
}

/// What a query walks in one gram index.
pub(super) struct Walk<'a> {
    /// Lists merged in posting order.
    pub(super) lists: Vec<&'a [u32]>,
    /// The offset in the query of the gram the lists belong to.
    pub(super) offset: usize,
    /// For a query of several grams (`Mode::Contains`), the lists of the other ones,
    /// shortest first: an entry holding the query is in every one of them.
    pub(super) others: Vec<&'a [u32]>,
}

/// Posting lists by gram, stored flat: the postings of `grams[i]` are
/// `postings[starts[i]..starts[i + 1]]`, ascending.
pub(super) struct GramIndex {
    grams: Vec<Gram>,
    starts: Vec<usize>,
    postings: Vec<u32>,
    packing: Packing,
}

impl GramIndex {
    pub(super) fn packing(&self) -> Packing {
        self.packing
    }

    fn list_at(&self, i: usize) -> &[u32] {
        &self.postings[self.starts[i]..self.starts[i + 1]]
    }

    /// The postings of one gram (empty when no string holds it).
    pub(super) fn list(&self, gram: Gram) -> &[u32] {
        match self.grams.binary_search(&gram) {
            Ok(i) => self.list_at(i),
            Err(_) => &[],
        }
    }

    /// The lists to walk for `q` (not empty, normalised). No lists: no indexed string can
    /// hold `q`.
    pub(super) fn walk_for(&self, q: &str, mode: Mode) -> Walk<'_> {
        let b = q.as_bytes();
        let mut walk = Walk {
            lists: Vec::new(),
            offset: 0,
            others: Vec::new(),
        };
        if b.len() < 3 {
            walk.lists = self.lists_starting_with(b);
            return walk;
        }
        if mode == Mode::StartsWith {
            walk.lists = vec![self.list(gram_at(b, 0))];
            return walk;
        }
        let mut all: Vec<(&[u32], usize)> = Vec::new();
        for (j, _) in q.char_indices().filter(|&(j, _)| j + 3 <= b.len()) {
            let list = self.list(gram_at(b, j));
            if list.is_empty() {
                return walk;
            }
            all.push((list, j));
        }
        // Shortest first; a gram repeated in the query gives the same list twice.
        all.sort_by_key(|(l, j)| (l.len(), l.as_ptr() as usize, *j));
        all.dedup_by_key(|(l, _)| l.as_ptr());
        let Some(&(list, offset)) = all.first() else {
            return walk;
        };
        walk.lists = vec![list];
        walk.offset = offset;
        walk.others = all[1..].iter().map(|(l, _)| *l).collect();
        walk
    }

    /// The lists of every gram that starts with `prefix` (one or two bytes).
    fn lists_starting_with(&self, prefix: &[u8]) -> Vec<&[u32]> {
        let fill = |byte: u8| {
            let mut g = [byte; 3];
            g[..prefix.len()].copy_from_slice(prefix);
            gram_at(&g, 0)
        };
        let (lo, hi) = (fill(0), fill(0xFF));
        let first = self.grams.partition_point(|&g| g < lo);
        let last = self.grams.partition_point(|&g| g <= hi);
        (first..last).map(|i| self.list_at(i)).collect()
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.grams.capacity() * std::mem::size_of::<Gram>()
            + self.starts.capacity() * std::mem::size_of::<usize>()
            + self.postings.capacity() * std::mem::size_of::<u32>()
    }
}

/// Collects grams entry by entry, then sorts them into a `GramIndex`.
pub(super) struct GramBuilder {
    packing: Packing,
    /// gram << 32 | posting: one sort groups them by gram, in posting order.
    pairs: Vec<u64>,
    /// One entry's grams as gram << 32 | position.
    scratch: Vec<u64>,
}

impl GramBuilder {
    pub(super) fn new(packing: Packing) -> GramBuilder {
        GramBuilder {
            packing,
            pairs: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Adds one entry's grams with their positions; only the first position of each gram in
    /// the entry is kept.
    pub(super) fn add(&mut self, id: u32, grams: impl IntoIterator<Item = (Gram, usize)>) {
        self.scratch.clear();
        self.scratch.extend(
            grams
                .into_iter()
                .map(|(g, pos)| (u64::from(g) << 32) | pos.min(u32::MAX as usize) as u64),
        );
        self.scratch.sort_unstable();
        self.scratch.dedup_by_key(|g| *g >> 32);
        for &g in &self.scratch {
            let posting = self.packing.pack(g as u32 as usize, id);
            self.pairs.push((g & !0xFFFF_FFFF) | u64::from(posting));
        }
    }

    /// Makes room for `more` grams.
    pub(super) fn reserve(&mut self, more: usize) {
        self.pairs.reserve(more);
    }

    pub(super) fn finish(mut self) -> GramIndex {
        self.pairs.sort_unstable();
        let mut grams = Vec::new();
        let mut starts = Vec::new();
        let mut postings = Vec::with_capacity(self.pairs.len());
        for (i, &pair) in self.pairs.iter().enumerate() {
            let gram = (pair >> 32) as Gram;
            if grams.last() != Some(&gram) {
                grams.push(gram);
                starts.push(i);
            }
            postings.push(pair as u32);
        }
        starts.push(postings.len());
        grams.shrink_to_fit();
        starts.shrink_to_fit();
        GramIndex {
            grams,
            starts,
            postings,
            packing: self.packing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(strings: &[&str]) -> GramIndex {
        let mut b = GramBuilder::new(Packing::for_ids(strings.len()));
        for (id, s) in strings.iter().enumerate() {
            b.add(id as u32, boundary_grams(s));
        }
        b.finish()
    }

    fn unpacked(ix: &GramIndex, list: &[u32]) -> Vec<(usize, u32)> {
        list.iter().map(|&p| ix.packing().unpack(p)).collect()
    }

    #[test]
    fn packing_orders_by_position_then_id_and_clamps_long_positions() {
        let p = Packing::for_ids(100_000);
        assert_eq!(p.unpack(p.pack(7, 99_999)), (7, 99_999));
        assert!(p.pack(1, 0) > p.pack(0, 99_999));
        assert_eq!(p.unpack(p.pack(usize::MAX, 3)), (32_767, 3));
        let one = Packing::for_ids(1);
        assert_eq!(one.unpack(one.pack(5, 0)), (5, 0));
        assert_eq!(Packing::IDS.unpack(7), (0, 7));
        assert_eq!(
            Packing::IDS.unpack(Packing::IDS.pack(5, u32::MAX)),
            (0, u32::MAX)
        );
    }

    #[test]
    fn lists_keep_the_first_position_per_entry_in_position_order() {
        let ix = index(&["abcabc", "xxabc", "abd"]);
        let walk = ix.walk_for("abc", Mode::Contains);
        assert_eq!(walk.offset, 0);
        assert_eq!(unpacked(&ix, walk.lists[0]), vec![(0, 0), (2, 1)]);
        assert!(walk.others.is_empty());
        // "xab" (offset 0) is in one entry, "abc" (offset 1) in two: the rarer one is used.
        let walk = ix.walk_for("xabc", Mode::Contains);
        assert_eq!(
            (unpacked(&ix, walk.lists[0]), walk.offset),
            (vec![(1, 1)], 0)
        );
        assert_eq!(unpacked(&ix, walk.others[0]), vec![(0, 0), (2, 1)]);
        assert!(ix.walk_for("abz", Mode::Contains).lists.is_empty());
        // A repeated gram is walked or filtered by once.
        assert_eq!(ix.walk_for("abcabc", Mode::Contains).others.len(), 2);
    }

    #[test]
    fn short_queries_use_every_gram_they_start_including_padded_ends() {
        let ix = index(&["ab", "b", "cab"]);
        let lists = ix.walk_for("b", Mode::Contains).lists;
        let mut all: Vec<(usize, u32)> = lists.iter().flat_map(|l| unpacked(&ix, l)).collect();
        all.sort();
        assert_eq!(all, vec![(0, 1), (1, 0), (2, 2)]);
        let lists = ix.walk_for("ab", Mode::Contains).lists;
        let all: Vec<(usize, u32)> = lists.iter().flat_map(|l| unpacked(&ix, l)).collect();
        assert_eq!(all, vec![(0, 0), (1, 2)]);
    }

    #[test]
    fn hanzi_grams_start_at_character_boundaries_only() {
        let ix = index(&["开办饭店", "饭"]);
        let walk = ix.walk_for("饭店", Mode::Contains);
        assert_eq!(walk.offset, 3, "店 is rarer than 饭");
        assert_eq!(unpacked(&ix, walk.lists[0]), vec![(9, 0)]);
        // No gram starts inside a character.
        assert_eq!(ix.grams.len(), 4);
    }
}
