//! The device's signed visit reports and the key it signs them with.
//!
//! At sign-off (in the sign-off's own transaction) the device builds the report document of
//! the visit as signed, signs its hash with its Ed25519 key, keeps the signed report and queues
//! it for the server, which checks it and appends it to its ledger. The key is made from the
//! operating system's random source the first time it is needed (at enrollment, which sends its
//! public half to the server, or at a sign-off on a device not yet enrolled) and kept in the
//! store's settings; it never leaves the device.

use chrono::{DateTime, Utc};
use fieldbook_domain::evidence::{DeviceKey, ReportDocument, ReportSigner, SignedReport};
use fieldbook_domain::{WorkOrder, WorkOrderId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{from_json, millis};
use crate::queries::load_visit;
use crate::{Result, Store, StoreError, set_setting_in, setting_in};

const DEVICE_KEY: &str = "device.signing_key";

/// The device's signing key, made and kept on first use.
pub(crate) fn device_key_in(conn: &Connection) -> Result<DeviceKey> {
    if let Some(secret) = setting_in(conn, DEVICE_KEY)? {
        return DeviceKey::from_hex(&secret)
            .ok_or_else(|| StoreError::Corrupt("the device's signing key is not 32 bytes of hex".into()));
    }
    let key = DeviceKey::generate();
    set_setting_in(conn, DEVICE_KEY, &key.secret_hex())?;
    Ok(key)
}

/// Who signs: the technician the work order is assigned to, as the device knows them.
fn signer_in(conn: &Connection, work_order: &WorkOrder) -> Result<ReportSigner> {
    let id = match work_order.assignee {
        Some(id) => id,
        None => setting_in(conn, "user_id")?
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| StoreError::Corrupt("a signed visit has no technician".into()))?,
    };
    let (name, staff_no): (String, String) = conn
        .query_row("SELECT name, staff_no FROM users WHERE id = ?1", [id.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?
        .unwrap_or_default();
    Ok(ReportSigner { id, name, staff_no })
}

/// Builds, signs and keeps the report of a visit just signed off; returns it for the outbox.
pub(crate) fn sign_report(conn: &Connection, work_order: &WorkOrder, now: DateTime<Utc>) -> Result<SignedReport> {
    let visit = load_visit(conn, work_order.id)?;
    let signer = signer_in(conn, work_order)?;
    let device_id = setting_in(conn, "sync.device_id")?.unwrap_or_else(|| "unenrolled".to_owned());
    let previous = latest_hash(conn, work_order.id)?;
    let key = device_key_in(conn)?;
    let signed = key.sign(ReportDocument::of_visit(visit, signer, &device_id, now, previous));
    conn.execute(
        "INSERT INTO signed_reports (hash, work_order_id, visit_version, signed_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            signed.hash,
            work_order.id.to_string(),
            i64::from(work_order.visit_version),
            millis(now),
            serde_json::to_string(&signed).map_err(|e| StoreError::Corrupt(e.to_string()))?
        ],
    )?;
    Ok(signed)
}

/// Keeps a signed report as given; returns whether it was new.
pub(crate) fn keep_signed_report_in(conn: &Connection, report: &SignedReport) -> Result<bool> {
    let d = &report.document;
    let added = conn.execute(
        "INSERT OR IGNORE INTO signed_reports (hash, work_order_id, visit_version, signed_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            report.hash,
            d.visit.work_order.id.to_string(),
            i64::from(d.visit.work_order.visit_version),
            millis(d.signed_at),
            serde_json::to_string(report).map_err(|e| StoreError::Corrupt(e.to_string()))?
        ],
    )?;
    Ok(added == 1)
}

fn latest_hash(conn: &Connection, work_order: WorkOrderId) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT hash FROM signed_reports WHERE work_order_id = ?1 ORDER BY visit_version DESC, signed_at DESC LIMIT 1",
            [work_order.to_string()],
            |row| row.get(0),
        )
        .optional()?)
}

impl Store {
    /// This device's report-signing key (made and kept on first use).
    pub fn device_key(&mut self) -> Result<DeviceKey> {
        let tx = self.conn.transaction()?;
        let key = device_key_in(&tx)?;
        tx.commit()?;
        Ok(key)
    }

    /// Keeps a signed report another device made, as the server's ledger gave it (a
    /// supervisor reviewing a visit, a technician's other device). Returns whether it was new.
    pub fn keep_signed_report(&mut self, report: &SignedReport) -> Result<bool> {
        keep_signed_report_in(&self.conn, report)
    }

    /// The signed reports of a work order this device holds, oldest first.
    pub fn signed_reports(&self, work_order: WorkOrderId) -> Result<Vec<SignedReport>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM signed_reports WHERE work_order_id = ?1 ORDER BY visit_version, signed_at",
        )?;
        let bodies = stmt
            .query_map([work_order.to_string()], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies.iter().map(|body| from_json(body)).collect()
    }
}

impl Store {
    /// The customer, site and equipment a work order names, as this device holds them.
    pub fn parties_of(
        &self,
        work_order: &WorkOrder,
    ) -> Result<(fieldbook_domain::Customer, fieldbook_domain::Site, Option<fieldbook_domain::Asset>)> {
        let customer = self
            .conn
            .query_row(
                "SELECT name, address, policy_id FROM customers WHERE id = ?1",
                [work_order.customer_id.to_string()],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "customer", id: work_order.customer_id.to_string() })?;
        let customer = fieldbook_domain::Customer {
            id: work_order.customer_id,
            name: customer.0,
            address: customer.1,
            policy_id: customer.2.parse()?,
        };
        let site = self
            .conn
            .query_row("SELECT name, address FROM sites WHERE id = ?1", [work_order.site_id.to_string()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "site", id: work_order.site_id.to_string() })?;
        let site = fieldbook_domain::Site {
            id: work_order.site_id,
            customer_id: work_order.customer_id,
            name: site.0,
            address: site.1,
        };
        let asset = match work_order.asset_id {
            None => None,
            Some(id) => self
                .conn
                .query_row(
                    "SELECT model, serial, location, warranty_end FROM assets WHERE id = ?1",
                    [id.to_string()],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Option<String>>(3)?,
                        ))
                    },
                )
                .optional()?
                .map(|(model, serial, location, warranty_end)| fieldbook_domain::Asset {
                    id,
                    site_id: work_order.site_id,
                    model,
                    serial,
                    location,
                    warranty_end: warranty_end.and_then(|d| d.parse().ok()),
                }),
        };
        Ok((customer, site, asset))
    }
}
