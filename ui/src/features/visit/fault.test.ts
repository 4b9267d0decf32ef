import { describe, expect, it } from 'vitest';
import { localInputToIso } from './datetime';
import { emptyFaultForm, faultDraft, faultFormFrom, faultProblems } from './fault';
import { fault } from './fixtures';

describe('the fault form', () => {
  it('needs a symptom and the action taken', () => {
    expect(faultProblems(emptyFaultForm())).toEqual(['symptom_required', 'action_required']);
    expect(faultProblems({ ...emptyFaultForm(), symptom: ' x ', action: 'y' })).toEqual([]);
  });

  it('refuses an end before the start', () => {
    const form = { ...emptyFaultForm(), symptom: 's', action: 'a', startedAt: '2026-11-20T10:00', endedAt: '2026-11-20T09:59' };
    expect(faultProblems(form)).toEqual(['end_before_start']);
    expect(faultProblems({ ...form, endedAt: '2026-11-20T10:00' })).toEqual([]);
  });

  it('sends trimmed text, UTC instants and null for times not given', () => {
    const draft = faultDraft({ ...emptyFaultForm(), symptom: '  no image ', action: 'replaced PSU', startedAt: '2026-11-20T10:00' });
    expect(draft).toEqual({
      symptom: 'no image',
      cause: '',
      action: 'replaced PSU',
      result: '',
      category: '',
      started_at: localInputToIso('2026-11-20T10:00'),
      ended_at: null,
      loaner_provided_at: null,
      supersedes: null,
    });
  });

  it('corrects a record by superseding it, keeping its values', () => {
    const record = fault('f1', { started_at: localInputToIso('2026-11-20T09:30') });
    const form = faultFormFrom(record);
    expect(form.supersedes).toBe('f1');
    expect(form.startedAt).toBe('2026-11-20T09:30');
    const draft = faultDraft(form);
    expect(draft).toMatchObject({ symptom: record.symptom, cause: record.cause, started_at: record.started_at, supersedes: 'f1' });
  });
});
