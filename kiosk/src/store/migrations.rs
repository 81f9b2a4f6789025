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
    // v4: catalog payloads out of the slot rows. A switch used to rewrite three rows of
    // several megabytes each (SQLite rewrites a whole record to change one column); now the
    // slot rows are small pointers and each payload is written once, keyed by version. The
    // envelope is kept without its payload (which is the catalog JSON, base64: stored twice
    // before). Retired versions keep their slot row (history, "never lower than any stored
    // version") but not their payload. `expires_at` and `matters` are read without opening
    // the payload (heartbeat, diagnostics, the counts check of a new envelope).
    r#"
    CREATE TABLE catalog_payloads (
        version         INTEGER PRIMARY KEY REFERENCES catalog_versions(version) ON DELETE CASCADE,
        catalog_json    BLOB NOT NULL,
        -- The DSSE envelope without its payload: {"payloadType": ..., "signatures": [...]}.
        envelope_header BLOB
    );
    INSERT INTO catalog_payloads (version, catalog_json, envelope_header)
    SELECT version, catalog_json,
           CASE WHEN envelope IS NOT NULL AND json_valid(CAST(envelope AS TEXT)) THEN
               CAST(json_object(
                   'payloadType', json_extract(CAST(envelope AS TEXT), '$.payloadType'),
                   'signatures', json(json_extract(CAST(envelope AS TEXT), '$.signatures'))
               ) AS BLOB)
           END
    FROM catalog_versions WHERE slot <> 'retired';
    ALTER TABLE catalog_versions ADD COLUMN expires_at TEXT;
    ALTER TABLE catalog_versions ADD COLUMN matters INTEGER;
    UPDATE catalog_versions SET
        expires_at = CASE WHEN json_valid(CAST(catalog_json AS TEXT))
                     THEN json_extract(CAST(catalog_json AS TEXT), '$.expires_at') END,
        matters = CASE WHEN json_valid(CAST(catalog_json AS TEXT))
                  THEN json_array_length(CAST(catalog_json AS TEXT), '$.matters') END;
    ALTER TABLE catalog_versions DROP COLUMN catalog_json;
    ALTER TABLE catalog_versions DROP COLUMN envelope;
    "#,
    // v5: staff audit log and the staff PIN lockout (`kiosk::maintenance`). The lockout is
    // one row, so a restart cannot hand out fresh PIN attempts.
    r#"
    CREATE TABLE staff_audit (
        id      INTEGER PRIMARY KEY,
        at_ms   INTEGER NOT NULL,
        action  TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail  TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE staff_lockout (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        failures        INTEGER NOT NULL,
        locked_until_ms INTEGER,
        updated_ms      INTEGER NOT NULL
    );
    "#,
    // v6: one row a submission, keyed by its seq. An enqueue used to write about eight
    // b-tree pages (the submission and its outbox entry, each with a primary-key index and a
    // seq index, the entry's (state, seq) index and the `next_seq` counter in `meta`), where
    // a plain keyed insert writes two; every page is a WAL frame its FULL commit syncs. Now
    // it writes three: the row (seq is its rowid, so no seq index), the id index, and the
    // index of waiting entries. `outbox` stays as a read-only view of the sending columns.
    //
    // Columns: the small ones first and the sealed payload last, so reading an entry's state
    // never walks a large payload's overflow pages.
    //
    // seq is never reused: the next one is above both the highest row and `seq_floor`, the
    // highest seq ever deleted (kept by the trigger, so an enqueue writes no counter). The
    // old counter becomes the floor.
    r#"
    CREATE TABLE submissions_v6 (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL
                        CHECK (state IN ('pending', 'in_flight', 'acked', 'quarantined')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        matter_code     TEXT NOT NULL,
        situation       TEXT NOT NULL,
        catalog_version INTEGER NOT NULL,
        created_at      TEXT NOT NULL,
        payload_sha256  TEXT NOT NULL,
        receipt_no      TEXT,
        acked_at        TEXT,
        last_error      TEXT,
        reject_code     TEXT,
        -- The personal payload (applicant, form, attachments), sealed with the data key.
        -- Deleted once the platform has acknowledged the submission.
        payload         BLOB
    );
    -- A submission without its entry cannot exist (one transaction wrote both); if one did,
    -- it is sent rather than lost.
    INSERT INTO submissions_v6 (seq, id, state, attempts, next_attempt_ms, updated_ms,
        matter_code, situation, catalog_version, created_at, payload_sha256, receipt_no,
        acked_at, last_error, reject_code, payload)
    SELECT s.seq, s.id, COALESCE(o.state, 'pending'), COALESCE(o.attempts, 0),
        COALESCE(o.next_attempt_ms, 0), COALESCE(o.updated_ms, 0), s.matter_code,
        s.situation, s.catalog_version, s.created_at, s.payload_sha256, s.receipt_no,
        s.acked_at, o.last_error, o.reject_code, s.payload
    FROM submissions s LEFT JOIN outbox o ON o.submission_id = s.id;
    INSERT INTO meta (key, value)
    SELECT 'seq_floor', CAST(value AS INTEGER) - 1 FROM meta
    WHERE key = 'next_seq' AND CAST(value AS INTEGER) > 1;
    DELETE FROM meta WHERE key = 'next_seq';
    DROP TABLE outbox;
    DROP TABLE submissions;
    ALTER TABLE submissions_v6 RENAME TO submissions;
    -- Claims, the head's due time and the waiting counts: the waiting entries in seq order
    -- (state in the key so the counts need no row). Written by an enqueue (a new entry is
    -- pending), unlike the next one.
    CREATE INDEX submissions_waiting ON submissions(seq, state)
        WHERE state IN ('pending', 'in_flight');
    -- Quarantined entries for staff and the heartbeat, without scanning acknowledged ones.
    CREATE INDEX submissions_quarantined ON submissions(seq)
        WHERE state = 'quarantined';
    CREATE TRIGGER submissions_seq_floor AFTER DELETE ON submissions
    BEGIN
        INSERT INTO meta (key, value) VALUES ('seq_floor', OLD.seq)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value
        WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER);
    END;
    CREATE VIEW outbox AS
    SELECT id AS submission_id, seq, state, attempts, next_attempt_ms, last_error,
           updated_ms, reject_code
    FROM submissions;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}
