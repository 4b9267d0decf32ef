//! The decisions every storage backend makes alike, as pure functions over the stored state.

use chrono::{DateTime, Utc};
use fieldbook_domain::dispatch::{self, DispatchAction, DispatchError};
use fieldbook_domain::evidence::{SignedReport, Verdict, short_code, verify};
use fieldbook_domain::{
    BlobId, ChecklistTemplate, Role, RuleViolation, ServicePolicy, UserId, WorkOrder, WorkOrderStatus,
};
use fieldbook_protocol::{Mutation, MutationOp, Outcome, ReviewRequest, UpdateWorkOrder, UserInfo};

use crate::DbError;

/// A supervisor's change to a work order.
#[derive(Debug, Clone)]
pub enum SupervisorChange {
    Assign(UserId),
    Cancel { reason: String },
    Update(UpdateWorkOrder),
    Review(ReviewRequest),
}

/// What a supervisor's change does.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorEffect {
    pub work_order: WorkOrder,
    /// The technician who lost the work order by a reassignment; their stream gets a removal.
    pub removed_from: Option<UserId>,
}

impl SupervisorChange {
    /// The same step as a device pushes it.
    pub fn action(&self) -> DispatchAction {
        match self {
            SupervisorChange::Assign(assignee) => DispatchAction::Assign { assignee: *assignee },
            SupervisorChange::Cancel { reason } => DispatchAction::Cancel { reason: reason.clone() },
            SupervisorChange::Update(update) => DispatchAction::Update(update.clone()),
            SupervisorChange::Review(review) => DispatchAction::Review(review.clone()),
        }
    }
}

impl From<DispatchError> for DbError {
    fn from(err: DispatchError) -> Self {
        match err {
            DispatchError::Invalid(e) => DbError::Invalid(e),
            DispatchError::Rule(e) => DbError::Rule(e),
            DispatchError::AlreadyExists(_) => DbError::Conflict(err.to_string()),
            DispatchError::Missing(id) => DbError::NotFound { what: "work order", id: id.to_string() },
        }
    }
}

/// Applies a supervisor's change through the domain's [`dispatch::apply`], which a
/// supervisor's device applies alike while offline.
pub fn apply_supervisor_change(
    current: &WorkOrder,
    change: &SupervisorChange,
    policy: &ServicePolicy,
    _at: DateTime<Utc>,
) -> Result<SupervisorEffect, DbError> {
    let effect = dispatch::apply(current, &change.action(), policy)?;
    Ok(SupervisorEffect { work_order: effect.work_order, removed_from: effect.removed_from })
}

/// Who may take a pushed dispatch step: a supervisor, on work orders of their team (assigned to
/// a technician they supervise) or unassigned ones, assigning only to their own active
/// technicians; as through the API. `current_assignee` and `new_assignee` are as stored.
pub fn check_dispatch(
    user: &UserInfo,
    current_assignee: Option<&UserInfo>,
    new_assignee: Option<&UserInfo>,
) -> Result<(), Outcome> {
    if user.role != Role::Supervisor {
        return Err(rejected("forbidden", format!("only a supervisor dispatches work orders, not a {}", user.role)));
    }
    let in_team = |u: &UserInfo| u.supervisor_id == Some(user.id);
    if let Some(current) = current_assignee
        && !in_team(current)
    {
        return Err(rejected(
            "forbidden",
            format!("the work order is assigned to {}, who is not in {}'s team", current.name, user.name),
        ));
    }
    if let Some(next) = new_assignee {
        if next.role != Role::Technician || next.disabled {
            return Err(rejected("invalid_input", format!("{} is not an active technician", next.name)));
        }
        if !in_team(next) {
            return Err(rejected("forbidden", format!("{} is not in {}'s team", next.name, user.name)));
        }
    }
    Ok(())
}

/// Whether a refused dispatch step sends the work order back to those who hold it, to put
/// right the supervisor's device that applied the step. Not when the step was `forbidden`: its
/// pusher's device never held the work order, and a supervisor of another team must not be
/// able to write to this team's streams (each refused step would add a change to them).
pub fn refused_step_streams_back(outcome: &Outcome) -> bool {
    !matches!(outcome, Outcome::Rejected { code, .. } if code == "forbidden")
}

/// A refused dispatch step as the outcome the device is told.
pub fn dispatch_refusal(err: &DispatchError) -> Outcome {
    let code = match err {
        DispatchError::Invalid(_) => "invalid_input",
        DispatchError::Rule(_) => "rule_violation",
        DispatchError::AlreadyExists(_) => "id_taken",
        DispatchError::Missing(_) => "not_found",
    };
    rejected(code, err.to_string())
}

/// How a pushed batch lines up with what the server already holds from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushStep {
    /// Stored by an earlier push: answer with the stored outcome.
    AlreadyStored(u64),
    /// New: check and apply.
    Apply(u64),
}

/// Orders a push: mutation numbers must rise by one from wherever the batch starts; a batch may
/// start at or before the next expected number (a retry of a push whose answer was lost), never
/// after it. A gap anywhere refuses the whole push, naming the server's next expected number:
/// the device sends again from there.
pub fn plan_push(last_seq: u64, mutations: &[Mutation]) -> Result<Vec<PushStep>, DbError> {
    let Some(first) = mutations.first() else { return Ok(Vec::new()) };
    if first.seq == 0 {
        return Err(DbError::Malformed("mutation numbers start at 1; this push starts at 0".into()));
    }
    let gap = |got| DbError::Gap { resend_from: last_seq + 1, got };
    if first.seq > last_seq + 1 {
        return Err(gap(first.seq));
    }
    for pair in mutations.windows(2) {
        if pair[1].seq != pair[0].seq + 1 {
            return Err(gap(pair[1].seq));
        }
    }
    Ok(mutations
        .iter()
        .map(|m| if m.seq <= last_seq { PushStep::AlreadyStored(m.seq) } else { PushStep::Apply(m.seq) })
        .collect())
}

/// How far a push's answer acknowledges: through the batch's last number, never past it. A
/// device drops its outbox rows up to here, so an acknowledgement past the batch would drop rows
/// whose outcome the answer does not carry (a refused one among them, never learnt of).
pub fn acked_through(mutations: &[Mutation]) -> u64 {
    mutations.last().map_or(0, |m| m.seq)
}

/// Whether an error met while applying one new mutation is that mutation's own refusal.
///
/// This is the one place the rule of docs/sync.md is enforced: a push is refused as a whole only
/// for what is wrong with the push itself (malformed, a gap, too large, the protocol, who sends
/// it) or for a failure of the server's storage; anything about one mutation's content or its
/// effect on stored data — a number or id already taken, a reference to something missing, a
/// rule of the domain — is that mutation's `rejected` outcome, kept as a conflict, and the rest of
/// the batch goes on. The backend undoes whatever the refused mutation had written.
pub fn refusal(err: &DbError) -> Option<Outcome> {
    let code = match err {
        DbError::NotFound { .. } => "not_found",
        DbError::Conflict(_) => "conflict",
        DbError::IdTaken(_) => "id_taken",
        DbError::Invalid(_) | DbError::Malformed(_) | DbError::WrongOffset { .. } | DbError::HashMismatch { .. } => {
            "invalid_input"
        }
        DbError::Rule(_) => "rule_violation",
        DbError::Gap { .. } | DbError::CursorAhead { .. } | DbError::Backend(_) => return None,
    };
    Some(rejected(code, err.to_string()))
}

/// What a mutation says, as SHA-256 hex over its id and its operation as JSON: a replay under
/// a stored number or mutation id is the same mutation only if this is the same. The clock
/// stamp is left out; it orders a mutation, it does not say what it does.
///
/// The JSON is canonical (keys sorted) and leaves out every empty value (null, false, 0, "",
/// [] and {}), so that a server upgraded with a new optional field (absent, or at its zero
/// default, in a replay of a change stored before) still knows the replay for the same
/// mutation.
pub fn mutation_digest(mutation: &Mutation) -> Result<String, DbError> {
    use sha2::{Digest, Sha256};
    let op = serde_json::to_value(&mutation.op)
        .map_err(|e| DbError::Backend(format!("a mutation could not be encoded as JSON: {e}")))?;
    let op = serde_json::to_vec(&without_empty_values(op))
        .map_err(|e| DbError::Backend(format!("a mutation could not be encoded as JSON: {e}")))?;
    let mut hash = Sha256::new();
    hash.update(mutation.id.to_string().as_bytes());
    hash.update(b"\n");
    hash.update(&op);
    Ok(hex::encode(hash.finalize()))
}

/// `value` with every object member whose value is empty left out, at any depth (array items
/// stay: their places are content).
fn without_empty_values(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn empty(value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
        }
    }
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(key, value)| (key, without_empty_values(value)))
                .filter(|(_, value)| !empty(value))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty_values).collect()),
        other => other,
    }
}

/// The answer to a mutation under a number or mutation id already stored, given what is stored
/// under it: its outcome then, and its digest (none for mutations stored before digests were
/// kept). The same mutation is answered as it was (`already_applied` for one applied then);
/// different content is `rejected` with `mutation_mismatch`, so the device learns that this
/// change was not applied.
pub fn replay_outcome(stored: Outcome, stored_digest: Option<&str>, digest: &str, what: &str) -> Outcome {
    if stored_digest.is_some_and(|d| d != digest) {
        return rejected(
            "mutation_mismatch",
            format!("{what} is already stored with other content; this change was not applied"),
        );
    }
    match stored {
        Outcome::Applied | Outcome::AlreadyApplied => Outcome::AlreadyApplied,
        rejected @ Outcome::Rejected { .. } => rejected,
    }
}

/// What applying one mutation changes.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationEffect {
    /// The work order after a status step.
    pub work_order: Option<WorkOrder>,
    /// The record to store (every op but a status step).
    pub record: Option<MutationOp>,
}

/// A refusal with its code and message.
pub fn rejected(code: &str, message: impl Into<String>) -> Outcome {
    Outcome::Rejected { code: code.to_owned(), message: message.into() }
}

/// Checks one pushed mutation against the work order as the server holds it.
///
/// `signed` says whether the current version of the visit is signed (its sign-offs outnumber
/// its `visit_version`: a reopened visit is signed anew). A refusal is an
/// [`Outcome::Rejected`]: the mutation is acknowledged (never resent) and kept as a conflict.
pub fn check_mutation(
    user: &UserInfo,
    work_order: Option<&WorkOrder>,
    template: Option<&ChecklistTemplate>,
    signed: bool,
    op: &MutationOp,
) -> Result<MutationEffect, Outcome> {
    if let MutationOp::Dispatch(_) = op {
        // Dispatch steps are checked by `check_dispatch` and applied by the backend.
        return Err(rejected("forbidden", "a dispatch step is not a technician's change"));
    }
    let Some(work_order) = work_order else {
        return Err(rejected("not_found", format!("work order {} does not exist on the server", op.work_order_id())));
    };
    if work_order.assignee != Some(user.id) {
        return Err(rejected(
            "forbidden",
            format!(
                "work order {} is not assigned to {}; the change was kept as a conflict",
                work_order.number, user.name
            ),
        ));
    }
    if let MutationOp::Status(step) = op {
        if !step.action.allowed_for(Role::Technician) {
            return Err(rejected("forbidden", format!("a technician cannot {} a work order", step.action)));
        }
        let mut next = work_order.clone();
        next.take_step(step.action, step.at).map_err(|e| rejected("rule_violation", e.to_string()))?;
        return Ok(MutationEffect { work_order: Some(next), record: None });
    }
    // Notes may be added to any work order the technician holds; other facts only to a visit
    // in progress (a returned one once reopened) and not yet signed.
    // A signed report follows its sign-off; [`check_report`] checks it against the ledger.
    if !matches!(op, MutationOp::Note(_) | MutationOp::Report(_)) {
        if signed {
            return Err(rejected("visit_locked", RuleViolation::VisitLocked(WorkOrderStatus::Completed).to_string()));
        }
        match work_order.ensure_accepts_visit_records() {
            Ok(()) => {}
            // Signed, approved or cancelled: the visit takes no more changes.
            Err(refusal)
                if matches!(refusal, RuleViolation::VisitLocked(_))
                    || work_order.status == WorkOrderStatus::Cancelled =>
            {
                return Err(rejected("visit_locked", refusal.to_string()));
            }
            // Not started yet (assigned, en route): not a signed visit, so not "locked".
            Err(refusal) => return Err(rejected("rule_violation", refusal.to_string())),
        }
    }
    if let MutationOp::CorrectiveRequest(request) = op {
        if let Some(key) = &request.item_key
            && template.and_then(|t| t.item(key)).is_none()
        {
            return Err(rejected("rule_violation", RuleViolation::UnknownChecklistItem(key.clone()).to_string()));
        }
        if request.requested_by.is_some_and(|by| by != user.id) {
            return Err(rejected("forbidden", "a corrective work order is asked for in one's own name"));
        }
        if let Err(e) = fieldbook_domain::text::required_text("symptom", &request.symptom, 4000) {
            return Err(rejected("invalid_input", e.to_string()));
        }
    }
    if let MutationOp::InspectionResult(result) = op {
        let Some(template) = template else {
            return Err(rejected(
                "rule_violation",
                RuleViolation::UnknownChecklistItem(result.item_key.clone()).to_string(),
            ));
        };
        match template.assess(&result.item_key, &result.answer) {
            Ok(assessment) if assessment == result.assessment => {}
            Ok(assessment) => {
                return Err(rejected(
                    "invalid_input",
                    format!("item '{}' assesses as {assessment}, not {}", result.item_key, result.assessment),
                ));
            }
            Err(e) => return Err(rejected("invalid_input", e.to_string())),
        }
    }
    Ok(MutationEffect { work_order: None, record: Some(op.clone()) })
}

/// A record names a photo, signature or pen strokes that its pusher did not upload and that no
/// record of its work order names: refused as if it were not on the server, which for that
/// pusher it is not (whether anyone else has those bytes is not told).
pub fn blob_not_held(blob: &BlobId) -> Outcome {
    rejected(
        "not_found",
        format!(
            "the photo or signature {blob} is not on the server for this device; upload it before the change that names it"
        ),
    )
}

/// A visit record as the server stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// `inspection_result`, `fault_record`, `part_usage`, `photo`, `note`, `sign_off`, …
    pub kind: String,
    /// Its id ([`photo_record_id`] for a photo).
    pub id: String,
    pub body: serde_json::Value,
}

/// The id a photo is stored under: it has none of its own (its blob, work order and item).
pub fn photo_record_id(photo: &fieldbook_domain::Photo) -> String {
    format!("photo:{}:{}:{}", photo.work_order_id, photo.blob, photo.item_key.as_deref().unwrap_or(""))
}

/// What the server knows when it checks a pushed signed report.
pub struct ReportContext<'a> {
    /// The device that pushed it.
    pub device_id: &'a str,
    /// The public key that device enrolled with (none for a device enrolled before keys).
    pub enrolled_key: Option<&'a str>,
    /// The work order as the server holds it.
    pub work_order: &'a WorkOrder,
    /// Every visit record the server accepted for the work order.
    pub records: &'a [StoredRecord],
    /// Whether the ledger already holds a report over the sign-off this one names.
    pub sign_off_reported: bool,
    /// The hash of the latest report of the work order in the ledger.
    pub ledger_head: Option<&'a str>,
}

/// The visit records a report vouches for, as stored records (notes apart).
fn document_records(visit: &fieldbook_domain::Visit) -> Result<Vec<StoredRecord>, serde_json::Error> {
    let mut records = Vec::new();
    let mut add = |kind: &str, id: String, body: serde_json::Value| {
        records.push(StoredRecord { kind: kind.to_owned(), id, body });
    };
    for r in &visit.results {
        add("inspection_result", r.id.to_string(), serde_json::to_value(r)?);
    }
    for r in &visit.faults {
        add("fault_record", r.id.to_string(), serde_json::to_value(r)?);
    }
    for r in &visit.parts {
        add("part_usage", r.id.to_string(), serde_json::to_value(r)?);
    }
    for p in &visit.photos {
        add("photo", photo_record_id(p), serde_json::to_value(p)?);
    }
    Ok(records)
}

/// Whether a report's visit is the one the server accepted: every answer, fault, part and
/// photo it holds for the work order and no other, the sign-off and notes among those it
/// holds, and the same visit version.
fn matches_the_server(visit: &fieldbook_domain::Visit, context: &ReportContext<'_>) -> Result<(), String> {
    if visit.work_order.id != context.work_order.id
        || visit.work_order.visit_version != context.work_order.visit_version
    {
        return Err(format!(
            "the report signs visit version {} of its work order; the server holds version {}",
            visit.work_order.visit_version, context.work_order.visit_version
        ));
    }
    let held = |kind: &str, id: &str, body: &serde_json::Value| {
        context.records.iter().any(|r| r.kind == kind && r.id == id && r.body == *body)
    };
    let ours = document_records(visit).map_err(|e| e.to_string())?;
    for record in &ours {
        if !held(&record.kind, &record.id, &record.body) {
            return Err(format!("the report's {} {} is not the one the server accepted", record.kind, record.id));
        }
    }
    let counted = ["inspection_result", "fault_record", "part_usage", "photo"];
    let on_server = context.records.iter().filter(|r| counted.contains(&r.kind.as_str())).count();
    if on_server != ours.len() {
        return Err(format!(
            "the report holds {} answers, faults, parts and photos; the server accepted {on_server} for this visit",
            ours.len()
        ));
    }
    let sign_off = visit.sign_off.as_ref().ok_or("the report has no sign-off")?;
    let body = serde_json::to_value(sign_off).map_err(|e| e.to_string())?;
    if !held("sign_off", &sign_off.id.to_string(), &body) {
        return Err("the report names a sign-off the server did not accept".to_owned());
    }
    for note in &visit.notes {
        let body = serde_json::to_value(note).map_err(|e| e.to_string())?;
        if !held("note", &note.id.to_string(), &body) {
            return Err(format!("the report's note {} is not one the server accepted", note.id));
        }
    }
    Ok(())
}

/// Checks a signed report before it is appended to the ledger: signed by the pushing
/// technician on the pushing device with the key it enrolled, over exactly the visit the
/// server accepted (records, sign-off, visit version), the first report of that sign-off,
/// amending exactly the latest report of the work order, and intact (hash, signature, every
/// image against the server's copy).
pub fn check_report(
    user: &UserInfo,
    report: &SignedReport,
    context: &ReportContext<'_>,
    blob: impl Fn(&BlobId) -> Option<Vec<u8>>,
) -> Result<(), Outcome> {
    let document = &report.document;
    if document.technician.id != user.id {
        return Err(rejected("forbidden", "a report is signed in one's own name"));
    }
    if document.device_id != context.device_id {
        return Err(rejected("report_invalid", "the report names another device than the one that sent it"));
    }
    if context.enrolled_key != Some(report.public_key.as_str()) {
        return Err(rejected(
            "report_invalid",
            "the report is signed with a key this device did not enroll with; enroll the device again",
        ));
    }
    if let Err(reason) = matches_the_server(&document.visit, context) {
        return Err(rejected("report_invalid", reason));
    }
    if context.sign_off_reported {
        return Err(rejected(
            "report_invalid",
            "this sign-off already has a signed report; a new version needs the visit returned, reopened and signed again",
        ));
    }
    if document.previous.as_deref() != context.ledger_head {
        let message = match (context.ledger_head, &document.previous) {
            (Some(head), None) => {
                format!("the visit already has a signed report ({}); an amendment must name it", short_code(head))
            }
            (None, Some(previous)) => {
                format!("the report amends {}, which the ledger does not hold", short_code(previous))
            }
            (Some(head), Some(previous)) => format!(
                "the report amends {}, but the visit's latest signed report is {}",
                short_code(previous),
                short_code(head)
            ),
            (None, None) => unreachable!("equal"),
        };
        return Err(rejected("report_invalid", message));
    }
    match verify(report, blob, |_| false) {
        Verdict::Intact { .. } => Ok(()),
        Verdict::Tampered { reasons } => Err(rejected("report_tampered", reasons.join("; "))),
        Verdict::RevokedDevice { .. } => Err(rejected("forbidden", "the device is revoked")),
    }
}

/// The chain hash of a ledger entry: SHA-256 over the previous entry's chain hash and this
/// report's hash (hex, joined by a newline).
pub fn chain_hash(previous_chain: Option<&str>, report_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    let previous = previous_chain.unwrap_or(GENESIS_CHAIN);
    hex::encode(Sha256::digest(format!("{previous}\n{report_hash}")))
}

/// The chain hash before the first entry.
pub const GENESIS_CHAIN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;
    use fieldbook_domain::StatusAction;
    use fieldbook_domain::*;
    use fieldbook_protocol::StatusStep;

    fn mutation(seq: u64) -> Mutation {
        Mutation {
            seq,
            id: MutationId::new(),
            hlc: fieldbook_domain::Hlc::default(),
            op: MutationOp::Status(StatusStep {
                work_order_id: WorkOrderId::new(),
                action: StatusAction::SetOff,
                at: Utc::now(),
            }),
        }
    }

    #[test]
    fn a_push_continues_the_sequence_or_is_refused() {
        let batch: Vec<_> = (4..=6).map(mutation).collect();
        assert_eq!(plan_push(3, &batch).unwrap(), vec![PushStep::Apply(4), PushStep::Apply(5), PushStep::Apply(6)]);
        // A retry of a push whose answer was lost.
        assert_eq!(
            plan_push(5, &batch).unwrap(),
            vec![PushStep::AlreadyStored(4), PushStep::AlreadyStored(5), PushStep::Apply(6)]
        );
        assert!(matches!(plan_push(2, &batch), Err(DbError::Gap { resend_from: 3, got: 4 })));
        // A hole inside the batch: nothing is stored, so the device resends from the server's
        // next number, not from the hole.
        let holed = vec![mutation(4), mutation(6)];
        assert!(matches!(plan_push(3, &holed), Err(DbError::Gap { resend_from: 4, got: 6 })));
        assert!(matches!(plan_push(0, &[mutation(0)]), Err(DbError::Malformed(_))));
        assert_eq!(plan_push(9, &[]).unwrap(), vec![]);
    }

    #[test]
    fn an_answer_never_acknowledges_past_its_batch() {
        // The server holds through 9 (a longer push whose answer was lost); a shorter retry of
        // 4..=6 is acknowledged through 6, so the device keeps 7..=9 and learns their fate next.
        let batch: Vec<_> = (4..=6).map(mutation).collect();
        assert_eq!(acked_through(&batch), 6);
        assert_eq!(acked_through(&[]), 0);
    }

    #[test]
    fn only_what_is_wrong_with_the_push_itself_refuses_it_whole() {
        for whole in [
            DbError::Gap { resend_from: 3, got: 5 },
            DbError::CursorAhead { cursor: 9, head: 3 },
            DbError::Backend("disk full".into()),
        ] {
            assert_eq!(refusal(&whole), None, "{whole}");
        }
        let code = |err: DbError| match refusal(&err) {
            Some(Outcome::Rejected { code, .. }) => code,
            other => panic!("{err} is a mutation's refusal, not {other:?}"),
        };
        assert_eq!(code(DbError::Conflict("number taken".into())), "conflict");
        assert_eq!(code(DbError::IdTaken("id taken".into())), "id_taken");
        assert_eq!(code(DbError::NotFound { what: "customer", id: "c".into() }), "not_found");
        assert_eq!(code(DbError::Rule(RuleViolation::UnknownChecklistItem("x".into()))), "rule_violation");
    }

    #[test]
    fn a_replay_with_other_content_is_a_mismatch_not_a_success() {
        let m = mutation(4);
        let digest = mutation_digest(&m).unwrap();
        let mut other = m.clone();
        other.op = mutation(4).op;
        assert_ne!(mutation_digest(&other).unwrap(), digest);
        let mut restamped = m.clone();
        restamped.hlc = fieldbook_domain::Hlc::at(1_765_000_000_000);
        assert_eq!(mutation_digest(&restamped).unwrap(), digest, "the clock stamp is not content");
        // A field a later server adds, absent or empty in a replay, is not content either.
        let value = serde_json::json!({"type": "note", "record": {"text": "到场", "new_field": null, "n": 0}});
        let plain = serde_json::json!({"type": "note", "record": {"text": "到场"}});
        assert_eq!(without_empty_values(value), plain);
        let items = serde_json::json!({"list": [0, null, "", {"a": false}]});
        assert_eq!(without_empty_values(items), serde_json::json!({"list": [0, null, "", {}]}), "array items stay");
        assert_eq!(replay_outcome(Outcome::Applied, Some(&digest), &digest, "4"), Outcome::AlreadyApplied);
        let refused = rejected("forbidden", "no");
        assert_eq!(replay_outcome(refused.clone(), Some(&digest), &digest, "4"), refused);
        assert_eq!(
            replay_outcome(Outcome::Applied, None, &digest, "4"),
            Outcome::AlreadyApplied,
            "kept before digests"
        );
        let mismatch = replay_outcome(Outcome::Applied, Some("00"), &digest, "mutation 4");
        assert!(matches!(mismatch, Outcome::Rejected { ref code, .. } if code == "mutation_mismatch"), "{mismatch:?}");
    }
}

#[cfg(test)]
mod dispatch_tests {
    use super::*;

    fn user(role: Role, supervisor: Option<UserId>) -> UserInfo {
        UserInfo {
            id: UserId::new(),
            username: "u".into(),
            name: "某人".into(),
            staff_no: "FB-1".into(),
            role,
            supervisor_id: supervisor,
            disabled: false,
        }
    }

    fn code(result: Result<(), Outcome>) -> Option<String> {
        match result {
            Ok(()) => None,
            Err(Outcome::Rejected { code, .. }) => Some(code),
            Err(other) => panic!("a refusal is Rejected, not {other:?}"),
        }
    }

    #[test]
    fn only_a_supervisor_dispatches_and_only_within_their_team() {
        let boss = user(Role::Supervisor, None);
        let other_boss = user(Role::Supervisor, None);
        let mine = user(Role::Technician, Some(boss.id));
        let theirs = user(Role::Technician, Some(other_boss.id));
        let mut gone = user(Role::Technician, Some(boss.id));
        gone.disabled = true;
        assert_eq!(code(check_dispatch(&boss, None, Some(&mine))), None, "unassigned work to my technician");
        assert_eq!(code(check_dispatch(&boss, Some(&mine), Some(&mine))), None);
        assert_eq!(code(check_dispatch(&boss, Some(&theirs), None)).as_deref(), Some("forbidden"));
        assert_eq!(code(check_dispatch(&boss, Some(&mine), Some(&theirs))).as_deref(), Some("forbidden"));
        assert_eq!(code(check_dispatch(&boss, None, Some(&gone))).as_deref(), Some("invalid_input"));
        assert_eq!(code(check_dispatch(&boss, None, Some(&other_boss))).as_deref(), Some("invalid_input"));
        assert_eq!(code(check_dispatch(&mine, Some(&mine), None)).as_deref(), Some("forbidden"));
        let admin = user(Role::Admin, None);
        assert_eq!(code(check_dispatch(&admin, None, None)).as_deref(), Some("forbidden"));
    }
}
