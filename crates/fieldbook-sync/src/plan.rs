//! The pure half of sync: outbox rows to protocol mutations, pulled changes to store changes,
//! and which blobs a batch needs on the server first. Tested without a network.

use fieldbook_domain::{BlobId, Hlc, User, WorkOrderId};
use fieldbook_protocol::{ChangeBody, Mutation, MutationOp, ReferenceData, StatusStep, UserInfo};
use fieldbook_store::{ImportBatch, OutboxEntry, PulledChange, PulledRecord, StatusChange};

use crate::SyncError;

fn parse<T: serde::de::DeserializeOwned>(entry: &OutboxEntry) -> Result<T, SyncError> {
    serde_json::from_str(&entry.payload)
        .map_err(|e| SyncError::Corrupt(format!("outbox row {} ({} {}): {e}", entry.seq, entry.entity, entry.op)))
}

/// The mutation an outbox row stands for. The device's mutation numbers count from its
/// enrollment: `seq_base` is the last outbox number given before it.
pub fn to_mutation(entry: &OutboxEntry, seq_base: i64) -> Result<Mutation, SyncError> {
    let op = match (entry.entity.as_str(), entry.op.as_str()) {
        ("inspection_result", "create") => MutationOp::InspectionResult(parse(entry)?),
        ("fault_record", "create") => MutationOp::FaultRecord(parse(entry)?),
        ("part_usage", "create") => MutationOp::PartUsage(parse(entry)?),
        ("photo", "attach") => MutationOp::Photo(parse(entry)?),
        ("note", "create") => MutationOp::Note(parse(entry)?),
        ("sign_off", "create") => MutationOp::SignOff(parse(entry)?),
        ("corrective_request", "create") => MutationOp::CorrectiveRequest(parse(entry)?),
        ("report", "sign") => MutationOp::Report(Box::new(parse(entry)?)),
        ("work_order", "dispatch") => MutationOp::Dispatch(parse(entry)?),
        ("work_order", "status") => {
            let change: StatusChange = parse(entry)?;
            let work_order_id: WorkOrderId =
                entry.entity_id.parse().map_err(|e| SyncError::Corrupt(format!("outbox row {}: {e}", entry.seq)))?;
            MutationOp::Status(StatusStep { work_order_id, action: change.action, at: change.at })
        }
        (entity, op) => {
            return Err(SyncError::Corrupt(format!("outbox row {} has an unknown kind {entity}.{op}", entry.seq)));
        }
    };
    let seq = entry.seq - seq_base;
    if seq < 1 {
        return Err(SyncError::Corrupt(format!("outbox row {} precedes this device's enrollment", entry.seq)));
    }
    let id = entry.mutation_id.parse().map_err(|e| SyncError::Corrupt(format!("outbox row {}: {e}", entry.seq)))?;
    // A change made before clock stamps existed is stamped with its creation time.
    let hlc = entry.hlc.unwrap_or_else(|| Hlc::at(entry.created_at.timestamp_millis()));
    Ok(Mutation { seq: seq as u64, id, hlc, op })
}

/// The blobs a batch refers to, which must be on the server before the batch.
pub fn blobs_of(mutations: &[Mutation]) -> Vec<BlobId> {
    let mut ids: Vec<BlobId> = mutations.iter().flat_map(|m| m.op.blobs()).cloned().collect();
    ids.sort();
    ids.dedup();
    ids
}

fn user(info: &UserInfo) -> User {
    User { id: info.id, name: info.name.clone(), staff_no: info.staff_no.clone(), role: info.role }
}

/// What a pulled page's work orders refer to, as a store import.
pub fn to_reference(reference: ReferenceData) -> ImportBatch {
    ImportBatch {
        users: reference.users.iter().map(user).collect(),
        policies: reference.policies,
        customers: reference.customers,
        sites: reference.sites,
        assets: reference.assets,
        templates: reference.templates,
        ..ImportBatch::default()
    }
}

/// A pulled change in the store's terms, taking it rather than copying it.
pub fn into_pulled(body: ChangeBody) -> Option<PulledChange> {
    Some(match body {
        ChangeBody::WorkOrder { work_order } => PulledChange::WorkOrder(work_order),
        ChangeBody::Removed { work_order_id } => PulledChange::Removed(work_order_id),
        ChangeBody::Record { op } => PulledChange::Record(match op {
            MutationOp::InspectionResult(r) => PulledRecord::InspectionResult(r),
            MutationOp::FaultRecord(r) => PulledRecord::FaultRecord(r),
            MutationOp::PartUsage(r) => PulledRecord::PartUsage(r),
            MutationOp::Photo(r) => PulledRecord::Photo(r),
            MutationOp::Note(r) => PulledRecord::Note(r),
            MutationOp::SignOff(r) => PulledRecord::SignOff(r),
            MutationOp::CorrectiveRequest(r) => PulledRecord::CorrectiveRequest(r),
            MutationOp::Report(r) => PulledRecord::Report(r),
            // Status and dispatch steps reach devices inside work-order changes, never as records.
            MutationOp::Status(_) | MutationOp::Dispatch(_) => return None,
        }),
    })
}

/// A pulled change in the store's terms.
pub fn to_pulled(body: &ChangeBody) -> Option<PulledChange> {
    Some(match body {
        ChangeBody::WorkOrder { work_order } => PulledChange::WorkOrder(work_order.clone()),
        ChangeBody::Removed { work_order_id } => PulledChange::Removed(*work_order_id),
        ChangeBody::Record { op } => PulledChange::Record(match op {
            MutationOp::InspectionResult(r) => PulledRecord::InspectionResult(r.clone()),
            MutationOp::FaultRecord(r) => PulledRecord::FaultRecord(r.clone()),
            MutationOp::PartUsage(r) => PulledRecord::PartUsage(r.clone()),
            MutationOp::Photo(r) => PulledRecord::Photo(r.clone()),
            MutationOp::Note(r) => PulledRecord::Note(r.clone()),
            MutationOp::SignOff(r) => PulledRecord::SignOff(r.clone()),
            MutationOp::CorrectiveRequest(r) => PulledRecord::CorrectiveRequest(r.clone()),
            MutationOp::Report(r) => PulledRecord::Report(r.clone()),
            // Status and dispatch steps reach devices inside work-order changes, never as records.
            MutationOp::Status(_) | MutationOp::Dispatch(_) => return None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use fieldbook_domain::*;

    fn entry(seq: i64, entity: &str, op: &str, entity_id: &str, payload: String) -> OutboxEntry {
        OutboxEntry {
            seq,
            mutation_id: MutationId::new().to_string(),
            entity: entity.into(),
            entity_id: entity_id.into(),
            work_order_id: String::new(),
            op: op.into(),
            payload,
            created_at: Utc::now(),
            sent_at: None,
            hlc: Some(Hlc { millis: seq, counter: 0, node: 1 }),
        }
    }

    #[test]
    fn outbox_rows_become_numbered_mutations() {
        let wo = WorkOrderId::new();
        let step = StatusChange { action: StatusAction::Arrive, at: Utc::now() };
        let m =
            to_mutation(&entry(12, "work_order", "status", &wo.to_string(), serde_json::to_string(&step).unwrap()), 10)
                .unwrap();
        assert_eq!(m.seq, 2);
        assert_eq!(
            m.op,
            MutationOp::Status(StatusStep { work_order_id: wo, action: StatusAction::Arrive, at: step.at })
        );
        let note =
            Note { id: NoteId::new(), work_order_id: wo, author: None, text: "复查".into(), written_at: Utc::now() };
        let m =
            to_mutation(&entry(11, "note", "create", &note.id.to_string(), serde_json::to_string(&note).unwrap()), 10)
                .unwrap();
        assert_eq!(m.op, MutationOp::Note(note));
        assert!(to_mutation(&entry(10, "note", "create", "x", "{}".into()), 10).is_err(), "before enrollment");
        assert!(to_mutation(&entry(11, "note", "create", "x", "{broken".into()), 10).is_err());
        assert!(to_mutation(&entry(11, "gizmo", "create", "x", "{}".into()), 10).is_err());
    }

    #[test]
    fn a_batch_names_each_blob_it_needs_once() {
        let wo = WorkOrderId::new();
        let photo = |bytes: &[u8]| Mutation {
            seq: 1,
            id: MutationId::new(),
            hlc: fieldbook_domain::Hlc::default(),
            op: MutationOp::Photo(Photo {
                blob: BlobId::of_bytes(bytes),
                work_order_id: wo,
                item_key: None,
                caption: String::new(),
                taken_at: Utc::now(),
            }),
        };
        let blobs = blobs_of(&[photo(b"a"), photo(b"b"), photo(b"a")]);
        assert_eq!(blobs.len(), 2);
    }
}
