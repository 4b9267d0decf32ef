import { describe, expect, it } from 'vitest';
import { describeChange, isChangeEntity, statusActionOf } from './changes';

describe('kinds of change', () => {
  it('names every entity a device records, in both languages', () => {
    expect(describeChange('en', 'inspection_result', {})).toBe('Checklist answer');
    expect(describeChange('en', 'fault_record', {})).toBe('Fault record');
    expect(describeChange('en', 'part_usage', {})).toBe('Part used');
    expect(describeChange('en', 'photo', {})).toBe('Photo');
    expect(describeChange('en', 'note', {})).toBe('Note');
    expect(describeChange('en', 'sign_off', {})).toBe('Customer sign-off');
    expect(describeChange('zh-CN', 'sign_off', {})).toBe('客户签字');
    expect(describeChange('en', 'corrective_request', {})).toBe('Corrective work order request');
    expect(describeChange('zh-CN', 'corrective_request', {})).toBe('整改工单申请');
  });

  it('names the action of a status step', () => {
    const step = { action: 'arrive', at: '2026-11-20T02:00:00Z' };
    expect(describeChange('en', 'work_order', step)).toBe('Status step: Arrive');
    expect(describeChange('zh-CN', 'work_order', step)).toBe('状态变更：到场');
    expect(describeChange('en', 'work_order', { action: 'fly' })).toBe('Status step');
    expect(describeChange('en', 'work_order', null)).toBe('Status step');
  });

  it('still shows an entity it does not know', () => {
    expect(isChangeEntity('toString')).toBe(false);
    expect(describeChange('en', 'asset_photo', {})).toBe('Change (asset_photo)');
  });

  it('reads the action only from an object', () => {
    expect(statusActionOf({ action: 'set_off' })).toBe('set_off');
    expect(statusActionOf({ action: 'constructor' })).toBeNull();
    expect(statusActionOf('set_off')).toBeNull();
  });
});
