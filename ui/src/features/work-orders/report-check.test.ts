import { describe, expect, it } from 'vitest';
import type { ReportVersion } from '$lib/bindings/ReportVersion';
import { describeServerCheck, newestFirst } from './report-check';

describe("the server's word on a report", () => {
  it('is good only when the ledger holds it intact', () => {
    expect(describeServerCheck({ verdict: 'intact', reasons: [], ledger_seq: 7 })).toEqual({
      verdict: 'intact',
      seq: 7,
      tone: 'good',
    });
    expect(describeServerCheck({ verdict: 'revoked_device', reasons: ['x'], ledger_seq: 2 }).tone).toBe('bad');
    expect(describeServerCheck({ verdict: 'tampered', reasons: ['x'], ledger_seq: 2 }).tone).toBe('bad');
  });

  it('waits when the server has not received it or cannot be reached', () => {
    expect(describeServerCheck({ verdict: 'not_in_ledger', reasons: [], ledger_seq: null }).tone).toBe('waiting');
    expect(describeServerCheck({ verdict: 'unreachable', reasons: ['offline'], ledger_seq: null }).tone).toBe(
      'waiting',
    );
  });

  it('reads a verdict it does not know as a mismatch, never as intact', () => {
    expect(describeServerCheck({ verdict: 'maybe', reasons: [], ledger_seq: 1 })).toMatchObject({
      verdict: 'tampered',
      tone: 'bad',
    });
  });
});

describe('the versions of a report', () => {
  const version = (visit_version: number, signed_at: string): ReportVersion => ({
    hash: `${visit_version}${signed_at}`,
    code: 'ABCD-1234',
    visit_version,
    signed_at,
    technician: '张伟 (FB-T001)',
    device_id: 'd',
    amends: null,
    intact_here: true,
    reasons: [],
    ledger: 'confirmed',
    server: null,
  });

  it('are listed newest first', () => {
    const listed = newestFirst([
      version(0, '2026-11-30T08:00:00Z'),
      version(1, '2026-11-30T10:00:00Z'),
      version(1, '2026-11-30T09:00:00Z'),
    ]);
    expect(listed.map((v) => [v.visit_version, v.signed_at])).toEqual([
      [1, '2026-11-30T10:00:00Z'],
      [1, '2026-11-30T09:00:00Z'],
      [0, '2026-11-30T08:00:00Z'],
    ]);
  });
});
