//! The server schema. Migrations are only ever appended: a server may be upgraded from any
//! earlier version, and it walks forward through every step in order.

use rusqlite_migration::{HookError, M, Migrations};

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up_with_hook(V5, |tx| {
            crate::work_orders::stream_to_supervisors(tx).map_err(|e| HookError::Hook(e.to_string()))
        }),
        M::up(V6),
        M::up(V7),
        M::up(V8),
        M::up(V9),
        M::up(V10),
    ])
}

/// Times are Unix milliseconds (UTC); ids are UUID text (blob ids: SHA-256 hex); bodies are
/// the domain or protocol value as JSON, with the columns that queries filter, sort or
/// constrain on pulled out beside it.
const V1: &str = r#"
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    staff_no      TEXT NOT NULL,
    role          TEXT NOT NULL,
    supervisor_id TEXT REFERENCES users(id),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- argon2id, PHC string.
    password_hash TEXT NOT NULL
) STRICT;
CREATE INDEX users_by_supervisor ON users (supervisor_id);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    -- The bearer token's hash; the token itself is never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  INTEGER NOT NULL,
    last_sync_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX devices_by_user ON devices (user_id);

CREATE TABLE policies (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES policies(id),
    body      TEXT NOT NULL
) STRICT;

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    body        TEXT NOT NULL
) STRICT;

CREATE TABLE assets (
    id      TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id),
    body    TEXT NOT NULL
) STRICT;

-- Insert-only: a template in use is never edited, a change is a new version.
CREATE TABLE templates (
    id      TEXT PRIMARY KEY,
    code    TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    UNIQUE (code, version)
) STRICT;

CREATE TABLE parts (
    part_number             TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    needs_customer_approval INTEGER NOT NULL CHECK (needs_customer_approval IN (0, 1)),
    unit_price_cents        INTEGER NOT NULL
) STRICT;

CREATE TABLE work_orders (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    site_id     TEXT NOT NULL REFERENCES sites(id),
    asset_id    TEXT REFERENCES assets(id),
    template_id TEXT REFERENCES templates(id),
    assignee_id TEXT REFERENCES users(id),
    status      TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;
-- The list sorts newest reported first, optionally within one status or one assignee.
CREATE INDEX work_orders_by_reported ON work_orders (reported_at DESC);
CREATE INDEX work_orders_by_status ON work_orders (status, reported_at DESC);
CREATE INDEX work_orders_by_assignee ON work_orders (assignee_id, reported_at DESC);

-- Each user's change stream: its own version counter, advanced in the transaction that
-- appends the change, so a reader after a cursor never skips a row that commits late.
CREATE TABLE streams (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    version INTEGER NOT NULL
) STRICT;

CREATE TABLE changes (
    user_id TEXT NOT NULL REFERENCES streams(user_id),
    version INTEGER NOT NULL,
    -- protocol::ChangeBody as JSON.
    body    TEXT NOT NULL,
    PRIMARY KEY (user_id, version)
) STRICT;

-- Visit records pushed by devices; append-only. `blob_id` is the photo's blob or the
-- sign-off's signature, for deciding who may fetch a blob.
CREATE TABLE records (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    kind          TEXT NOT NULL,
    blob_id       TEXT,
    body          TEXT NOT NULL,
    device_id     TEXT NOT NULL REFERENCES devices(id),
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX records_by_work_order ON records (work_order_id, kind);
CREATE INDEX records_by_blob ON records (blob_id) WHERE blob_id IS NOT NULL;

-- Every mutation a device pushed, with the outcome it was answered. `mutation_id` is NULL
-- when the same mutation id had already been stored under another number (or device).
CREATE TABLE mutations (
    device_id   TEXT NOT NULL REFERENCES devices(id),
    seq         INTEGER NOT NULL,
    mutation_id TEXT UNIQUE,
    outcome     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) STRICT;

-- Mutations refused for good, kept with their payload for people to see.
CREATE TABLE conflicts (
    id            INTEGER PRIMARY KEY,
    device_id     TEXT NOT NULL REFERENCES devices(id),
    seq           INTEGER NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id),
    work_order_id TEXT NOT NULL,
    op            TEXT NOT NULL,
    code          TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (device_id, seq)
) STRICT;
CREATE INDEX conflicts_by_work_order ON conflicts (work_order_id);

CREATE TABLE blobs (
    id         TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE blob_uploads (
    id         TEXT PRIMARY KEY,
    total      INTEGER NOT NULL,
    received   INTEGER NOT NULL,
    data       BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
"#;

/// Hybrid logical clock stamps of pushed mutations (the audit order of one technician's
/// changes across devices), and the time a supervisor marked a conflict as dealt with.
const V2: &str = r#"
ALTER TABLE mutations ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE conflicts ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE conflicts ADD COLUMN resolved_at INTEGER;
ALTER TABLE conflicts ADD COLUMN resolved_by TEXT REFERENCES users(id);
CREATE INDEX conflicts_by_user ON conflicts (user_id, id);
"#;

/// Protocol 2: a streamed work-order change holds the work order alone; what it refers to is
/// read when a page is pulled. Changes stored as whole bundles keep just their work order.
const V3: &str = r#"
UPDATE changes
SET body = json_object('type', 'work_order', 'work_order', json(json_extract(body, '$.bundle.work_order')))
WHERE json_extract(body, '$.type') = 'work_order' AND json_extract(body, '$.bundle') IS NOT NULL;
"#;

/// Protocol 4: each device's report-signing key, signatures' strokes, and the report ledger. The ledger is
/// insert-only: its triggers refuse every UPDATE and DELETE, and each entry's `chain` hashes
/// the previous entry's `chain` with its report's hash. `document` is the report document's
/// canonical JSON exactly as it was hashed and signed.
const V4: &str = r#"
ALTER TABLE devices ADD COLUMN public_key TEXT;
-- A signature's pen strokes are a blob of the sign-off beside its image.
CREATE INDEX records_by_strokes ON records (json_extract(body, '$.strokes')) WHERE kind = 'sign_off';

CREATE TABLE report_ledger (
    seq               INTEGER PRIMARY KEY,
    hash              TEXT NOT NULL UNIQUE,
    previous          TEXT UNIQUE REFERENCES report_ledger(hash),
    chain             TEXT NOT NULL UNIQUE,
    work_order_id     TEXT NOT NULL REFERENCES work_orders(id),
    work_order_number TEXT NOT NULL,
    visit_version     INTEGER NOT NULL,
    device_id         TEXT NOT NULL REFERENCES devices(id),
    technician_id     TEXT NOT NULL REFERENCES users(id),
    signed_at         INTEGER NOT NULL,
    received_at       INTEGER NOT NULL,
    document          TEXT NOT NULL,
    signature         TEXT NOT NULL,
    public_key        TEXT NOT NULL,
    -- One report per sign-off: a new version needs the visit reopened and signed again.
    sign_off_id       TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX report_ledger_by_work_order ON report_ledger (work_order_id, seq);
CREATE TRIGGER report_ledger_is_insert_only_update BEFORE UPDATE ON report_ledger
BEGIN SELECT RAISE(ABORT, 'the report ledger is insert-only'); END;
CREATE TRIGGER report_ledger_is_insert_only_delete BEFORE DELETE ON report_ledger
BEGIN SELECT RAISE(ABORT, 'the report ledger is insert-only'); END;
"#;

/// Protocol 5: supervisors receive their team's work in their change stream. The hook streams
/// every stored work order and its records once to the supervisors who receive it now.
const V5: &str = "SELECT 1;";

/// Periodic duties: schedules, and the one work order of each of their due dates (the
/// primary key keeps a due date from being created twice).
const V6: &str = r#"
CREATE TABLE schedules (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    site_id     TEXT NOT NULL REFERENCES sites(id),
    assignee_id TEXT REFERENCES users(id),
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;
CREATE TABLE schedule_runs (
    schedule_id   TEXT NOT NULL REFERENCES schedules(id),
    due_at        INTEGER NOT NULL,
    work_order_id TEXT NOT NULL UNIQUE REFERENCES work_orders(id),
    PRIMARY KEY (schedule_id, due_at)
) STRICT;
"#;

/// What each device said it still held when it last pulled.
const V7: &str = "ALTER TABLE devices ADD COLUMN pending INTEGER;";

/// Each user's changes lie together in key order: a change's key is its stream's number
/// shifted left 40 bits, or'ed with its version, and a pull reads a range of keys. Keyed by
/// `(user_id, version)`, a page of 5,000 changes looked each up in that index and then in the
/// table, a seek per change (docs/benchmarks.md), and every change appended wrote both.
/// Versions stay below 2^40 and stream numbers below 2^23 (see `work_orders::append`).
const V8: &str = r#"
CREATE TABLE streams_v8 (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    version INTEGER NOT NULL,
    no      INTEGER NOT NULL UNIQUE CHECK (no BETWEEN 1 AND 8388607)
) STRICT;
INSERT INTO streams_v8 (user_id, version, no)
SELECT user_id, version, row_number() OVER (ORDER BY rowid) FROM streams;

CREATE TABLE changes_v8 (
    key     INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES streams_v8(user_id),
    version INTEGER NOT NULL CHECK (version BETWEEN 1 AND 1099511627775),
    -- protocol::ChangeBody as JSON.
    body    TEXT NOT NULL
) STRICT;
INSERT INTO changes_v8 (key, user_id, version, body)
SELECT (s.no << 40) | c.version, c.user_id, c.version, c.body
  FROM changes c JOIN streams_v8 s ON s.user_id = c.user_id;

DROP TABLE changes;
DROP TABLE streams;
ALTER TABLE streams_v8 RENAME TO streams;
ALTER TABLE changes_v8 RENAME TO changes;
"#;

/// What each pushed mutation said (`rules::mutation_digest`), so a replay under a stored number
/// or mutation id with other content is told so instead of `already_applied`. Mutations stored
/// before keep none and are answered as before.
const V9: &str = "ALTER TABLE mutations ADD COLUMN digest TEXT;";

/// Who uploaded each stored blob: a blob is present only for its uploaders (so `missing` and an
/// upload's status tell nobody whether someone else has a photo with that hash), and a record
/// may name only a blob its pusher uploaded or one already on its work order. Each blob named by
/// a record is held by the user of the device that pushed the record. Uploads in progress are
/// each one user's now: those left unfinished start again from their first byte.
const V10: &str = r#"
CREATE TABLE blob_holders (
    blob_id TEXT NOT NULL REFERENCES blobs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (blob_id, user_id)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO blob_holders (blob_id, user_id)
SELECT r.blob_id, d.user_id FROM records r
  JOIN devices d ON d.id = r.device_id JOIN blobs b ON b.id = r.blob_id;
INSERT OR IGNORE INTO blob_holders (blob_id, user_id)
SELECT b.id, d.user_id FROM records r
  JOIN devices d ON d.id = r.device_id JOIN blobs b ON b.id = json_extract(r.body, '$.strokes')
 WHERE r.kind = 'sign_off';

DROP TABLE blob_uploads;
CREATE TABLE blob_uploads (
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    total      INTEGER NOT NULL,
    received   INTEGER NOT NULL,
    data       BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (id, user_id)
) STRICT;
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    /// Version 10 gives every stored blob that a record names to the user of the device that
    /// pushed the record (its pen strokes too), and no one else.
    #[test]
    fn version_10_gives_each_named_blob_to_the_user_who_pushed_its_record() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 9).unwrap();
        // Only the blobs, the records naming them and who pushed them matter here.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, name, staff_no, role, password_hash)
               VALUES ('u1', 'tech1', '张伟', 'T1', 'technician', 'x'), ('u2', 'tech2', '李娜', 'T2', 'technician', 'x');
             INSERT INTO devices (id, user_id, name, token_hash, enrolled_at) VALUES ('d1', 'u1', 'tablet', 'h1', 0);
             INSERT INTO blobs (id, bytes, created_at) VALUES ('photo', x'01', 0), ('signature', x'02', 0),
                                                           ('strokes', x'03', 0), ('unnamed', x'04', 0);
             INSERT INTO records (id, work_order_id, kind, blob_id, body, device_id, created_at) VALUES
               ('r1', 'w1', 'photo', 'photo', '{}', 'd1', 0),
               ('r2', 'w1', 'sign_off', 'signature', '{\"strokes\": \"strokes\"}', 'd1', 0);
             INSERT INTO blob_uploads (id, total, received, data, updated_at) VALUES ('partial', 9, 1, x'00', 0);",
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let held: Vec<(String, String)> = conn
            .prepare("SELECT blob_id, user_id FROM blob_holders ORDER BY blob_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected = [("photo", "u1"), ("signature", "u1"), ("strokes", "u1")];
        assert_eq!(held, expected.map(|(b, u)| (b.to_owned(), u.to_owned())));
        let uploads: i64 = conn.query_row("SELECT COUNT(*) FROM blob_uploads", [], |r| r.get(0)).unwrap();
        assert_eq!(uploads, 0, "unfinished uploads start again");
    }

    /// A stream written by a protocol-1 server keeps its changes: whole bundles become their
    /// work order, every other change is left as it was.
    #[test]
    fn version_3_keeps_the_work_order_of_a_stored_bundle() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 2).unwrap();
        // Only the changes table and its stream matter here, not the users they refer to.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute("INSERT INTO streams (user_id, version) VALUES ('u1', 2)", []).unwrap();
        let work_order = serde_json::json!({"id": "w1", "number": "WO-1", "symptom": "报警"});
        let bundle = serde_json::json!({"type": "work_order", "bundle": {
            "work_order": work_order, "customer": {"id": "c1"}, "site": {"id": "s1"}}});
        let removed = serde_json::json!({"type": "removed", "work_order_id": "w2"});
        for (version, body) in [(1, &bundle), (2, &removed)] {
            conn.execute(
                "INSERT INTO changes (user_id, version, body) VALUES ('u1', ?1, ?2)",
                rusqlite::params![version, body.to_string()],
            )
            .unwrap();
        }
        super::migrations().to_latest(&mut conn).unwrap();
        let bodies: Vec<serde_json::Value> = conn
            .prepare("SELECT body FROM changes ORDER BY version")
            .unwrap()
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .map(|b| serde_json::from_str(&b.unwrap()).unwrap())
            .collect();
        assert_eq!(bodies, [serde_json::json!({"type": "work_order", "work_order": work_order}), removed]);
    }

    /// Version 8 keeps every stream's changes with their versions and bodies, each stream's
    /// together in key order, and the streams go on from where they were.
    #[test]
    fn version_8_keeps_each_stream_in_order_and_appends_go_on() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 7).unwrap();
        // Only the streams and their changes matter here, not the users they belong to.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let (u1, u2) = (fieldbook_domain::UserId::new().to_string(), fieldbook_domain::UserId::new().to_string());
        conn.execute("INSERT INTO streams (user_id, version) VALUES (?1, 3), (?2, 2)", [&u1, &u2]).unwrap();
        // Interleaved as two users' work arrives.
        for (user, version) in [(&u1, 1), (&u2, 1), (&u1, 2), (&u2, 2), (&u1, 3)] {
            conn.execute(
                "INSERT INTO changes (user_id, version, body) VALUES (?1, ?2, ?3)",
                rusqlite::params![user, version, format!("{{\"n\": \"{user}/{version}\"}}")],
            )
            .unwrap();
        }
        super::migrations().to_latest(&mut conn).unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        let in_key_order = |conn: &rusqlite::Connection| -> Vec<(String, i64, String)> {
            conn.prepare("SELECT user_id, version, body FROM changes ORDER BY key")
                .unwrap()
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let expected: Vec<(String, i64, String)> = [(&u1, 1), (&u1, 2), (&u1, 3), (&u2, 1), (&u2, 2)]
            .into_iter()
            .map(|(user, version)| (user.clone(), version, format!("{{\"n\": \"{user}/{version}\"}}")))
            .collect();
        assert_eq!(in_key_order(&conn), expected);
        // Every change still names its stream: the renames carried the reference over.
        let problems: i64 =
            conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check('changes')", [], |r| r.get(0)).unwrap();
        assert_eq!(problems, 0);

        // Appending goes on after each stream's last version, and a new stream takes the next
        // number, its changes after every other stream's.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        let u3 = fieldbook_domain::UserId::new().to_string();
        let removed = fieldbook_protocol::ChangeBody::Removed { work_order_id: fieldbook_domain::WorkOrderId::new() };
        assert_eq!(crate::work_orders::append(&conn, u3.parse().unwrap(), &removed).unwrap(), 1);
        assert_eq!(crate::work_orders::append(&conn, u1.parse().unwrap(), &removed).unwrap(), 4);
        let order: Vec<(String, i64)> = in_key_order(&conn).into_iter().map(|(u, v, _)| (u, v)).collect();
        assert_eq!(
            order,
            [(u1.clone(), 1), (u1.clone(), 2), (u1.clone(), 3), (u1.clone(), 4), (u2.clone(), 1), (u2, 2), (u3, 1)]
        );

        // The two parts of a key fill an i64 exactly, and the schema refuses a version or a
        // stream number past them.
        use crate::work_orders::{MAX_STREAM_VERSION, change_key};
        assert_eq!(change_key(8_388_607, MAX_STREAM_VERSION), i64::MAX);
        let past = |no: i64, version: i64| {
            conn.execute(
                "INSERT INTO streams (user_id, version, no) VALUES (?1, ?2, ?3)",
                rusqlite::params![fieldbook_domain::UserId::new().to_string(), version, no],
            )
            .map(drop)
            .and_then(|()| {
                conn.execute(
                    "INSERT INTO changes (key, user_id, version, body) VALUES (?1, ?2, ?3, '{}')",
                    rusqlite::params![change_key(no, version), u1, version],
                )
            })
        };
        assert!(past(8_388_608, 1).is_err());
        assert!(past(100, MAX_STREAM_VERSION + 1).is_err());
    }
}
