// The current route as state, following the window's hash.

import { parseRoute, workOrderHash, type Route } from './route';

const current = $state<{ route: Route }>({
  route: typeof location === 'undefined' ? { name: 'list' } : parseRoute(location.hash),
});

/** Whether the entry before this one in the history is the list, so "back" can pop it. */
let openedFromList = false;

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    current.route = parseRoute(location.hash);
    if (current.route.name === 'list') openedFromList = false;
  });
}

export function currentRoute(): Route {
  return current.route;
}

export function openWorkOrder(id: string): void {
  openedFromList = current.route.name === 'list';
  location.hash = workOrderHash(id);
}

/** Back to the list: pops the history entry when the list is just behind, so the browser's
 * own back and ours agree; otherwise (opened from a link or at start) replaces it. */
export function backToList(): void {
  if (openedFromList) {
    openedFromList = false;
    history.back();
  } else {
    location.replace('#/');
  }
}
