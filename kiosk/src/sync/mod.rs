//! Sync to the central platform (`docs/central-api.md`) over mutual TLS.
//!
//! - `protocol`: the contract as pure functions (request bodies, response outcomes per id,
//!   Retry-After, heartbeat, catalog answers). Unit-tested with bytes alone.
//! - `backoff`: exponential backoff with full jitter (injectable RNG).
//! - `client`: the HTTPS edge (reqwest + rustls, TLS 1.3, client certificate, only the
//!   configured CA).
//! - `engine`: claims outbox entries, sends batches, settles answers.
//! - `heartbeat`: the heartbeat with its `[ext]` catalog and maintenance facts (the
//!   [`HeartbeatFacts`] hook) and the scrub every free text passes before it leaves.
//! - `run`: the catalog hook, retention, `cycle` (`kiosk sync once`) and the loop.
//! - `progress`: the [`SyncHandle`] the UI and session flow use (wake, network changed,
//!   device states, snapshot for diagnostics).

pub mod backoff;
pub mod client;
mod engine;
pub mod heartbeat;
pub mod progress;
pub mod protocol;
#[cfg(test)]
mod protocol_props;
mod run;

pub use engine::{CatalogSink, PushReport, RejectedItem, SyncEngine};
pub use heartbeat::{HeartbeatFacts, HeartbeatMaintenance};
pub use progress::{SyncCounters, SyncHandle, SyncProgress, SyncState};
pub use run::CycleReport;
