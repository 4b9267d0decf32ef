import { describe, expect, it } from 'vitest';
import { summary } from './fixtures';
import { groupRows, statusOrder, toggled, type ListRow } from './list-rows';

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
