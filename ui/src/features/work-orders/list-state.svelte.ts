// The work-order list's state. It lives in a module rather than in the list component, so the
// search, filters, view, results and scroll position survive a visit to the detail screen.

import { BackendError, listWorkOrders, toBackendError } from '$lib/backend';
import type { WorkOrderKind } from '$lib/bindings/WorkOrderKind';
import type { WorkOrderList } from '$lib/bindings/WorkOrderList';
import type { WorkOrderQuery } from '$lib/bindings/WorkOrderQuery';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import type { WorkOrderSummary } from '$lib/bindings/WorkOrderSummary';
import { endOfLocalDay, groupRows, inView, toggled, type ListRow, type ListView } from './list-rows';

/** The most rows the backend returns for one query; the list is virtualized, so all are shown. */
export const LIST_LIMIT = 20_000;

/** Typing is debounced by this much before the backend is asked. */
export const SEARCH_DEBOUNCE_MS = 150;

class WorkOrderListState {
  search = $state('');
  statuses = $state<WorkOrderStatus[]>([]);
  kinds = $state<WorkOrderKind[]>([]);
  /** Raw, not deeply reactive: ten thousand rows are replaced whole, never edited in place. */
  result = $state.raw<WorkOrderList | null>(null);
  /** All, today, upcoming or done: picked on the device over the rows loaded (see `inView`). */
  view = $state<ListView>('all');
  /**
   * The end of the local day the views are computed for. It changes only at midnight, so the
   * rows are not re-derived with every tick of the clock.
   */
  endOfToday = $state(endOfLocalDay(Date.now()));
  /** The loaded work orders in the current view, in the backend's order (nearest deadline first). */
  viewItems = $derived.by<readonly WorkOrderSummary[]>(() => {
    const items = this.result?.items ?? [];
    // `all` reads no clock: a day turning over leaves that view alone.
    return this.view === 'all' ? items : inView(items, this.view, this.endOfToday);
  });
  rows = $derived<ListRow[]>(this.result ? groupRows(this.viewItems) : []);
  loading = $state(false);
  error = $state.raw<BackendError | null>(null);
  scrollTop = $state(0);
  /** The row opened last, focused again on the way back from its detail. */
  lastOpenedId = $state<string | null>(null);

  #requestSeq = 0;
  #debounceTimer: ReturnType<typeof setTimeout> | undefined;

  query(): WorkOrderQuery {
    const search = this.search.trim();
    return {
      search: search === '' ? null : search,
      statuses: [...this.statuses],
      kinds: [...this.kinds],
      limit: LIST_LIMIT,
    };
  }

  /**
   * Asks the backend again with the current query. The rows on screen stay until the answer
   * arrives; an answer to an older request than the latest is dropped.
   */
  async refresh(): Promise<void> {
    const seq = ++this.#requestSeq;
    this.loading = true;
    try {
      const result = await listWorkOrders(this.query());
      if (seq !== this.#requestSeq) return;
      this.setNow(Date.now());
      this.result = result;
      this.error = null;
    } catch (thrown) {
      if (seq !== this.#requestSeq) return;
      this.error = toBackendError(thrown);
    } finally {
      if (seq === this.#requestSeq) this.loading = false;
    }
  }

  setView(view: ListView): void {
    this.view = view;
    this.setNow(Date.now());
  }

  /** Moves the views on to the day of `nowMs` (a no-op within the same day). */
  setNow(nowMs: number): void {
    this.endOfToday = endOfLocalDay(nowMs);
  }

  setSearch(text: string): void {
    this.search = text;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => void this.refresh(), SEARCH_DEBOUNCE_MS);
  }

  toggleStatus(status: WorkOrderStatus): void {
    this.statuses = toggled(this.statuses, status);
    void this.refresh();
  }

  toggleKind(kind: WorkOrderKind): void {
    this.kinds = toggled(this.kinds, kind);
    void this.refresh();
  }

  clearStatuses(): void {
    this.statuses = [];
    void this.refresh();
  }

  clearKinds(): void {
    this.kinds = [];
    void this.refresh();
  }
}

export const workOrderList = new WorkOrderListState();
