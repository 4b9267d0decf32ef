import { describe, expect, it } from 'vitest';
import { parseRoute, visitHash, workOrderHash } from './route';

describe('hash routes', () => {
  it('reads the list and work-order routes', () => {
    expect(parseRoute('')).toEqual({ name: 'list' });
    expect(parseRoute('#/')).toEqual({ name: 'list' });
    expect(parseRoute('#/wo/0193a1b2-aaaa-7bbb-8ccc-0123456789ab')).toEqual({
      name: 'work-order',
      id: '0193a1b2-aaaa-7bbb-8ccc-0123456789ab',
    });
    expect(parseRoute('#/wo/abc/')).toEqual({ name: 'work-order', id: 'abc' });
  });

  it('reads the visit, sync and enroll routes', () => {
    expect(parseRoute('#/wo/abc/visit')).toEqual({ name: 'visit', id: 'abc' });
    expect(parseRoute(visitHash('a b/c'))).toEqual({ name: 'visit', id: 'a b/c' });
    expect(parseRoute('#/sync')).toEqual({ name: 'sync' });
    expect(parseRoute('#/enroll')).toEqual({ name: 'enroll' });
  });

  it('falls back to the list for anything else', () => {
    expect(parseRoute('#/elsewhere')).toEqual({ name: 'list' });
    expect(parseRoute('#/wo/')).toEqual({ name: 'list' });
    expect(parseRoute('#/wo/%E0%A4%A')).toEqual({ name: 'list' });
  });

  it('round-trips ids through the hash', () => {
    expect(parseRoute(workOrderHash('a b/c'))).toEqual({ name: 'work-order', id: 'a b/c' });
  });
});
