import { describe, expect, it } from 'vitest';
import { parseRoute, workOrderHash } from './route';

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

  it('falls back to the list for anything else', () => {
    expect(parseRoute('#/elsewhere')).toEqual({ name: 'list' });
    expect(parseRoute('#/wo/')).toEqual({ name: 'list' });
    expect(parseRoute('#/wo/%E0%A4%A')).toEqual({ name: 'list' });
  });

  it('round-trips ids through the hash', () => {
    expect(parseRoute(workOrderHash('a b/c'))).toEqual({ name: 'work-order', id: 'a b/c' });
  });
});
