//! Work orders, the reference data devices pull with them, and the per-user change streams.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::hash::Hash;

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    Asset, AssetId, ChecklistTemplate, Customer, CustomerId, PolicyId, ServicePolicy, Site, SiteId, TemplateId, UserId,
    WorkOrder, WorkOrderId,
};
use fieldbook_protocol::{ChangeBody, MutationOp, ReferenceData, UserInfo, WorkOrderFilter};
use fieldbook_server_db::{DbError, DbResult, SupervisorChange, rules};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::de::DeserializeOwned;

use crate::codec::{SqlResult, from_json, millis, sql_unique, to_json, uint};
use crate::users;

/// The default and the largest page of the work-order list.
const DEFAULT_LIST: u32 = 500;
const MAX_LIST: u32 = 5000;

fn not_found(what: &'static str, id: impl Display) -> DbError {
    DbError::NotFound { what, id: id.to_string() }
}

/// The JSON body of the row with this id, parsed.
pub(crate) fn body_by_id<T: DeserializeOwned>(conn: &Connection, sql: &str, id: &str) -> DbResult<Option<T>> {
    let body: Option<String> = conn.prepare_cached(sql).db()?.query_row([id], |row| row.get(0)).optional().db()?;
    body.map(|b| from_json(&b)).transpose()
}

fn cached<'a, K, T>(
    conn: &Connection,
    cache: &'a mut HashMap<K, Option<T>>,
    sql: &str,
    id: K,
) -> DbResult<Option<&'a T>>
where
    K: Hash + Eq + Copy + Display,
    T: DeserializeOwned,
{
    let slot = match cache.entry(id) {
        Entry::Occupied(slot) => slot.into_mut(),
        Entry::Vacant(slot) => slot.insert(body_by_id(conn, sql, &id.to_string())?),
    };
    Ok(slot.as_ref())
}

/// Reads what work orders refer to, each row at most once per transaction.
pub(crate) struct Loader<'c> {
    conn: &'c Connection,
    policies: HashMap<PolicyId, Option<ServicePolicy>>,
    customers: HashMap<CustomerId, Option<Customer>>,
    sites: HashMap<SiteId, Option<Site>>,
    assets: HashMap<AssetId, Option<Asset>>,
    templates: HashMap<TemplateId, Option<ChecklistTemplate>>,
    users: HashMap<UserId, Option<UserInfo>>,
    supervisors: Option<Vec<UserId>>,
}

impl<'c> Loader<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Loader {
            conn,
            policies: HashMap::new(),
            customers: HashMap::new(),
            sites: HashMap::new(),
            assets: HashMap::new(),
            templates: HashMap::new(),
            users: HashMap::new(),
            supervisors: None,
        }
    }

    /// Who receives a work order's changes: its assignee and the assignee's supervisor; an
    /// unassigned one goes to every active supervisor, since any of them may dispatch it.
    pub(crate) fn receivers(&mut self, work_order: &WorkOrder) -> DbResult<Vec<UserId>> {
        match work_order.assignee {
            Some(assignee) => {
                let supervisor = self.user(assignee)?.and_then(|u| u.supervisor_id);
                Ok(std::iter::once(assignee).chain(supervisor).collect())
            }
            None => {
                if self.supervisors.is_none() {
                    let ids = self
                        .conn
                        .prepare_cached("SELECT id FROM users WHERE role = 'supervisor' AND disabled = 0 ORDER BY id")
                        .db()?
                        .query_map([], |row| row.get::<_, String>(0))
                        .db()?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .db()?;
                    let ids = ids
                        .iter()
                        .map(|id| {
                            id.parse().map_err(|_| DbError::Backend(format!("stored user id '{id}' is malformed")))
                        })
                        .collect::<DbResult<Vec<UserId>>>()?;
                    self.supervisors = Some(ids);
                }
                Ok(self.supervisors.clone().unwrap_or_default())
            }
        }
    }

    pub(crate) fn policy(&mut self, id: PolicyId) -> DbResult<Option<&ServicePolicy>> {
        cached(self.conn, &mut self.policies, "SELECT body FROM policies WHERE id = ?1", id)
    }

    pub(crate) fn customer(&mut self, id: CustomerId) -> DbResult<Option<&Customer>> {
        cached(self.conn, &mut self.customers, "SELECT body FROM customers WHERE id = ?1", id)
    }

    pub(crate) fn template(&mut self, id: TemplateId) -> DbResult<Option<&ChecklistTemplate>> {
        cached(self.conn, &mut self.templates, "SELECT body FROM templates WHERE id = ?1", id)
    }

    pub(crate) fn user(&mut self, id: UserId) -> DbResult<Option<&UserInfo>> {
        let slot = match self.users.entry(id) {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(slot) => slot.insert(users::user(self.conn, id)?),
        };
        Ok(slot.as_ref())
    }

    /// The policy of a work order's customer.
    pub(crate) fn policy_of(&mut self, work_order: &WorkOrder) -> DbResult<ServicePolicy> {
        let customer =
            self.customer(work_order.customer_id)?.ok_or_else(|| not_found("customer", work_order.customer_id))?;
        let policy_id = customer.policy_id;
        self.policy(policy_id)?.cloned().ok_or_else(|| not_found("service policy", policy_id))
    }

    fn site(&mut self, id: SiteId) -> DbResult<Option<&Site>> {
        cached(self.conn, &mut self.sites, "SELECT body FROM sites WHERE id = ?1", id)
    }

    fn asset(&mut self, id: AssetId) -> DbResult<Option<&Asset>> {
        cached(self.conn, &mut self.assets, "SELECT body FROM assets WHERE id = ?1", id)
    }

    /// Why a call's site, equipment or checklist does not fit its customer, if they do not.
    pub(crate) fn place_error(&mut self, call: &fieldbook_domain::CreateWorkOrder) -> DbResult<Option<String>> {
        self.place_error_of(call.customer_id, call.site_id, call.asset_id, call.template_id)
    }

    /// Why a site, equipment or checklist does not fit the customer, if they do not.
    pub(crate) fn place_error_of(
        &mut self,
        customer_id: CustomerId,
        site_id: SiteId,
        asset_id: Option<AssetId>,
        template_id: Option<TemplateId>,
    ) -> DbResult<Option<String>> {
        match self.site(site_id)? {
            None => return Ok(Some("no such site".into())),
            Some(site) if site.customer_id != customer_id => {
                return Ok(Some("the site does not belong to the customer".into()));
            }
            Some(_) => {}
        }
        if let Some(asset_id) = asset_id {
            match self.asset(asset_id)? {
                None => return Ok(Some("no such asset".into())),
                Some(asset) if asset.site_id != site_id => {
                    return Ok(Some("the asset is not at that site".into()));
                }
                Some(_) => {}
            }
        }
        if let Some(template_id) = template_id
            && self.template(template_id)?.is_none()
        {
            return Ok(Some("no such checklist template".into()));
        }
        Ok(None)
    }

    /// Checks that everything `work_order` refers to exists, failing with `NotFound` naming
    /// the first that does not. Loads them into the cache on the way.
    pub(crate) fn check_references(&mut self, work_order: &WorkOrder) -> DbResult<()> {
        let customer =
            self.customer(work_order.customer_id)?.ok_or_else(|| not_found("customer", work_order.customer_id))?;
        let policy_id = customer.policy_id;
        self.site(work_order.site_id)?.ok_or_else(|| not_found("site", work_order.site_id))?;
        if let Some(id) = work_order.asset_id {
            self.asset(id)?.ok_or_else(|| not_found("asset", id))?;
        }
        if let Some(id) = work_order.template_id {
            self.template(id)?.ok_or_else(|| not_found("checklist template", id))?;
        }
        self.policy(policy_id)?.ok_or_else(|| not_found("service policy", policy_id))?;
        if let Some(id) = work_order.assignee {
            self.user(id)?.ok_or_else(|| not_found("user", id))?;
        }
        Ok(())
    }

    /// Everything `work_orders` refer to, each record once, in the order first named.
    pub(crate) fn reference_for<'w>(
        &mut self,
        work_orders: impl IntoIterator<Item = &'w WorkOrder>,
    ) -> DbResult<ReferenceData> {
        let mut reference = ReferenceData::default();
        // Ids already in `reference`, per kind.
        let mut customers = HashSet::new();
        let mut sites = HashSet::new();
        let mut assets = HashSet::new();
        let mut templates = HashSet::new();
        let mut policies = HashSet::new();
        let mut users = HashSet::new();
        for w in work_orders {
            self.check_references(w)?;
            if customers.insert(w.customer_id) {
                let customer = self.customer(w.customer_id)?.cloned().expect("checked above");
                if policies.insert(customer.policy_id) {
                    reference.policies.push(self.policy(customer.policy_id)?.cloned().expect("checked above"));
                }
                reference.customers.push(customer);
            }
            if sites.insert(w.site_id) {
                reference.sites.push(self.site(w.site_id)?.cloned().expect("checked above"));
            }
            if let Some(id) = w.asset_id
                && assets.insert(id)
            {
                reference.assets.push(self.asset(id)?.cloned().expect("checked above"));
            }
            if let Some(id) = w.template_id
                && templates.insert(id)
            {
                reference.templates.push(self.template(id)?.cloned().expect("checked above"));
            }
            if let Some(id) = w.assignee
                && users.insert(id)
            {
                reference.users.push(self.user(id)?.cloned().expect("checked above"));
            }
        }
        Ok(reference)
    }
}

/// Appends a change to a user's stream: the stream's version advances in this transaction and
/// the change takes the new version, under the key `(stream number << 40) | version` that
/// keeps one stream's changes together (schema V8). A new stream takes the next number.
pub(crate) fn append(conn: &Connection, user: UserId, body: &ChangeBody) -> DbResult<u64> {
    let user = user.to_string();
    let (version, no): (i64, i64) = conn
        .prepare_cached(
            "INSERT INTO streams (user_id, version, no)
             VALUES (?1, 1, (SELECT COALESCE(MAX(no), 0) + 1 FROM streams))
             ON CONFLICT (user_id) DO UPDATE SET version = version + 1
             RETURNING version, no",
        )
        .db()?
        .query_row([&user], |row| Ok((row.get(0)?, row.get(1)?)))
        .db()?;
    conn.prepare_cached("INSERT INTO changes (key, user_id, version, body) VALUES (?1, ?2, ?3, ?4)")
        .db()?
        .execute(params![change_key(no, version), user, version, to_json(body)?])
        .db()?;
    uint(version)
}

/// [`append`] as the streams were laid out before schema V8, keyed by user and version: what
/// migration V5 writes, which runs before V8 moves every change to its key.
fn append_before_v8(conn: &Connection, user: UserId, body: &ChangeBody) -> DbResult<u64> {
    let user = user.to_string();
    let version: i64 = conn
        .prepare_cached(
            "INSERT INTO streams (user_id, version) VALUES (?1, 1)
             ON CONFLICT (user_id) DO UPDATE SET version = version + 1
             RETURNING version",
        )
        .db()?
        .query_row([&user], |row| row.get(0))
        .db()?;
    conn.prepare_cached("INSERT INTO changes (user_id, version, body) VALUES (?1, ?2, ?3)")
        .db()?
        .execute(params![user, version, to_json(body)?])
        .db()?;
    uint(version)
}

/// How a change is appended to a stream: [`append`], or [`append_before_v8`] in a migration
/// that runs before V8.
type Append = fn(&Connection, UserId, &ChangeBody) -> DbResult<u64>;

/// The most changes one stream holds: versions take the low 40 bits of a change's key.
pub(crate) const MAX_STREAM_VERSION: i64 = (1 << 40) - 1;

/// A change's key: its stream's number in the high bits, its version in the low 40. The
/// schema's checks keep a stored change's both in range (a version past
/// [`MAX_STREAM_VERSION`] is refused with its change), so keys of different streams never meet.
pub(crate) fn change_key(stream: i64, version: i64) -> i64 {
    (stream << 40) | version
}

/// Streams a work order to everyone who receives it, after checking what it refers to.
pub(crate) fn stream_work_order(conn: &Connection, loader: &mut Loader<'_>, work_order: &WorkOrder) -> DbResult<()> {
    stream_change(conn, loader, Some(work_order), work_order)
}

/// Streams a work order's new state: to everyone who receives it now; a removal to those who
/// received it before and no longer do (a reassignment out of their hands or their team); and
/// everything already recorded on the visit to those who receive it for the first time.
pub(crate) fn stream_change(
    conn: &Connection,
    loader: &mut Loader<'_>,
    before: Option<&WorkOrder>,
    after: &WorkOrder,
) -> DbResult<()> {
    let old = match before {
        Some(before) => loader.receivers(before)?,
        None => Vec::new(),
    };
    let new = loader.receivers(after)?;
    for user in old.iter().filter(|u| !new.contains(u)) {
        append(conn, *user, &ChangeBody::Removed { work_order_id: after.id })?;
    }
    if new.is_empty() {
        return Ok(());
    }
    loader.check_references(after)?;
    let change = work_order_change(after);
    for user in &new {
        append(conn, *user, &change)?;
        if before.is_some() && !old.contains(user) {
            stream_records(conn, *user, after.id, append)?;
        }
    }
    Ok(())
}

/// Migration V5: streams every stored work order, with its records, to the supervisors who
/// receive it but never did (supervisors were not streamed to before protocol 5). The streams
/// are still laid out as before V8 then.
pub(crate) fn stream_to_supervisors(conn: &Connection) -> DbResult<()> {
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM work_orders ORDER BY reported_at, id")
        .db()?
        .query_map([], |row| row.get(0))
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    let mut loader = Loader::new(conn);
    for body in bodies {
        let work_order: WorkOrder = from_json(&body)?;
        for user in loader.receivers(&work_order)? {
            if Some(user) == work_order.assignee {
                continue;
            }
            loader.check_references(&work_order)?;
            append_before_v8(conn, user, &work_order_change(&work_order))?;
            stream_records(conn, user, work_order.id, append_before_v8)?;
        }
    }
    Ok(())
}

/// Streams a new visit record to everyone who receives its work order.
pub(crate) fn stream_record(
    conn: &Connection,
    loader: &mut Loader<'_>,
    work_order: &WorkOrder,
    op: MutationOp,
) -> DbResult<()> {
    let change = ChangeBody::Record { op };
    for user in loader.receivers(work_order)? {
        append(conn, user, &change)?;
    }
    Ok(())
}

fn work_order_change(work_order: &WorkOrder) -> ChangeBody {
    ChangeBody::WorkOrder { work_order: Box::new(work_order.clone()) }
}

pub(crate) fn load(conn: &Connection, id: WorkOrderId) -> DbResult<Option<WorkOrder>> {
    body_by_id(conn, "SELECT body FROM work_orders WHERE id = ?1", &id.to_string())
}

/// Inserts a work order, or with `replace` updates the stored one of the same id.
/// The first of the domain's numbers for a new work order ([`fieldbook_domain::work_order::numbers_for`])
/// that no stored work order has.
pub(crate) fn free_number(conn: &Connection, prefix: &str, work_order: &WorkOrder) -> DbResult<String> {
    let mut taken = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM work_orders WHERE number = ?1)").db()?;
    for number in fieldbook_domain::work_order::numbers_for(prefix, work_order.id, work_order.reported_at) {
        if !taken.query_row([&number], |row| row.get::<_, bool>(0)).db()? {
            return Ok(number);
        }
    }
    Err(DbError::Conflict(format!("every number work order {} could take is already used", work_order.id)))
}

pub(crate) fn put(conn: &Connection, work_order: &WorkOrder, replace: bool) -> DbResult<()> {
    let sql = if replace {
        "INSERT INTO work_orders (id, number, customer_id, site_id, asset_id, template_id, assignee_id, status, reported_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET
             number = excluded.number, customer_id = excluded.customer_id, site_id = excluded.site_id,
             asset_id = excluded.asset_id, template_id = excluded.template_id, assignee_id = excluded.assignee_id,
             status = excluded.status, reported_at = excluded.reported_at, body = excluded.body"
    } else {
        "INSERT INTO work_orders (id, number, customer_id, site_id, asset_id, template_id, assignee_id, status, reported_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    };
    let w = work_order;
    conn.prepare_cached(sql)
        .db()?
        .execute(params![
            w.id.to_string(),
            w.number,
            w.customer_id.to_string(),
            w.site_id.to_string(),
            w.asset_id.map(|id| id.to_string()),
            w.template_id.map(|id| id.to_string()),
            w.assignee.map(|id| id.to_string()),
            w.status.as_str(),
            millis(w.reported_at),
            to_json(w)?,
        ])
        .map_err(|e| {
            sql_unique(e, |column| match column {
                "work_orders.number" => Some(format!(
                    "work order number '{}' is already used by another work order; choose another",
                    w.number
                )),
                "work_orders.id" => Some(format!("work order {} already exists", w.id)),
                _ => None,
            })
        })?;
    Ok(())
}

pub(crate) fn create(conn: &Connection, work_order: WorkOrder) -> DbResult<WorkOrder> {
    let mut loader = Loader::new(conn);
    // Checks every reference before anything is written.
    loader.check_references(&work_order)?;
    put(conn, &work_order, false)?;
    stream_change(conn, &mut loader, None, &work_order)?;
    Ok(work_order)
}

/// Stores a work order from an import: new or changed ones are written and streamed to their
/// assignee (a changed assignee gets a removal sent to the previous one); an unchanged one is
/// left alone.
pub(crate) fn import_one(conn: &Connection, loader: &mut Loader<'_>, work_order: &WorkOrder) -> DbResult<()> {
    let existing = load(conn, work_order.id)?;
    if existing.as_ref() == Some(work_order) {
        return Ok(());
    }
    loader.check_references(work_order)?;
    put(conn, work_order, true)?;
    stream_change(conn, loader, existing.as_ref(), work_order)
}

pub(crate) fn change(
    conn: &Connection,
    id: WorkOrderId,
    change: SupervisorChange,
    at: DateTime<Utc>,
) -> DbResult<WorkOrder> {
    let current = load(conn, id)?.ok_or_else(|| not_found("work order", id))?;
    let mut loader = Loader::new(conn);
    let policy = loader.policy_of(&current)?;
    if let SupervisorChange::Assign(assignee) = &change {
        loader.user(*assignee)?.ok_or_else(|| not_found("user", assignee))?;
    }
    let effect = rules::apply_supervisor_change(&current, &change, &policy, at)?;
    let next = effect.work_order;
    put(conn, &next, true)?;
    stream_change(conn, &mut loader, Some(&current), &next)?;
    Ok(next)
}

/// Streams every stored record of a work order to `user`, oldest first.
fn stream_records(conn: &Connection, user: UserId, id: WorkOrderId, append: Append) -> DbResult<()> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached("SELECT kind, body FROM records WHERE work_order_id = ?1 ORDER BY created_at, rowid")
        .db()?
        .query_map([id.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))
        .db()?
        .collect::<Result<_, _>>()
        .db()?;
    for (kind, body) in rows {
        let parse = |e: serde_json::Error| DbError::Backend(format!("a stored {kind} record could not be read: {e}"));
        let op = match kind.as_str() {
            "inspection_result" => MutationOp::InspectionResult(serde_json::from_str(&body).map_err(parse)?),
            "fault_record" => MutationOp::FaultRecord(serde_json::from_str(&body).map_err(parse)?),
            "part_usage" => MutationOp::PartUsage(serde_json::from_str(&body).map_err(parse)?),
            "photo" => MutationOp::Photo(serde_json::from_str(&body).map_err(parse)?),
            "note" => MutationOp::Note(serde_json::from_str(&body).map_err(parse)?),
            "sign_off" => MutationOp::SignOff(serde_json::from_str(&body).map_err(parse)?),
            "corrective_request" => MutationOp::CorrectiveRequest(serde_json::from_str(&body).map_err(parse)?),
            other => return Err(DbError::Backend(format!("unknown record kind '{other}'"))),
        };
        append(conn, user, &ChangeBody::Record { op })?;
    }
    Ok(())
}

pub(crate) fn list(conn: &Connection, filter: &WorkOrderFilter, team_of: Option<UserId>) -> DbResult<Vec<WorkOrder>> {
    let limit = filter.limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST);
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(status) = filter.status {
        values.push(status.as_str().to_owned());
        conditions.push(format!("w.status = ?{}", values.len()));
    }
    if let Some(assignee) = filter.assignee {
        values.push(assignee.to_string());
        conditions.push(format!("w.assignee_id = ?{}", values.len()));
    }
    if let Some(supervisor) = team_of {
        values.push(supervisor.to_string());
        conditions.push(format!(
            "(w.assignee_id IS NULL OR w.assignee_id IN (SELECT id FROM users WHERE supervisor_id = ?{}))",
            values.len()
        ));
    }
    let mut sql = String::from("SELECT w.body FROM work_orders w");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(" ORDER BY w.reported_at DESC, w.id DESC LIMIT {limit}"));
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let bodies = stmt
        .query_map(params_from_iter(values.iter()), |row| row.get::<_, String>(0))
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    bodies.iter().map(|b| from_json(b)).collect()
}
