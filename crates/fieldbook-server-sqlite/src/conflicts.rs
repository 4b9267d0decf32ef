//! Refused changes, kept with both sides for the technician and the supervisor to see.

use chrono::{DateTime, Utc};
use fieldbook_domain::UserId;
use fieldbook_protocol::{ConflictFilter, ConflictInfo};
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::codec::{SqlResult, from_json, from_millis, millis, parse, uint};

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 1000;

const SELECT: &str = "SELECT c.id, c.device_id, c.seq, c.user_id, u.name, c.work_order_id, c.op, c.code, c.message,
                             c.created_at, c.hlc, c.resolved_at, c.resolved_by, w.body
                      FROM conflicts c JOIN users u ON u.id = c.user_id
                      LEFT JOIN work_orders w ON w.id = c.work_order_id";

type Raw = ([i64; 2], [String; 8], i64, Option<i64>, [Option<String>; 2]);

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        [row.get(0)?, row.get(2)?],
        [row.get(1)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?, row.get(10)?],
        row.get(9)?,
        row.get(11)?,
        [row.get(12)?, row.get(13)?],
    ))
}

/// A conflict row with the work order as it now stands (joined in the same query).
fn decode(raw: Raw) -> fieldbook_server_db::DbResult<ConflictInfo> {
    let (
        [id, seq],
        [device_id, user_id, user_name, work_order_id, op, code, message, hlc],
        created,
        resolved,
        [by, body],
    ) = raw;
    let server: Option<fieldbook_domain::WorkOrder> = body.as_deref().map(from_json).transpose()?;
    Ok(ConflictInfo {
        id,
        device_id,
        seq: uint(seq)?,
        user_id: parse(&user_id)?,
        user_name,
        work_order_id: parse(&work_order_id)?,
        work_order_number: server.as_ref().map(|w| w.number.clone()),
        local: from_json(&op)?,
        server,
        code,
        message,
        created_at: from_millis(created)?,
        hlc,
        resolved_at: resolved.map(from_millis).transpose()?,
        resolved_by: by.as_deref().map(parse).transpose()?,
    })
}

pub(crate) fn list(
    conn: &Connection,
    own: Option<UserId>,
    team_of: Option<UserId>,
    filter: &ConflictFilter,
) -> fieldbook_server_db::DbResult<Vec<ConflictInfo>> {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(user) = own {
        values.push(user.to_string());
        conditions.push(format!("c.user_id = ?{}", values.len()));
    }
    if let Some(supervisor) = team_of {
        values.push(supervisor.to_string());
        // The team's, and the supervisor's own refused dispatch steps.
        conditions.push(format!("(u.supervisor_id = ?{0} OR c.user_id = ?{0})", values.len()));
    }
    if let Some(work_order) = filter.work_order {
        values.push(work_order.to_string());
        conditions.push(format!("c.work_order_id = ?{}", values.len()));
    }
    if filter.unresolved {
        conditions.push("c.resolved_at IS NULL".to_owned());
    }
    if let Some(before) = filter.before {
        // An integer, written into the statement as one.
        conditions.push(format!("c.id < {before}"));
    }
    let mut sql = SELECT.to_owned();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {limit}"));
    let raws = conn
        .prepare_cached(&sql)
        .db()?
        .query_map(params_from_iter(values.iter()), read)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    raws.into_iter().map(decode).collect()
}

pub(crate) fn get(conn: &Connection, id: i64) -> fieldbook_server_db::DbResult<Option<ConflictInfo>> {
    let raw = conn.prepare_cached(&format!("{SELECT} WHERE c.id = ?1")).db()?.query_row([id], read).optional().db()?;
    raw.map(decode).transpose()
}

pub(crate) fn resolve(
    conn: &Connection,
    id: i64,
    by: UserId,
    at: DateTime<Utc>,
) -> fieldbook_server_db::DbResult<ConflictInfo> {
    // Resolving twice keeps the first resolution.
    conn.prepare_cached(
        "UPDATE conflicts SET resolved_at = ?2, resolved_by = ?3 WHERE id = ?1 AND resolved_at IS NULL",
    )
    .db()?
    .execute(rusqlite::params![id, millis(at), by.to_string()])
    .db()?;
    get(conn, id)?.ok_or_else(|| fieldbook_server_db::DbError::NotFound { what: "conflict", id: id.to_string() })
}
