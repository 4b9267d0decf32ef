import { describe, expect, it } from 'vitest';
import { assignable, isOpen, localInputValue, reviewable } from './dispatch';

describe('the steps a status allows', () => {
  it('assigns only before the technician sets off', () => {
    expect(assignable('new')).toBe(true);
    expect(assignable('assigned')).toBe(true);
    expect(assignable('en_route')).toBe(false);
    expect(assignable('completed')).toBe(false);
  });

  it('reviews only a completed visit and cancels only open work', () => {
    expect(reviewable('completed')).toBe(true);
    expect(reviewable('approved')).toBe(false);
    expect(isOpen('returned')).toBe(true);
    expect(isOpen('completed')).toBe(false);
    expect(isOpen('cancelled')).toBe(false);
  });
});

describe('localInputValue', () => {
  it('shows an instant in local time to the minute and nothing for none or garbage', () => {
    const at = new Date(2026, 10, 30, 9, 5, 42);
    expect(localInputValue(at.toISOString())).toBe('2026-11-30T09:05');
    expect(localInputValue(null)).toBe('');
    expect(localInputValue('not a date')).toBe('');
  });
});
