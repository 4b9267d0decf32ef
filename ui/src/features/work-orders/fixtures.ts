// Test data in the shapes the backend sends (the generated binding types), for unit tests.

import type { ChecklistItem } from '$lib/bindings/ChecklistItem';
import type { InspectionResult } from '$lib/bindings/InspectionResult';
import type { WorkOrderSummary } from '$lib/bindings/WorkOrderSummary';

export function summary(overrides: Partial<WorkOrderSummary> & Pick<WorkOrderSummary, 'id'>): WorkOrderSummary {
  return {
    number: `WO-20261120-${overrides.id.padStart(4, '0')}`,
    customer_name: '华东物业',
    site_name: '一号楼',
    asset_label: null,
    kind: 'repair',
    fault_level: 'major',
    status: 'assigned',
    symptom: '无图像',
    reported_at: '2026-11-20T02:00:00Z',
    scheduled_for: null,
    assignee_name: null,
    next_due: null,
    ...overrides,
  };
}

export function item(key: string, method: ChecklistItem['method'], extra: Partial<ChecklistItem> = {}): ChecklistItem {
  return {
    key,
    method,
    standard: null,
    label: { zh: key, en: key },
    kind: { type: 'check' },
    required: true,
    photo_required: false,
    ...extra,
  };
}

export function result(id: string, itemKey: string, extra: Partial<InspectionResult> = {}): InspectionResult {
  return {
    id,
    work_order_id: 'wo',
    item_key: itemKey,
    answer: { type: 'check', value: 'normal' },
    assessment: 'normal',
    note: '',
    recorded_at: '2026-11-20T02:00:00Z',
    hlc: '019aa1b2c3d4-00000000-0000000000000001',
    supersedes: null,
    ...extra,
  };
}
