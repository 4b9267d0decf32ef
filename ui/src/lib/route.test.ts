import { describe, expect, it } from 'vitest';
import { opensAtTop, parseRoute, routeKey, visitHash, workOrderHash } from './route';

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

describe('scrolling to the top on a new screen', () => {
  it('keys a route by its screen and work order', () => {
    expect(routeKey({ name: 'list' })).toBe('list');
    expect(routeKey({ name: 'work-order', id: 'a' })).toBe('work-order/a');
    expect(routeKey({ name: 'visit', id: 'a' })).toBe('visit/a');
  });

  it('starts another work order or screen at the top', () => {
    expect(opensAtTop('work-order/a', { name: 'work-order', id: 'b' })).toBe(true);
    expect(opensAtTop('visit/a', { name: 'visit', id: 'b' })).toBe(true);
    expect(opensAtTop('work-order/a', { name: 'visit', id: 'a' })).toBe(true);
    expect(opensAtTop('sync', { name: 'work-order', id: 'a' })).toBe(true);
  });

  it('leaves the list, the same screen and the first screen alone', () => {
    expect(opensAtTop('work-order/a', { name: 'list' })).toBe(false);
    expect(opensAtTop('work-order/a', { name: 'work-order', id: 'a' })).toBe(false);
    expect(opensAtTop(null, { name: 'sync' })).toBe(false);
  });
});
