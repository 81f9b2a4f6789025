//! The durable outbox: every submission is written here, one row of `submissions` holding
//! the submission, its sealed payload and its sending state, committed (FULL) before the
//! citizen sees "submitted". The sync engine (`kiosk::sync`) sends entries in strict `seq`
//! order and records what the platform answered. `seq` is the row's key and is never
//! reused, even after retention deleted the rows above it.
//!
//! States: `pending` (waiting to be sent, maybe after a backoff), `in_flight` (in a batch the
//! platform has not answered yet; after a crash these are sent again with the same ids, which
//! the platform deduplicates), `acked` (accepted or duplicate; personal payload deleted),
//! `quarantined` (rejected by the platform; kept for staff, never blocks later entries).

mod enqueue;
pub mod entries;
mod payload;
mod status;

pub use enqueue::{enqueue, enqueue_all, Enqueued};
pub use entries::{Disposition, EntryRow, RetryError};
pub use payload::{Applicant, Attachment, NewSubmission, SealedPayload};
pub use status::{status, OutboxStatus};

/// The four states, as stored in `outbox.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    Pending,
    InFlight,
    Acked,
    Quarantined,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::InFlight => "in_flight",
            EntryState::Acked => "acked",
            EntryState::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<EntryState> {
        Some(match s {
            "pending" => EntryState::Pending,
            "in_flight" => EntryState::InFlight,
            "acked" => EntryState::Acked,
            "quarantined" => EntryState::Quarantined,
            _ => return None,
        })
    }
}
