//! Submitting a visit: Review -> Submitting -> Receipt in one call, and when the store
//! cannot take the submissions, a [`SubmitError`] that says why in terms the screen can show
//! (each cause has its own message key in `ui/i18n/*/main.ftl`).
//!
//! A failed submit changes nothing on disk (the transaction that writes the submissions and
//! their outbox state rolls back as a whole), keeps everything the citizen entered, and
//! leaves the session at Review, so the same visit can be submitted again once the disk has
//! room or is writable again, without a restart.

use std::time::Instant;

use super::{FlowError, Session};
use crate::crypto::DataKey;
use crate::outbox::Enqueued;
use crate::store::{Store, StoreError};

/// Why a submission was not queued. Nothing was written; the citizen's input is kept.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The session was not at Review, or the form no longer validates.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// SQLite reported SQLITE_FULL: the disk (or the database's page limit) is full.
    #[error("the submission was not queued: the kiosk's disk is full ({0})")]
    StorageFull(String),
    /// SQLite reported SQLITE_READONLY: the database cannot be written.
    #[error("the submission was not queued: the kiosk database is read-only ({0})")]
    StorageReadOnly(String),
    /// Another connection held the write lock past the busy timeout.
    #[error("the submission was not queued: the kiosk database is busy ({0})")]
    StorageBusy(String),
    /// Any other failure to write (I/O error, corruption, sealing).
    #[error("the submission was not queued: the kiosk database cannot be written ({0})")]
    Storage(String),
}

impl SubmitError {
    /// A stable snake_case code for logs, diagnostics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Flow(_) => "flow",
            SubmitError::StorageFull(_) => "storage_full",
            SubmitError::StorageReadOnly(_) => "storage_read_only",
            SubmitError::StorageBusy(_) => "storage_busy",
            SubmitError::Storage(_) => "storage",
        }
    }

    /// The Fluent message the Review screen shows for this failure (the title is
    /// `submit-failed-title`; a retry button `submit-failed-retry`).
    pub fn message_key(&self) -> &'static str {
        match self {
            SubmitError::Flow(_) => "submit-failed-flow",
            SubmitError::StorageFull(_) => "submit-failed-full",
            SubmitError::StorageReadOnly(_) => "submit-failed-read-only",
            SubmitError::StorageBusy(_) => "submit-failed-busy",
            SubmitError::Storage(_) => "submit-failed-storage",
        }
    }

    /// Whether the kiosk should stop offering submissions until staff look (the disk needs
    /// attention), as opposed to a moment's wait.
    pub fn needs_staff(&self) -> bool {
        matches!(
            self,
            SubmitError::StorageFull(_) | SubmitError::StorageReadOnly(_) | SubmitError::Storage(_)
        )
    }

    /// Sorts a queuing failure by its cause: the first [`StoreError`] or SQLite error in the
    /// chain decides; anything else is a generic storage failure.
    pub fn from_queue_error(e: &anyhow::Error) -> SubmitError {
        for cause in e.chain() {
            if let Some(s) = cause.downcast_ref::<StoreError>() {
                return SubmitError::from_store(s);
            }
            if let Some(q) = cause.downcast_ref::<rusqlite::Error>() {
                return from_sqlite_code(q.sqlite_error_code(), q.to_string());
            }
        }
        SubmitError::Storage(format!("{e:#}"))
    }

    fn from_store(e: &StoreError) -> SubmitError {
        match e {
            StoreError::DiskFull(m) => SubmitError::StorageFull(m.clone()),
            StoreError::ReadOnly(m) => SubmitError::StorageReadOnly(m.clone()),
            StoreError::Busy(m) => SubmitError::StorageBusy(m.clone()),
            StoreError::Sqlite(q) => from_sqlite_code(q.sqlite_error_code(), q.to_string()),
            other => SubmitError::Storage(other.to_string()),
        }
    }
}

fn from_sqlite_code(code: Option<rusqlite::ErrorCode>, text: String) -> SubmitError {
    use rusqlite::ErrorCode;
    match code {
        Some(ErrorCode::DiskFull) => SubmitError::StorageFull(text),
        Some(ErrorCode::ReadOnly) => SubmitError::StorageReadOnly(text),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => SubmitError::StorageBusy(text),
        _ => SubmitError::Storage(text),
    }
}

/// Review -> Submitting -> Receipt in one call: builds the submissions, writes them and their
/// outbox entries in one durable transaction, and moves on. On a storage failure (disk full,
/// read-only) the session goes back to Review with everything the citizen entered, and the
/// error says why ([`SubmitError::message_key`] for the screen).
pub fn submit(
    session: &mut Session,
    store: &mut Store,
    key: &DataKey,
    catalog_version: u64,
    now: Instant,
) -> Result<Vec<Enqueued>, SubmitError> {
    let subs = session.begin_submit(catalog_version, now)?;
    match crate::outbox::enqueue_all(store, key, &subs, chrono::Utc::now()) {
        Ok(queued) => {
            session.submitted(queued.clone(), now)?;
            Ok(queued)
        }
        Err(e) => {
            session.submit_failed(now)?;
            let err = SubmitError::from_queue_error(&e);
            // Codes and counts only: the error text names SQLite's cause, never a value.
            tracing::error!(code = err.code(), submissions = subs.len(), error = %err, "submission not queued");
            Err(err)
        }
    }
}
