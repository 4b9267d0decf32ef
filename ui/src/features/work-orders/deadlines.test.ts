import { describe, expect, it } from 'vitest';
import type { DueInfo } from '$lib/bindings/DueInfo';
import { assessDeadline, countdownOf, instantMs, liveCountdown } from './deadlines';

const at = instantMs;

describe('assessDeadline (the rule of DeadlineState::assess in policy.rs)', () => {
  const reported = at('2026-11-20T10:00:00Z');
  const due = at('2026-11-20T12:00:00Z');
  const assess = (now: string, done: string | null = null) =>
    assessDeadline(due, done === null ? null : at(done), reported, at(now));

  // The same cases as `deadline_states_over_time` in policy.rs.
  it('goes from on track to due soon to breached as time passes', () => {
    expect(assess('2026-11-20T10:30:00Z')).toEqual({ state: 'on_track', seconds_left: 5400 });
    expect(assess('2026-11-20T11:40:00Z')).toEqual({ state: 'due_soon', seconds_left: 1200 });
    expect(assess('2026-11-20T12:00:01Z')).toEqual({ state: 'breached', overdue_by_seconds: 1 });
  });

  it('is met, or met late, once done, whatever the time now', () => {
    expect(assess('2026-11-20T13:00:00Z', '2026-11-20T11:00:00Z')).toEqual({ state: 'met' });
    expect(assess('2026-11-20T13:00:00Z', '2026-11-20T12:00:00Z')).toEqual({ state: 'met' });
    expect(assess('2026-11-20T13:00:00Z', '2026-11-20T12:10:00Z')).toEqual({ state: 'met_late', late_by_seconds: 600 });
  });

  it('turns amber when less than a quarter of the window is left', () => {
    // A two-hour window: a quarter is 30 minutes.
    expect(assess('2026-11-20T11:30:00Z')).toEqual({ state: 'on_track', seconds_left: 1800 });
    expect(assess('2026-11-20T11:30:01Z')).toEqual({ state: 'due_soon', seconds_left: 1799 });
  });

  it('is due soon, not breached, at the deadline itself', () => {
    expect(assess('2026-11-20T12:00:00Z')).toEqual({ state: 'due_soon', seconds_left: 0 });
  });

  it('counts whole seconds toward zero, as chrono does', () => {
    expect(assessDeadline(due, null, reported, due + 500)).toEqual({ state: 'due_soon', seconds_left: 0 });
    expect(assessDeadline(due, null, reported, due + 1500)).toEqual({ state: 'breached', overdue_by_seconds: 1 });
    expect(assessDeadline(due, null, reported, due - 1500)).toEqual({ state: 'due_soon', seconds_left: 1 });
    expect(assessDeadline(due, due + 999, reported, due)).toEqual({ state: 'met' });
  });

  it('treats a window of zero or less as one second long', () => {
    expect(assessDeadline(due, null, due, due - 10_000)).toEqual({ state: 'on_track', seconds_left: 10 });
    expect(assessDeadline(due, null, due + 60_000, due - 1_000)).toEqual({ state: 'on_track', seconds_left: 1 });
  });

  it('breaches long past deadlines (a report time far in the past)', () => {
    const state = assessDeadline(at('2026-11-01T10:00:00Z'), null, at('2026-11-01T08:00:00Z'), at('2026-11-20T08:00:00Z'));
    expect(state).toEqual({ state: 'breached', overdue_by_seconds: 18 * 86400 + 22 * 3600 });
  });
});

describe('countdowns', () => {
  it('count down time left, then time overdue', () => {
    expect(countdownOf('arrive', { state: 'on_track', seconds_left: 4320 })).toEqual({
      kind: 'arrive',
      state: 'on_track',
      seconds: 4320,
    });
    expect(countdownOf('respond', { state: 'due_soon', seconds_left: 60 })?.state).toBe('due_soon');
    expect(countdownOf('resolve', { state: 'breached', overdue_by_seconds: 1500 })).toEqual({
      kind: 'resolve',
      state: 'breached',
      seconds: 1500,
    });
  });

  it('stop once the deadline is met', () => {
    expect(countdownOf('arrive', { state: 'met' })).toBeNull();
    expect(countdownOf('arrive', { state: 'met_late', late_by_seconds: 5 })).toBeNull();
  });

  it('follow the client clock, not the state the backend computed', () => {
    const nextDue: DueInfo = {
      kind: 'arrive',
      due: '2026-11-20T12:00:00Z',
      // Computed at 10:48 by the backend; the device clock has moved on since.
      state: { state: 'on_track', seconds_left: 4320 },
    };
    const reportedAt = '2026-11-20T10:00:00Z';
    expect(liveCountdown(nextDue, reportedAt, at('2026-11-20T10:48:00Z'))).toEqual({
      kind: 'arrive',
      state: 'on_track',
      seconds: 4320,
    });
    expect(liveCountdown(nextDue, reportedAt, at('2026-11-20T11:45:00Z'))?.state).toBe('due_soon');
    expect(liveCountdown(nextDue, reportedAt, at('2026-11-20T12:25:00Z'))).toEqual({
      kind: 'arrive',
      state: 'breached',
      seconds: 1500,
    });
  });

  it('are absent for a closed work order', () => {
    expect(liveCountdown(null, '2026-11-20T10:00:00Z', Date.now())).toBeNull();
  });
});
