//! Reference data: service policies, customers, sites, assets, checklist templates and the
//! parts catalogue, imported in bulk and read one by one.

use fieldbook_domain::ChecklistTemplate;
use fieldbook_protocol::PartCatalogEntry;
use fieldbook_server_db::{DbError, DbResult, ReferenceBatch};
use rusqlite::{Connection, params};
use serde::de::DeserializeOwned;

use crate::codec::{SqlResult, from_json, sql_unique, to_json};
use crate::work_orders::{self, Loader, body_by_id};

/// Writes a whole batch; the caller's transaction makes it all or nothing.
pub(crate) fn import(conn: &Connection, batch: &ReferenceBatch) -> DbResult<()> {
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO policies (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            )
            .db()?;
        for p in &batch.policies {
            stmt.execute(params![p.id.to_string(), to_json(p)?]).db()?;
        }
    }
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO customers (id, name, policy_id, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, policy_id = excluded.policy_id, body = excluded.body",
            )
            .db()?;
        for c in &batch.customers {
            stmt.execute(params![c.id.to_string(), c.name, c.policy_id.to_string(), to_json(c)?]).map_err(|e| {
                foreign(e, format!("customer '{}' names service policy {}, which is not stored", c.name, c.policy_id))
            })?;
        }
    }
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO sites (id, customer_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, body = excluded.body",
            )
            .db()?;
        for s in &batch.sites {
            stmt.execute(params![s.id.to_string(), s.customer_id.to_string(), to_json(s)?]).map_err(|e| {
                foreign(e, format!("site '{}' belongs to customer {}, which is not stored", s.name, s.customer_id))
            })?;
        }
    }
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO assets (id, site_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, body = excluded.body",
            )
            .db()?;
        for a in &batch.assets {
            stmt.execute(params![a.id.to_string(), a.site_id.to_string(), to_json(a)?]).map_err(|e| {
                foreign(e, format!("asset {} ({}) is at site {}, which is not stored", a.serial, a.model, a.site_id))
            })?;
        }
    }
    for t in &batch.templates {
        put_template(conn, t)?;
    }
    {
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO parts (part_number, name, needs_customer_approval, unit_price_cents) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (part_number) DO UPDATE SET name = excluded.name,
                     needs_customer_approval = excluded.needs_customer_approval, unit_price_cents = excluded.unit_price_cents",
            )
            .db()?;
        for p in &batch.parts {
            stmt.execute(params![p.part_number, p.name, p.needs_customer_approval, p.unit_price_cents]).db()?;
        }
    }
    let mut loader = Loader::new(conn);
    for w in &batch.work_orders {
        work_orders::import_one(conn, &mut loader, w)?;
    }
    Ok(())
}

/// A foreign-key failure with a message naming what is missing.
fn foreign(err: rusqlite::Error, message: String) -> DbError {
    match &err {
        rusqlite::Error::SqliteFailure(e, Some(m))
            if e.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("FOREIGN KEY") =>
        {
            DbError::Conflict(message)
        }
        _ => crate::codec::sql(err),
    }
}

/// Templates are insert-only: the same template again is a no-op, a changed one is refused.
fn put_template(conn: &Connection, template: &ChecklistTemplate) -> DbResult<()> {
    template.validate().map_err(DbError::Conflict)?;
    let stored: Option<ChecklistTemplate> =
        body_by_id(conn, "SELECT body FROM templates WHERE id = ?1", &template.id.to_string())?;
    match stored {
        Some(stored) if stored == *template => Ok(()),
        Some(_) => Err(DbError::Conflict(format!(
            "checklist template '{}' version {} is already stored with other content; template versions are never edited; create a new version",
            template.code, template.version
        ))),
        None => {
            conn.prepare_cached("INSERT INTO templates (id, code, version, body) VALUES (?1, ?2, ?3, ?4)")
                .db()?
                .execute(params![template.id.to_string(), template.code, template.version, to_json(template)?])
                .map_err(|e| {
                    sql_unique(e, |column| {
                        column.starts_with("templates.code").then(|| {
                            format!(
                                "checklist template '{}' already has a version {} under another id; give the new version a new number",
                                template.code, template.version
                            )
                        })
                    })
                })?;
            Ok(())
        }
    }
}

/// The JSON bodies of a whole table, parsed, in the given order.
pub(crate) fn all<T: DeserializeOwned>(conn: &Connection, sql: &str) -> DbResult<Vec<T>> {
    let mut stmt = conn.prepare(sql).db()?;
    let bodies = stmt.query_map([], |row| row.get::<_, String>(0)).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?;
    bodies.iter().map(|b| from_json(b)).collect()
}

pub(crate) fn parts(conn: &Connection) -> DbResult<Vec<PartCatalogEntry>> {
    let mut stmt = conn
        .prepare("SELECT part_number, name, needs_customer_approval, unit_price_cents FROM parts ORDER BY part_number")
        .db()?;
    stmt.query_map([], |row| {
        Ok(PartCatalogEntry {
            part_number: row.get(0)?,
            name: row.get(1)?,
            needs_customer_approval: row.get(2)?,
            unit_price_cents: row.get(3)?,
        })
    })
    .db()?
    .collect::<rusqlite::Result<Vec<_>>>()
    .db()
}
