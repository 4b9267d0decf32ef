//! A supervisor's work on this device: calls recorded as work orders, assignments, schedule
//! and level changes, cancels and reviews. Each is applied here at once through the domain's
//! rules (the same the server applies) and queued like a technician's change; the work order
//! the server sends back settles it.

use chrono::{DateTime, Utc};
use fieldbook_domain::dispatch::{self, Dispatch, DispatchAction, DispatchError};
use fieldbook_domain::{Asset, Customer, ServicePolicy, Site, User, WorkOrder};
use rusqlite::OptionalExtension;

use crate::codec::from_json;
use crate::reference::put_work_order;
use crate::writes::{Outgoing, enqueue, load_work_order};
use crate::{Result, Store, StoreError};

impl From<DispatchError> for StoreError {
    fn from(err: DispatchError) -> Self {
        match err {
            DispatchError::Invalid(e) => StoreError::Invalid(e),
            DispatchError::Rule(e) => StoreError::Rule(e),
            DispatchError::AlreadyExists(number) => StoreError::Invalid(fieldbook_domain::InvalidInput::UnknownValue {
                what: "new work order",
                value: number,
                expected: "an id not yet used",
            }),
            DispatchError::Missing(id) => StoreError::NotFound { what: "work order", id: id.to_string() },
        }
    }
}

/// Everything a call can name, for the new-work-order form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchCatalog {
    pub customers: Vec<Customer>,
    pub sites: Vec<Site>,
    pub assets: Vec<Asset>,
    /// The technicians work can be assigned to.
    pub technicians: Vec<User>,
}

pub(crate) fn policy_of_customer(
    tx: &rusqlite::Connection,
    customer: fieldbook_domain::CustomerId,
) -> Result<Option<ServicePolicy>> {
    let body: Option<String> = tx
        .query_row(
            "SELECT p.body FROM customers c JOIN policies p ON p.id = c.policy_id WHERE c.id = ?1",
            [customer.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    body.map(|b| from_json(&b)).transpose()
}

fn not_found(what: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound { what, id: id.to_string() }
}

impl Store {
    /// Takes a supervisor's step: checked and applied here by the domain's rules, stored with
    /// its outbox row in one transaction. Returns the work order as it now stands here.
    pub fn dispatch(&mut self, step: &Dispatch, now: DateTime<Utc>) -> Result<WorkOrder> {
        let tx = self.conn.transaction()?;
        let id = step.work_order_id;
        let next = match &step.action {
            DispatchAction::Create(call) => {
                let taken: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM work_orders WHERE id = ?1)", [id.to_string()], |row| {
                        row.get(0)
                    })?;
                if taken {
                    return Err(DispatchError::AlreadyExists(id.to_string()).into());
                }
                let policy = policy_of_customer(&tx, call.customer_id)?
                    .ok_or_else(|| not_found("customer", call.customer_id))?;
                let site_customer: Option<String> = tx
                    .query_row("SELECT customer_id FROM sites WHERE id = ?1", [call.site_id.to_string()], |r| r.get(0))
                    .optional()?;
                match site_customer {
                    None => return Err(not_found("site", call.site_id)),
                    Some(owner) if owner != call.customer_id.to_string() => {
                        return Err(fieldbook_domain::InvalidInput::UnknownValue {
                            what: "site",
                            value: call.site_id.to_string(),
                            expected: "a site of the chosen customer",
                        }
                        .into());
                    }
                    Some(_) => {}
                }
                if let Some(asset) = call.asset_id {
                    let site: Option<String> = tx
                        .query_row("SELECT site_id FROM assets WHERE id = ?1", [asset.to_string()], |r| r.get(0))
                        .optional()?;
                    if site.as_deref() != Some(call.site_id.to_string().as_str()) {
                        return Err(fieldbook_domain::InvalidInput::UnknownValue {
                            what: "equipment",
                            value: asset.to_string(),
                            expected: "equipment at the chosen site",
                        }
                        .into());
                    }
                }
                let mut created = WorkOrder::from_call(id, call, &policy, step.at)?;
                // Another call of the day may have the same first number here; the server
                // gives it the next one alike, and its copy settles the number in any case.
                created.number = crate::reference::free_number(&tx, "WO", &created, None)?;
                created
            }
            action => {
                let current = load_work_order(&tx, id)?;
                let policy = policy_of_customer(&tx, current.customer_id)?
                    .ok_or_else(|| not_found("customer", current.customer_id))?;
                dispatch::apply(&current, action, &policy)?.work_order
            }
        };
        if let Some(assignee) = next.assignee {
            let known: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)", [assignee.to_string()], |r| {
                    r.get(0)
                })?;
            if !known {
                return Err(not_found("technician", assignee));
            }
        }
        put_work_order(&tx, &next)?;
        let key = id.to_string();
        enqueue(&tx, Outgoing { work_order: id, entity: "work_order", entity_id: &key, op: "dispatch" }, step, now)?;
        tx.commit()?;
        Ok(next)
    }

    /// A customer's service policy, which sets a call's deadlines.
    pub fn customer_policy(&self, customer: fieldbook_domain::CustomerId) -> Result<ServicePolicy> {
        policy_of_customer(&self.conn, customer)?.ok_or_else(|| not_found("customer", customer))
    }

    /// The customers, sites, equipment and technicians a supervisor can dispatch to.
    pub fn dispatch_catalog(&self) -> Result<DispatchCatalog> {
        let mut catalog = DispatchCatalog::default();
        let mut stmt = self.conn.prepare("SELECT id, name, address, policy_id FROM customers ORDER BY name, id")?;
        catalog.customers = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?)))?
            .collect::<rusqlite::Result<Vec<(String, String, String, String)>>>()?
            .into_iter()
            .map(|(id, name, address, policy)| {
                Ok(Customer { id: id.parse()?, name, address, policy_id: policy.parse()? })
            })
            .collect::<Result<_>>()?;
        let mut stmt = self.conn.prepare("SELECT id, customer_id, name, address FROM sites ORDER BY name, id")?;
        catalog.sites = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<Vec<(String, String, String, String)>>>()?
            .into_iter()
            .map(|(id, customer, name, address)| {
                Ok(Site { id: id.parse()?, customer_id: customer.parse()?, name, address })
            })
            .collect::<Result<_>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT id, site_id, model, serial, location, warranty_end FROM assets ORDER BY model, serial, id",
        )?;
        catalog.assets = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<(String, String, String, String, String, Option<String>)>>>()?
            .into_iter()
            .map(|(id, site, model, serial, location, warranty)| {
                Ok(Asset {
                    id: id.parse()?,
                    site_id: site.parse()?,
                    model,
                    serial,
                    location,
                    warranty_end: warranty
                        .map(|w| w.parse().map_err(|_| StoreError::Corrupt(format!("warranty end '{w}'"))))
                        .transpose()?,
                })
            })
            .collect::<Result<_>>()?;
        catalog.technicians = self.technicians()?;
        Ok(catalog)
    }

    /// The technicians this device knows (a supervisor's team), by name.
    pub fn technicians(&self) -> Result<Vec<User>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, staff_no FROM users WHERE role = 'technician' ORDER BY name, staff_no, id")?;
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<(String, String, String)>>>()?
            .into_iter()
            .map(|(id, name, staff_no)| {
                Ok(User { id: id.parse()?, name, staff_no, role: fieldbook_domain::Role::Technician })
            })
            .collect()
    }
}

/// A pending dispatch step of this work order, replayed over the server's version on a pull.
pub(crate) fn pending_dispatch(payload: &str) -> Result<Dispatch> {
    from_json(payload)
}

pub(crate) fn replay(tx: &rusqlite::Connection, merged: &WorkOrder, step: &Dispatch) -> Result<Option<WorkOrder>> {
    if matches!(step.action, DispatchAction::Create(_)) {
        return Ok(None);
    }
    let Some(policy) = policy_of_customer(tx, merged.customer_id)? else { return Ok(None) };
    Ok(dispatch::apply(merged, &step.action, &policy).ok().map(|e| e.work_order))
}
