import { describe, expect, it } from 'vitest';
import type { ChecklistTemplate } from '$lib/bindings/ChecklistTemplate';
import { checklistSections, currentRecords } from './checklist';
import { item, result } from './fixtures';

const template: ChecklistTemplate = {
  id: 'template',
  code: 'patrol.general',
  version: 1,
  name: { zh: '通用巡检', en: 'General patrol' },
  items: [
    item('test.cabinet_temp', 'test', { kind: { type: 'reading', unit: '°C', min: 0, max: 45 } }),
    item('look.four_no_dust', 'look', { standard: 'four_no' }),
    item('listen.fan', 'listen'),
    item('look.cabinet_seal', 'look', { standard: 'six_no_leak' }),
  ],
};

describe('checklistSections', () => {
  it('groups items by 听摸视嗅验, keeping template order within a method', () => {
    const sections = checklistSections(template, []);
    expect(sections.map((s) => s.method)).toEqual(['listen', 'look', 'test']);
    expect(sections[1]?.rows.map((r) => r.item.key)).toEqual(['look.four_no_dust', 'look.cabinet_seal']);
  });

  it('attaches the answer in force to its item and counts the answered', () => {
    const hot = result('r1', 'test.cabinet_temp', { answer: { type: 'reading', value: 58.5 }, assessment: 'abnormal' });
    const sections = checklistSections(template, [hot]);
    const test = sections.find((s) => s.method === 'test');
    expect(test?.rows[0]?.result).toBe(hot);
    expect(test?.answered).toBe(1);
    expect(sections.find((s) => s.method === 'look')?.answered).toBe(0);
  });
});

describe('currentRecords', () => {
  it('drops records that a later record supersedes', () => {
    const first = result('a', 'listen.fan');
    const fix = result('b', 'listen.fan', { supersedes: 'a' });
    const other = result('c', 'look.cabinet_seal');
    expect(currentRecords([first, fix, other])).toEqual([fix, other]);
  });
});
