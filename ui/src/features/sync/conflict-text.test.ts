import { describe, expect, it } from 'vitest';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import { itemLabel } from '../work-orders/checklist-text';
import { conflictHeading, describeConflict, SUMMARY_LIMIT, workOrdersNeedingTemplate } from './conflict-text';

const shanghai = { timeZone: 'Asia/Shanghai' };

const template: ChecklistTemplate = {
  id: 't1',
  code: 'patrol.general',
  version: 1,
  name: { zh: '通用巡检', en: 'General patrol' },
  items: [
    {
      key: 'listen.fan',
      method: 'listen',
      standard: null,
      label: { zh: '风扇噪音', en: 'Fan noise' },
      kind: { type: 'check' },
      required: true,
      photo_required: false,
    },
    {
      key: 'test.voltage',
      method: 'test',
      standard: null,
      label: { zh: '输入电压', en: 'Input voltage' },
      kind: { type: 'reading', unit: 'V', min: 200, max: 240 },
      required: true,
      photo_required: false,
    },
  ],
};

const answer = {
  id: 'r-1',
  work_order_id: 'wo-1',
  item_key: 'listen.fan',
  answer: { type: 'check', value: 'normal' },
  assessment: 'normal',
  note: '',
  recorded_at: '2026-11-30T03:07:00Z',
  hlc: '01a22c23a8b5-00000000-b4aa309955acf14e',
  supersedes: null,
};

function conflict(entity: string, local_value: unknown, code = 'forbidden') {
  return { entity, code, local_value };
}

/** Every fact's label and value on one line, to look for leaked internals. */
function shown(description: ReturnType<typeof describeConflict>): string {
  return [description.summary, description.heading, ...description.facts.map((f) => `${f.label} ${f.value}`)].join('\n');
}

describe('a conflict in words', () => {
  it('says which checklist item was answered and how, in both languages', () => {
    const en = describeConflict('en', conflict('inspection_result', answer), template, shanghai);
    expect(en.summary).toBe("Answer to 'Fan noise': Normal");
    expect(en.heading).toBe('No longer your work order');
    expect(en.facts).toEqual([
      { label: 'Checklist item', value: 'Fan noise' },
      { label: 'Answer', value: 'Normal' },
      { label: 'Assessment', value: 'Normal' },
    ]);

    const zh = describeConflict('zh-CN', conflict('inspection_result', answer), template, shanghai);
    expect(zh.summary).toBe('检查项「风扇噪音」的回答：正常');
    expect(zh.heading).toBe('该工单已不属于您');
    expect(zh.facts.map((f) => f.label)).toEqual(['检查项', '回答', '判定']);
  });

  it('hides ids, stamps and raw JSON', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      const text = shown(describeConflict(locale, conflict('inspection_result', answer), template));
      expect(text).not.toMatch(/hlc|work_order_id|item_key|r-1|wo-1|01a22c23|\{"type"/);
    }
  });

  it('falls back to the item key without the template', () => {
    expect(describeConflict('en', conflict('inspection_result', answer)).summary).toBe("Answer to 'listen.fan': Normal");
    expect(itemLabel(template, 'unknown.item', 'zh-CN')).toBe('unknown.item');
  });

  it('shows a reading with the unit the template gives', () => {
    const reading = { ...answer, item_key: 'test.voltage', answer: { type: 'reading', value: 251.5 }, assessment: 'abnormal', note: 'too high' };
    const en = describeConflict('en', conflict('inspection_result', reading), template);
    expect(en.summary).toBe("Answer to 'Input voltage': 251.5 V");
    expect(en.facts).toContainEqual({ label: 'Assessment', value: 'Abnormal' });
    expect(en.facts).toContainEqual({ label: 'Note', value: 'too high' });
    expect(describeConflict('zh-CN', conflict('inspection_result', reading), template).summary).toBe('检查项「输入电压」的回答：251.5 V');
  });

  it("gives a note's text", () => {
    const note = { id: 'n-1', work_order_id: 'wo-1', author: null, text: 'Customer asked for a quote', written_at: '2026-11-30T03:00:00Z' };
    const en = describeConflict('en', conflict('note', note), null, shanghai);
    expect(en.summary).toBe('Note: Customer asked for a quote');
    expect(en.facts[0]).toEqual({ label: 'Text', value: 'Customer asked for a quote' });
    expect(describeConflict('zh-CN', conflict('note', { ...note, text: '客户要求报价' })).summary).toBe('备注：客户要求报价');
  });

  it('cuts a long text in the summary only', () => {
    const long = 'x'.repeat(200);
    const description = describeConflict('en', conflict('note', { text: long }));
    expect(description.summary.length).toBe('Note: '.length + SUMMARY_LIMIT);
    expect(description.facts[0]?.value).toBe(long);
  });

  it("gives a part's number, name and quantity", () => {
    const part = {
      id: 'p-1',
      work_order_id: 'wo-1',
      part_number: 'FAN-120',
      name: 'Cooling fan',
      quantity: 2,
      serial: '',
      billing: { type: 'paid', unit_price_cents: 8800 },
      old_part_returned: true,
      needs_customer_approval: false,
      recorded_at: '2026-11-30T03:00:00Z',
      supersedes: null,
    };
    const en = describeConflict('en', conflict('part_usage', part, 'visit_locked'));
    expect(en.summary).toBe('Part FAN-120 Cooling fan × 2');
    expect(en.heading).toBe('The visit no longer takes changes');
    expect(en.facts.map((f) => f.label)).toEqual(['Part number', 'Name', 'Quantity', 'Billing', 'Old part returned']);
    expect(en.facts.find((f) => f.label === 'Old part returned')?.value).toBe('Yes');
    const zh = describeConflict('zh-CN', conflict('part_usage', { ...part, name: '散热风扇' }, 'visit_locked'));
    expect(zh.summary).toBe('备件 FAN-120 散热风扇 × 2');
    expect(zh.heading).toBe('该工单已不能再修改服务记录');
    expect(zh.facts.map((f) => f.label)).toContain('计费方式');
  });

  it('names a status step in words', () => {
    const step = { action: 'arrive', at: '2026-11-30T03:00:00Z' };
    const en = describeConflict('en', conflict('work_order', step, 'rule_violation'), null, shanghai);
    expect(en.summary).toBe('Status step: Arrive');
    expect(en.heading).toBe('Not allowed at this stage of the work order');
    expect(en.facts).toEqual([{ label: 'Status step', value: 'Arrive' }]);
    const zh = describeConflict('zh-CN', conflict('work_order', step, 'rule_violation'), null, shanghai);
    expect(zh.facts[0]?.label).toBe('状态操作');
    expect(zh.heading).toBe('工单当前状态下不允许此操作');
  });

  it("gives a corrective request's symptom and level", () => {
    const request = {
      id: 'wo-2',
      work_order_id: 'wo-1',
      item_key: 'listen.fan',
      fault_level: 'major',
      symptom: 'Fan bearing worn',
      requested_by: null,
      requested_at: '2026-11-30T03:00:00Z',
    };
    const en = describeConflict('en', conflict('corrective_request', request, 'invalid_input'), template);
    expect(en.summary).toBe('Corrective work order request: Fan bearing worn');
    expect(en.heading).toBe('The server could not accept these values');
    expect(en.facts).toContainEqual({ label: 'Fault level', value: 'Level 2 · major fault' });
    expect(en.facts).toContainEqual({ label: 'From checklist item', value: 'Fan noise' });
    const zh = describeConflict('zh-CN', conflict('corrective_request', { ...request, symptom: '风扇轴承磨损' }, 'invalid_input'), template);
    expect(zh.summary).toBe('整改工单申请：风扇轴承磨损');
    expect(zh.facts).toContainEqual({ label: '来自检查项', value: '风扇噪音' });
    expect(zh.facts.find((f) => f.label === '故障等级')?.value).toContain('主要故障');
  });

  it('describes fault records, photos and sign-offs', () => {
    const fault = { symptom: 'No picture', cause: 'PSU', action: 'Replaced PSU', result: 'OK', category: '', started_at: null };
    expect(describeConflict('en', conflict('fault_record', fault)).summary).toBe('Fault record: No picture');
    expect(describeConflict('zh-CN', conflict('fault_record', fault)).facts.map((f) => f.label)).toEqual([
      '故障现象',
      '故障原因',
      '处理措施',
      '处理结果',
    ]);
    const photo = { blob: 'b-1', work_order_id: 'wo-1', item_key: 'listen.fan', caption: 'Fan', taken_at: '2026-11-30T03:00:00Z' };
    expect(describeConflict('en', conflict('photo', photo), template).summary).toBe("Photo for 'Fan noise'");
    expect(describeConflict('zh-CN', conflict('photo', photo), template).summary).toBe('检查项「风扇噪音」的照片');
    expect(describeConflict('en', conflict('photo', { ...photo, item_key: null })).summary).toBe('Photo');
    expect(describeConflict('en', conflict('photo', photo), template, shanghai).facts).toContainEqual({
      label: 'Taken',
      value: '30 Nov 2026, 11:00',
    });
    const signOff = { signer_name: 'Li Na', opinion: 'Good', satisfaction: 5, signature: 'b-2', signed_at: '2026-11-30T03:00:00Z' };
    expect(describeConflict('en', conflict('sign_off', signOff)).summary).toBe('Customer sign-off by Li Na');
    expect(describeConflict('en', conflict('sign_off', signOff)).facts).toContainEqual({ label: 'Satisfaction', value: '5 of 5' });
  });

  it('gives every refusal code a heading, and an unknown one a general one', () => {
    expect(conflictHeading('en', 'not_found')).toBe('The server does not have this work order');
    expect(conflictHeading('zh-CN', 'not_found')).toBe('服务器上没有该工单');
    expect(conflictHeading('en', 'something_new')).toBe('Refused by the server');
    expect(conflictHeading('zh-CN', 'something_new')).toBe('服务器拒绝了此更改');
  });

  it('survives an unknown entity or a value that is not an object', () => {
    expect(describeConflict('en', conflict('gadget', 'x'))).toEqual({
      summary: 'Change (gadget)',
      heading: 'No longer your work order',
      facts: [],
    });
    expect(describeConflict('zh-CN', conflict('inspection_result', null)).facts).toEqual([
      { label: '回答', value: '未填写' },
    ]);
  });

  it('lists the work orders whose conflicts name checklist items', () => {
    expect(
      workOrdersNeedingTemplate([
        { work_order_id: 'a', local_value: { item_key: 'k' } },
        { work_order_id: 'a', local_value: { item_key: 'j' } },
        { work_order_id: 'b', local_value: { text: 'note' } },
        { work_order_id: 'c', local_value: { item_key: null } },
      ]),
    ).toEqual(['a']);
  });
});
