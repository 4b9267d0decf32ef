// Hash routes, so the app works from any static root (Tauri's, Vite's dev server) without
// server-side rewrites: `#/` is the work-order list, `#/wo/<id>` one work order,
// `#/wo/<id>/visit` its visit flow, `#/sync` the sync screen, `#/enroll` first-run sign-in.

export type Route =
  | { name: 'list' }
  | { name: 'work-order'; id: string }
  | { name: 'visit'; id: string }
  | { name: 'sync' }
  | { name: 'enroll' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/sync') return { name: 'sync' };
  if (path === '/enroll') return { name: 'enroll' };
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
