//! Content-addressed blobs (photos, signatures) and their resumable uploads.

use chrono::{DateTime, Utc};
use fieldbook_domain::{BlobId, WorkOrderId};
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

pub(crate) fn missing(conn: &Connection, ids: &[BlobId]) -> DbResult<Vec<BlobId>> {
    let mut missing: Vec<BlobId> = Vec::new();
    for id in ids {
        if !missing.contains(id) && stored_len(conn, id)?.is_none() {
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
    offset: u64,
    total: u64,
    bytes: &[u8],
    at: DateTime<Utc>,
) -> DbResult<DbResult<UploadStatus>> {
    if let Some(len) = stored_len(conn, id)? {
        return Ok(Ok(complete(id, len)));
    }
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
        .prepare_cached("SELECT total, received FROM blob_uploads WHERE id = ?1")
        .db()?
        .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
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
            let mut data: Vec<u8> =
                conn.query_row("SELECT data FROM blob_uploads WHERE id = ?1", [id.as_str()], |row| row.get(0)).db()?;
            data.extend_from_slice(bytes);
            conn.execute(
                "UPDATE blob_uploads SET data = ?2, received = ?3, updated_at = ?4 WHERE id = ?1",
                params![id.as_str(), data, int(received, "byte count")?, millis(at)],
            )
            .db()?;
        } else {
            conn.execute(
                "INSERT INTO blob_uploads (id, total, received, data, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.as_str(), int(total, "byte count")?, int(received, "byte count")?, bytes, millis(at)],
            )
            .db()?;
        }
        return Ok(Ok(UploadStatus { id: id.clone(), received, total, complete: false }));
    }
    // The last chunk: the whole blob must hash to its id.
    let mut data: Vec<u8> = if upload.is_some() {
        conn.query_row("SELECT data FROM blob_uploads WHERE id = ?1", [id.as_str()], |row| row.get(0)).db()?
    } else {
        Vec::new()
    };
    data.extend_from_slice(bytes);
    conn.execute("DELETE FROM blob_uploads WHERE id = ?1", [id.as_str()]).db()?;
    let actual = BlobId::of_bytes(&data);
    if actual != *id {
        return Ok(Err(DbError::HashMismatch { expected: id.to_string(), actual: actual.to_string() }));
    }
    conn.execute(
        "INSERT INTO blobs (id, bytes, created_at) VALUES (?1, ?2, ?3)",
        params![id.as_str(), data, millis(at)],
    )
    .db()?;
    Ok(Ok(complete(id, total)))
}

pub(crate) fn upload_status(conn: &Connection, id: &BlobId) -> DbResult<Option<UploadStatus>> {
    if let Some(len) = stored_len(conn, id)? {
        return Ok(Some(complete(id, len)));
    }
    let upload: Option<(i64, i64)> = conn
        .query_row("SELECT total, received FROM blob_uploads WHERE id = ?1", [id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
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
