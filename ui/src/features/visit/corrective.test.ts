import { describe, expect, it } from 'vitest';
import type { CorrectiveRequest } from '$lib/bindings/CorrectiveRequest';
import {
  correctiveForm,
  correctiveLevels,
  correctiveProblems,
  correctiveSymptom,
  defaultCorrectiveLevel,
  requestsOfItem,
  symptomMaxChars,
} from './corrective';

const label = { zh: '机柜风扇运转', en: 'Cabinet fan running' };

function request(id: string, itemKey: string | null): CorrectiveRequest {
  return {
    id,
    work_order_id: 'wo',
    item_key: itemKey,
    fault_level: 'minor',
    symptom: 'x',
    requested_by: null,
    requested_at: '2026-11-20T03:00:00Z',
  };
}

describe('the corrective work order form', () => {
  it('starts from the item label in the current language', () => {
    expect(correctiveSymptom('en', label, null)).toBe('Cabinet fan running');
    expect(correctiveSymptom('zh-CN', label, '')).toBe('机柜风扇运转');
    expect(correctiveSymptom('en', label, '   ')).toBe('Cabinet fan running');
  });

  it('adds the item note when there is one', () => {
    expect(correctiveSymptom('en', label, ' bearing noisy ')).toBe('Cabinet fan running: bearing noisy');
    expect(correctiveSymptom('zh-CN', label, '轴承异响')).toBe('机柜风扇运转：轴承异响');
  });

  it('starts at the minor level and offers the three levels, most urgent first', () => {
    expect(defaultCorrectiveLevel).toBe('minor');
    expect(correctiveForm('en', label, 'noisy')).toEqual({ level: 'minor', symptom: 'Cabinet fan running: noisy' });
    expect(correctiveLevels).toEqual(['critical', 'major', 'minor']);
  });

  it('needs a symptom, within the backend limit', () => {
    expect(correctiveProblems({ level: 'minor', symptom: 'fan' })).toEqual([]);
    expect(correctiveProblems({ level: 'minor', symptom: ' \n ' })).toEqual(['symptom_required']);
    expect(correctiveProblems({ level: 'major', symptom: '长'.repeat(symptomMaxChars) })).toEqual([]);
    expect(correctiveProblems({ level: 'major', symptom: '长'.repeat(symptomMaxChars + 1) })).toEqual([
      'symptom_too_long',
    ]);
  });

  it('picks the requests of one item', () => {
    const all = [request('a', 'fan'), request('b', null), request('c', 'psu'), request('d', 'fan')];
    expect(requestsOfItem(all, 'fan').map((r) => r.id)).toEqual(['a', 'd']);
    expect(requestsOfItem(all, 'door')).toEqual([]);
  });
});
