//! The record of receipts sent to the printer, so a retry never prints one twice.
//!
//! Before the first byte of a receipt goes out, `sending ID` is appended and synced; once all
//! bytes are out, `sent ID`. A retry finds `sent` (already printed: skip) or `sending` (an
//! earlier attempt broke off mid-way: the paper may hold part of it, so only an explicit
//! reprint by staff prints it again). Append-only lines survive a power cut; a torn last line
//! is ignored.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Entries kept when the file is compacted on open; retries happen within minutes, so the
/// newest few thousand receipts are plenty.
const KEEP_ENTRIES: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerState {
    /// Sending started; whether it finished is unknown.
    Sending,
    /// Every byte reached the printer.
    Sent,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("receipt id `{0}` is not usable: 1..=64 characters of A-Z a-z 0-9 - _ . : only")]
    BadId(String),
    #[error("print ledger {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// Receipt ids are printed on paper and sent to the platform; they never hold personal data,
/// so they may sit in a plain file.
pub fn valid_receipt_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[derive(Debug)]
pub struct PrintLedger {
    path: Option<PathBuf>,
    entries: HashMap<String, (u64, LedgerState)>,
    seq: u64,
}

impl PrintLedger {
    /// A ledger that forgets on exit (tests, `kiosk print-test`).
    pub fn in_memory() -> PrintLedger {
        PrintLedger {
            path: None,
            entries: HashMap::new(),
            seq: 0,
        }
    }

    /// Loads (or starts) the ledger file, compacting it when it holds far more lines than
    /// receipts.
    pub fn open(path: impl Into<PathBuf>) -> Result<PrintLedger, LedgerError> {
        let path = path.into();
        let io_err = |source| LedgerError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut ledger = PrintLedger {
            path: Some(path.clone()),
            entries: HashMap::new(),
            seq: 0,
        };
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io_err(e)),
        };
        let mut lines = 0usize;
        for line in text.lines() {
            lines += 1;
            let state = match line.split_once(' ') {
                Some(("sending", id)) if valid_receipt_id(id) => Some((id, LedgerState::Sending)),
                Some(("sent", id)) if valid_receipt_id(id) => Some((id, LedgerState::Sent)),
                // A torn or foreign line: skip it rather than refuse to print at all.
                _ => None,
            };
            if let Some((id, state)) = state {
                ledger.seq += 1;
                ledger.entries.insert(id.to_string(), (ledger.seq, state));
            }
        }
        if lines > 2 * KEEP_ENTRIES.max(ledger.entries.len()) || ledger.entries.len() > KEEP_ENTRIES
        {
            ledger.compact().map_err(io_err)?;
        }
        Ok(ledger)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn state(&self, id: &str) -> Option<LedgerState> {
        self.entries.get(id).map(|(_, s)| *s)
    }

    pub fn mark_sending(&mut self, id: &str) -> Result<(), LedgerError> {
        self.record(id, LedgerState::Sending)
    }

    pub fn mark_sent(&mut self, id: &str) -> Result<(), LedgerError> {
        self.record(id, LedgerState::Sent)
    }

    fn record(&mut self, id: &str, state: LedgerState) -> Result<(), LedgerError> {
        if !valid_receipt_id(id) {
            return Err(LedgerError::BadId(id.to_string()));
        }
        if let Some(path) = &self.path {
            let word = match state {
                LedgerState::Sending => "sending",
                LedgerState::Sent => "sent",
            };
            append_synced(path, &format!("{word} {id}\n")).map_err(|source| LedgerError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        self.seq += 1;
        self.entries.insert(id.to_string(), (self.seq, state));
        Ok(())
    }

    /// Rewrites the file with the newest entries only (temp file + rename).
    fn compact(&mut self) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut all: Vec<(u64, String, LedgerState)> = self
            .entries
            .drain()
            .map(|(id, (seq, st))| (seq, id, st))
            .collect();
        all.sort_by_key(|(seq, _, _)| *seq);
        let skip = all.len().saturating_sub(KEEP_ENTRIES);
        let kept: Vec<_> = all.into_iter().skip(skip).collect();
        let mut body = String::new();
        for (_, id, st) in &kept {
            body.push_str(if *st == LedgerState::Sent {
                "sent "
            } else {
                "sending "
            });
            body.push_str(id);
            body.push('\n');
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, path)?;
        self.entries = kept
            .into_iter()
            .map(|(seq, id, st)| (id, (seq, st)))
            .collect();
        Ok(())
    }
}

fn append_synced(path: &Path, line: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("printer/ledger.log");
        let mut l = PrintLedger::open(&path).unwrap();
        assert_eq!(l.state("XH20261127000042"), None);
        l.mark_sending("XH20261127000042").unwrap();
        l.mark_sending("XH20261127000043").unwrap();
        l.mark_sent("XH20261127000042").unwrap();
        let again = PrintLedger::open(&path).unwrap();
        assert_eq!(again.state("XH20261127000042"), Some(LedgerState::Sent));
        assert_eq!(again.state("XH20261127000043"), Some(LedgerState::Sending));
    }

    #[test]
    fn torn_lines_are_skipped_and_bad_ids_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.log");
        std::fs::write(&path, "sent A1\nsending B 2\ngarbage\nsen").unwrap();
        let mut l = PrintLedger::open(&path).unwrap();
        assert_eq!(l.state("A1"), Some(LedgerState::Sent));
        assert_eq!(l.state("B 2"), None);
        assert!(matches!(
            l.mark_sending("bad\nid"),
            Err(LedgerError::BadId(_))
        ));
        assert!(l.mark_sending("").is_err());
        assert!(l.mark_sending(&"x".repeat(65)).is_err());
    }

    #[test]
    fn compaction_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.log");
        let mut body = String::new();
        for i in 0..(KEEP_ENTRIES + 10) {
            body.push_str(&format!("sent R{i}\n"));
        }
        std::fs::write(&path, body).unwrap();
        let l = PrintLedger::open(&path).unwrap();
        assert_eq!(l.state("R0"), None);
        assert_eq!(
            l.state(&format!("R{}", KEEP_ENTRIES + 9)),
            Some(LedgerState::Sent)
        );
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines, KEEP_ENTRIES);
    }
}
