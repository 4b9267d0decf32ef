import { describe, expect, it } from 'vitest';
import { endOfLocalDay, pagesFor, slotRows, statusOrder, toggled, type ListRow } from './list-rows';

function shape(rows: ListRow[]): string[] {
  return rows.map((row) => (row.type === 'group' ? `[${row.status} ${row.count}]` : `${row.status}#${row.index}`));
}

describe('slotRows', () => {
  it('puts each group header before a slot per work order, numbering the slots through the list', () => {
    const rows = slotRows([
      { status: 'on_site', count: 2 },
      { status: 'assigned', count: 1 },
      { status: 'completed', count: 3 },
    ]);
    expect(shape(rows)).toEqual([
      '[on_site 2]', 'on_site#0', 'on_site#1',
      '[assigned 1]', 'assigned#2',
      '[completed 3]', 'completed#3', 'completed#4', 'completed#5',
    ]);
  });

  it('keeps the backend order of the groups and gives no header to an empty group', () => {
    expect(slotRows([])).toEqual([]);
    const rows = slotRows([
      { status: 'returned', count: 1 },
      { status: 'new', count: 0 },
      { status: 'on_site', count: 1 },
    ]);
    expect(shape(rows)).toEqual(['[returned 1]', 'returned#0', '[on_site 1]', 'on_site#1']);
  });

  it('orders every status once for the filter chips', () => {
    expect(new Set(statusOrder).size).toBe(statusOrder.length);
    expect(statusOrder).toHaveLength(8);
  });

  it('handles ten thousand work orders', () => {
    const groups = statusOrder.map((status) => ({ status, count: 1250 }));
    const rows = slotRows(groups);
    expect(rows).toHaveLength(10_000 + statusOrder.length);
    expect(rows.at(-1)).toEqual({ type: 'order', index: 9_999, status: 'cancelled' });
  });
});

describe('pagesFor', () => {
  it('names the pages that hold a range of work orders', () => {
    expect(pagesFor(0, 0, 100)).toEqual([0]);
    expect(pagesFor(0, 99, 100)).toEqual([0]);
    expect(pagesFor(95, 105, 100)).toEqual([0, 1]);
    expect(pagesFor(100, 100, 100)).toEqual([1]);
    expect(pagesFor(250, 470, 100)).toEqual([2, 3, 4]);
  });

  it('names none for an empty range', () => {
    expect(pagesFor(5, 4, 100)).toEqual([]);
    expect(pagesFor(0, -1, 100)).toEqual([]);
  });
});

describe('toggled', () => {
  it('adds a missing value and removes a present one', () => {
    expect(toggled(['new'], 'assigned')).toEqual(['new', 'assigned']);
    expect(toggled(['new', 'assigned'], 'new')).toEqual(['assigned']);
  });
});

// Local times, so the day boundary is the device's midnight whatever zone the tests run in.
const at = (day: number, hour: number, minute = 0) => new Date(2026, 10, day, hour, minute);

describe('endOfLocalDay', () => {
  it('is the next local midnight', () => {
    expect(endOfLocalDay(at(20, 10))).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(at(20, 0))).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(at(20, 23, 59).getTime() + 59_999)).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(new Date(2026, 11, 31, 12))).toBe(new Date(2027, 0, 1).getTime());
  });
});
