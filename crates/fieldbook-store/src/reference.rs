//! Data that arrives from the server (or the demo loader) rather than from the user: it is
//! written without outbox rows, because the server already has it.

use std::borrow::Cow;
use std::collections::HashMap;

use fieldbook_domain::{
    Asset, AssetId, BlobId, ChecklistTemplate, CorrectiveRequest, Customer, CustomerId, FaultRecord, InspectionResult,
    Note, PartUsage, Photo, ServicePolicy, SignOff, Site, SiteId, User, WorkOrder,
};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::codec::{Rfc3339, millis, to_json};
use crate::{Result, Store};

/// Everything one import (a page of pulled changes, or the demo data set) writes at once.
#[derive(Debug, Default, Clone)]
pub struct ImportBatch {
    pub users: Vec<User>,
    pub policies: Vec<ServicePolicy>,
    pub customers: Vec<Customer>,
    pub sites: Vec<Site>,
    pub assets: Vec<Asset>,
    pub templates: Vec<ChecklistTemplate>,
    pub work_orders: Vec<WorkOrder>,
    pub results: Vec<InspectionResult>,
    pub faults: Vec<FaultRecord>,
    pub parts: Vec<PartUsage>,
    pub blobs: Vec<(BlobId, Vec<u8>)>,
    pub photos: Vec<Photo>,
    pub sign_offs: Vec<SignOff>,
    pub notes: Vec<Note>,
    /// (part number, name, needs customer approval, unit price in cents)
    pub parts_catalog: Vec<(String, String, bool, i64)>,
}

impl Store {
    /// Makes the device's parts catalog the server's: parts added or changed are written, parts
    /// the server dropped are removed, and `etag` is kept to ask next time whether it changed.
    pub fn replace_parts_catalog(&mut self, parts: &[(String, String, bool, i64)], etag: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let kept: Vec<&str> = parts.iter().map(|(number, ..)| number.as_str()).collect();
        tx.execute(
            "DELETE FROM parts_catalog WHERE part_number NOT IN (SELECT value FROM json_each(?1))",
            [serde_json::to_string(&kept).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?],
        )?;
        import_in(&tx, &ImportBatch { parts_catalog: parts.to_vec(), ..ImportBatch::default() })?;
        crate::set_setting_in(&tx, "parts.etag", etag)?;
        tx.commit()?;
        Ok(())
    }

    /// Writes a batch in one transaction: all of it lands or none of it does.
    pub fn import(&mut self, batch: &ImportBatch) -> Result<()> {
        let tx = self.conn.transaction()?;
        import_in(&tx, batch)?;
        tx.commit()?;
        Ok(())
    }
}

/// Runs one statement, kept prepared for the next call (imports run the same few thousands of
/// times), and says how many rows it changed.
fn run(tx: &Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
    Ok(tx.prepare_cached(sql)?.execute(params)?)
}

/// Writes a batch inside the caller's transaction.
pub(crate) fn import_in(tx: &Transaction<'_>, batch: &ImportBatch) -> Result<()> {
    {
        for u in &batch.users {
            run(
                tx,
                "INSERT INTO users (id, name, staff_no, role) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, staff_no = excluded.staff_no, role = excluded.role",
                params![u.id.to_string(), u.name, u.staff_no, u.role.as_str()],
            )?;
        }
        for p in &batch.policies {
            run(
                tx,
                "INSERT INTO policies (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                params![p.id.to_string(), to_json(p)],
            )?;
        }
        for c in &batch.customers {
            run(
                tx,
                "INSERT INTO customers (id, name, address, policy_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, policy_id = excluded.policy_id",
                params![c.id.to_string(), c.name, c.address, c.policy_id.to_string()],
            )?;
        }
        for s in &batch.sites {
            run(
                tx,
                "INSERT INTO sites (id, customer_id, name, address) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, name = excluded.name, address = excluded.address",
                params![s.id.to_string(), s.customer_id.to_string(), s.name, s.address],
            )?;
        }
        for a in &batch.assets {
            run(
                tx,
                "INSERT INTO assets (id, site_id, model, serial, location, warranty_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, model = excluded.model, serial = excluded.serial,
                     location = excluded.location, warranty_end = excluded.warranty_end",
                params![
                    a.id.to_string(),
                    a.site_id.to_string(),
                    a.model,
                    a.serial,
                    a.location,
                    a.warranty_end.map(|d| d.to_string())
                ],
            )?;
        }
        for t in &batch.templates {
            // Templates are versioned and never change under a visit: an id arrives once.
            run(
                tx,
                "INSERT OR IGNORE INTO templates (id, code, version, body) VALUES (?1, ?2, ?3, ?4)",
                params![t.id.to_string(), t.code, t.version, to_json(t)],
            )?;
        }
        let mut statements = BulkStatements::new(tx)?;
        if !batch.work_orders.is_empty() {
            let known = SearchNames::of(batch);
            for w in &batch.work_orders {
                statements.put_work_order(tx, w, &known, None)?;
            }
        }
        for r in &batch.results {
            statements.insert_result(r, None)?;
        }
        for f in &batch.faults {
            insert_fault(tx, f)?;
        }
        for p in &batch.parts {
            insert_part(tx, p)?;
        }
        for (id, bytes) in &batch.blobs {
            insert_blob(tx, id, bytes, chrono::Utc::now())?;
        }
        for p in &batch.photos {
            insert_photo(tx, p)?;
        }
        for s in &batch.sign_offs {
            insert_sign_off(tx, s)?;
        }
        for n in &batch.notes {
            insert_note(tx, n)?;
        }
        for (number, name, approval, price) in &batch.parts_catalog {
            run(
                tx,
                "INSERT INTO parts_catalog (part_number, name, needs_customer_approval, unit_price_cents)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (part_number) DO UPDATE SET name = excluded.name,
                     needs_customer_approval = excluded.needs_customer_approval, unit_price_cents = excluded.unit_price_cents",
                params![number, name, approval, price],
            )?;
        }
        Ok(())
    }
}

/// The names a work order's search text is made of, taken from an import's own reference
/// data (which was written in the same transaction) instead of read back one work order at a
/// time. Anything not found here is read from the store.
#[derive(Default)]
pub(crate) struct SearchNames<'a> {
    customers: HashMap<CustomerId, &'a str>,
    sites: HashMap<SiteId, (CustomerId, &'a str)>,
    assets: HashMap<AssetId, (&'a str, &'a str)>,
}

impl<'a> SearchNames<'a> {
    pub(crate) fn of(batch: &'a ImportBatch) -> SearchNames<'a> {
        SearchNames {
            customers: batch.customers.iter().map(|c| (c.id, c.name.as_str())).collect(),
            sites: batch.sites.iter().map(|s| (s.id, (s.customer_id, s.name.as_str()))).collect(),
            assets: batch.assets.iter().map(|a| (a.id, (a.model.as_str(), a.serial.as_str()))).collect(),
        }
    }

    /// (customer name, site name) of a work order; an error when the site is not the
    /// customer's, as the store's own lookup gives.
    fn names(&self, tx: &Transaction<'_>, w: &WorkOrder) -> Result<(String, String)> {
        if let (Some(customer), Some((owner, site))) = (self.customers.get(&w.customer_id), self.sites.get(&w.site_id))
            && *owner == w.customer_id
        {
            return Ok(((*customer).to_owned(), (*site).to_owned()));
        }
        Ok(tx
            .prepare_cached(
                "SELECT c.name, s.name FROM customers c JOIN sites s ON s.customer_id = c.id WHERE c.id = ?1 AND s.id = ?2",
            )?
            .query_row(params![w.customer_id.to_string(), w.site_id.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))?)
    }

    /// (model, serial) of a work order's asset, empty when it has none or it is unknown.
    fn asset(&self, tx: &Transaction<'_>, w: &WorkOrder) -> Result<(String, String)> {
        let Some(id) = w.asset_id else { return Ok(Default::default()) };
        if let Some((model, serial)) = self.assets.get(&id) {
            return Ok(((*model).to_owned(), (*serial).to_owned()));
        }
        let asset: Option<(String, String)> = tx
            .prepare_cached("SELECT model, serial FROM assets WHERE id = ?1")?
            .query_row([id.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        Ok(asset.unwrap_or_default())
    }
}

/// Inserts or replaces a work order, keeping its sort and search columns in step with it.
pub(crate) fn put_work_order(tx: &Transaction<'_>, w: &WorkOrder) -> Result<()> {
    put_work_order_named(tx, w, &SearchNames::default())
}

/// What a work order's `body` keeps: the fields its columns do not (about half the bytes of
/// each body; a first sync writes ten thousand). `queries::WORK_ORDER_BY_ID` and the list put the
/// columns back when reading; bodies stored whole by earlier versions read the same. The
/// times stay here too, to the nanosecond (their columns hold milliseconds).
#[derive(serde::Serialize)]
struct WorkOrderBody<'a> {
    contact: &'a fieldbook_domain::Contact,
    symptom: &'a str,
    reported_by: &'a str,
    reported_at: Rfc3339,
    scheduled_for: Option<Rfc3339>,
    billing: fieldbook_domain::BillingBasis,
    instructions: &'a str,
    deadlines: DeadlinesBody,
    responded_at: Option<Rfc3339>,
    arrived_at: Option<Rfc3339>,
    completed_at: Option<Rfc3339>,
    status_note: &'a Option<String>,
    visit_version: u32,
}

/// [`fieldbook_domain::Deadlines`] as its own serde writes it, with its times written whole.
#[derive(serde::Serialize)]
struct DeadlinesBody {
    respond_by: Rfc3339,
    arrive_by: Rfc3339,
    resolve_by: Rfc3339,
    loaner_by: Option<Rfc3339>,
}

impl DeadlinesBody {
    fn of(deadlines: &fieldbook_domain::Deadlines) -> Self {
        // Every field named, as in `WorkOrderBody::of`.
        let fieldbook_domain::Deadlines { respond_by, arrive_by, resolve_by, loaner_by } = *deadlines;
        DeadlinesBody {
            respond_by: Rfc3339(respond_by),
            arrive_by: Rfc3339(arrive_by),
            resolve_by: Rfc3339(resolve_by),
            loaner_by: loaner_by.map(Rfc3339),
        }
    }
}

impl<'a> WorkOrderBody<'a> {
    fn of(w: &'a WorkOrder) -> Self {
        // Every field named, so a field added to `WorkOrder` fails to compile here until it is
        // given a column or a place in the body.
        let WorkOrder {
            id: _,
            number: _,
            customer_id: _,
            site_id: _,
            asset_id: _,
            kind: _,
            fault_level: _,
            assignee: _,
            status: _,
            template_id: _,
            contact,
            symptom,
            reported_by,
            reported_at,
            scheduled_for,
            billing,
            instructions,
            deadlines,
            responded_at,
            arrived_at,
            completed_at,
            status_note,
            visit_version,
        } = w;
        WorkOrderBody {
            contact,
            symptom,
            reported_by,
            reported_at: Rfc3339(*reported_at),
            scheduled_for: scheduled_for.map(Rfc3339),
            billing: *billing,
            instructions,
            deadlines: DeadlinesBody::of(deadlines),
            responded_at: responded_at.map(Rfc3339),
            arrived_at: arrived_at.map(Rfc3339),
            completed_at: completed_at.map(Rfc3339),
            status_note,
            visit_version: *visit_version,
        }
    }
}

/// [`put_work_order`] with the names of an import at hand.
pub(crate) fn put_work_order_named(tx: &Transaction<'_>, w: &WorkOrder, known: &SearchNames<'_>) -> Result<()> {
    let statements = [&mut *tx.prepare_cached(NEW_WORK_ORDER)?, &mut *tx.prepare_cached(PUT_WORK_ORDER)?];
    put_work_order_with(tx, statements, w, known, None)
}

/// A work order's stored body (see [`WorkOrderBody`]).
pub(crate) fn work_order_body(w: &WorkOrder) -> String {
    to_json(&WorkOrderBody::of(w))
}

/// An inspection result's stored body (see [`ResultBody`]).
pub(crate) fn result_body(r: &InspectionResult) -> String {
    to_json(&ResultBody { answer: &r.answer, note: &r.note, recorded_at: Rfc3339(r.recorded_at), hlc: r.hlc })
}

/// The statements most of a page of pulled changes (or an import) is written with, prepared
/// once for it: looking each up in the statement cache by its text cost about a tenth of
/// applying a first sync's pages.
pub(crate) struct BulkStatements<'t> {
    new_work_order: rusqlite::CachedStatement<'t>,
    work_order: rusqlite::CachedStatement<'t>,
    result: rusqlite::CachedStatement<'t>,
}

impl<'t> BulkStatements<'t> {
    pub(crate) fn new(tx: &'t Transaction<'_>) -> Result<Self> {
        Ok(BulkStatements {
            new_work_order: tx.prepare_cached(NEW_WORK_ORDER)?,
            work_order: tx.prepare_cached(PUT_WORK_ORDER)?,
            result: tx.prepare_cached(INSERT_RESULT)?,
        })
    }

    /// Writes `w`, with its body when it was made already (see `PreparedBodies`).
    pub(crate) fn put_work_order(
        &mut self,
        tx: &Transaction<'_>,
        w: &WorkOrder,
        known: &SearchNames<'_>,
        body: Option<&str>,
    ) -> Result<()> {
        put_work_order_with(tx, [&mut *self.new_work_order, &mut *self.work_order], w, known, body)
    }

    /// Writes `r`, with its body when it was made already (see `PreparedBodies`).
    pub(crate) fn insert_result(&mut self, r: &InspectionResult, body: Option<&str>) -> Result<usize> {
        insert_result_with(&mut self.result, r, body)
    }
}

/// A work order not yet here: a plain insert, which SQLite writes without the statement
/// journal an upsert needs (the table has two unique keys and an upsert may stop half-way),
/// about a twentieth of a first sync's writing. Any constraint it meets leaves the row to
/// [`PUT_WORK_ORDER`], which updates it or reports the violation as before.
const NEW_WORK_ORDER: &str =
    "INSERT OR IGNORE INTO work_orders (id, number, customer_id, site_id, asset_id, assignee_id,
             template_id, kind, fault_level, status, reported_at, next_due, scheduled_for, search_text, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

const PUT_WORK_ORDER: &str =
    "INSERT INTO work_orders (id, number, customer_id, site_id, asset_id, assignee_id, template_id, kind,
             fault_level, status, reported_at, next_due, scheduled_for, search_text, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, customer_id = excluded.customer_id,
             site_id = excluded.site_id, asset_id = excluded.asset_id, assignee_id = excluded.assignee_id,
             template_id = excluded.template_id, kind = excluded.kind, fault_level = excluded.fault_level,
             status = excluded.status, reported_at = excluded.reported_at, next_due = excluded.next_due,
             scheduled_for = excluded.scheduled_for, search_text = excluded.search_text, body = excluded.body";

/// Writes `w` with `[NEW_WORK_ORDER, PUT_WORK_ORDER]`.
fn put_work_order_with(
    tx: &Transaction<'_>,
    [new, put]: [&mut rusqlite::Statement<'_>; 2],
    w: &WorkOrder,
    known: &SearchNames<'_>,
    body: Option<&str>,
) -> Result<()> {
    let names = known.names(tx, w)?;
    let (model, serial) = known.asset(tx, w)?;
    let search_text =
        [w.number.as_str(), &names.0, &names.1, &w.contact.name, &w.contact.phone, &model, &serial, &w.symptom]
            .join("\u{1f}")
            .to_lowercase();
    let (id, customer, site) = (w.id.to_string(), w.customer_id.to_string(), w.site_id.to_string());
    let (asset, assignee, template) = (
        w.asset_id.map(|id| id.to_string()),
        w.assignee.map(|id| id.to_string()),
        w.template_id.map(|id| id.to_string()),
    );
    let body = body.map_or_else(|| Cow::Owned(work_order_body(w)), Cow::Borrowed);
    let row = params![
        id,
        w.number,
        customer,
        site,
        asset,
        assignee,
        template,
        w.kind.as_str(),
        w.fault_level.as_str(),
        w.status.as_str(),
        millis(w.reported_at),
        w.next_due().map(millis),
        w.scheduled_for.map(millis),
        search_text,
        body,
    ];
    if new.execute(row)? == 0 {
        match put.execute(row) {
            Err(err) if number_taken(&err) => {
                give_way(tx, w)?;
                put.execute(row)?;
            }
            written => {
                written?;
            }
        }
    }
    Ok(())
}

fn number_taken(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, Some(message))
        if e.code == rusqlite::ErrorCode::ConstraintViolation && message.contains("work_orders.number"))
}

/// The first of the domain's numbers for a work order made here (a call recorded offline) that
/// no other work order on this device has, nor `wanted` (the number a pulled work order is being
/// written with) ([`fieldbook_domain::work_order::numbers_for`]).
pub(crate) fn free_number(tx: &Transaction<'_>, prefix: &str, w: &WorkOrder, wanted: Option<&str>) -> Result<String> {
    let mut taken = tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM work_orders WHERE number = ?1 AND id != ?2)")?;
    let id = w.id.to_string();
    for number in fieldbook_domain::work_order::numbers_for(prefix, w.id, w.reported_at) {
        if Some(number.as_str()) != wanted && !taken.query_row(params![number, id], |row| row.get::<_, bool>(0))? {
            return Ok(number);
        }
    }
    Err(crate::StoreError::Corrupt(format!("every number work order {} could take is already used here", w.id)))
}

/// A pulled work order arrives with a number another work order here holds: one recorded on
/// this device that the server numbered otherwise (two calls of one day may share the first
/// number, and the server gives the later one the next). The one here takes its next free number
/// until the server's copy of it arrives, so the page is written instead of failing every pull.
fn give_way(tx: &Transaction<'_>, w: &WorkOrder) -> Result<()> {
    let holder: Option<(String, i64)> = tx
        .query_row(
            "SELECT id, reported_at FROM work_orders WHERE number = ?1 AND id != ?2",
            params![w.number, w.id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((id, reported_at)) = holder else { return Ok(()) };
    let mut holder = w.clone();
    holder.id = crate::codec::parse(&id)?;
    holder.reported_at = crate::codec::from_millis(reported_at)?;
    let number = free_number(tx, "WO", &holder, Some(&w.number))?;
    tx.execute("UPDATE work_orders SET number = ?2 WHERE id = ?1", params![id, number])?;
    Ok(())
}

/// What an inspection result's `body` keeps: the fields its columns do not. A first sync
/// writes tens of thousands of results, and the columns' fields were about half of each body.
/// [`crate::queries::RESULT_JSON`] puts the columns back when reading; bodies stored whole by
/// earlier versions read the same.
#[derive(serde::Serialize)]
struct ResultBody<'a> {
    answer: &'a fieldbook_domain::Answer,
    note: &'a str,
    recorded_at: Rfc3339,
    hlc: fieldbook_domain::Hlc,
}

pub(crate) fn insert_result(tx: &Transaction<'_>, r: &InspectionResult) -> Result<usize> {
    insert_result_with(&mut *tx.prepare_cached(INSERT_RESULT)?, r, None)
}

const INSERT_RESULT: &str =
    "INSERT OR IGNORE INTO inspection_results (id, work_order_id, item_key, assessment, recorded_at, supersedes, body)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn insert_result_with(
    statement: &mut rusqlite::Statement<'_>,
    r: &InspectionResult,
    body: Option<&str>,
) -> Result<usize> {
    let body = body.map_or_else(|| Cow::Owned(result_body(r)), Cow::Borrowed);
    Ok(statement.execute(params![
        r.id.to_string(),
        r.work_order_id.to_string(),
        r.item_key,
        r.assessment.as_str(),
        millis(r.recorded_at),
        r.supersedes.map(|id| id.to_string()),
        body
    ])?)
}

pub(crate) fn insert_fault(tx: &Transaction<'_>, f: &FaultRecord) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO fault_records (id, work_order_id, recorded_at, supersedes, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            f.id.to_string(),
            f.work_order_id.to_string(),
            millis(f.recorded_at),
            f.supersedes.map(|id| id.to_string()),
            to_json(f)
        ],
    )
}

pub(crate) fn insert_part(tx: &Transaction<'_>, p: &PartUsage) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO part_usages (id, work_order_id, billing, recorded_at, supersedes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            p.id.to_string(),
            p.work_order_id.to_string(),
            p.billing.name(),
            millis(p.recorded_at),
            p.supersedes.map(|id| id.to_string()),
            to_json(p)
        ],
    )
}

pub(crate) fn insert_blob(
    tx: &Transaction<'_>,
    id: &BlobId,
    bytes: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    run(
        tx,
        "INSERT OR IGNORE INTO blobs (id, bytes, created_at) VALUES (?1, ?2, ?3)",
        params![id.as_str(), bytes, millis(now)],
    )?;
    Ok(())
}

pub(crate) fn insert_photo(tx: &Transaction<'_>, p: &Photo) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO photos (work_order_id, blob_id, item_key, taken_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            p.work_order_id.to_string(),
            p.blob.as_str(),
            p.item_key.clone().unwrap_or_default(),
            millis(p.taken_at),
            to_json(p)
        ],
    )
}

pub(crate) fn insert_sign_off(tx: &Transaction<'_>, s: &SignOff) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO sign_offs (id, work_order_id, satisfaction, signed_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.id.to_string(), s.work_order_id.to_string(), s.satisfaction.get(), millis(s.signed_at), to_json(s)],
    )
}

pub(crate) fn insert_corrective_request(tx: &Transaction<'_>, r: &CorrectiveRequest) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO corrective_requests (id, work_order_id, requested_at, body) VALUES (?1, ?2, ?3, ?4)",
        params![r.id.to_string(), r.work_order_id.to_string(), millis(r.requested_at), to_json(r)],
    )
}

pub(crate) fn insert_note(tx: &Transaction<'_>, n: &Note) -> Result<usize> {
    run(
        tx,
        "INSERT OR IGNORE INTO notes (id, work_order_id, written_at, body) VALUES (?1, ?2, ?3, ?4)",
        params![n.id.to_string(), n.work_order_id.to_string(), millis(n.written_at), to_json(n)],
    )
}
