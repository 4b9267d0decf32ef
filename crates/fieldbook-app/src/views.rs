//! Turns stored rows into what the screens show, with deadline states computed at `now`.

use chrono::{DateTime, Utc};
use fieldbook_domain::{DeadlineState, Visit, WorkOrder};
use fieldbook_store::WorkOrderRow;

use crate::dto::{AssetHistoryEntry, AssetInfo, DeadlineKind, DeadlineRow, DueInfo, WorkOrderDetail, WorkOrderSummary};

fn deadline_rows(w: &WorkOrder, now: DateTime<Utc>) -> Vec<DeadlineRow> {
    let d = &w.deadlines;
    let mut rows = vec![
        (DeadlineKind::Respond, d.respond_by, w.responded_at),
        (DeadlineKind::Arrive, d.arrive_by, w.arrived_at),
        (DeadlineKind::Resolve, d.resolve_by, w.completed_at),
    ];
    if let Some(loaner) = d.loaner_by {
        // The loaner promise is met by resolving in time as much as by a loaner unit.
        rows.push((DeadlineKind::Loaner, loaner, w.completed_at));
    }
    rows.into_iter()
        .map(|(kind, due, done_at)| DeadlineRow {
            kind,
            due,
            done_at,
            state: DeadlineState::assess(due, done_at, w.reported_at, now),
        })
        .collect()
}

fn next_due(w: &WorkOrder, now: DateTime<Utc>) -> Option<DueInfo> {
    if !w.status.is_open() {
        return None;
    }
    deadline_rows(w, now)
        .into_iter()
        .filter(|row| row.kind != DeadlineKind::Loaner && row.done_at.is_none())
        .min_by_key(|row| row.due)
        .map(|row| DueInfo { kind: row.kind, due: row.due, state: row.state })
}

pub(crate) fn summary(row: &WorkOrderRow, now: DateTime<Utc>) -> WorkOrderSummary {
    let w = &row.work_order;
    WorkOrderSummary {
        id: w.id.to_string(),
        number: w.number.clone(),
        customer_name: row.customer_name.clone(),
        site_name: row.site_name.clone(),
        asset_label: row.asset.as_ref().map(|a| format!("{} · {}", a.model, a.serial)),
        kind: w.kind,
        fault_level: w.fault_level,
        status: w.status,
        symptom: w.symptom.clone(),
        reported_at: w.reported_at,
        scheduled_for: w.scheduled_for,
        assignee_name: row.assignee_name.clone(),
        next_due: next_due(w, now),
    }
}

pub(crate) fn detail(row: &WorkOrderRow, visit: &Visit, history: &[WorkOrder], now: DateTime<Utc>) -> WorkOrderDetail {
    let w = &row.work_order;
    let current_results = visit.current_results().into_values().cloned().collect();
    WorkOrderDetail {
        summary: summary(row, now),
        customer_address: row.customer_address.clone(),
        site_address: row.site_address.clone(),
        contact_name: w.contact.name.clone(),
        contact_phone: w.contact.phone.clone(),
        reported_by: w.reported_by.clone(),
        billing: w.billing,
        instructions: w.instructions.clone(),
        status_note: w.status_note.clone(),
        visit_version: w.visit_version,
        assignee_id: w.assignee.map(|a| a.to_string()),
        asset: row.asset.as_ref().map(|a| AssetInfo {
            id: a.id.to_string(),
            model: a.model.clone(),
            serial: a.serial.clone(),
            location: a.location.clone(),
            warranty_end: a.warranty_end,
            in_warranty: a.in_warranty_on(now.date_naive()),
        }),
        asset_history: history
            .iter()
            .map(|h| AssetHistoryEntry {
                id: h.id.to_string(),
                number: h.number.clone(),
                kind: h.kind,
                status: h.status,
                reported_at: h.reported_at,
                symptom: h.symptom.clone(),
            })
            .collect(),
        deadlines: deadline_rows(w, now),
        template: visit.template.clone(),
        results: visit.results.clone(),
        current_results,
        faults: visit.faults.clone(),
        parts: visit.parts.clone(),
        photos: visit.photos.clone(),
        sign_off: visit.sign_off.clone(),
        notes: visit.notes.clone(),
        missing: if w.status.accepts_visit_records() { visit.missing_for_completion() } else { Vec::new() },
        // Filled in by the caller, which holds the outbox.
        record_states: Vec::new(),
        conflicts: Vec::new(),
        corrective_requests: Vec::new(),
    }
}
