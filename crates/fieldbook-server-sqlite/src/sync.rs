//! Push (a device's mutations, each stored exactly once) and pull (a user's change stream).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use fieldbook_domain::dispatch::{Dispatch, DispatchAction, DispatchError};
use fieldbook_domain::{WorkOrder, WorkOrderId};
use fieldbook_protocol::{
    Change, ChangeBody, MAX_PULL_PAGE, Mutation, MutationOp, MutationOutcome, Outcome, PullResponse, PushResponse,
    UserInfo,
};
use fieldbook_server_db::{DbError, DbResult, rules};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{SqlResult, from_json, int, millis, to_json, uint};
use crate::work_orders::{self, Loader};

/// What one push has read so far, so a batch of 500 mutations on a few work orders reads each
/// work order, template and sign-off state once.
struct PushState<'c> {
    loader: Loader<'c>,
    work_orders: HashMap<WorkOrderId, Option<WorkOrder>>,
    signed: HashMap<WorkOrderId, bool>,
}

pub(crate) fn push(
    conn: &Connection,
    device_id: &str,
    user: &UserInfo,
    mutations: &[Mutation],
    at: DateTime<Utc>,
) -> DbResult<PushResponse> {
    let known: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM devices WHERE id = ?1")
        .db()?
        .query_row([device_id], |row| row.get(0))
        .optional()
        .db()?;
    if known.is_none() {
        return Err(DbError::NotFound { what: "device", id: device_id.to_owned() });
    }
    let last_seq = uint(
        conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM mutations WHERE device_id = ?1")
            .db()?
            .query_row([device_id], |row| row.get(0))
            .db()?,
    )?;
    let plan = rules::plan_push(last_seq, mutations)?;
    let mut state = PushState { loader: Loader::new(conn), work_orders: HashMap::new(), signed: HashMap::new() };
    let mut outcomes = Vec::with_capacity(mutations.len());
    for (step, mutation) in plan.into_iter().zip(mutations) {
        let digest = rules::mutation_digest(mutation)?;
        let outcome = match step {
            rules::PushStep::AlreadyStored(seq) => {
                let number = int(seq, "mutation number")?;
                let stored = stored_mutation(conn, "device_id = ?1 AND seq = ?2", params![device_id, number])?
                    .ok_or_else(|| {
                        DbError::Backend(format!(
                            "mutation {seq} of device {device_id} is counted as stored but missing"
                        ))
                    })?;
                let what = format!("mutation {seq} of this device");
                rules::replay_outcome(stored.outcome, stored.digest.as_deref(), &digest, &what)
            }
            rules::PushStep::Apply(seq) => {
                let mutation_id = mutation.id.to_string();
                // The same mutation id already stored under another number (a device enrolled
                // again resends its outbox): its number is used up, and the id kept only once.
                let seen = stored_mutation(conn, "mutation_id = ?1", params![mutation_id])?;
                let (outcome, stored_id) = match seen {
                    Some(stored) => {
                        let what = format!("mutation id {mutation_id}");
                        let outcome = rules::replay_outcome(stored.outcome, stored.digest.as_deref(), &digest, &what);
                        let outcome = match outcome {
                            Outcome::Rejected { ref code, .. } if code == "mutation_mismatch" => {
                                conflict(conn, device_id, user, mutation, outcome, at)?
                            }
                            outcome => outcome,
                        };
                        (outcome, None)
                    }
                    None => (apply_alone(conn, &mut state, device_id, user, mutation, at)?, Some(mutation_id)),
                };
                conn.prepare_cached(
                    "INSERT INTO mutations (device_id, seq, mutation_id, outcome, created_at, hlc, digest)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .db()?
                .execute(params![
                    device_id,
                    int(seq, "mutation number")?,
                    stored_id,
                    to_json(&outcome)?,
                    millis(at),
                    mutation.hlc.to_string(),
                    digest
                ])
                .db()?;
                outcome
            }
        };
        outcomes.push(MutationOutcome { seq: mutation.seq, outcome });
    }
    conn.prepare_cached("UPDATE devices SET last_sync_at = ?2 WHERE id = ?1")
        .db()?
        .execute(params![device_id, millis(at)])
        .db()?;
    Ok(PushResponse { acked_through: rules::acked_through(mutations), outcomes })
}

/// A mutation as an earlier push stored it.
struct StoredMutation {
    outcome: Outcome,
    /// [`rules::mutation_digest`] of what was pushed; none for mutations stored before server
    /// migration V9.
    digest: Option<String>,
}

fn stored_mutation(conn: &Connection, filter: &str, key: impl rusqlite::Params) -> DbResult<Option<StoredMutation>> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(&format!("SELECT outcome, digest FROM mutations WHERE {filter}"))
        .db()?
        .query_row(key, |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    row.map(|(outcome, digest)| Ok(StoredMutation { outcome: from_json(&outcome)?, digest })).transpose()
}

/// Applies one new mutation on its own: whatever it writes is undone if it fails, and a failure
/// that is the mutation's own ([`rules::refusal`]: a number or id taken, a missing reference, a
/// rule) becomes its `rejected` outcome, kept as a conflict, so no single mutation holds up the
/// rest of a device's outbox. Only a failure of the storage itself fails the push.
fn apply_alone(
    conn: &Connection,
    state: &mut PushState<'_>,
    device_id: &str,
    user: &UserInfo,
    mutation: &Mutation,
    at: DateTime<Utc>,
) -> DbResult<Outcome> {
    conn.execute_batch("SAVEPOINT mutation").db()?;
    match apply(conn, state, device_id, user, mutation, at) {
        Ok(outcome) => {
            conn.execute_batch("RELEASE mutation").db()?;
            Ok(outcome)
        }
        Err(err) => {
            conn.execute_batch("ROLLBACK TO mutation; RELEASE mutation").db()?;
            let Some(outcome) = rules::refusal(&err) else { return Err(err) };
            // What was read for this push may include what was just undone.
            state.work_orders.clear();
            state.signed.clear();
            conflict(conn, device_id, user, mutation, outcome, at)
        }
    }
}

/// Checks a new mutation with [`rules::check_mutation`] and stores its effect, or the conflict.
fn apply(
    conn: &Connection,
    state: &mut PushState<'_>,
    device_id: &str,
    user: &UserInfo,
    mutation: &Mutation,
    at: DateTime<Utc>,
) -> DbResult<Outcome> {
    let id = mutation.op.work_order_id();
    if let Entry::Vacant(slot) = state.work_orders.entry(id) {
        slot.insert(work_orders::load(conn, id)?);
    }
    if let MutationOp::Dispatch(step) = &mutation.op {
        return match dispatch(conn, state, user, step)? {
            Ok(()) => Ok(Outcome::Applied),
            Err(outcome) => {
                // The device applied the step locally: send the work order as the server holds
                // it, so the device's next pull puts it right.
                if let Some(current) = state.work_orders.get(&id).cloned().flatten()
                    && rules::refused_step_streams_back(&outcome)
                {
                    work_orders::stream_work_order(conn, &mut state.loader, &current)?;
                }
                conflict(conn, device_id, user, mutation, outcome, at)
            }
        };
    }
    let exists = state.work_orders.get(&id).is_some_and(Option::is_some);
    if exists && !state.signed.contains_key(&id) {
        // The current version is signed when its sign-offs outnumber its reopenings.
        let sign_offs: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM records WHERE work_order_id = ?1 AND kind = 'sign_off'")
            .db()?
            .query_row([id.to_string()], |row| row.get(0))
            .db()?;
        let version = state.work_orders.get(&id).and_then(Option::as_ref).map_or(0, |w| i64::from(w.visit_version));
        state.signed.insert(id, sign_offs > version);
    }
    let work_order = state.work_orders.get(&id).and_then(Option::as_ref);
    let template = match work_order.and_then(|w| w.template_id) {
        Some(template_id) => state.loader.template(template_id)?,
        None => None,
    };
    let signed = state.signed.get(&id).copied().unwrap_or(false);
    let mut checked = rules::check_mutation(user, work_order, template, signed, &mutation.op);
    if checked.is_ok()
        && let Some(blob) = first_blob_not_nameable(conn, user, id, &mutation.op)?
    {
        checked = Err(rules::blob_not_held(blob));
    }
    if let (Ok(_), MutationOp::Report(report)) = (&checked, &mutation.op) {
        // A signed report goes to the ledger, not to the records. Once there it is streamed to
        // everyone who holds the work order: a supervisor reviews it offline, and whichever
        // device signs the next version names it as the version it amends.
        match crate::ledger::append(conn, user, device_id, report, at)? {
            Ok(_) => {
                if let Some(current) = work_order {
                    let current = current.clone();
                    work_orders::stream_record(conn, &mut state.loader, &current, mutation.op.clone())?;
                }
                return Ok(Outcome::Applied);
            }
            Err(refused) => checked = Err(refused),
        }
    }
    let parent = match &mutation.op {
        MutationOp::CorrectiveRequest(_) => work_order.cloned(),
        _ => None,
    };
    match checked {
        Ok(effect) => {
            if let Some(next) = effect.work_order {
                if matches!(&mutation.op, MutationOp::Status(step) if step.action == fieldbook_domain::StatusAction::Reopen)
                {
                    state.signed.insert(id, false);
                }
                work_orders::put(conn, &next, true)?;
                work_orders::stream_work_order(conn, &mut state.loader, &next)?;
                state.work_orders.insert(id, Some(next));
            }
            if let Some(op) = effect.record {
                // The same record stored already (under another mutation): nothing changes.
                if !insert_record(conn, &op, device_id, at)? {
                    return Ok(Outcome::AlreadyApplied);
                }
                if matches!(op, MutationOp::SignOff(_)) {
                    state.signed.insert(id, true);
                }
                if let (MutationOp::CorrectiveRequest(request), Some(parent)) = (&op, &parent) {
                    // The new work order waits, unassigned, for a supervisor to dispatch it.
                    let policy = state.loader.policy_of(parent)?;
                    let mut corrective = request.work_order(parent, &policy, &user.name);
                    if work_orders::load(conn, corrective.id)?.is_some() {
                        return Err(DbError::IdTaken(format!(
                            "the corrective work order's id {} is already another work order's; the request was not stored",
                            corrective.id
                        )));
                    }
                    corrective.number = work_orders::free_number(conn, "WO", &corrective)?;
                    work_orders::put(conn, &corrective, false)?;
                    work_orders::stream_change(conn, &mut state.loader, None, &corrective)?;
                }
                if let Some(current) = state.work_orders.get(&id).and_then(Option::as_ref) {
                    let current = current.clone();
                    work_orders::stream_record(conn, &mut state.loader, &current, op)?;
                }
            }
            Ok(Outcome::Applied)
        }
        Err(outcome) => {
            // The device already applied the refused step or record locally; send it the work
            // order as the server holds it, so its next pull puts it right.
            if let Some(current) = work_order
                && current.assignee == Some(user.id)
            {
                let current = current.clone();
                work_orders::stream_work_order(conn, &mut state.loader, &current)?;
            }
            conflict(conn, device_id, user, mutation, outcome, at)
        }
    }
}

/// The first photo, signature or pen strokes `op` names that its pusher may not name
/// ([`crate::blobs::may_name`]).
fn first_blob_not_nameable<'o>(
    conn: &Connection,
    user: &UserInfo,
    work_order: WorkOrderId,
    op: &'o MutationOp,
) -> DbResult<Option<&'o fieldbook_domain::BlobId>> {
    for blob in op.blobs() {
        if !crate::blobs::may_name(conn, blob, user.id, work_order)? {
            return Ok(Some(blob));
        }
    }
    Ok(None)
}

/// Keeps a refused mutation as a conflict, for the technician and the supervisor to see.
fn conflict(
    conn: &Connection,
    device_id: &str,
    user: &UserInfo,
    mutation: &Mutation,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> DbResult<Outcome> {
    let (code, message) = match &outcome {
        Outcome::Rejected { code, message } => (code.as_str(), message.as_str()),
        Outcome::Applied | Outcome::AlreadyApplied => ("rejected", "the change was not applied"),
    };
    conn.prepare_cached(
        "INSERT INTO conflicts (device_id, seq, user_id, work_order_id, op, code, message, created_at, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .db()?
    .execute(params![
        device_id,
        int(mutation.seq, "mutation number")?,
        user.id.to_string(),
        mutation.op.work_order_id().to_string(),
        to_json(&mutation.op)?,
        code,
        message,
        millis(at),
        mutation.hlc.to_string()
    ])
    .db()?;
    Ok(outcome)
}

/// A supervisor's step pushed from their device: checked against their team and the state
/// machine as the server holds it now, then stored and streamed like the same step made
/// through the API. A refusal is an outcome (kept as a conflict), not an error.
fn dispatch(
    conn: &Connection,
    state: &mut PushState<'_>,
    user: &UserInfo,
    step: &Dispatch,
) -> DbResult<Result<(), Outcome>> {
    let id = step.work_order_id;
    let current = state.work_orders.get(&id).cloned().flatten();
    let current_assignee = match current.as_ref().and_then(|w| w.assignee) {
        Some(a) => state.loader.user(a)?.cloned(),
        None => None,
    };
    let new_assignee_id = match &step.action {
        DispatchAction::Assign { assignee } => Some(*assignee),
        DispatchAction::Create(call) => call.assignee,
        _ => None,
    };
    let new_assignee = match new_assignee_id {
        Some(a) => match state.loader.user(a)?.cloned() {
            Some(u) => Some(u),
            None => return Ok(Err(rules::rejected("not_found", format!("no user {a} to assign the work order to")))),
        },
        None => None,
    };
    if let Err(refused) = rules::check_dispatch(user, current_assignee.as_ref(), new_assignee.as_ref()) {
        return Ok(Err(refused));
    }
    let next = match (&step.action, &current) {
        (DispatchAction::Create(call), None) => {
            let Some(customer) = state.loader.customer(call.customer_id)?.cloned() else {
                return Ok(Err(rules::rejected("not_found", "no such customer")));
            };
            if let Some(why) = state.loader.place_error(call)? {
                return Ok(Err(rules::rejected("invalid_input", why)));
            }
            let Some(policy) = state.loader.policy(customer.policy_id)?.cloned() else {
                return Ok(Err(rules::rejected("not_found", "the customer's service policy is missing")));
            };
            match WorkOrder::from_call(id, call, &policy, step.at) {
                Ok(w) => w,
                Err(e) => return Ok(Err(rules::rejected("invalid_input", e.to_string()))),
            }
        }
        (_, None) => return Ok(Err(rules::dispatch_refusal(&DispatchError::Missing(id)))),
        (action, Some(current)) => {
            let policy = state.loader.policy_of(current)?;
            match fieldbook_domain::dispatch::apply(current, action, &policy) {
                Ok(effect) => effect.work_order,
                Err(e) => return Ok(Err(rules::dispatch_refusal(&e))),
            }
        }
    };
    let mut next = next;
    if current.is_none() {
        // The device numbered it alike; if another work order has that number, this one takes
        // the next of the domain's numbers, and the device learns it from its stream.
        next.number = work_orders::free_number(conn, "WO", &next)?;
    }
    work_orders::put(conn, &next, current.is_some())?;
    work_orders::stream_change(conn, &mut state.loader, current.as_ref(), &next)?;
    state.work_orders.insert(id, Some(next));
    Ok(Ok(()))
}

/// Stores a visit record under its own id (a photo, which has none, under its work order,
/// blob and item). Returns whether it was new; the same record stored already is not new, and a
/// different record under its id is refused ([`DbError::IdTaken`]): the stored one stays.
fn insert_record(conn: &Connection, op: &MutationOp, device_id: &str, at: DateTime<Utc>) -> DbResult<bool> {
    let (id, kind, blob, body) = match op {
        MutationOp::InspectionResult(r) => (r.id.to_string(), "inspection_result", None, to_json(r)?),
        MutationOp::FaultRecord(r) => (r.id.to_string(), "fault_record", None, to_json(r)?),
        MutationOp::PartUsage(r) => (r.id.to_string(), "part_usage", None, to_json(r)?),
        MutationOp::Photo(p) => (rules::photo_record_id(p), "photo", Some(p.blob.to_string()), to_json(p)?),
        MutationOp::Note(r) => (r.id.to_string(), "note", None, to_json(r)?),
        MutationOp::SignOff(r) => (r.id.to_string(), "sign_off", Some(r.signature.to_string()), to_json(r)?),
        MutationOp::CorrectiveRequest(r) => (r.id.to_string(), "corrective_request", None, to_json(r)?),
        MutationOp::Status(_) | MutationOp::Report(_) | MutationOp::Dispatch(_) => {
            return Err(DbError::Backend("only visit records are stored as records".into()));
        }
    };
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO records (id, work_order_id, kind, blob_id, body, device_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .db()?
        .execute(params![id, op.work_order_id().to_string(), kind, blob, &body, device_id, millis(at)])
        .db()?;
    if inserted == 1 {
        return Ok(true);
    }
    // The same record is the same kind, on the same work order, with the same body (compared
    // as JSON values, so that key order does not matter).
    let stored: Option<String> = conn
        .prepare_cached("SELECT body FROM records WHERE id = ?1 AND kind = ?2 AND work_order_id = ?3")
        .db()?
        .query_row(params![id, kind, op.work_order_id().to_string()], |row| row.get(0))
        .optional()
        .db()?;
    if let Some(stored) = stored
        && from_json::<serde_json::Value>(&stored)? == from_json::<serde_json::Value>(&body)?
    {
        return Ok(false);
    }
    Err(DbError::IdTaken(format!("record id {id} is already another record's; this {kind} was not stored")))
}

/// A stored [`ChangeBody`] read as a plain struct: the same JSON, but read in one pass, where
/// the tagged enum makes serde buffer each body before reading it (this halved the time to read
/// a page of 5,000 work orders).
#[derive(serde::Deserialize)]
struct StoredBody {
    #[serde(rename = "type")]
    kind: String,
    work_order: Option<Box<WorkOrder>>,
    op: Option<MutationOp>,
    work_order_id: Option<WorkOrderId>,
}

impl StoredBody {
    fn into_body(self) -> DbResult<ChangeBody> {
        let body = match (self.kind.as_str(), self.work_order, self.op, self.work_order_id) {
            ("work_order", Some(work_order), None, None) => ChangeBody::WorkOrder { work_order },
            ("record", None, Some(op), None) => ChangeBody::Record { op },
            ("removed", None, None, Some(work_order_id)) => ChangeBody::Removed { work_order_id },
            (kind, ..) => {
                return Err(DbError::Backend(format!(
                    "a stored change of kind '{kind}' could not be read back; the database may be damaged"
                )));
            }
        };
        Ok(body)
    }
}

pub(crate) fn pull(
    conn: &Connection,
    user: fieldbook_domain::UserId,
    after: u64,
    limit: u32,
) -> DbResult<PullResponse> {
    let limit = limit.clamp(1, MAX_PULL_PAGE);
    let mut changes = Vec::new();
    let mut more = false;
    let stream: Option<(i64, i64)> = conn
        .prepare_cached("SELECT no, version FROM streams WHERE user_id = ?1")
        .db()?
        .query_row([user.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    // A cursor past the stream's end was not handed out by this server's stream as it stands
    // (a server restored from a backup, a device moved between servers): answered with an empty
    // page, such a device would never receive the changes up to its cursor.
    let head = stream.map_or(0, |(_, version)| version);
    if after > uint(head)? {
        return Err(DbError::CursorAhead { cursor: after, head: uint(head)? });
    }
    if let Some((stream, _)) = stream {
        // One stream's changes are one range of keys (schema V8), read in key order.
        let after = i64::try_from(after).unwrap_or(i64::MAX).min(work_orders::MAX_STREAM_VERSION);
        let mut stmt = conn
            .prepare_cached("SELECT version, body FROM changes WHERE key > ?1 AND key <= ?2 ORDER BY key LIMIT ?3")
            .db()?;
        let mut rows = stmt
            .query(params![
                work_orders::change_key(stream, after),
                work_orders::change_key(stream, work_orders::MAX_STREAM_VERSION),
                i64::from(limit) + 1
            ])
            .db()?;
        changes.reserve(limit as usize);
        while let Some(row) = rows.next().db()? {
            if changes.len() == limit as usize {
                more = true;
                break;
            }
            // Read in place, without copying each body out of SQLite first.
            let body = row.get_ref(1).db()?.as_str().map_err(|e| {
                DbError::Backend(format!("a stored change is not text ({e}); the database may be damaged"))
            })?;
            changes
                .push(Change { version: uint(row.get(0).db()?)?, body: from_json::<StoredBody>(body)?.into_body()? });
        }
    }
    let cursor = changes.last().map_or(after, |c| c.version);
    let reference = work_orders::Loader::new(conn).reference_for(changes.iter().filter_map(|c| match &c.body {
        ChangeBody::WorkOrder { work_order } => Some(&**work_order),
        _ => None,
    }))?;
    Ok(PullResponse { changes, reference, cursor, more })
}
