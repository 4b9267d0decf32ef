// The work-order list's state. It lives in a module rather than in the list component, so the
// search, filters, view, loaded pages and scroll position survive a visit to the detail screen.
//
// The list is read a page at a time: an answer carries one page of rows plus how many match in
// each status group, so the virtualized list knows its full height and its group headers from
// the first answer and reads further pages as they scroll into view. Ten thousand work orders
// cost one small answer to show, not one of several megabytes.

import { BackendError, listWorkOrders, toBackendError } from '$lib/backend';
import type { StatusCount } from '$lib/bindings/StatusCount';
import type { WorkOrderKind } from '$lib/bindings/WorkOrderKind';
import type { WorkOrderList } from '$lib/bindings/WorkOrderList';
import type { WorkOrderQuery } from '$lib/bindings/WorkOrderQuery';
import type { WorkOrderStatus } from '$lib/bindings/WorkOrderStatus';
import type { WorkOrderSummary } from '$lib/bindings/WorkOrderSummary';
import { endOfLocalDay, pagesFor, slotRows, toggled, type ListRow, type ListView } from './list-rows';

/** Rows per backend answer: about ten screens of a tablet in portrait. */
export const PAGE_SIZE = 100;

/** An answer to the current query: its groups, and the pages read so far. */
interface Loaded {
  groups: readonly StatusCount[];
  total: number;
  /** The instant the deadline states were computed at. */
  now: string;
  pages: ReadonlyMap<number, readonly WorkOrderSummary[]>;
}

class WorkOrderListState {
  search = $state('');
  statuses = $state<WorkOrderStatus[]>([]);
  kinds = $state<WorkOrderKind[]>([]);
  /** All, today, upcoming or done: the backend filters by the end of the local day. */
  view = $state<ListView>('all');
  /**
   * The end of the local day the views are computed for. It changes only at midnight, so the
   * list is asked again only then, not with every tick of the clock.
   */
  endOfToday = $state(endOfLocalDay(Date.now()));
  /** Raw: replaced whole with each answer, never edited in place. */
  loaded = $state.raw<Loaded | null>(null);
  /** Group headers and a slot per matching work order, in list order. */
  rows = $derived<ListRow[]>(this.loaded ? slotRows(this.loaded.groups) : []);
  total = $derived(this.loaded?.total ?? 0);
  loading = $state(false);
  error = $state.raw<BackendError | null>(null);
  scrollTop = $state(0);
  /** The row opened last, focused again on the way back from its detail. */
  lastOpenedId = $state<string | null>(null);

  /** Counts queries: an answer to one older than the latest is dropped. */
  #generation = 0;
  /** Pages asked for under the current generation and not answered yet. */
  #asked = new Set<number>();
  /** The work orders in view (first and last index), so a new query reads those pages first. */
  #visible = { first: 0, last: PAGE_SIZE - 1 };
  /** The read under way, if any. */
  #reading: Promise<void> | null = null;

  /** The `index`-th work order of the list, once its page has been read. */
  orderAt(index: number): WorkOrderSummary | undefined {
    return this.loaded?.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Where the work order `id` is among the loaded rows, or -1. */
  rowIndexOf(id: string): number {
    return this.rows.findIndex((row) => row.type === 'order' && this.orderAt(row.index)?.id === id);
  }

  query(page: number): WorkOrderQuery {
    const search = this.search.trim();
    return {
      search: search === '' ? null : search,
      statuses: [...this.statuses],
      kinds: [...this.kinds],
      view: this.view === 'all' ? null : this.view,
      day_ends_at: new Date(this.endOfToday).toISOString(),
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
    };
  }

  /**
   * Asks the backend again with the current query, for the pages in view. The rows on screen
   * stay until every answer arrives, then all change at once; answers to an older query than
   * the latest are dropped. Typing is not debounced: each answer is one page, a few
   * milliseconds of work, and only the latest is shown.
   */
  refresh(): Promise<void> {
    const reading = this.#read();
    this.#reading = reading;
    void reading.finally(() => {
      if (this.#reading === reading) this.#reading = null;
    });
    return reading;
  }

  /**
   * The list is shown: reads it afresh, unless a read is already under way. At launch the
   * first read starts before the screens are built (see main.ts), and the list screen joins it.
   */
  open(): Promise<void> {
    return this.#reading ?? this.refresh();
  }

  async #read(): Promise<void> {
    const generation = ++this.#generation;
    this.#asked = new Set();
    this.loading = true;
    const pages = pagesFor(this.#visible.first, this.#visible.last, PAGE_SIZE);
    const first = this.loaded === null && generation === 1;
    if (first) performance.mark('fieldbook:list-asked');
    try {
      const answers = await Promise.all(pages.map((page) => listWorkOrders(this.query(page))));
      if (first) performance.mark('fieldbook:list-answered');
      if (generation !== this.#generation) return;
      this.setNow(Date.now());
      this.loaded = this.#merged(answers, new Map());
      this.error = null;
    } catch (thrown) {
      if (generation !== this.#generation) return;
      this.error = toBackendError(thrown);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /**
   * The list shows the work orders `first..=last`: reads the pages among them not read yet.
   * Called by the list as it scrolls.
   */
  showing(first: number, last: number): void {
    this.#visible = { first, last };
    const loaded = this.loaded;
    if (!loaded) return;
    const missing = pagesFor(first, Math.min(last, loaded.total - 1), PAGE_SIZE).filter(
      (page) => !loaded.pages.has(page) && !this.#asked.has(page),
    );
    for (const page of missing) void this.#readPage(page);
  }

  async #readPage(page: number): Promise<void> {
    const generation = this.#generation;
    this.#asked.add(page);
    try {
      const answer = await listWorkOrders(this.query(page));
      if (generation !== this.#generation || !this.loaded) return;
      // The store changed under the list (a sync, a save): read the pages in view afresh
      // rather than mix answers from before and after.
      if (answer.total !== this.loaded.total) {
        void this.refresh();
        return;
      }
      this.loaded = this.#merged([answer], this.loaded.pages);
    } catch (thrown) {
      if (generation !== this.#generation) return;
      this.error = toBackendError(thrown);
    } finally {
      if (generation === this.#generation) this.#asked.delete(page);
    }
  }

  /** `pages` with the answers' pages added, under the last answer's groups. */
  #merged(answers: WorkOrderList[], pages: ReadonlyMap<number, readonly WorkOrderSummary[]>): Loaded {
    const merged = new Map(pages);
    for (const answer of answers) merged.set(Math.floor(answer.offset / PAGE_SIZE), answer.items);
    const last = answers[answers.length - 1];
    if (!last) return { groups: [], total: 0, now: new Date().toISOString(), pages: merged };
    return { groups: last.groups, total: last.total, now: last.now, pages: merged };
  }

  setView(view: ListView): void {
    this.view = view;
    this.setNow(Date.now());
    this.#fromTheTop();
  }

  /** Moves the views on to the day of `nowMs`; past midnight the day views are asked again. */
  setNow(nowMs: number): void {
    const end = endOfLocalDay(nowMs);
    if (end === this.endOfToday) return;
    this.endOfToday = end;
    if (this.view !== 'all' && this.loaded) void this.refresh();
  }

  setSearch(text: string): void {
    this.search = text;
    this.#fromTheTop();
  }

  toggleStatus(status: WorkOrderStatus): void {
    this.statuses = toggled(this.statuses, status);
    this.#fromTheTop();
  }

  toggleKind(kind: WorkOrderKind): void {
    this.kinds = toggled(this.kinds, kind);
    this.#fromTheTop();
  }

  clearStatuses(): void {
    this.statuses = [];
    this.#fromTheTop();
  }

  clearKinds(): void {
    this.kinds = [];
    this.#fromTheTop();
  }

  /** A new query starts at its first result (the list scrolls to the top with it). */
  #fromTheTop(): void {
    this.#visible = { first: 0, last: Math.max(this.#visible.last - this.#visible.first, 0) };
    void this.refresh();
  }
}

export const workOrderList = new WorkOrderListState();
