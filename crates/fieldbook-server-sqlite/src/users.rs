//! Users and their devices.

use chrono::{DateTime, Utc};
use fieldbook_domain::{Role, UserId};
use fieldbook_protocol::{DeviceInfo, UserInfo};
use fieldbook_server_db::{DbError, DbResult, NewDevice, UserRecord};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::codec::{SqlResult, from_millis, millis, opt_millis, parse, sql_unique, uint};

const USER_COLUMNS: &str = "id, username, name, staff_no, role, supervisor_id, disabled";

/// A user row as stored, before parsing.
type UserRow = (String, String, String, String, String, Option<String>, bool);

fn user_row(row: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

fn user_info(row: UserRow) -> DbResult<UserInfo> {
    let (id, username, name, staff_no, role, supervisor_id, disabled) = row;
    Ok(UserInfo {
        id: parse(&id)?,
        username,
        name,
        staff_no,
        role: parse::<Role>(&role)?,
        supervisor_id: supervisor_id.as_deref().map(parse).transpose()?,
        disabled,
    })
}

pub(crate) fn user(conn: &Connection, id: UserId) -> DbResult<Option<UserInfo>> {
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))
        .db()?
        .query_row([id.to_string()], user_row)
        .optional()
        .db()?
        .map(user_info)
        .transpose()
}

pub(crate) fn require_user(conn: &Connection, id: UserId) -> DbResult<UserInfo> {
    user(conn, id)?.ok_or_else(|| DbError::NotFound { what: "user", id: id.to_string() })
}

pub(crate) fn create_user(conn: &Connection, record: UserRecord) -> DbResult<UserInfo> {
    let info = record.info;
    if let Some(supervisor) = info.supervisor_id {
        require_user(conn, supervisor)?;
    }
    conn.execute(
        "INSERT INTO users (id, username, name, staff_no, role, supervisor_id, disabled, password_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            info.id.to_string(),
            info.username,
            info.name,
            info.staff_no,
            info.role.as_str(),
            info.supervisor_id.map(|s| s.to_string()),
            info.disabled,
            record.password_hash,
        ],
    )
    .map_err(|e| {
        sql_unique(e, |column| match column {
            "users.username" => Some(format!("user name '{}' is taken; choose another", info.username)),
            "users.id" => Some(format!("a user with id {} already exists", info.id)),
            _ => None,
        })
    })?;
    Ok(info)
}

pub(crate) fn user_by_username(conn: &Connection, username: &str) -> DbResult<Option<UserRecord>> {
    let row = conn
        .query_row(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1"), [username], |row| {
            Ok((user_row(row)?, row.get::<_, String>(7)?))
        })
        .optional()
        .db()?;
    row.map(|(info, password_hash)| Ok(UserRecord { info: user_info(info)?, password_hash })).transpose()
}

pub(crate) fn users(conn: &Connection) -> DbResult<Vec<UserInfo>> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")).db()?;
    let rows = stmt.query_map([], user_row).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?;
    rows.into_iter().map(user_info).collect()
}

pub(crate) fn set_user_disabled(conn: &Connection, id: UserId, disabled: bool) -> DbResult<UserInfo> {
    let changed =
        conn.execute("UPDATE users SET disabled = ?2 WHERE id = ?1", params![id.to_string(), disabled]).db()?;
    if changed == 0 {
        return Err(DbError::NotFound { what: "user", id: id.to_string() });
    }
    require_user(conn, id)
}

/// `last_seq` is the highest mutation number stored from the device (read from the primary
/// key of `mutations`, so it cannot drift from what is stored).
const DEVICE_SELECT: &str = "
    SELECT d.id, d.user_id, u.name, d.name, d.enrolled_at, d.last_sync_at,
           (SELECT COALESCE(MAX(m.seq), 0) FROM mutations m WHERE m.device_id = d.id),
           d.revoked_at, d.pending
    FROM devices d JOIN users u ON u.id = d.user_id";

type DeviceRow = (String, String, String, String, i64, Option<i64>, i64, Option<i64>, Option<i64>);

fn device_row(row: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

fn device_info(row: DeviceRow) -> DbResult<DeviceInfo> {
    let (id, user_id, user_name, name, enrolled_at, last_sync_at, last_seq, revoked_at, pending) = row;
    Ok(DeviceInfo {
        id,
        user_id: parse(&user_id)?,
        user_name,
        name,
        enrolled_at: from_millis(enrolled_at)?,
        last_sync_at: opt_millis(last_sync_at)?,
        last_seq: uint(last_seq)?,
        revoked_at: opt_millis(revoked_at)?,
        unresolved_conflicts: 0,
        pending: pending.map(uint).transpose()?,
    })
}

pub(crate) fn device(conn: &Connection, id: &str) -> DbResult<DeviceInfo> {
    conn.query_row(&format!("{DEVICE_SELECT} WHERE d.id = ?1"), [id], device_row)
        .optional()
        .db()?
        .map(device_info)
        .transpose()?
        .ok_or_else(|| DbError::NotFound { what: "device", id: id.to_owned() })
}

pub(crate) fn create_device(conn: &Connection, device: NewDevice) -> DbResult<DeviceInfo> {
    require_user(conn, device.user_id)?;
    conn.execute(
        "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at, public_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            device.id,
            device.user_id.to_string(),
            device.name,
            device.token_hash,
            millis(device.enrolled_at),
            device.public_key
        ],
    )
    .map_err(|e| {
        sql_unique(e, |column| match column {
            "devices.id" => Some(format!("a device with id {} is already enrolled", device.id)),
            "devices.token_hash" => Some("this device token is already in use; enroll again for a new one".into()),
            _ => None,
        })
    })?;
    self::device(conn, &device.id)
}

/// Enrols a device: the user's device with the same public key, unless revoked, takes the new
/// token and keeps its id and numbering (an enrolment retried after its answer was lost, or the
/// same tablet signed in again); otherwise a new device.
pub(crate) fn enroll_device(conn: &Connection, device: NewDevice) -> DbResult<DeviceInfo> {
    let existing: Option<String> = match &device.public_key {
        Some(key) => conn
            .prepare_cached(
                "SELECT id FROM devices WHERE user_id = ?1 AND public_key = ?2 AND revoked_at IS NULL
                 ORDER BY enrolled_at DESC LIMIT 1",
            )
            .db()?
            .query_row(params![device.user_id.to_string(), key], |row| row.get(0))
            .optional()
            .db()?,
        None => None,
    };
    let Some(id) = existing else { return create_device(conn, device) };
    conn.prepare_cached("UPDATE devices SET token_hash = ?2 WHERE id = ?1")
        .db()?
        .execute(params![id, device.token_hash])
        .db()?;
    self::device(conn, &id)
}

pub(crate) fn device_by_token(conn: &Connection, token_hash: &str) -> DbResult<Option<(DeviceInfo, UserInfo)>> {
    let row = conn
        .prepare_cached(&format!("{DEVICE_SELECT} WHERE d.token_hash = ?1 AND d.revoked_at IS NULL AND u.disabled = 0"))
        .db()?
        .query_row([token_hash], device_row)
        .optional()
        .db()?;
    let Some(row) = row else { return Ok(None) };
    let device = device_info(row)?;
    let user = require_user(conn, device.user_id)?;
    Ok(Some((device, user)))
}

pub(crate) fn devices(conn: &Connection) -> DbResult<Vec<DeviceInfo>> {
    let mut stmt = conn.prepare(&format!("{DEVICE_SELECT} ORDER BY d.enrolled_at, d.id")).db()?;
    let rows = stmt.query_map([], device_row).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?;
    let mut devices = rows.into_iter().map(device_info).collect::<DbResult<Vec<_>>>()?;
    let mut open =
        conn.prepare("SELECT device_id, COUNT(*) FROM conflicts WHERE resolved_at IS NULL GROUP BY device_id").db()?;
    let counts = open
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .db()?
        .collect::<rusqlite::Result<std::collections::HashMap<_, _>>>()
        .db()?;
    for device in &mut devices {
        device.unresolved_conflicts = counts.get(&device.id).map_or(Ok(0), |n| uint(*n))?;
    }
    Ok(devices)
}

/// Revokes a device; revoking it again keeps the first time.
pub(crate) fn revoke_device(conn: &Connection, id: &str, at: DateTime<Utc>) -> DbResult<DeviceInfo> {
    let changed = conn
        .execute("UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1", params![id, millis(at)])
        .db()?;
    if changed == 0 {
        return Err(DbError::NotFound { what: "device", id: id.to_owned() });
    }
    device(conn, id)
}

/// Notes a device's sync, and what it said it still holds (kept as last told when it says
/// nothing, as an older app does).
pub(crate) fn record_sync(conn: &Connection, id: &str, at: DateTime<Utc>, pending: Option<u64>) -> DbResult<()> {
    let pending = pending.map(|n| crate::codec::int(n, "pending changes")).transpose()?;
    let changed = conn
        .prepare_cached("UPDATE devices SET last_sync_at = ?2, pending = COALESCE(?3, pending) WHERE id = ?1")
        .db()?
        .execute(params![id, millis(at), pending])
        .db()?;
    if changed == 0 {
        return Err(DbError::NotFound { what: "device", id: id.to_owned() });
    }
    Ok(())
}

pub(crate) fn device_key(conn: &Connection, id: &str) -> DbResult<Option<(Option<String>, Option<DateTime<Utc>>)>> {
    let row: Option<(Option<String>, Option<i64>)> = conn
        .prepare_cached("SELECT public_key, revoked_at FROM devices WHERE id = ?1")
        .db()?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    row.map(|(key, revoked_at)| Ok((key, opt_millis(revoked_at)?))).transpose()
}
