// One shared clock for every countdown on screen: a single timer, running only while
// something on screen reads it, so all countdowns tick together.

import { createSubscriber } from 'svelte/reactivity';

let nowMs = Date.now();

const subscribe = createSubscriber((update) => {
  nowMs = Date.now();
  const timer = setInterval(() => {
    nowMs = Date.now();
    update();
  }, 1000);
  return () => clearInterval(timer);
});

/**
 * The device clock in milliseconds. Read inside a component or effect, it re-runs that code
 * every second; read elsewhere it is simply the time now.
 */
export function clockNow(): number {
  if ($effect.tracking()) {
    subscribe();
    return nowMs;
  }
  return Date.now();
}
