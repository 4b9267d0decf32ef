//! The device schema. Migrations are only ever appended: a device in the field may be many
//! versions behind, and it must be able to walk forward from any of them.

use rusqlite_migration::{M, Migrations};

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
        M::up(V7),
        M::up(V8),
        M::up(V9),
        M::up(V10),
        M::up(V11),
    ])
}

/// Times are Unix milliseconds (UTC); ids are UUID text; bodies are the domain record as JSON,
/// with the columns that queries filter or sort on pulled out beside it.
const V1: &str = r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    staff_no TEXT NOT NULL,
    role     TEXT NOT NULL
) STRICT;

CREATE TABLE policies (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    address   TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES policies(id)
) STRICT;

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL
) STRICT;

CREATE TABLE assets (
    id           TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites(id),
    model        TEXT NOT NULL,
    serial       TEXT NOT NULL,
    location     TEXT NOT NULL,
    warranty_end TEXT
) STRICT;

CREATE TABLE templates (
    id      TEXT PRIMARY KEY,
    code    TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    UNIQUE (code, version)
) STRICT;

CREATE TABLE work_orders (
    id            TEXT PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    site_id       TEXT NOT NULL REFERENCES sites(id),
    asset_id      TEXT REFERENCES assets(id),
    assignee_id   TEXT REFERENCES users(id),
    template_id   TEXT REFERENCES templates(id),
    kind          TEXT NOT NULL,
    fault_level   TEXT NOT NULL,
    status        TEXT NOT NULL,
    reported_at   INTEGER NOT NULL,
    -- The earliest deadline not yet met; NULL once closed. The list sorts on it.
    next_due      INTEGER,
    -- Lowercased number, customer, site, contact, asset and symptom, for search.
    search_text   TEXT NOT NULL,
    body          TEXT NOT NULL
) STRICT;
-- Exactly the list's ORDER BY, so the list reads in index order and stops at its LIMIT
-- instead of sorting every row (200 ms → 20 ms for 10,000 work orders).
CREATE INDEX work_orders_by_due ON work_orders (next_due IS NULL, next_due, reported_at DESC);
CREATE INDEX work_orders_by_status ON work_orders (status, next_due);
CREATE INDEX work_orders_by_asset ON work_orders (asset_id, reported_at);

CREATE TABLE inspection_results (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    item_key      TEXT NOT NULL,
    assessment    TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL,
    supersedes    TEXT REFERENCES inspection_results(id),
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX inspection_results_by_work_order ON inspection_results (work_order_id, recorded_at);

CREATE TABLE fault_records (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    recorded_at   INTEGER NOT NULL,
    supersedes    TEXT REFERENCES fault_records(id),
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX fault_records_by_work_order ON fault_records (work_order_id, recorded_at);

CREATE TABLE part_usages (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    billing       TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL,
    supersedes    TEXT REFERENCES part_usages(id),
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX part_usages_by_work_order ON part_usages (work_order_id, recorded_at);

CREATE TABLE blobs (
    id         TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE photos (
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    blob_id       TEXT NOT NULL REFERENCES blobs(id),
    item_key      TEXT NOT NULL DEFAULT '',
    taken_at      INTEGER NOT NULL,
    body          TEXT NOT NULL,
    PRIMARY KEY (work_order_id, blob_id, item_key)
) STRICT;

CREATE TABLE sign_offs (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL UNIQUE REFERENCES work_orders(id),
    satisfaction  INTEGER NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    signed_at     INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;

CREATE TABLE notes (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    written_at    INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX notes_by_work_order ON notes (work_order_id, written_at);

CREATE TABLE parts_catalog (
    part_number            TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    needs_customer_approval INTEGER NOT NULL,
    unit_price_cents       INTEGER NOT NULL
) STRICT;

-- What the device has done and the server has not yet confirmed. Written in the same
-- transaction as the change it describes; sync reads it in seq order.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    op          TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_entity ON outbox (entity_id);
"#;

/// Sync: changes the server refused (kept for the technician and the supervisor to see, never
/// dropped), and the server's work orders the device still holds unsent work for.
const V2: &str = r#"
CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    seq         INTEGER NOT NULL,
    mutation_id TEXT NOT NULL UNIQUE,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    op          TEXT NOT NULL,
    payload     TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER
) STRICT;

-- A photo pulled from the server arrives before (or without) its bytes, which the device
-- fetches when it needs them: the photo no longer requires its blob to be stored here.
CREATE TABLE photos_v2 (
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    blob_id       TEXT NOT NULL,
    item_key      TEXT NOT NULL DEFAULT '',
    taken_at      INTEGER NOT NULL,
    body          TEXT NOT NULL,
    PRIMARY KEY (work_order_id, blob_id, item_key)
) STRICT;
INSERT INTO photos_v2 SELECT work_order_id, blob_id, item_key, taken_at, body FROM photos;
DROP TABLE photos;
ALTER TABLE photos_v2 RENAME TO photos;
"#;

/// A work order taken from this device while it still held unsent work on it: it leaves the
/// device once that work is sent.
const V3: &str = r#"
CREATE TABLE held_removals (
    work_order_id TEXT PRIMARY KEY
) STRICT;
"#;

/// Sync state for the screens and clock stamps. `work_order_id` names the work order a
/// pending change belongs to (so the sync screen and the detail screen find it by index);
/// `sent_at` is set when a push carrying the change left the device and its answer has not yet
/// come back; `hlc` is the change's hybrid logical clock stamp ('' for changes made before
/// stamps existed, which are sent stamped with their creation time).
const V4: &str = r#"
ALTER TABLE outbox ADD COLUMN work_order_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
ALTER TABLE outbox ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
UPDATE outbox SET work_order_id = CASE
    WHEN entity = 'work_order' THEN entity_id
    ELSE COALESCE(json_extract(payload, '$.work_order_id'), '') END;
CREATE INDEX outbox_by_work_order ON outbox (work_order_id);
ALTER TABLE conflicts ADD COLUMN work_order_id TEXT NOT NULL DEFAULT '';
UPDATE conflicts SET work_order_id = CASE
    WHEN entity = 'work_order' THEN entity_id
    ELSE COALESCE(json_extract(payload, '$.work_order_id'), '') END;
CREATE INDEX conflicts_by_work_order ON conflicts (work_order_id);
"#;

/// Corrective work orders asked for from a visit (`CorrectiveRequest`); the id is the work
/// order the server makes of it.
const V5: &str = r#"
CREATE TABLE corrective_requests (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    requested_at  INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX corrective_requests_by_work_order ON corrective_requests (work_order_id, requested_at);
"#;

/// The appointment, so the list's day views (today, upcoming) are answered by the store and the
/// list can be read a page at a time. Filled from the kept bodies (julianday keeps fractions of
/// a second).
const V6: &str = r#"
ALTER TABLE work_orders ADD COLUMN scheduled_for INTEGER;
UPDATE work_orders
   SET scheduled_for = CAST(round((julianday(json_extract(body, '$.scheduled_for')) - 2440587.5) * 86400000) AS INTEGER)
 WHERE json_extract(body, '$.scheduled_for') IS NOT NULL;
"#;

/// Everything the list filters, sorts and searches on, in one index: counting the groups and
/// sorting the ids of a search read this index alone instead of every work order's row with
/// its body (a search of 10,000 work orders: see docs/benchmarks.md).
const V7: &str = r#"
CREATE INDEX work_orders_for_list
    ON work_orders (status, kind, next_due, scheduled_for, reported_at, id, search_text);
"#;

/// Signed visit reports: one per signing of a visit (a returned visit signed again adds one
/// that names the hash of the one before). `body` is the signed report as JSON.
const V8: &str = r#"
CREATE TABLE signed_reports (
    hash          TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL,
    visit_version INTEGER NOT NULL,
    signed_at     INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX signed_reports_by_work_order ON signed_reports (work_order_id, visit_version);
"#;

/// Each version of a visit is signed once, so a visit returned and reopened is signed again:
/// a work order may hold several sign-offs (V1 allowed one, and a second was ignored).
const V9: &str = r#"
CREATE TABLE sign_offs_v9 (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES work_orders(id),
    satisfaction  INTEGER NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    signed_at     INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;
INSERT INTO sign_offs_v9 (id, work_order_id, satisfaction, signed_at, body)
    SELECT id, work_order_id, satisfaction, signed_at, body FROM sign_offs;
DROP TABLE sign_offs;
ALTER TABLE sign_offs_v9 RENAME TO sign_offs;
CREATE INDEX sign_offs_by_work_order ON sign_offs (work_order_id, signed_at);
"#;

/// Each photo's thumbnail (at most 256 px), made on this device from the photo and never
/// synced: lists and the visit report show it instead of the 1,600 px photo.
const V10: &str = r#"
CREATE TABLE thumbnails (
    blob_id TEXT PRIMARY KEY,
    jpeg    BLOB NOT NULL
) STRICT;
"#;

/// Two work-order indexes no query reads any more: `work_orders_by_due` followed the list's
/// order before the list sorted by status group first (V7's covering index serves it), and
/// V7's index also counts the list's groups by status, which `work_orders_by_status` did (0.5 ms
/// more for 10,000 work orders). Each cost every work-order write a B-tree insert, and a first
/// sync an index build (see docs/benchmarks.md).
const V11: &str = r#"
DROP INDEX IF EXISTS work_orders_by_due;
DROP INDEX IF EXISTS work_orders_by_status;
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
