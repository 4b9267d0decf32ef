//! Content-addressed blobs (photos, signatures) and their resumable uploads.
//!
//! A blob is stored once, however many upload it; who uploaded it (every byte, hash-checked) is
//! kept beside it (`blob_holders`, server migration V10). A blob is present only for those who
//! hold it: to anyone else it is missing and must be uploaded, so neither `missing` nor an
//! upload's status tells whether someone else has a photo with that hash, and a record may name
//! only a blob its pusher holds or one already on its work order ([`may_name`]).

use chrono::{DateTime, Utc};
use fieldbook_domain::{BlobId, UserId, WorkOrderId};
use fieldbook_protocol::{MAX_BLOB_BYTES, MAX_CHUNK_BYTES, UploadStatus};
use fieldbook_server_db::{DbError, DbResult};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{SqlResult, int, millis, parse, uint};

fn stored_len(conn: &Connection, id: &BlobId) -> DbResult<Option<u64>> {
    let len: Option<i64> = conn
        .prepare_cached("SELECT length(bytes) FROM blobs WHERE id = ?1")
        .db()?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()
        .db()?;
    len.map(uint).transpose()
}

fn complete(id: &BlobId, len: u64) -> UploadStatus {
    UploadStatus { id: id.clone(), received: len, total: len, complete: true }
}

pub(crate) fn holds(conn: &Connection, id: &BlobId, user: UserId) -> DbResult<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM blob_holders WHERE blob_id = ?1 AND user_id = ?2)")
        .db()?
        .query_row(params![id.as_str(), user.to_string()], |row| row.get(0))
        .db()
}

/// The stored length of a blob `user` holds.
fn held_len(conn: &Connection, id: &BlobId, user: UserId) -> DbResult<Option<u64>> {
    if holds(conn, id, user)? { stored_len(conn, id) } else { Ok(None) }
}

/// Whether a record of `work_order` pushed by `user` may name the blob: one they uploaded, or
/// one a record of that work order names already (a photo taken before a reassignment).
pub(crate) fn may_name(conn: &Connection, id: &BlobId, user: UserId, work_order: WorkOrderId) -> DbResult<bool> {
    if holds(conn, id, user)? {
        return Ok(true);
    }
    Ok(work_orders_of(conn, id)?.contains(&work_order))
}

pub(crate) fn missing(conn: &Connection, ids: &[BlobId], user: UserId) -> DbResult<Vec<BlobId>> {
    let mut missing: Vec<BlobId> = Vec::new();
    for id in ids {
        if !missing.contains(id) && !holds(conn, id, user)? {
            missing.push(id.clone());
        }
    }
    Ok(missing)
}

/// Appends a chunk. The outer result is an error that leaves everything as it was; the inner
/// one is a hash mismatch, which the caller commits (the upload is discarded) and then reports.
pub(crate) fn upload_chunk(
    conn: &Connection,
    id: &BlobId,
    user: UserId,
    offset: u64,
    total: u64,
    bytes: &[u8],
    at: DateTime<Utc>,
) -> DbResult<DbResult<UploadStatus>> {
    if let Some(len) = held_len(conn, id, user)? {
        return Ok(Ok(complete(id, len)));
    }
    let (key, uploader) = (id.as_str(), user.to_string());
    if total == 0 || total > MAX_BLOB_BYTES {
        return Err(DbError::Conflict(format!(
            "a photo or signature must be between 1 byte and {} MiB; this upload says {total} bytes",
            MAX_BLOB_BYTES / (1024 * 1024)
        )));
    }
    if bytes.len() > MAX_CHUNK_BYTES {
        return Err(DbError::Conflict(format!(
            "a chunk may hold at most {MAX_CHUNK_BYTES} bytes; this one holds {}; send smaller chunks",
            bytes.len()
        )));
    }
    let upload: Option<(i64, i64)> = conn
        .prepare_cached("SELECT total, received FROM blob_uploads WHERE id = ?1 AND user_id = ?2")
        .db()?
        .query_row([key, &uploader], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    let expected = match upload {
        Some((stored_total, received)) => {
            let stored_total = uint(stored_total)?;
            if stored_total != total {
                return Err(DbError::Conflict(format!(
                    "this upload was started with a total of {stored_total} bytes, not {total}; resume it with the same total"
                )));
            }
            uint(received)?
        }
        None => 0,
    };
    if offset != expected {
        return Err(DbError::WrongOffset { expected, got: offset });
    }
    let received = offset + bytes.len() as u64;
    if received > total {
        return Err(DbError::Conflict(format!(
            "the chunk at byte {offset} of {} bytes runs past the announced total of {total} bytes",
            bytes.len()
        )));
    }
    if received < total {
        if upload.is_some() {
            // Read, extend and write back: concatenation in SQL would turn the blob into text.
            let mut data: Vec<u8> = conn
                .query_row("SELECT data FROM blob_uploads WHERE id = ?1 AND user_id = ?2", [key, &uploader], |row| {
                    row.get(0)
                })
                .db()?;
            data.extend_from_slice(bytes);
            conn.execute(
                "UPDATE blob_uploads SET data = ?3, received = ?4, updated_at = ?5 WHERE id = ?1 AND user_id = ?2",
                params![key, uploader, data, int(received, "byte count")?, millis(at)],
            )
            .db()?;
        } else {
            conn.execute(
                "INSERT INTO blob_uploads (id, user_id, total, received, data, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key, uploader, int(total, "byte count")?, int(received, "byte count")?, bytes, millis(at)],
            )
            .db()?;
        }
        return Ok(Ok(UploadStatus { id: id.clone(), received, total, complete: false }));
    }
    // The last chunk: the whole blob must hash to its id.
    let mut data: Vec<u8> = if upload.is_some() {
        conn.query_row("SELECT data FROM blob_uploads WHERE id = ?1 AND user_id = ?2", [key, &uploader], |row| {
            row.get(0)
        })
        .db()?
    } else {
        Vec::new()
    };
    data.extend_from_slice(bytes);
    conn.execute("DELETE FROM blob_uploads WHERE id = ?1 AND user_id = ?2", [key, &uploader]).db()?;
    let actual = BlobId::of_bytes(&data);
    if actual != *id {
        return Ok(Err(DbError::HashMismatch { expected: id.to_string(), actual: actual.to_string() }));
    }
    // The same bytes uploaded by someone else before are stored once.
    conn.execute(
        "INSERT OR IGNORE INTO blobs (id, bytes, created_at) VALUES (?1, ?2, ?3)",
        params![key, data, millis(at)],
    )
    .db()?;
    conn.execute("INSERT OR IGNORE INTO blob_holders (blob_id, user_id) VALUES (?1, ?2)", [key, &uploader]).db()?;
    Ok(Ok(complete(id, total)))
}

pub(crate) fn upload_status(conn: &Connection, id: &BlobId, user: UserId) -> DbResult<Option<UploadStatus>> {
    if let Some(len) = held_len(conn, id, user)? {
        return Ok(Some(complete(id, len)));
    }
    let upload: Option<(i64, i64)> = conn
        .query_row(
            "SELECT total, received FROM blob_uploads WHERE id = ?1 AND user_id = ?2",
            [id.as_str(), &user.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .db()?;
    upload
        .map(|(total, received)| {
            Ok(UploadStatus { id: id.clone(), received: uint(received)?, total: uint(total)?, complete: false })
        })
        .transpose()
}

pub(crate) fn blob(conn: &Connection, id: &BlobId) -> DbResult<Option<Vec<u8>>> {
    conn.query_row("SELECT bytes FROM blobs WHERE id = ?1", [id.as_str()], |row| row.get(0)).optional().db()
}

pub(crate) fn work_orders_of(conn: &Connection, id: &BlobId) -> DbResult<Vec<WorkOrderId>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT DISTINCT work_order_id FROM records WHERE blob_id = ?1
             UNION SELECT work_order_id FROM records WHERE kind = 'sign_off' AND json_extract(body, '$.strokes') = ?1
             ORDER BY work_order_id",
        )
        .db()?;
    let ids = stmt
        .query_map([id.as_str()], |row| row.get::<_, String>(0))
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    ids.iter().map(|id| parse(id)).collect()
}
