// A work order's detail in the shape the backend sends, for the visit's unit tests.

import type { WorkOrderDetail } from '$lib/bindings/WorkOrderDetail';
import type { FaultRecord } from '$lib/bindings/FaultRecord';
import type { PartUsage } from '$lib/bindings/PartUsage';
import { summary } from '../work-orders/fixtures';

export function detail(overrides: Partial<WorkOrderDetail> = {}): WorkOrderDetail {
  return {
    summary: summary({ id: 'wo', status: 'on_site', kind: 'repair' }),
    customer_address: '上海市浦东新区',
    site_address: '一号楼地下一层',
    contact_name: '王经理',
    contact_phone: '13800000000',
    reported_by: '王经理',
    billing: 'contract',
    instructions: '',
    status_note: null,
    visit_version: 0,
    assignee_id: null,
    asset: null,
    asset_history: [],
    deadlines: [],
    template: null,
    results: [],
    current_results: [],
    faults: [],
    parts: [],
    photos: [],
    sign_off: null,
    notes: [],
    missing: [{ type: 'fault_record' }, { type: 'sign_off' }],
    record_states: [],
    conflicts: [],
    corrective_requests: [],
    ...overrides,
  };
}

export function fault(id: string, extra: Partial<FaultRecord> = {}): FaultRecord {
  return {
    id,
    work_order_id: 'wo',
    symptom: '无图像',
    cause: '电源适配器损坏',
    action: '更换电源适配器',
    result: '图像恢复',
    category: '电源',
    started_at: null,
    ended_at: null,
    loaner_provided_at: null,
    recorded_at: '2026-11-20T03:00:00Z',
    supersedes: null,
    ...extra,
  };
}

export function part(id: string, extra: Partial<PartUsage> = {}): PartUsage {
  return {
    id,
    work_order_id: 'wo',
    part_number: 'PSU-12V-2A',
    name: '12V 电源适配器',
    quantity: 1,
    serial: '',
    billing: { type: 'contract' },
    old_part_returned: true,
    needs_customer_approval: false,
    recorded_at: '2026-11-20T03:10:00Z',
    supersedes: null,
    ...extra,
  };
}
