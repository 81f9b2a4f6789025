//! Logging through `tracing`. Personal data never goes into a log line: log ids, codes and
//! counts, never names, ID numbers, addresses, form values or face data.
//!
//! Under systemd, stderr is connected to the journal and `JOURNAL_STREAM` names it; then the
//! kiosk logs to journald natively (structured fields, priorities, identifier
//! `hall-kiosk`). Otherwise, and if journald cannot be reached, to stderr.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Syslog identifier in the journal (`journalctl -t hall-kiosk`).
pub const JOURNAL_IDENTIFIER: &str = "hall-kiosk";

/// Sets up logging, filtered by `RUST_LOG` (default `warn` for commands, so their stdout
/// stays clean for JSON).
pub fn init() {
    init_with_default("warn");
}

/// As [`init`] with another default filter (the app uses `info`).
pub fn init_with_default(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    if stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(layer) => {
                let layer = layer.with_syslog_identifier(JOURNAL_IDENTIFIER.to_string());
                let _ = tracing_subscriber::registry()
                    .with(filter)
                    .with(layer)
                    .try_init();
                return;
            }
            Err(e) => eprintln!("journald is not reachable ({e}); logging to stderr"),
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Whether stderr is the journal stream systemd set up: `JOURNAL_STREAM` is `DEV:INODE` of
/// that stream (systemd.exec(5)); a child whose stderr was redirected elsewhere keeps the
/// variable but fails the comparison, and logs to its stderr.
pub fn stderr_is_journal() -> bool {
    let Ok(value) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    match nix::sys::stat::fstat(2) {
        Ok(st) => journal_stream_matches(&value, st.st_dev, st.st_ino),
        Err(_) => false,
    }
}

fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse::<u64>().ok() == Some(dev) && i.parse::<u64>().ok() == Some(ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_stream_must_be_stderr_itself() {
        assert!(journal_stream_matches("64769:1234", 64769, 1234));
        assert!(!journal_stream_matches("64769:1234", 64769, 1235));
        assert!(!journal_stream_matches("64769", 64769, 1234));
        assert!(!journal_stream_matches("x:1234", 64769, 1234));
    }
}
