//! Schema migrations, applied in order at start-up. `PRAGMA user_version` holds the number of
//! migrations applied. A migration is never edited once released: add a new one instead, and
//! the test in `store::tests` builds a database at every earlier version and migrates it.

/// Each entry moves the schema from version `index` to `index + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: catalog versions, submissions and their outbox state.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE catalog_versions (
        version      INTEGER PRIMARY KEY,
        -- active: what citizens see; staged: verified, waiting for the next return to Home;
        -- previous: kept for one more switch (rollback); retired: history only.
        slot         TEXT NOT NULL CHECK (slot IN ('active', 'staged', 'previous', 'retired')),
        source       TEXT NOT NULL,
        installed_at TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        catalog_json BLOB NOT NULL,
        envelope     BLOB
    );
    CREATE TABLE submissions (
        id              TEXT PRIMARY KEY,
        seq             INTEGER NOT NULL UNIQUE,
        matter_code     TEXT NOT NULL,
        situation       TEXT NOT NULL,
        catalog_version INTEGER NOT NULL,
        created_at      TEXT NOT NULL,
        -- The personal payload (applicant, form, attachments), sealed with the data key.
        -- Deleted once the platform has acknowledged the submission.
        payload         BLOB,
        payload_sha256  TEXT NOT NULL,
        receipt_no      TEXT
    );
    CREATE TABLE outbox (
        submission_id   TEXT PRIMARY KEY REFERENCES submissions(id),
        seq             INTEGER NOT NULL UNIQUE,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'acked', 'quarantined')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error      TEXT,
        updated_ms      INTEGER NOT NULL
    );
    CREATE INDEX outbox_state_seq ON outbox(state, seq);
    "#,
    // v2: ratings (one a visit) and device events for the diagnostics screen.
    r#"
    CREATE TABLE ratings (
        id          INTEGER PRIMARY KEY,
        visit_id    TEXT NOT NULL UNIQUE,
        matter_code TEXT,
        level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        created_at  TEXT NOT NULL
    );
    CREATE TABLE device_events (
        id     INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        state  TEXT NOT NULL,
        detail TEXT NOT NULL,
        at_ms  INTEGER NOT NULL
    );
    CREATE INDEX device_events_device ON device_events(device, at_ms);
    "#,
    // v3: why an item was quarantined (the platform's code) and when it was acknowledged,
    // so retention can delete old acknowledged rows.
    r#"
    ALTER TABLE outbox ADD COLUMN reject_code TEXT;
    ALTER TABLE submissions ADD COLUMN acked_at TEXT;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}
