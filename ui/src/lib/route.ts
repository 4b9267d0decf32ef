// Hash routes, so the app works from any static root (Tauri's, Vite's dev server) without
// server-side rewrites: `#/` is the work-order list, `#/wo/<id>` one work order.

export type Route = { name: 'list' } | { name: 'work-order'; id: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
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
