// Hash routes, so the app works from any static root (Tauri's, Vite's dev server) without
// server-side rewrites: `#/` is the work-order list, `#/wo/<id>` one work order,
// `#/wo/<id>/visit` its visit flow, `#/sync` the sync screen, `#/enroll` first-run sign-in.
// A supervisor's `#/` is the deadline board; `#/all` is the whole list, `#/new` a new call and
// `#/devices` the team's devices, `#/monthly` the monthly fault report,
// `#/schedules` the periodic patrols, `#/templates` the checklists and `#/parts` the parts
// catalogue.

export type Route =
  | { name: 'list' }
  | { name: 'work-order'; id: string }
  | { name: 'visit'; id: string }
  | { name: 'sync' }
  | { name: 'enroll' }
  | { name: 'all' }
  | { name: 'new-work-order' }
  | { name: 'devices' }
  | { name: 'monthly' }
  | { name: 'schedules' }
  | { name: 'templates' }
  | { name: 'parts' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/sync') return { name: 'sync' };
  if (path === '/enroll') return { name: 'enroll' };
  if (path === '/all') return { name: 'all' };
  if (path === '/new') return { name: 'new-work-order' };
  if (path === '/devices') return { name: 'devices' };
  if (path === '/monthly') return { name: 'monthly' };
  if (path === '/schedules') return { name: 'schedules' };
  if (path === '/templates') return { name: 'templates' };
  if (path === '/parts') return { name: 'parts' };
  const visit = /^\/wo\/([^/?#]+)\/visit\/?$/.exec(path);
  if (visit?.[1]) {
    try {
      return { name: 'visit', id: decodeURIComponent(visit[1]) };
    } catch {
      return { name: 'list' };
    }
  }
  const match = /^\/wo\/([^/?#]+)\/?$/.exec(path);
  if (match?.[1]) {
    try {
      return { name: 'work-order', id: decodeURIComponent(match[1]) };
    } catch {
      return { name: 'list' };
    }
  }
  return { name: 'list' };
}

export function workOrderHash(id: string): string {
  return `#/wo/${encodeURIComponent(id)}`;
}

export function visitHash(id: string): string {
  return `#/wo/${encodeURIComponent(id)}/visit`;
}

/** What a route shows: the same key is the same screen of the same work order. */
export function routeKey(route: Route): string {
  return 'id' in route ? `${route.name}/${route.id}` : route.name;
}

/**
 * Whether moving from the screen `previousKey` to `next` should start at the top: on any
 * other screen or work order. The list keeps its own place (the user comes back to it), and
 * the first screen or the same one again is left alone.
 */
export function opensAtTop(previousKey: string | null, next: Route): boolean {
  return previousKey !== null && next.name !== 'list' && routeKey(next) !== previousKey;
}
