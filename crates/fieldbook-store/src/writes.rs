//! User writes. Each one checks the domain's rules, writes its record and its outbox row in
//! one transaction, and returns only after the commit is durable.

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    Answer, BlobId, ChecklistTemplate, FaultDraft, FaultRecord, Hlc, InspectionResult, MutationId, Note, NoteId,
    PartDraft, PartUsage, Photo, ResultId, RuleViolation, SignOff, SignOffDraft, StatusAction, UserId, WorkOrder,
    WorkOrderId, WorkOrderStatus,
    text::{optional_text, required_text},
    visit::MAX_TEXT,
};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::codec::{from_json, millis, to_json};
use crate::queries::load_visit;
use crate::reference::{
    insert_blob, insert_fault, insert_note, insert_part, insert_photo, insert_result, insert_sign_off, put_work_order,
};
use crate::{Result, Store, StoreError};

/// An answer to a checklist item as the technician gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnswer {
    pub work_order_id: WorkOrderId,
    pub item_key: String,
    pub answer: Answer,
    pub note: String,
    /// The earlier answer this one corrects, if any.
    pub supersedes: Option<ResultId>,
}

/// What an outbox row is about.
pub(crate) struct Outgoing<'a> {
    pub(crate) work_order: WorkOrderId,
    pub(crate) entity: &'a str,
    pub(crate) entity_id: &'a str,
    pub(crate) op: &'a str,
}

/// The next clock stamp of this device, kept in the same transaction as the change it stamps.
pub(crate) fn next_stamp(tx: &rusqlite::Connection, now: DateTime<Utc>) -> Result<Hlc> {
    let (node, last) = clock_state(tx)?;
    let stamp = Hlc::tick(last, millis(now), node);
    crate::set_setting_in(tx, "hlc.last", &stamp.to_string())?;
    Ok(stamp)
}

/// This device's clock node (made once, at random) and its last stamp.
pub(crate) fn clock_state(tx: &rusqlite::Connection) -> Result<(u64, Option<Hlc>)> {
    let node = match crate::setting_in(tx, "hlc.node")? {
        Some(node) => u64::from_str_radix(&node, 16).map_err(|_| StoreError::Corrupt(format!("clock node {node}")))?,
        None => {
            // The random half of a fresh UUIDv7.
            let node = MutationId::new().as_uuid().as_u64_pair().1;
            crate::set_setting_in(tx, "hlc.node", &format!("{node:016x}"))?;
            node
        }
    };
    let last = crate::setting_in(tx, "hlc.last")?.map(|text| text.parse::<Hlc>()).transpose()?;
    Ok((node, last))
}

/// The outbox row written beside every user write, with the next clock stamp.
pub(crate) fn enqueue<T: Serialize>(
    tx: &Transaction<'_>,
    out: Outgoing<'_>,
    payload: &T,
    now: DateTime<Utc>,
) -> Result<()> {
    let stamp = next_stamp(tx, now)?;
    enqueue_stamped(tx, out, payload, stamp, now)
}

fn enqueue_stamped<T: Serialize>(
    tx: &Transaction<'_>,
    out: Outgoing<'_>,
    payload: &T,
    stamp: Hlc,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO outbox (mutation_id, entity, entity_id, work_order_id, op, payload, created_at, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            MutationId::new().to_string(),
            out.entity,
            out.entity_id,
            out.work_order.to_string(),
            out.op,
            to_json(payload),
            millis(now),
            stamp.to_string()
        ],
    )?;
    Ok(())
}

pub(crate) fn load_work_order(tx: &rusqlite::Connection, id: WorkOrderId) -> Result<WorkOrder> {
    let body: Option<String> =
        tx.query_row(crate::queries::WORK_ORDER_BY_ID, [id.to_string()], |row| row.get(0)).optional()?;
    match body {
        Some(body) => from_json(&body),
        None => Err(StoreError::NotFound { what: "work order", id: id.to_string() }),
    }
}

fn load_template_of(tx: &rusqlite::Connection, work_order: &WorkOrder) -> Result<Option<ChecklistTemplate>> {
    Ok(work_order.template_id.map(|id| crate::queries::load_template(tx, id)).transpose()?.flatten())
}

/// A correction may only replace a record of the same work order.
fn check_supersedes(tx: &rusqlite::Connection, table: &str, id: Option<String>, work_order: WorkOrderId) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let owner: Option<String> = tx
        .query_row(&format!("SELECT work_order_id FROM {table} WHERE id = ?1"), [&id], |row| row.get(0))
        .optional()?;
    if owner.as_deref() == Some(work_order.to_string().as_str()) {
        Ok(())
    } else {
        Err(RuleViolation::SupersedesForeignRecord(id).into())
    }
}

/// Loads a work order that must still accept visit records (not signed, not closed).
fn open_visit(tx: &Transaction<'_>, id: WorkOrderId) -> Result<WorkOrder> {
    let work_order = load_work_order(tx, id)?;
    work_order.ensure_accepts_visit_records()?;
    // The current version is signed when its sign-offs outnumber its reopenings.
    let sign_offs: i64 =
        tx.query_row("SELECT COUNT(*) FROM sign_offs WHERE work_order_id = ?1", [id.to_string()], |row| row.get(0))?;
    let signed = sign_offs > i64::from(work_order.visit_version);
    if signed {
        return Err(RuleViolation::VisitLocked(WorkOrderStatus::Completed).into());
    }
    Ok(work_order)
}

impl Store {
    pub fn record_answer(&mut self, new: &NewAnswer, now: DateTime<Utc>) -> Result<InspectionResult> {
        let tx = self.conn.transaction()?;
        let work_order = open_visit(&tx, new.work_order_id)?;
        let template = load_template_of(&tx, &work_order)?
            .ok_or_else(|| RuleViolation::UnknownChecklistItem(new.item_key.clone()))?;
        let assessment = template.assess(&new.item_key, &new.answer)?;
        check_supersedes(&tx, "inspection_results", new.supersedes.map(|id| id.to_string()), work_order.id)?;
        let result = InspectionResult {
            id: ResultId::new(),
            work_order_id: work_order.id,
            item_key: new.item_key.clone(),
            answer: new.answer.clone(),
            assessment,
            note: optional_text("note", &new.note, MAX_TEXT)?,
            recorded_at: now,
            hlc: next_stamp(&tx, now)?,
            supersedes: new.supersedes,
        };
        insert_result(&tx, &result)?;
        let out = Outgoing {
            work_order: work_order.id,
            entity: "inspection_result",
            entity_id: &result.id.to_string(),
            op: "create",
        };
        enqueue_stamped(&tx, out, &result, result.hlc, now)?;
        tx.commit()?;
        Ok(result)
    }

    pub fn record_fault(
        &mut self,
        work_order_id: WorkOrderId,
        draft: &FaultDraft,
        now: DateTime<Utc>,
    ) -> Result<FaultRecord> {
        let tx = self.conn.transaction()?;
        let work_order = open_visit(&tx, work_order_id)?;
        let fault = FaultRecord::from_draft(work_order.id, draft, now)?;
        check_supersedes(&tx, "fault_records", fault.supersedes.map(|id| id.to_string()), work_order.id)?;
        insert_fault(&tx, &fault)?;
        let out = Outgoing {
            work_order: work_order.id,
            entity: "fault_record",
            entity_id: &fault.id.to_string(),
            op: "create",
        };
        enqueue(&tx, out, &fault, now)?;
        tx.commit()?;
        Ok(fault)
    }

    pub fn record_part(
        &mut self,
        work_order_id: WorkOrderId,
        draft: &PartDraft,
        now: DateTime<Utc>,
    ) -> Result<PartUsage> {
        let tx = self.conn.transaction()?;
        let work_order = open_visit(&tx, work_order_id)?;
        let part = PartUsage::from_draft(work_order.id, draft, now)?;
        check_supersedes(&tx, "part_usages", part.supersedes.map(|id| id.to_string()), work_order.id)?;
        insert_part(&tx, &part)?;
        let out =
            Outgoing { work_order: work_order.id, entity: "part_usage", entity_id: &part.id.to_string(), op: "create" };
        enqueue(&tx, out, &part, now)?;
        tx.commit()?;
        Ok(part)
    }

    /// Stores the photo's bytes (content-addressed) and attaches it to the visit, optionally to
    /// one checklist item.
    pub fn attach_photo(
        &mut self,
        work_order_id: WorkOrderId,
        item_key: Option<&str>,
        caption: &str,
        bytes: &[u8],
        taken_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Photo> {
        let tx = self.conn.transaction()?;
        let work_order = open_visit(&tx, work_order_id)?;
        check_item(&tx, &work_order, item_key)?;
        let blob = BlobId::of_bytes(bytes);
        let photo = Photo {
            blob: blob.clone(),
            work_order_id: work_order.id,
            item_key: item_key.map(str::to_owned),
            caption: optional_text("caption", caption, 500)?,
            taken_at,
        };
        insert_blob(&tx, &blob, bytes, now)?;
        if insert_photo(&tx, &photo)? == 1 {
            let out = Outgoing { work_order: work_order.id, entity: "photo", entity_id: blob.as_str(), op: "attach" };
            enqueue(&tx, out, &photo, now)?;
        }
        tx.commit()?;
        Ok(photo)
    }

    pub fn add_note(
        &mut self,
        work_order_id: WorkOrderId,
        author: Option<UserId>,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Note> {
        let tx = self.conn.transaction()?;
        // Notes may be added to any work order on the device, even a closed one.
        load_work_order(&tx, work_order_id)?;
        let note = Note {
            id: NoteId::new(),
            work_order_id,
            author,
            text: required_text("note", text, MAX_TEXT)?,
            written_at: now,
        };
        insert_note(&tx, &note)?;
        let out = Outgoing { work_order: work_order_id, entity: "note", entity_id: &note.id.to_string(), op: "create" };
        enqueue(&tx, out, &note, now)?;
        tx.commit()?;
        Ok(note)
    }

    /// Asks for a corrective work order from this visit (while it is open), naming the
    /// checklist item it comes from when there is one.
    pub fn request_corrective(
        &mut self,
        work_order_id: WorkOrderId,
        item_key: Option<&str>,
        fault_level: fieldbook_domain::FaultLevel,
        symptom: &str,
        requested_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<fieldbook_domain::CorrectiveRequest> {
        let tx = self.conn.transaction()?;
        let work_order = open_visit(&tx, work_order_id)?;
        check_item(&tx, &work_order, item_key)?;
        let request =
            fieldbook_domain::CorrectiveRequest::new(&work_order, item_key, fault_level, symptom, requested_by, now)?;
        crate::reference::insert_corrective_request(&tx, &request)?;
        let out = Outgoing {
            work_order: work_order_id,
            entity: "corrective_request",
            entity_id: &request.id.to_string(),
            op: "create",
        };
        enqueue(&tx, out, &request, now)?;
        tx.commit()?;
        Ok(request)
    }

    /// The customer signs: everything else must be complete, and the visit completes and locks
    /// in the same transaction.
    pub fn sign_off(
        &mut self,
        work_order_id: WorkOrderId,
        draft: &SignOffDraft,
        signature_png: &[u8],
        strokes: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<(SignOff, WorkOrder)> {
        let tx = self.conn.transaction()?;
        let mut work_order = open_visit(&tx, work_order_id)?;
        let sign_off = SignOff::from_draft(work_order.id, draft, now)?;
        if BlobId::of_bytes(signature_png) != sign_off.signature {
            return Err(StoreError::Invalid(fieldbook_domain::InvalidInput::MalformedId {
                what: "signature blob id (it must be the SHA-256 of the signature image)",
                value: sign_off.signature.to_string(),
            }));
        }
        if strokes.map(BlobId::of_bytes) != sign_off.strokes {
            return Err(StoreError::Invalid(fieldbook_domain::InvalidInput::MalformedId {
                what: "strokes blob id (it must be the SHA-256 of the strokes, given with them)",
                value: sign_off.strokes.as_ref().map(ToString::to_string).unwrap_or_default(),
            }));
        }
        let visit = load_visit(&tx, work_order.id)?;
        let missing: Vec<_> =
            visit.missing_for_completion().into_iter().filter(|m| *m != fieldbook_domain::Missing::SignOff).collect();
        if !missing.is_empty() {
            return Err(RuleViolation::Incomplete(missing).into());
        }
        work_order.take_step(StatusAction::Complete, now)?;
        insert_blob(&tx, &sign_off.signature, signature_png, now)?;
        if let (Some(id), Some(bytes)) = (&sign_off.strokes, strokes) {
            insert_blob(&tx, id, bytes, now)?;
        }
        insert_sign_off(&tx, &sign_off)?;
        put_work_order(&tx, &work_order)?;
        let work_order_key = work_order.id.to_string();
        let out = Outgoing {
            work_order: work_order.id,
            entity: "sign_off",
            entity_id: &sign_off.id.to_string(),
            op: "create",
        };
        enqueue(&tx, out, &sign_off, now)?;
        let out =
            Outgoing { work_order: work_order.id, entity: "work_order", entity_id: &work_order_key, op: "status" };
        enqueue(&tx, out, &StatusChange { action: StatusAction::Complete, at: now }, now)?;
        // The visit as signed, signed by this device, in the same transaction.
        let report = crate::evidence::sign_report(&tx, &work_order, now)?;
        let out = Outgoing { work_order: work_order.id, entity: "report", entity_id: &report.hash, op: "sign" };
        enqueue(&tx, out, &report, now)?;
        tx.commit()?;
        Ok((sign_off, work_order))
    }

    /// A technician's status step (set off, turn back, arrive, reopen). Completion goes through
    /// [`Store::sign_off`].
    pub fn change_status(
        &mut self,
        work_order_id: WorkOrderId,
        action: StatusAction,
        now: DateTime<Utc>,
    ) -> Result<WorkOrder> {
        let tx = self.conn.transaction()?;
        let mut work_order = load_work_order(&tx, work_order_id)?;
        if action == StatusAction::Complete {
            let visit = load_visit(&tx, work_order.id)?;
            let missing = visit.missing_for_completion();
            if !missing.is_empty() {
                return Err(RuleViolation::Incomplete(missing).into());
            }
        }
        work_order.take_step(action, now)?;
        put_work_order(&tx, &work_order)?;
        let work_order_key = work_order.id.to_string();
        let out =
            Outgoing { work_order: work_order.id, entity: "work_order", entity_id: &work_order_key, op: "status" };
        enqueue(&tx, out, &StatusChange { action, at: now }, now)?;
        tx.commit()?;
        Ok(work_order)
    }
}

/// The outbox payload of a status step.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct StatusChange {
    pub action: StatusAction,
    pub at: DateTime<Utc>,
}

/// Refuses an item key the work order's checklist does not have (no key is always fine).
fn check_item(tx: &rusqlite::Transaction<'_>, work_order: &WorkOrder, item_key: Option<&str>) -> Result<()> {
    if let Some(key) = item_key {
        let template = load_template_of(tx, work_order)?;
        if template.as_ref().and_then(|t| t.item(key)).is_none() {
            return Err(RuleViolation::UnknownChecklistItem(key.to_owned()).into());
        }
    }
    Ok(())
}
