//! Conversions between domain values and their stored form, and from SQLite's errors to
//! [`DbError`].

use chrono::{DateTime, Utc};
use fieldbook_server_db::{DbError, DbResult};
use rusqlite::ErrorCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DbResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(format!("timestamp {ms} is out of range")))
}

pub(crate) fn opt_millis(ms: Option<i64>) -> DbResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> DbResult<String> {
    serde_json::to_string(value).map_err(|err| DbError::Backend(format!("a value could not be encoded as JSON: {err}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> DbResult<T> {
    serde_json::from_str(text).map_err(|err| corrupt(err.to_string()))
}

/// Parses an id or name stored as text.
pub(crate) fn parse<T: std::str::FromStr>(text: &str) -> DbResult<T>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|err: T::Err| corrupt(err.to_string()))
}

/// A u64 counter or size as SQLite's signed integer.
pub(crate) fn int(value: u64, what: &str) -> DbResult<i64> {
    i64::try_from(value).map_err(|_| DbError::Conflict(format!("{what} {value} is too large")))
}

/// A stored non-negative integer back as u64.
pub(crate) fn uint(value: i64) -> DbResult<u64> {
    u64::try_from(value).map_err(|_| corrupt(format!("negative counter {value}")))
}

fn corrupt(detail: String) -> DbError {
    DbError::Backend(format!("a stored value could not be read back ({detail}); the database may be damaged"))
}

/// The `table.column` list of a failed UNIQUE or PRIMARY KEY constraint, if that is what failed.
fn unique_columns(err: &rusqlite::Error) -> Option<&str> {
    match err {
        rusqlite::Error::SqliteFailure(e, Some(message)) if e.code == ErrorCode::ConstraintViolation => {
            message.strip_prefix("UNIQUE constraint failed: ")
        }
        _ => None,
    }
}

/// Maps a SQLite error: constraint failures are the caller's conflict, anything else is the
/// backend's failure.
pub(crate) fn sql(err: rusqlite::Error) -> DbError {
    if let Some(columns) = unique_columns(&err) {
        return DbError::Conflict(format!("a record with the same {columns} already exists"));
    }
    if let rusqlite::Error::SqliteFailure(e, message) = &err
        && e.code == ErrorCode::ConstraintViolation
    {
        let detail = message.as_deref().unwrap_or("constraint failed");
        if detail.contains("FOREIGN KEY") {
            return DbError::Conflict(
                "this refers to a customer, site, asset, template, user or device that does not exist; create it first"
                    .into(),
            );
        }
        return DbError::Conflict(format!("the change breaks a rule of the database ({detail})"));
    }
    DbError::Backend(err.to_string())
}

/// Like [`sql`], but a uniqueness failure on one of the named `table.column`s gets the
/// message that `message` gives for it.
pub(crate) fn sql_unique(err: rusqlite::Error, message: impl FnOnce(&str) -> Option<String>) -> DbError {
    if let Some(columns) = unique_columns(&err)
        && let Some(message) = message(columns)
    {
        return DbError::Conflict(message);
    }
    sql(err)
}

/// `.db()?` on rusqlite results.
pub(crate) trait SqlResult<T> {
    fn db(self) -> DbResult<T>;
}

impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn db(self) -> DbResult<T> {
        self.map_err(sql)
    }
}
