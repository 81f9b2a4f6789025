//! The pinyin engine of the on-screen keyboard: typed letters -> hanzi candidates, words
//! first (useful for addresses: 上海市, 浦东新区), then single characters by frequency (names are
//! picked character by character: zhang -> 张, then san -> 三).
//!
//! Data ships with two maintained crates, nothing is downloaded or bundled by hand:
//! - `pinyin` (pinyin-data, from Unicode Unihan and the 现代汉语词典 readings): the readings of every
//!   character in U+4E00..U+9FFF, heteronyms included;
//! - `jieba-rs`'s embedded dictionary (about 350,000 words with corpus frequencies): the
//!   frequency of each character as a word of its own, and which character sequences are words
//!   and how frequent (`Jieba::has_word`, `Jieba::suggest_freq`).
//!
//! The index is built once, lazily (or ahead of time with [`warm_up`]); a lookup is a few
//! thousand dictionary probes at most.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use jieba_rs::Jieba;
use pinyin::ToPinyinMulti;

/// One hanzi word or character offered for the typed letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    /// How many bytes of the (normalised) input this candidate uses; the rest stays composing.
    pub consumed: usize,
}

/// One syllable of the input as segmented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub letters: String,
    /// Byte offset just past this piece in the normalised input.
    pub end: usize,
    /// False for an unfinished last syllable ("zh" while typing "zhang").
    pub complete: bool,
}

/// Characters for one syllable tried when looking for words.
const WORD_CHARS_PER_SYLLABLE: usize = 60;
/// Partial character sequences kept between syllables when looking for words.
const WORD_BEAM: usize = 300;
/// Longest word looked for, in syllables (四字词 covers 浦东新区, 社会保险).
const MAX_WORD_SYLLABLES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct CharEntry {
    ch: char,
    freq: u64,
}

/// The candidate index: syllable -> characters by frequency, plus the word dictionary.
pub struct PinyinIme {
    jieba: Jieba,
    by_syllable: HashMap<String, Vec<CharEntry>>,
    /// All syllables, sorted, for prefix lookups of the unfinished last syllable.
    syllables: Vec<String>,
    max_syllable_len: usize,
}

/// The shared index, built on first use.
pub fn global() -> &'static PinyinIme {
    static INDEX: OnceLock<PinyinIme> = OnceLock::new();
    INDEX.get_or_init(PinyinIme::build)
}

/// Builds the index on a background thread so the first keystroke does not wait for it.
pub fn warm_up() {
    std::thread::spawn(|| {
        let started = std::time::Instant::now();
        let ime = global();
        tracing::debug!(
            syllables = ime.syllables.len(),
            ms = started.elapsed().as_millis() as u64,
            "pinyin index ready"
        );
    });
}

/// Keeps only what the keyboard can type: ASCII letters (lowercased) and apostrophes as
/// syllable separators; `ü` may be typed as `v`.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '\'' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'ü' | 'Ü' => Some('v'),
            _ => None,
        })
        .collect()
}

impl PinyinIme {
    fn build() -> PinyinIme {
        let jieba = Jieba::new();
        let mut by_syllable: HashMap<String, Vec<CharEntry>> = HashMap::new();
        let mut buf = [0u8; 4];
        for cp in 0x4E00u32..=0x9FFF {
            let Some(ch) = char::from_u32(cp) else {
                continue;
            };
            let Some(readings) = ch.to_pinyin_multi() else {
                continue;
            };
            let as_str: &str = ch.encode_utf8(&mut buf);
            // The character's own frequency as a one-character word; 0 when jieba never saw it
            // alone (rare characters still appear, after the common ones).
            let freq = if jieba.has_word(as_str) {
                jieba.suggest_freq(as_str) as u64
            } else {
                0
            };
            let mut seen: Vec<String> = Vec::new();
            for reading in readings {
                let key = reading.plain().replace('ü', "v");
                if seen.contains(&key) {
                    continue;
                }
                by_syllable
                    .entry(key.clone())
                    .or_default()
                    .push(CharEntry { ch, freq });
                seen.push(key);
            }
        }
        for list in by_syllable.values_mut() {
            list.sort_by(|a, b| b.freq.cmp(&a.freq).then(a.ch.cmp(&b.ch)));
        }
        let mut syllables: Vec<String> = by_syllable.keys().cloned().collect();
        syllables.sort();
        let max_syllable_len = syllables.iter().map(String::len).max().unwrap_or(0);
        PinyinIme {
            jieba,
            by_syllable,
            syllables,
            max_syllable_len,
        }
    }

    /// True when `s` is a whole syllable ("zhang", "lv").
    pub fn is_syllable(&self, s: &str) -> bool {
        self.by_syllable.contains_key(s)
    }

    /// True when some syllable starts with `s`.
    fn is_syllable_prefix(&self, s: &str) -> bool {
        let at = self.syllables.partition_point(|x| x.as_str() < s);
        self.syllables.get(at).is_some_and(|x| x.starts_with(s))
    }

    /// Splits normalised input into syllables: fewest pieces, longest first on ties; the last
    /// piece may be unfinished. `None` when the letters are no pinyin at all.
    pub fn segment(&self, input: &str) -> Option<Vec<Piece>> {
        let input = normalise(input);
        let mut pieces = Vec::new();
        let mut offset = 0;
        let chunks: Vec<&str> = input.split('\'').collect();
        for (n, chunk) in chunks.iter().enumerate() {
            let last_chunk = n + 1 == chunks.len();
            if !chunk.is_empty() {
                let mut memo = HashMap::new();
                let (_, cuts) = self.best_split(chunk, 0, last_chunk, &mut memo)?;
                let mut start = 0;
                for (end, complete) in cuts {
                    pieces.push(Piece {
                        letters: chunk[start..end].to_string(),
                        end: offset + end,
                        complete,
                    });
                    start = end;
                }
            }
            offset += chunk.len() + 1; // the apostrophe
        }
        if pieces.is_empty() {
            None
        } else {
            Some(pieces)
        }
    }

    /// Best split of `chunk[i..]`: (piece count, [(end, complete)]), memoised on `i`.
    #[allow(clippy::type_complexity)]
    fn best_split(
        &self,
        chunk: &str,
        i: usize,
        may_end_unfinished: bool,
        memo: &mut HashMap<usize, Option<(usize, Vec<(usize, bool)>)>>,
    ) -> Option<(usize, Vec<(usize, bool)>)> {
        if i == chunk.len() {
            return Some((0, Vec::new()));
        }
        if let Some(known) = memo.get(&i) {
            return known.clone();
        }
        let mut best: Option<(usize, Vec<(usize, bool)>)> = None;
        let longest = self.max_syllable_len.min(chunk.len() - i);
        for len in (1..=longest).rev() {
            let end = i + len;
            let piece = &chunk[i..end];
            let option = if self.is_syllable(piece) {
                self.best_split(chunk, end, may_end_unfinished, memo)
                    .map(|(count, mut cuts)| {
                        cuts.insert(0, (end, true));
                        (count + 1, cuts)
                    })
            } else if end == chunk.len() && may_end_unfinished && self.is_syllable_prefix(piece) {
                Some((1, vec![(end, false)]))
            } else {
                None
            };
            if let Some(found) = option {
                if best.as_ref().is_none_or(|b| found.0 < b.0) {
                    best = Some(found);
                }
            }
        }
        memo.insert(i, best.clone());
        best
    }

    /// Characters for one piece, most frequent first (all syllables it may start, if unfinished).
    fn chars_for(&self, piece: &Piece) -> Vec<CharEntry> {
        if piece.complete {
            return self
                .by_syllable
                .get(&piece.letters)
                .cloned()
                .unwrap_or_default();
        }
        let from = self
            .syllables
            .partition_point(|x| x.as_str() < piece.letters.as_str());
        let mut seen = HashSet::new();
        let mut all: Vec<CharEntry> = self.syllables[from..]
            .iter()
            .take_while(|s| s.starts_with(&piece.letters))
            .filter_map(|s| self.by_syllable.get(s))
            .flatten()
            .filter(|e| seen.insert(e.ch))
            .copied()
            .collect();
        all.sort_by(|a, b| b.freq.cmp(&a.freq).then(a.ch.cmp(&b.ch)));
        all
    }

    /// Candidates for the typed letters, best first, at most `limit`: dictionary words over
    /// the most syllables first, then the first syllable's characters by frequency.
    pub fn candidates(&self, input: &str, limit: usize) -> Vec<Candidate> {
        let Some(pieces) = self.segment(input) else {
            return Vec::new();
        };
        let per_piece: Vec<Vec<CharEntry>> = pieces
            .iter()
            .take(MAX_WORD_SYLLABLES)
            .map(|p| self.chars_for(p))
            .collect();

        let mut out: Vec<Candidate> = Vec::new();
        let mut words = self.words(&pieces, &per_piece);
        // More syllables first (the whole input as one word is the likeliest wish), then frequency.
        words.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)));
        let mut seen = HashSet::new();
        for (text, _, syllables) in words {
            if out.len() >= limit {
                break;
            }
            if seen.insert(text.clone()) {
                out.push(Candidate {
                    text,
                    consumed: pieces[syllables - 1].end,
                });
            }
        }
        if let Some(first) = per_piece.first() {
            for entry in first {
                if out.len() >= limit {
                    break;
                }
                let text = entry.ch.to_string();
                if seen.insert(text.clone()) {
                    out.push(Candidate {
                        text,
                        consumed: pieces[0].end,
                    });
                }
            }
        }
        out
    }

    /// Dictionary words spelled by the first 2..=4 pieces: (word, frequency, syllables).
    fn words(&self, pieces: &[Piece], per_piece: &[Vec<CharEntry>]) -> Vec<(String, u64, usize)> {
        let mut found = Vec::new();
        let Some(first) = per_piece.first() else {
            return found;
        };
        // (text so far, beam score): words keep their frequency, non-words the rarer char's.
        let mut beam: Vec<(String, u64)> = first
            .iter()
            .filter(|e| e.freq > 0)
            .take(WORD_CHARS_PER_SYLLABLE)
            .map(|e| (e.ch.to_string(), e.freq))
            .collect();
        for (j, chars) in per_piece.iter().enumerate().skip(1) {
            let next: Vec<&CharEntry> = chars
                .iter()
                .filter(|e| e.freq > 0)
                .take(WORD_CHARS_PER_SYLLABLE)
                .collect();
            let mut grown: Vec<(String, u64)> = Vec::with_capacity(beam.len() * next.len());
            for (prefix, score) in &beam {
                for entry in &next {
                    let mut text = String::with_capacity(prefix.len() + 3);
                    text.push_str(prefix);
                    text.push(entry.ch);
                    if self.jieba.has_word(&text) {
                        let freq = self.jieba.suggest_freq(&text) as u64;
                        found.push((text.clone(), freq, j + 1));
                        // Words outrank any non-word prefix in the beam.
                        grown.push((text, freq.saturating_add(u64::MAX / 2)));
                    } else {
                        grown.push((text, (*score).min(entry.freq)));
                    }
                }
            }
            grown.sort_by_key(|g| std::cmp::Reverse(g.1));
            grown.truncate(WORD_BEAM);
            beam = grown;
            if j + 1 >= pieces.len() {
                break;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str, n: usize) -> Vec<String> {
        global()
            .candidates(input, n)
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    fn split(input: &str) -> Vec<(String, bool)> {
        global()
            .segment(input)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.letters, p.complete))
            .collect()
    }

    #[test]
    fn segments_by_fewest_syllables_with_unfinished_tail() {
        assert_eq!(
            split("zhangsan"),
            vec![("zhang".into(), true), ("san".into(), true)]
        );
        assert_eq!(split("xian"), vec![("xian".into(), true)]);
        assert_eq!(
            split("xi'an"),
            vec![("xi".into(), true), ("an".into(), true)]
        );
        assert_eq!(
            split("shangh"),
            vec![("shang".into(), true), ("h".into(), false)]
        );
        assert_eq!(split("lv"), vec![("lv".into(), true)]);
        assert!(global().segment("iii").is_none());
        assert!(global().segment("").is_none());
    }

    #[test]
    fn whole_input_words_come_first() {
        assert_eq!(texts("shanghai", 1), vec!["上海"]);
        assert!(texts("pudong", 3).contains(&"浦东".to_string()));
        assert!(texts("shanghaishi", 3).contains(&"上海市".to_string()));
        assert!(texts("shehuibaoxian", 3).contains(&"社会保险".to_string()));
    }

    #[test]
    fn characters_follow_by_frequency_for_names() {
        let zhang = texts("zhang", 10);
        assert!(zhang.contains(&"张".to_string()), "{zhang:?}");
        // 张 is far more frequent than 彰: it must come first.
        let pos = |c: &str| zhang.iter().position(|x| x == c);
        assert!(pos("张") < pos("彰").or(Some(usize::MAX)));
        // Choosing a character for the first syllable leaves the rest composing.
        let first = global().candidates("zhangsan", 50);
        let zhang_char = first.iter().find(|c| c.text == "张").expect("张 offered");
        assert_eq!(&"zhangsan"[zhang_char.consumed..], "san");
        assert!(texts("san", 5).contains(&"三".to_string()));
        assert!(texts("lv", 10).contains(&"绿".to_string()));
    }

    #[test]
    fn unfinished_syllable_offers_the_common_characters() {
        let sh = texts("sh", 5);
        assert!(sh.contains(&"是".to_string()), "{sh:?}");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for input in [
            "'",
            "''a",
            "zzzzzzzzzzzzzzzz",
            "a'''b",
            "ZHANG",
            "张",
            "v",
            "ng",
            "x1y2",
        ] {
            let _ = global().candidates(input, 20);
        }
    }
}
