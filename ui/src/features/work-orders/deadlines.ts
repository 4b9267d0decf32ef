// Live deadline states. The backend computes each state once, at the instant it answered; the
// list counts down from the device clock every second, so it recomputes the state here with
// the same rule as `DeadlineState::assess` in crates/fieldbook-domain/src/policy.rs. If that
// rule changes, change this one and its tests with it.

import type { DeadlineKind } from '$lib/bindings/DeadlineKind';
import type { DeadlineState } from '$lib/bindings/DeadlineState';
import type { DueInfo } from '$lib/bindings/DueInfo';

/** Milliseconds since the epoch of an RFC 3339 instant from the backend. */
export function instantMs(rfc3339: string): number {
  return Date.parse(rfc3339);
}

/**
 * Whole seconds from `from` to `to`, truncated toward zero like chrono's `num_seconds()`, so
 * that half a second past the deadline is not yet a breach on either side.
 */
function wholeSecondsBetween(fromMs: number, toMs: number): number {
  // `|| 0` turns the -0 of a truncated negative fraction into 0.
  return Math.trunc((toMs - fromMs) / 1000) || 0;
}

/**
 * How a deadline stands at `nowMs`. `windowStartMs` is when the clock started (the report
 * time): "due soon" means less than a quarter of the allowed time is left, so it scales with
 * the promise.
 */
export function assessDeadline(
  dueMs: number,
  doneAtMs: number | null,
  windowStartMs: number,
  nowMs: number,
): DeadlineState {
  if (doneAtMs !== null) {
    const late = wholeSecondsBetween(dueMs, doneAtMs);
    return late > 0 ? { state: 'met_late', late_by_seconds: late } : { state: 'met' };
  }
  const left = wholeSecondsBetween(nowMs, dueMs);
  if (left < 0) return { state: 'breached', overdue_by_seconds: -left };
  const window = Math.max(wholeSecondsBetween(windowStartMs, dueMs), 1);
  return left * 4 < window ? { state: 'due_soon', seconds_left: left } : { state: 'on_track', seconds_left: left };
}

/** The states of a deadline not yet met; each has its colour (neutral, amber, red). */
export type OpenDeadlineState = 'on_track' | 'due_soon' | 'breached';

/** What a countdown shows: time left, or time overdue once breached. */
export interface Countdown {
  kind: DeadlineKind;
  state: OpenDeadlineState;
  seconds: number;
}

/** The countdown of an open deadline; none for one already met. */
export function countdownOf(kind: DeadlineKind, state: DeadlineState): Countdown | null {
  switch (state.state) {
    case 'on_track':
    case 'due_soon':
      return { kind, state: state.state, seconds: state.seconds_left };
    case 'breached':
      return { kind, state: 'breached', seconds: state.overdue_by_seconds };
    case 'met':
    case 'met_late':
      return null;
  }
}

/**
 * The live countdown of a list row's next deadline. `next_due` is never a met deadline (the
 * backend sends the nearest one not yet met), so it is assessed as not done.
 */
export function liveCountdown(nextDue: DueInfo | null, reportedAt: string, nowMs: number): Countdown | null {
  if (!nextDue) return null;
  const state = assessDeadline(instantMs(nextDue.due), null, instantMs(reportedAt), nowMs);
  return countdownOf(nextDue.kind, state);
}
