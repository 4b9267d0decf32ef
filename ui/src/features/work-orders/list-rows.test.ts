import { describe, expect, it } from 'vitest';
import { summary } from './fixtures';
import type { DueInfo } from '$lib/bindings/DueInfo';
import {
  dayView as dayViewBefore,
  endOfLocalDay,
  groupRows,
  inView,
  listViews,
  statusOrder,
  toggled,
  type ListRow,
} from './list-rows';

/** The view of `order` on the local day of `now`. */
function dayView(order: Parameters<typeof dayViewBefore>[0], now: number | Date) {
  return dayViewBefore(order, endOfLocalDay(now));
}

function shape(rows: ListRow[]): string[] {
  return rows.map((row) => (row.type === 'group' ? `[${row.status} ${row.count}]` : row.order.id));
}

describe('groupRows', () => {
  it('groups by status in working order and keeps the backend order inside a group', () => {
    const items = [
      summary({ id: '1', status: 'new' }),
      summary({ id: '2', status: 'on_site' }),
      summary({ id: '3', status: 'cancelled' }),
      summary({ id: '4', status: 'new' }),
      summary({ id: '5', status: 'en_route' }),
      summary({ id: '6', status: 'on_site' }),
      summary({ id: '7', status: 'returned' }),
      summary({ id: '8', status: 'approved' }),
      summary({ id: '9', status: 'completed' }),
      summary({ id: '10', status: 'assigned' }),
    ];
    expect(shape(groupRows(items))).toEqual([
      '[on_site 2]', '2', '6',
      '[en_route 1]', '5',
      '[assigned 1]', '10',
      '[new 2]', '1', '4',
      '[returned 1]', '7',
      '[completed 1]', '9',
      '[approved 1]', '8',
      '[cancelled 1]', '3',
    ]);
  });

  it('gives no header to an empty group and no rows to an empty list', () => {
    expect(groupRows([])).toEqual([]);
    expect(shape(groupRows([summary({ id: '1', status: 'returned' })]))).toEqual(['[returned 1]', '1']);
  });

  it('orders every status once', () => {
    expect(new Set(statusOrder).size).toBe(statusOrder.length);
    expect(statusOrder).toHaveLength(8);
  });

  it('handles ten thousand rows', () => {
    const statuses = [...statusOrder];
    const items = Array.from({ length: 10_000 }, (_, i) =>
      summary({ id: String(i), status: statuses[i % statuses.length] ?? 'new' }),
    );
    const rows = groupRows(items);
    expect(rows).toHaveLength(10_000 + statuses.length);
  });
});

describe('toggled', () => {
  it('adds a missing value and removes a present one', () => {
    expect(toggled(['new'], 'assigned')).toEqual(['new', 'assigned']);
    expect(toggled(['new', 'assigned'], 'new')).toEqual(['assigned']);
  });
});

// Local times, so the day boundary is the device's midnight whatever zone the tests run in.
const at = (day: number, hour: number, minute = 0, ms = 0) => new Date(2026, 10, day, hour, minute, 0, ms);
const iso = (date: Date) => date.toISOString();
const due = (date: Date, kind: DueInfo['kind'] = 'arrive'): DueInfo => ({
  kind,
  due: iso(date),
  state: { state: 'on_track', seconds_left: 3600 },
});
const now = at(20, 10);

describe('endOfLocalDay', () => {
  it('is the next local midnight', () => {
    expect(endOfLocalDay(now)).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(at(20, 0))).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(at(20, 23, 59).getTime() + 59_999)).toBe(at(21, 0).getTime());
    expect(endOfLocalDay(new Date(2026, 11, 31, 12))).toBe(new Date(2027, 0, 1).getTime());
  });
});

describe('dayView', () => {
  it('puts completed, approved and cancelled orders in done, whatever their dates', () => {
    for (const status of ['completed', 'approved', 'cancelled'] as const) {
      expect(dayView(summary({ id: '1', status, scheduled_for: iso(now), next_due: due(now) }), now)).toBe('done');
    }
  });

  it('puts orders under way in today, even with nothing due today', () => {
    for (const status of ['en_route', 'on_site'] as const) {
      expect(dayView(summary({ id: '1', status }), now)).toBe('today');
      expect(dayView(summary({ id: '1', status, next_due: due(at(25, 9)) }), now)).toBe('today');
    }
  });

  it('puts an open order due later today, or overdue, in today', () => {
    for (const status of ['new', 'assigned', 'returned'] as const) {
      expect(dayView(summary({ id: '1', status, next_due: due(at(20, 18)) }), now)).toBe('today');
      expect(dayView(summary({ id: '1', status, next_due: due(at(20, 9), 'respond') }), now)).toBe('today');
      expect(dayView(summary({ id: '1', status, next_due: due(at(12, 9), 'resolve') }), now)).toBe('today');
    }
  });

  it('puts an open order scheduled for today, or for a day already gone, in today', () => {
    expect(dayView(summary({ id: '1', scheduled_for: iso(at(20, 15)), next_due: due(at(24, 9)) }), now)).toBe('today');
    expect(dayView(summary({ id: '1', scheduled_for: iso(at(20, 8)) }), now)).toBe('today');
    expect(dayView(summary({ id: '1', scheduled_for: iso(at(19, 15)) }), now)).toBe('today');
  });

  it('puts other open orders in upcoming', () => {
    expect(dayView(summary({ id: '1', status: 'new' }), now)).toBe('upcoming');
    expect(dayView(summary({ id: '1', status: 'assigned', next_due: due(at(22, 9)) }), now)).toBe('upcoming');
    expect(dayView(summary({ id: '1', status: 'returned', scheduled_for: iso(at(23, 9)) }), now)).toBe('upcoming');
    expect(dayView(summary({ id: '1', scheduled_for: iso(at(21, 9)), next_due: due(at(21, 12)) }), now)).toBe('upcoming');
  });

  it('draws the line at local midnight', () => {
    const lastMoment = new Date(at(21, 0).getTime() - 1);
    const midnight = at(21, 0);
    expect(dayView(summary({ id: '1', next_due: due(lastMoment) }), now)).toBe('today');
    expect(dayView(summary({ id: '1', next_due: due(midnight) }), now)).toBe('upcoming');
    expect(dayView(summary({ id: '1', scheduled_for: iso(lastMoment) }), now)).toBe('today');
    expect(dayView(summary({ id: '1', scheduled_for: iso(midnight) }), now)).toBe('upcoming');
    // The same order at the first and the last moment of today, and just after midnight.
    const dueTomorrow = summary({ id: '1', next_due: due(at(21, 9)) });
    expect(dayView(dueTomorrow, at(20, 0))).toBe('upcoming');
    expect(dayView(dueTomorrow, lastMoment)).toBe('upcoming');
    expect(dayView(dueTomorrow, midnight)).toBe('today');
  });

  it('reads the instants as the backend writes them, fractional seconds included', () => {
    const lastMoment = new Date(at(21, 0).getTime() - 1).toISOString().replace('Z', '000000Z');
    expect(dayView(summary({ id: '1', next_due: { ...due(now), due: lastMoment } }), now)).toBe('today');
  });
});

describe('inView', () => {
  const items = [
    summary({ id: 'overdue', status: 'assigned', next_due: due(at(19, 9)) }),
    summary({ id: 'site', status: 'on_site', next_due: due(at(20, 12)) }),
    summary({ id: 'today', status: 'new', next_due: due(at(20, 16)) }),
    summary({ id: 'later', status: 'assigned', next_due: due(at(22, 9)) }),
    summary({ id: 'scheduled', status: 'assigned', scheduled_for: iso(at(20, 14)), next_due: due(at(23, 9)) }),
    summary({ id: 'undated', status: 'new' }),
    summary({ id: 'closed', status: 'completed' }),
    summary({ id: 'cancelled', status: 'cancelled' }),
  ];
  const ids = (view: (typeof listViews)[number]) => inView(items, view, endOfLocalDay(now)).map((order) => order.id);

  it('keeps every order, in the same array, for all', () => {
    expect(inView(items, 'all', endOfLocalDay(now))).toBe(items);
  });

  it('splits the open orders into today and upcoming, keeping the given (nearest deadline) order', () => {
    expect(ids('today')).toEqual(['overdue', 'site', 'today', 'scheduled']);
    expect(ids('upcoming')).toEqual(['later', 'undated']);
    expect(ids('done')).toEqual(['closed', 'cancelled']);
  });

  it('puts each order in exactly one of today, upcoming and done', () => {
    const views = listViews.filter((view) => view !== 'all');
    expect(views.flatMap((view) => ids(view)).sort()).toEqual(items.map((order) => order.id).sort());
  });

  it('groups the orders of a view by status as the whole list does', () => {
    expect(shape(groupRows(inView(items, 'today', endOfLocalDay(now))))).toEqual([
      '[on_site 1]', 'site',
      '[assigned 2]', 'overdue', 'scheduled',
      '[new 1]', 'today',
    ]);
  });
});
