//! Answering one query from the lookup structures, exactly as a scan of every entry would.
//!
//! Every way an entry can match (`Entry::rank`) has a source here that yields the entries
//! which may match that way, in ascending order of a lower bound of the key they would rank
//! at, (tier, position, id). Every candidate is ranked by `Entry::rank` itself and kept if it
//! is among the best `limit` so far. The walk always advances the source with the lowest
//! bound, and stops when that bound is no better than the worst kept result: every entry not
//! yet ranked matches in some way whose source has not reached it, so its key is at least that
//! bound and it cannot enter the results. Sources are opened (their lists collected) only
//! when the walk reaches their tier, so a keystroke that fills the results with prefix matches
//! never touches the substring or keyword lists.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::grams::{GramIndex, Mode, Packing, Walk};
use super::{Entry, MatchTier, SearchIndex};

/// (tier, position, id): the order of results, since ids are in tie-break order.
type Key = (MatchTier, usize, u32);

/// The best `limit` (tier, id) for `q` (normalised, not empty), best first.
pub(super) fn best(ix: &SearchIndex, q: &str, limit: usize) -> Vec<(MatchTier, u32)> {
    let ascii = q.is_ascii();
    let mut sources = plan(ix, q, ascii);
    let mut seen = vec![0u64; ix.entries.len().div_ceil(64)];
    // A max-heap: the worst kept result on top.
    let mut kept: BinaryHeap<Key> = BinaryHeap::new();
    loop {
        let mut lowest: Option<(usize, Key)> = None;
        for (i, source) in sources.iter_mut().enumerate() {
            if let Some(bound) = source.bound() {
                if lowest.is_none_or(|(_, b)| bound < b) {
                    lowest = Some((i, bound));
                }
            }
        }
        let Some((i, bound)) = lowest else { break };
        if kept.len() >= limit && kept.peek().is_some_and(|worst| *worst <= bound) {
            break;
        }
        let Some(id) = sources[i].step(ix, q) else {
            continue;
        };
        let (word, bit) = (id as usize / 64, 1u64 << (id % 64));
        if seen[word] & bit != 0 {
            continue;
        }
        seen[word] |= bit;
        if let Some((tier, pos)) = ix.entries[id as usize].rank(q, ascii) {
            let key = (tier, pos, id);
            if kept.len() < limit {
                kept.push(key);
            } else if kept.peek().is_some_and(|worst| key < *worst) {
                kept.pop();
                kept.push(key);
            }
        }
    }
    let mut out = kept.into_vec();
    out.sort_unstable();
    out.into_iter().map(|(tier, _, id)| (tier, id)).collect()
}

/// One source per way of matching, in the order of `Entry::rank`'s tiers.
fn plan<'a>(ix: &'a SearchIndex, q: &str, ascii: bool) -> Vec<Source<'a>> {
    let (l, e) = (&ix.lookup, ix.entries.as_slice());
    let mut sources = Vec::with_capacity(8);
    let mut exact = Vec::new();
    let mut prefix = Vec::new();
    let tables = if ascii {
        vec![&l.pinyin, &l.en, &l.code]
    } else {
        vec![&l.zh]
    };
    for t in tables {
        let (equal, longer) = t.equal_and_longer(e, q);
        exact.push(equal);
        prefix.push(longer);
    }
    if !ascii {
        // A code equal to the query is exact whatever script it is in.
        exact.push(l.code.equal_and_longer(e, q).0);
    }
    sources.push(Source::ids(MatchTier::Exact, 0, exact));
    sources.push(Source::ids(MatchTier::Prefix, 0, prefix));
    if ascii {
        let (equal, longer) = l.initials.equal_and_longer(e, q);
        sources.push(Source::ids(MatchTier::Initials, 0, vec![equal]));
        if q.len() >= 2 {
            sources.push(Source::ids(MatchTier::Initials, 1, vec![longer]));
        }
        if q.len() >= 3 {
            let grams = Pending::grams(&l.initials_grams, Mode::Contains);
            sources.push(Source::new(MatchTier::Initials, 2, Check::Initials, grams));
        }
        // An English word is part of the English name, so a word that starts with the
        // query puts every gram of the query in the name grams: they filter the words.
        let words = Pending::Grams {
            grams: &l.word_starts,
            mode: Mode::StartsWith,
            filter_by: Some(&l.name_grams),
        };
        sources.push(Source::new(
            MatchTier::Substring,
            0,
            Check::WordStart,
            words,
        ));
        // The scan ranks a name substring at 1 + its byte position.
        let names = Pending::grams(&l.name_grams, Mode::Contains);
        sources.push(Source::new(MatchTier::Substring, 1, Check::Names, names));
    } else {
        let zh = Pending::grams(&l.zh_grams, Mode::Contains);
        sources.push(Source::new(MatchTier::Substring, 1, Check::Zh, zh));
    }
    sources.push(Source::new(
        MatchTier::Keyword,
        0,
        Check::None,
        Pending::Keywords,
    ));
    sources
}

/// What a candidate from a superset list must satisfy before it is worth ranking. One that
/// fails is skipped but not marked seen: if it matches some other way, that way's source
/// yields it.
#[derive(Debug, Clone, Copy)]
enum Check {
    None,
    Initials,
    WordStart,
    Names,
    Zh,
}

impl Check {
    fn holds(self, e: &Entry, q: &str) -> bool {
        match self {
            Check::None => true,
            Check::Initials => e.initials.contains(q),
            Check::WordStart => e.en_words.iter().any(|w| w.starts_with(q)),
            Check::Names => e.pinyin.contains(q) || e.en.contains(q),
            Check::Zh => e.zh.contains(q),
        }
    }
}

/// What a source collects when the walk first reaches it.
enum Pending<'a> {
    /// Runs of sorted tables; every id in them matches this source's way.
    Ids(Vec<&'a [u32]>),
    Grams {
        grams: &'a GramIndex,
        mode: Mode,
        /// Where the query's other grams are looked up to filter long lists (`None`: in
        /// `grams` itself).
        filter_by: Option<&'a GramIndex>,
    },
    /// The distinct keywords holding the query, then their entries.
    Keywords,
}

impl<'a> Pending<'a> {
    fn grams(grams: &'a GramIndex, mode: Mode) -> Pending<'a> {
        Pending::Grams {
            grams,
            mode,
            filter_by: None,
        }
    }
}

/// Lists shorter than this are walked unfiltered: checking each candidate costs less than
/// building the filter.
const FILTER_FROM: usize = 512;
/// At most this many other lists make up a filter.
const FILTER_LISTS: usize = 2;

enum State<'a> {
    Pending(Pending<'a>),
    /// Ids marked in a bitmap, read in ascending order.
    Bits {
        words: Vec<u64>,
        at: usize,
    },
    Lists {
        merge: Merge<'a>,
        packing: Packing,
        /// Ids that may hold the query (from its other grams); `None`: all may.
        filter: Option<Vec<u64>>,
    },
    Done,
}

struct Source<'a> {
    tier: MatchTier,
    /// Added to a posting's position to give the lowest position the scan could rank at.
    base: usize,
    /// The offset in the query of the gram whose list is walked.
    offset: usize,
    check: Check,
    state: State<'a>,
}

impl<'a> Source<'a> {
    fn new(tier: MatchTier, base: usize, check: Check, pending: Pending<'a>) -> Source<'a> {
        Source {
            tier,
            base,
            offset: 0,
            check,
            state: State::Pending(pending),
        }
    }

    fn ids(tier: MatchTier, base: usize, runs: Vec<&'a [u32]>) -> Source<'a> {
        let empty = runs.iter().all(|r| r.is_empty());
        let mut source = Source::new(tier, base, Check::None, Pending::Ids(runs));
        if empty {
            source.state = State::Done;
        }
        source
    }

    /// No entry this source has yet to yield ranks below this; `None` when it is done.
    fn bound(&mut self) -> Option<Key> {
        match &mut self.state {
            State::Pending(_) => Some((self.tier, self.base, 0)),
            State::Bits { words, at } => {
                while *at < words.len() && words[*at] == 0 {
                    *at += 1;
                }
                let w = words.get(*at)?;
                let id = (*at * 64) as u32 + w.trailing_zeros();
                Some((self.tier, self.base, id))
            }
            State::Lists { merge, packing, .. } => {
                let (pos, id) = packing.unpack(merge.peek()?);
                Some((self.tier, self.base + pos.saturating_sub(self.offset), id))
            }
            State::Done => None,
        }
    }

    /// Advances by one posting: the entry to rank, if it passes the check. A pending source
    /// is opened instead.
    fn step(&mut self, ix: &'a SearchIndex, q: &str) -> Option<u32> {
        match &mut self.state {
            State::Pending(pending) => {
                let (state, offset) = open(pending, ix, q);
                self.state = state;
                self.offset = offset;
                None
            }
            State::Bits { words, at } => {
                let w = words.get_mut(*at).filter(|w| **w != 0)?;
                let bit = w.trailing_zeros();
                *w &= *w - 1;
                Some((*at * 64) as u32 + bit)
            }
            State::Lists {
                merge,
                packing,
                filter,
            } => {
                let (_, id) = packing.unpack(merge.pop()?);
                let may = filter.as_ref().is_none_or(|f| has(f, id));
                (may && self.check.holds(&ix.entries[id as usize], q)).then_some(id)
            }
            State::Done => None,
        }
    }
}

/// Collects what a pending source walks, and the offset its positions are shifted by.
fn open<'a>(pending: &Pending<'a>, ix: &'a SearchIndex, q: &str) -> (State<'a>, usize) {
    match pending {
        Pending::Ids(runs) => {
            let mut words = vec![0u64; ix.entries.len().div_ceil(64)];
            for &id in runs.iter().flat_map(|r| r.iter()) {
                words[id as usize / 64] |= 1u64 << (id % 64);
            }
            (State::Bits { words, at: 0 }, 0)
        }
        Pending::Grams {
            grams,
            mode,
            filter_by,
        } => {
            let walk = grams.walk_for(q, *mode);
            let filter = if walk.lists.iter().map(|l| l.len()).sum::<usize>() < FILTER_FROM {
                None
            } else if let Some(other) = filter_by {
                let Walk { lists, others, .. } = other.walk_for(q, Mode::Contains);
                if q.len() < 3 {
                    None
                } else if lists.is_empty() {
                    // Some gram of the query is in no name: no word starts with it either.
                    Some(vec![0; ix.entries.len().div_ceil(64)])
                } else {
                    let all: Vec<&[u32]> = lists.into_iter().chain(others).collect();
                    Some(intersection(ix.entries.len(), &all, other.packing()))
                }
            } else if walk.others.is_empty() {
                None
            } else {
                Some(intersection(
                    ix.entries.len(),
                    &walk.others,
                    grams.packing(),
                ))
            };
            let state = State::Lists {
                merge: Merge::new(walk.lists),
                packing: grams.packing(),
                filter,
            };
            (state, walk.offset)
        }
        Pending::Keywords => {
            let kw = &ix.lookup.keywords;
            // Keyword postings hold keyword numbers at position 0.
            let mut found: Vec<u32> = kw.grams.walk_for(q, Mode::Contains).lists.concat();
            found.sort_unstable();
            found.dedup();
            found.retain(|&k| kw.strings[k as usize].contains(q));
            let lists = found.iter().map(|&k| kw.ids_of(k)).collect();
            let state = State::Lists {
                merge: Merge::new(lists),
                packing: Packing::IDS,
                filter: None,
            };
            (state, 0)
        }
    }
}

fn has(bits: &[u64], id: u32) -> bool {
    bits.get(id as usize / 64)
        .is_some_and(|w| w & (1u64 << (id % 64)) != 0)
}

/// The ids (of `n`) in every one of the first `FILTER_LISTS` lists, as a bitmap. No lists:
/// every id.
fn intersection(n: usize, lists: &[&[u32]], packing: Packing) -> Vec<u64> {
    let words = n.div_ceil(64);
    let mut all = vec![u64::MAX; words];
    let mut one = vec![0u64; words];
    for list in lists.iter().take(FILTER_LISTS) {
        one.fill(0);
        for &posting in list.iter() {
            let (_, id) = packing.unpack(posting);
            one[id as usize / 64] |= 1u64 << (id % 64);
        }
        all.iter_mut().zip(&one).for_each(|(a, o)| *a &= o);
    }
    all
}

/// Ascending merge of ascending lists.
struct Merge<'a> {
    lists: Vec<&'a [u32]>,
    heads: BinaryHeap<Reverse<(u32, usize)>>,
}

impl<'a> Merge<'a> {
    fn new(lists: Vec<&'a [u32]>) -> Merge<'a> {
        let heads = lists
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.first().map(|&v| Reverse((v, i))))
            .collect();
        Merge { lists, heads }
    }

    fn peek(&self) -> Option<u32> {
        self.heads.peek().map(|Reverse((v, _))| *v)
    }

    fn pop(&mut self) -> Option<u32> {
        let Reverse((v, i)) = self.heads.pop()?;
        self.lists[i] = &self.lists[i][1..];
        if let Some(&next) = self.lists[i].first() {
            self.heads.push(Reverse((next, i)));
        }
        Some(v)
    }
}
