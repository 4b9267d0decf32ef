import { describe, expect, it } from 'vitest';
import { displayState, showsProblem } from './badge';

describe('the badge state', () => {
  it('believes the browser going offline at once', () => {
    expect(displayState('online', true)).toBe('offline');
    expect(displayState('syncing', true)).toBe('offline');
    expect(displayState('online', false)).toBe('online');
  });

  it('keeps states that ask the user to act, and the device without a server', () => {
    expect(displayState('not_enrolled', true)).toBe('not_enrolled');
    expect(displayState('outdated', true)).toBe('outdated');
    expect(displayState('signed_out', true)).toBe('signed_out');
  });

  it('shows a problem line when offline, failed or needing action, not while syncing', () => {
    expect(showsProblem('offline', null)).toBe(true);
    expect(showsProblem('outdated', null)).toBe(true);
    expect(showsProblem('signed_out', 'revoked')).toBe(true);
    expect(showsProblem('online', null)).toBe(false);
    expect(showsProblem('syncing', 'timed out')).toBe(false);
    expect(showsProblem('not_enrolled', null)).toBe(false);
  });
});
