import { describe, expect, it } from 'vitest';
import { displayState, problemLine, showsProblem } from './badge';

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

  it('says offline in words, not with the network error, which stays in the tooltip', () => {
    const error = 'the server cannot be reached (error sending request for url (http://127.0.0.1:8330/v1/push))';
    expect(problemLine('offline', error)).toEqual({ hint: true });
    expect(problemLine('offline', null)).toEqual({ hint: true });
    expect(problemLine('outdated', 'protocol 3 needed')).toEqual({ error: 'protocol 3 needed' });
    expect(problemLine('online', null)).toBeNull();
  });
});
