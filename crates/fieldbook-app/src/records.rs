//! Per-record sync state, the pending list and the conflicts list, as the screens show them.

use std::collections::HashMap;

use fieldbook_domain::WorkOrderId;
use fieldbook_store::{Conflict, OutboxEntry, Store};

use crate::dto::{ConflictView, PendingChange, RecordState, RecordSync};
use crate::{App, AppError};

/// The most pending changes the sync screen lists.
pub const PENDING_SHOWN: u32 = 500;

fn value(payload: &str) -> serde_json::Value {
    serde_json::from_str(payload).unwrap_or(serde_json::Value::String(payload.to_owned()))
}

/// Work orders looked up once each, by id text.
struct Names<'s> {
    store: &'s Store,
    seen: HashMap<String, Option<(String, fieldbook_domain::WorkOrderStatus, Option<String>)>>,
}

impl<'s> Names<'s> {
    fn new(store: &'s Store) -> Self {
        Names { store, seen: HashMap::new() }
    }

    fn get(&mut self, id: &str) -> Option<(String, fieldbook_domain::WorkOrderStatus, Option<String>)> {
        let store = self.store;
        self.seen
            .entry(id.to_owned())
            .or_insert_with(|| {
                let id: WorkOrderId = id.parse().ok()?;
                let row = store.work_order_row(id).ok()?;
                Some((row.work_order.number, row.work_order.status, row.assignee_name))
            })
            .clone()
    }
}

fn pending(entry: &OutboxEntry, names: &mut Names<'_>) -> PendingChange {
    PendingChange {
        seq: entry.seq,
        entity: entry.entity.clone(),
        entity_id: entry.entity_id.clone(),
        op: entry.op.clone(),
        work_order_id: entry.work_order_id.clone(),
        work_order_number: names.get(&entry.work_order_id).map(|(number, _, _)| number),
        created_at: entry.created_at,
        state: if entry.sent_at.is_some() { RecordState::Sent } else { RecordState::LocalOnly },
        value: value(&entry.payload),
    }
}

fn conflict(c: &Conflict, names: &mut Names<'_>) -> ConflictView {
    let current = names.get(&c.work_order_id);
    ConflictView {
        seq: c.seq,
        entity: c.entity.clone(),
        entity_id: c.entity_id.clone(),
        op: c.op.clone(),
        work_order_id: c.work_order_id.clone(),
        work_order_number: current.as_ref().map(|(number, _, _)| number.clone()),
        code: c.code.clone(),
        message: c.message.clone(),
        created_at: c.created_at,
        local_value: value(&c.payload),
        server_status: current.as_ref().map(|(_, status, _)| *status),
        server_assignee: current.and_then(|(_, _, assignee)| assignee),
    }
}

/// The states of one visit's unconfirmed records: pending ones are local or sent, refused ones
/// conflicted (a refusal outranks a pending entry for the same record).
pub(crate) fn record_states(pending: &[OutboxEntry], refused: &[Conflict]) -> Vec<RecordSync> {
    let mut states: Vec<RecordSync> = pending
        .iter()
        .map(|e| RecordSync {
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            state: if e.sent_at.is_some() { RecordState::Sent } else { RecordState::LocalOnly },
        })
        .collect();
    for c in refused {
        states.retain(|s| !(s.entity == c.entity && s.entity_id == c.entity_id));
        states.push(RecordSync {
            entity: c.entity.clone(),
            entity_id: c.entity_id.clone(),
            state: RecordState::Conflicted,
        });
    }
    states
}

impl App {
    /// The unconfirmed records and the conflicts of one work order.
    pub(crate) fn visit_sync(&self, id: WorkOrderId) -> Result<(Vec<RecordSync>, Vec<ConflictView>), AppError> {
        let store = self.store();
        let pending = store.outbox_of(id)?;
        let refused = store.conflicts_of(id)?;
        let mut names = Names::new(&store);
        let conflicts = refused.iter().map(|c| conflict(c, &mut names)).collect();
        Ok((record_states(&pending, &refused), conflicts))
    }

    /// Everything the sync screen shows.
    pub fn sync_overview(&self) -> Result<crate::dto::SyncOverview, AppError> {
        let status = self.sync_status()?;
        let store = self.store();
        let mut names = Names::new(&store);
        let pending = store.outbox(PENDING_SHOWN)?.iter().map(|e| pending(e, &mut names)).collect();
        let mut conflicts: Vec<ConflictView> = store.conflicts()?.iter().map(|c| conflict(c, &mut names)).collect();
        conflicts.reverse();
        Ok(crate::dto::SyncOverview { status, pending, conflicts })
    }
}
