//! Typed reads for the screens and for sync.

use chrono::{DateTime, NaiveDate, Utc};
use fieldbook_domain::{
    Asset, AssetId, BlobId, ChecklistTemplate, FaultRecord, InspectionResult, Note, PartUsage, Photo, SignOff, Visit,
    WorkOrder, WorkOrderId, WorkOrderKind, WorkOrderStatus,
};
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

use crate::codec::{from_json, from_millis, parse};
use crate::writes::load_work_order;
use crate::{Result, Store};

/// Filters of the work-order list, and which page of it to read.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Case-insensitive substring of number, customer, site, contact, asset or symptom.
    pub search: Option<String>,
    pub statuses: Vec<WorkOrderStatus>,
    pub kinds: Vec<WorkOrderKind>,
    /// Only the work orders of one day view, for the day that ends at the given instant (the
    /// device's local midnight, which only the UI knows).
    pub day: Option<(DayView, DateTime<Utc>)>,
    /// Rows skipped before the page, in list order.
    pub offset: u32,
    pub limit: u32,
}

/// The list's views of a technician's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayView {
    /// Open work that is under way (en route, on site) or due or scheduled before the day ends,
    /// overdue and missed included.
    Today,
    /// Every other open work order.
    Upcoming,
    /// Completed, approved or cancelled.
    Done,
}

/// The order of the list's status groups: the work in hand first, what needs attention next,
/// finished work last. Within a group, nearest deadline first.
pub const LIST_ORDER: [WorkOrderStatus; 8] = [
    WorkOrderStatus::OnSite,
    WorkOrderStatus::EnRoute,
    WorkOrderStatus::Assigned,
    WorkOrderStatus::New,
    WorkOrderStatus::Returned,
    WorkOrderStatus::Completed,
    WorkOrderStatus::Approved,
    WorkOrderStatus::Cancelled,
];

/// One page of the list with how many match in each status group (in `LIST_ORDER`, empty
/// groups left out); the page's rows are in the same order, groups first.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub rows: Vec<WorkOrderRow>,
    pub groups: Vec<(WorkOrderStatus, u32)>,
}

impl ListPage {
    pub fn total(&self) -> u32 {
        self.groups.iter().map(|(_, count)| count).sum()
    }
}

/// A work order with the names the list and detail screens show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkOrderRow {
    pub work_order: WorkOrder,
    pub customer_name: String,
    pub customer_address: String,
    pub site_name: String,
    pub site_address: String,
    pub asset: Option<Asset>,
    pub assignee_name: Option<String>,
}

/// One pending change, as sync will send it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub mutation_id: String,
    pub entity: String,
    pub entity_id: String,
    /// The work order the change belongs to.
    pub work_order_id: String,
    pub op: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
    /// When a push carrying it last left the device, if its answer never came back.
    pub sent_at: Option<DateTime<Utc>>,
    /// Its clock stamp; `None` for changes made before stamps existed.
    pub hlc: Option<fieldbook_domain::Hlc>,
}

const OUTBOX_SELECT: &str = "SELECT seq, mutation_id, entity, entity_id, work_order_id, op, payload, created_at,
                                     sent_at, hlc FROM outbox";

/// A work order (`w`) as whole JSON: the body with the fields its columns hold put back (see
/// `reference::WorkOrderBody`).
macro_rules! work_order_json {
    () => {
        "json_set(w.body, '$.id', w.id, '$.number', w.number, '$.customer_id', w.customer_id,
                  '$.site_id', w.site_id, '$.asset_id', w.asset_id, '$.assignee', w.assignee_id,
                  '$.template_id', w.template_id, '$.kind', w.kind, '$.fault_level', w.fault_level,
                  '$.status', w.status)"
    };
}

/// One work order as whole JSON, by id.
pub(crate) const WORK_ORDER_BY_ID: &str = concat!("SELECT ", work_order_json!(), " FROM work_orders w WHERE w.id = ?1");

const ROW_COLUMNS: &str = concat!(
    "
    SELECT ",
    work_order_json!(),
    ", c.name, c.address, s.name, s.address,
           a.id, a.site_id, a.model, a.serial, a.location, a.warranty_end, u.name"
);

const ROW_JOINS: &str = "
    JOIN customers c ON c.id = w.customer_id
    JOIN sites s ON s.id = w.site_id
    LEFT JOIN assets a ON a.id = w.asset_id
    LEFT JOIN users u ON u.id = w.assignee_id";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    let asset = match row.get::<_, Option<String>>(5)? {
        Some(id) => Some([id, row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?]),
        None => None,
    };
    Ok((row.get(0)?, [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?], asset, row.get(10)?, row.get(11)?))
}

type RawRow = (String, [String; 4], Option<[String; 5]>, Option<String>, Option<String>);

fn decode_row(raw: RawRow) -> Result<WorkOrderRow> {
    let (body, [customer_name, customer_address, site_name, site_address], asset, warranty_end, assignee_name) = raw;
    let asset = match asset {
        Some([id, site_id, model, serial, location]) => Some(Asset {
            id: parse(&id)?,
            site_id: parse(&site_id)?,
            model,
            serial,
            location,
            warranty_end: warranty_end.as_deref().map(parse::<NaiveDate>).transpose()?,
        }),
        None => None,
    };
    Ok(WorkOrderRow {
        work_order: from_json(&body)?,
        customer_name,
        customer_address,
        site_name,
        site_address,
        asset,
        assignee_name,
    })
}

/// The WHERE clause of a list query and its arguments.
fn list_filter(query: &ListQuery) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    if let Some(search) = query.search.as_deref().filter(|s| !s.trim().is_empty()) {
        clauses.push("w.search_text LIKE ? ESCAPE '\\'".to_owned());
        args.push(Value::Text(like_pattern(search)));
    }
    for (column, values) in [
        ("w.status", query.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ("w.kind", query.kinds.iter().map(|k| k.as_str()).collect()),
    ] {
        if !values.is_empty() {
            clauses.push(format!("{column} IN ({})", vec!["?"; values.len()].join(", ")));
            args.extend(values.into_iter().map(|v| Value::Text(v.to_owned())));
        }
    }
    if let Some((view, day_ends)) = query.day {
        let statuses = |keep: fn(WorkOrderStatus) -> bool| {
            let listed: Vec<String> =
                WorkOrderStatus::ALL.iter().filter(|s| keep(**s)).map(|s| format!("'{}'", s.as_str())).collect();
            listed.join(", ")
        };
        let underway = statuses(is_underway);
        let waiting = statuses(|s| s.is_open() && !is_underway(s));
        let ends = Value::Integer(day_ends.timestamp_millis());
        match view {
            DayView::Today => {
                clauses.push(format!(
                    "(w.status IN ({underway}) OR (w.status IN ({waiting}) AND (w.next_due < ? OR w.scheduled_for < ?)))"
                ));
                args.extend([ends.clone(), ends]);
            }
            DayView::Upcoming => {
                clauses.push(format!(
                    "(w.status IN ({waiting}) AND NOT (COALESCE(w.next_due < ?, 0) OR COALESCE(w.scheduled_for < ?, 0)))"
                ));
                args.extend([ends.clone(), ends]);
            }
            DayView::Done => clauses.push(format!("w.status IN ({})", statuses(|s| !s.is_open()))),
        }
    }
    let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (filter, args)
}

/// En route or on site: the technician is on it today whatever its deadlines say.
fn is_underway(status: WorkOrderStatus) -> bool {
    matches!(status, WorkOrderStatus::EnRoute | WorkOrderStatus::OnSite)
}

/// A work order's place among the status groups (`LIST_ORDER`), as SQL.
fn rank_sql() -> String {
    let cases: String = LIST_ORDER
        .iter()
        .enumerate()
        .map(|(rank, status)| format!(" WHEN '{}' THEN {rank}", status.as_str()))
        .collect();
    format!("CASE w.status{cases} END")
}

/// Escapes LIKE's wildcards so that a search for "50%" means the text "50%".
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for ch in search.trim().to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Work orders matching `query` in list order (see `LIST_ORDER`), and how many matched in
    /// all.
    pub fn list_work_orders(&self, query: &ListQuery) -> Result<(Vec<WorkOrderRow>, u32)> {
        let page = self.list_page(query)?;
        let total = page.total();
        Ok((page.rows, total))
    }

    /// One page of the work-order list: `query.limit` rows from `query.offset` on, in status
    /// group order (`LIST_ORDER`), then nearest deadline first (closed ones newest first), with
    /// how many match in each group. Only the page's ids are sorted over the whole table; the
    /// rows themselves are read for the page alone.
    pub fn list_page(&self, query: &ListQuery) -> Result<ListPage> {
        let (filter, mut args) = list_filter(query);
        let mut counts = self
            .conn
            .prepare_cached(&format!("SELECT w.status, COUNT(*) FROM work_orders w {filter} GROUP BY w.status"))?;
        let counted = counts
            .query_map(params_from_iter(args.iter()), |row| Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut groups = Vec::with_capacity(counted.len());
        for status in LIST_ORDER {
            if let Some((_, count)) = counted.iter().find(|(s, _)| s == status.as_str()) {
                groups.push((status, *count));
            }
        }
        let mut rows = Vec::new();
        if query.limit > 0 && groups.iter().any(|(_, count)| *count > 0) {
            args.extend([Value::Integer(i64::from(query.limit)), Value::Integer(i64::from(query.offset))]);
            let ids_sql = format!(
                "SELECT json_group_array(id) FROM (SELECT w.id FROM work_orders w {filter}
                 ORDER BY {rank}, w.next_due IS NULL, w.next_due, w.reported_at DESC, w.id LIMIT ? OFFSET ?)",
                rank = rank_sql(),
            );
            let ids: String =
                self.conn.prepare_cached(&ids_sql)?.query_row(params_from_iter(args.iter()), |row| row.get(0))?;
            let rows_sql = format!(
                "{ROW_COLUMNS} FROM json_each(?1) p JOIN work_orders w ON w.id = p.value {ROW_JOINS} ORDER BY p.key"
            );
            let raw = self
                .conn
                .prepare_cached(&rows_sql)?
                .query_map([ids], read_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows = raw.into_iter().map(decode_row).collect::<Result<Vec<_>>>()?;
        }
        Ok(ListPage { rows, groups })
    }

    pub fn work_order_row(&self, id: WorkOrderId) -> Result<WorkOrderRow> {
        let raw = self
            .conn
            .query_row(
                &format!("{ROW_COLUMNS} FROM work_orders w {ROW_JOINS} WHERE w.id = ?1"),
                [id.to_string()],
                read_row,
            )
            .optional()?
            .ok_or_else(|| crate::StoreError::NotFound { what: "work order", id: id.to_string() })?;
        decode_row(raw)
    }

    pub fn work_order(&self, id: WorkOrderId) -> Result<WorkOrder> {
        load_work_order(&self.conn, id)
    }

    /// One work order with everything recorded on its visit.
    pub fn visit(&self, id: WorkOrderId) -> Result<Visit> {
        load_visit(&self.conn, id)
    }

    /// A customer's work orders of one kind reported in `[from, to)`, each with its visit
    /// records, in report order: what the monthly fault report is drawn from.
    pub fn visits_reported(
        &self,
        customer: fieldbook_domain::CustomerId,
        kind: fieldbook_domain::WorkOrderKind,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Visit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM work_orders WHERE customer_id = ?1 AND kind = ?2 AND reported_at >= ?3 AND reported_at < ?4
             ORDER BY reported_at, id",
        )?;
        let ids = stmt
            .query_map(
                rusqlite::params![
                    customer.to_string(),
                    kind.as_str(),
                    crate::codec::millis(from),
                    crate::codec::millis(to)
                ],
                |r| r.get::<_, String>(0),
            )?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        ids.into_iter().map(|id| load_visit(&self.conn, id.parse()?)).collect()
    }

    /// The corrective work orders asked for from a work order's visit, oldest first.
    pub fn corrective_requests(&self, id: WorkOrderId) -> Result<Vec<fieldbook_domain::CorrectiveRequest>> {
        bodies(
            &self.conn,
            "SELECT body FROM corrective_requests WHERE work_order_id = ?1 ORDER BY requested_at, id",
            id,
        )
    }

    /// Earlier work orders on the same asset, newest first (设备机历簿).
    pub fn asset_history(&self, asset: AssetId, except: WorkOrderId, limit: u32) -> Result<Vec<WorkOrder>> {
        let mut statement = self.conn.prepare_cached(concat!(
            "SELECT ",
            work_order_json!(),
            " FROM work_orders w WHERE w.asset_id = ?1 AND w.id <> ?2 ORDER BY w.reported_at DESC LIMIT ?3"
        ))?;
        let bodies = statement
            .query_map(rusqlite::params![asset.to_string(), except.to_string(), limit], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies.iter().map(|b| from_json(b)).collect()
    }

    /// Pending changes, oldest first.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.outbox_rows(&format!("{OUTBOX_SELECT} ORDER BY seq LIMIT ?1"), rusqlite::params![limit])
    }

    /// The pending changes of one work order, oldest first.
    pub fn outbox_of(&self, work_order: WorkOrderId) -> Result<Vec<OutboxEntry>> {
        let sql = format!("{OUTBOX_SELECT} WHERE work_order_id = ?1 ORDER BY seq");
        self.outbox_rows(&sql, rusqlite::params![work_order.to_string()])
    }

    fn outbox_rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<OutboxEntry>> {
        type Raw = (i64, [String; 6], i64, Option<i64>, String);
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement
            .query_map(params, |row| -> rusqlite::Result<Raw> {
                Ok((
                    row.get(0)?,
                    [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?],
                    row.get(7)?,
                    row.get(8)?,
                    row.get(9)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<Raw>>>()?;
        rows.into_iter()
            .map(|(seq, [mutation_id, entity, entity_id, work_order_id, op, payload], created_at, sent_at, hlc)| {
                Ok(OutboxEntry {
                    seq,
                    mutation_id,
                    entity,
                    entity_id,
                    work_order_id,
                    op,
                    payload,
                    created_at: from_millis(created_at)?,
                    sent_at: sent_at.map(from_millis).transpose()?,
                    hlc: if hlc.is_empty() { None } else { Some(hlc.parse()?) },
                })
            })
            .collect()
    }

    /// Bytes of photos and signatures that wait to be sent with pending changes.
    pub fn pending_blob_bytes(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(length(bytes)), 0) FROM blobs WHERE id IN (
                 SELECT entity_id FROM outbox WHERE entity = 'photo'
                 UNION SELECT json_extract(payload, '$.signature') FROM outbox WHERE entity = 'sign_off'
                 UNION SELECT json_extract(payload, '$.strokes') FROM outbox WHERE entity = 'sign_off')",
            [],
            |row| row.get(0),
        )?)
    }

    pub fn outbox_len(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))?)
    }

    /// A blob's size in bytes, without reading it.
    pub fn blob_len(&self, id: &BlobId) -> Result<Option<u64>> {
        Ok(self
            .conn
            .query_row("SELECT length(bytes) FROM blobs WHERE id = ?1", [id.as_str()], |row| row.get(0))
            .optional()?)
    }

    pub fn blob(&self, id: &BlobId) -> Result<Option<Vec<u8>>> {
        Ok(self.conn.query_row("SELECT bytes FROM blobs WHERE id = ?1", [id.as_str()], |row| row.get(0)).optional()?)
    }

    /// A photo's thumbnail, when this device has made it (see [`Store::put_thumbnail`]).
    pub fn thumbnail(&self, photo: &BlobId) -> Result<Option<Vec<u8>>> {
        let mut statement = self.conn.prepare_cached("SELECT jpeg FROM thumbnails WHERE blob_id = ?1")?;
        Ok(statement.query_row([photo.as_str()], |row| row.get(0)).optional()?)
    }

    /// Keeps the thumbnail made from a photo held here. It is derived data: nothing is queued
    /// to send, and a thumbnail lost is made again from its photo.
    pub fn put_thumbnail(&mut self, photo: &BlobId, jpeg: &[u8]) -> Result<()> {
        let held: bool =
            self.conn.query_row("SELECT EXISTS (SELECT 1 FROM blobs WHERE id = ?1)", [photo.as_str()], |r| r.get(0))?;
        if !held {
            return Err(crate::StoreError::NotFound { what: "photo", id: photo.to_string() });
        }
        self.conn.execute(
            "INSERT INTO thumbnails (blob_id, jpeg) VALUES (?1, ?2)
             ON CONFLICT (blob_id) DO UPDATE SET jpeg = excluded.jpeg",
            rusqlite::params![photo.as_str(), jpeg],
        )?;
        Ok(())
    }

    /// Every checklist template version this device holds, by code and version.
    pub fn templates(&self) -> Result<Vec<ChecklistTemplate>> {
        let mut stmt = self.conn.prepare_cached("SELECT body FROM templates ORDER BY code, version, id")?;
        let texts = stmt.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        texts.iter().map(|t| from_json(t)).collect()
    }

    /// How many work orders not yet signed or closed use each template version: those visits
    /// run on that version, which is why a version is never edited.
    pub fn templates_in_use(&self) -> Result<std::collections::HashMap<fieldbook_domain::TemplateId, u32>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT template_id, COUNT(*) FROM work_orders
             WHERE template_id IS NOT NULL AND status NOT IN ('completed', 'approved', 'cancelled')
             GROUP BY template_id",
        )?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|(id, n)| Ok((id.parse()?, n))).collect()
    }

    pub fn template(&self, id: fieldbook_domain::TemplateId) -> Result<Option<ChecklistTemplate>> {
        load_template(&self.conn, id)
    }

    /// The parts catalog entries whose number or name contains `search`.
    pub fn search_parts(&self, search: &str, limit: u32) -> Result<Vec<(String, String, bool, i64)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT part_number, name, needs_customer_approval, unit_price_cents FROM parts_catalog
             WHERE lower(part_number) LIKE ?1 ESCAPE '\\' OR lower(name) LIKE ?1 ESCAPE '\\'
             ORDER BY part_number LIMIT ?2",
        )?;
        let rows = statement
            .query_map(rusqlite::params![like_pattern(search), limit], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Runs `sql` returning one integer: for tests and diagnostics that count rows.
    pub fn count(&self, sql: &str) -> Result<i64> {
        Ok(self.conn.query_row(sql, [], |row| row.get(0))?)
    }
}

pub(crate) fn load_template(conn: &Connection, id: fieldbook_domain::TemplateId) -> Result<Option<ChecklistTemplate>> {
    let body: Option<String> =
        conn.query_row("SELECT body FROM templates WHERE id = ?1", [id.to_string()], |row| row.get(0)).optional()?;
    body.map(|b| from_json(&b)).transpose()
}

fn bodies<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, id: WorkOrderId) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let texts =
        statement.query_map([id.to_string()], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    texts.iter().map(|t| from_json(t)).collect()
}

/// A work order's inspection results as whole JSON records: the body with the fields its
/// columns hold put back (see `reference::insert_result`).
pub(crate) const RESULT_JSON: &str = "
    SELECT json_set(body, '$.id', id, '$.work_order_id', work_order_id, '$.item_key', item_key,
                    '$.assessment', assessment, '$.supersedes', supersedes)
      FROM inspection_results WHERE work_order_id = ?1 ORDER BY recorded_at, id";

/// One work order's visit. Records come in time order, ties broken by id, so every device
/// that holds the same records lists them alike (and the content hash agrees).
pub(crate) fn load_visit(conn: &Connection, id: WorkOrderId) -> Result<Visit> {
    let work_order = load_work_order(conn, id)?;
    let template = work_order.template_id.map(|t| load_template(conn, t)).transpose()?.flatten();
    let results: Vec<InspectionResult> = bodies(conn, RESULT_JSON, id)?;
    let faults: Vec<FaultRecord> =
        bodies(conn, "SELECT body FROM fault_records WHERE work_order_id = ?1 ORDER BY recorded_at, id", id)?;
    let parts: Vec<PartUsage> =
        bodies(conn, "SELECT body FROM part_usages WHERE work_order_id = ?1 ORDER BY recorded_at, id", id)?;
    let photos: Vec<Photo> =
        bodies(conn, "SELECT body FROM photos WHERE work_order_id = ?1 ORDER BY taken_at, blob_id, item_key", id)?;
    // Each version of the visit is signed once: a visit reopened after a return is unsigned
    // until its next sign-off, and the earlier sign-off stays with the report it signed.
    let mut sign_offs: Vec<SignOff> =
        bodies(conn, "SELECT body FROM sign_offs WHERE work_order_id = ?1 ORDER BY signed_at DESC, id", id)?;
    let sign_off =
        if sign_offs.len() > work_order.visit_version as usize { Some(sign_offs.swap_remove(0)) } else { None };
    let notes: Vec<Note> = bodies(conn, "SELECT body FROM notes WHERE work_order_id = ?1 ORDER BY written_at, id", id)?;
    Ok(Visit { work_order, template, results, faults, parts, photos, sign_off, notes })
}
