// What the shell remembers about this device's sign-in between screens: whether it holds work
// of its own (the demo), and whether the app opened the sign-in screen by itself. The session
// flags live in sessionStorage, so a reload does not repeat the first-run redirect.

import { listWorkOrders, syncStatus } from '$lib/backend';
import { currentRoute } from '$lib/router.svelte';
import { shouldOpenEnroll } from './first-run';

const DEMO_KEY = 'fieldbook.demo-chosen';
const REDIRECT_KEY = 'fieldbook.enroll-redirected';

const session = $state({
  /** The device holds work orders (checked at start, after the demo opens, after sign-out). */
  localWork: false,
  /** The app opened the sign-in screen by itself (not the user). */
  autoRedirected: false,
});

// Where sessionStorage is missing or refuses (private modes), the flags live here instead.
const memory = new Map<string, string>();

function read(key: string): boolean {
  try {
    if (typeof sessionStorage !== 'undefined') return sessionStorage.getItem(key) === '1';
  } catch {
    // fall through to the module's memory
  }
  return memory.get(key) === '1';
}

function write(key: string, on: boolean): void {
  if (on) memory.set(key, '1');
  else memory.delete(key);
  try {
    if (typeof sessionStorage === 'undefined') return;
    if (on) sessionStorage.setItem(key, '1');
    else sessionStorage.removeItem(key);
  } catch {
    // the module's memory holds it
  }
}

export function deviceSession(): Readonly<typeof session> {
  return session;
}

/** The user chose the offline demo: the list is where they mean to be. */
export function rememberDemo(): void {
  write(DEMO_KEY, true);
  session.localWork = true;
}

/** After sign-out: the device holds nothing, and a new sign-in may begin. */
export function forgetSignIn(): void {
  write(DEMO_KEY, false);
  session.localWork = false;
  session.autoRedirected = false;
}

export function clearAutoRedirect(): void {
  session.autoRedirected = false;
}

/** Whether the device holds any work order, or null when that could not be read. */
async function holdsWork(): Promise<boolean | null> {
  try {
    const list = await listWorkOrders({
      search: null,
      statuses: [],
      kinds: [],
      view: null,
      day_ends_at: null,
      offset: null,
      limit: 1,
    });
    return list.total > 0;
  } catch {
    return null;
  }
}

/**
 * At start: opens the sign-in screen when the device has no server and no work, once per
 * session, and only from the list (a link to a work order or to the sync screen is kept).
 */
export async function firstRunCheck(): Promise<void> {
  let state;
  try {
    state = (await syncStatus()).state;
  } catch {
    return;
  }
  const work = await holdsWork();
  if (work !== null) session.localWork = work;
  const open = shouldOpenEnroll({
    state,
    route: currentRoute().name,
    // Never redirect on doubt.
    hasLocalWork: work ?? true,
    demoChosen: read(DEMO_KEY),
    alreadyRedirected: read(REDIRECT_KEY),
  });
  if (!open) return;
  write(REDIRECT_KEY, true);
  session.autoRedirected = true;
  location.replace('#/enroll');
}
