import { describe, expect, it } from 'vitest';
import { billingOf, isBillingOverride, parsePriceCents, parseQuantity, priceText, proposeBilling } from './billing';

const option = { unit_price_cents: 8800 };

describe('proposeBilling', () => {
  it('makes parts free for equipment in warranty, whatever the work order says', () => {
    expect(proposeBilling({ in_warranty: true }, 'paid', option)).toEqual({
      billing: { type: 'warranty' },
      reason: 'asset_in_warranty',
    });
  });

  it("follows the work order's basis otherwise, charging the catalogue price when paid", () => {
    expect(proposeBilling({ in_warranty: false }, 'contract', option).billing).toEqual({ type: 'contract' });
    expect(proposeBilling(null, 'warranty', option).billing).toEqual({ type: 'warranty' });
    expect(proposeBilling(null, 'paid', option)).toEqual({
      billing: { type: 'paid', unit_price_cents: 8800 },
      reason: 'work_order_basis',
    });
  });
});

describe('isBillingOverride', () => {
  it('is another basis, or another price for a paid part', () => {
    expect(isBillingOverride({ type: 'warranty' }, { type: 'warranty' })).toBe(false);
    expect(isBillingOverride({ type: 'warranty' }, billingOf('paid', 8800))).toBe(true);
    expect(isBillingOverride({ type: 'contract' }, { type: 'warranty' })).toBe(true);
    expect(isBillingOverride(billingOf('paid', 8800), billingOf('paid', 8800))).toBe(false);
    expect(isBillingOverride(billingOf('paid', 8800), billingOf('paid', 7000))).toBe(true);
  });

  it('ignores the price field unless the part is paid', () => {
    expect(billingOf('contract', 123)).toEqual({ type: 'contract' });
  });
});

describe('parsing the form', () => {
  it('reads prices in yuan as cents', () => {
    expect(parsePriceCents('88')).toBe(8800);
    expect(parsePriceCents('88.5')).toBe(8850);
    expect(parsePriceCents(' 88.05 ')).toBe(8805);
    expect(parsePriceCents('0,99')).toBe(99);
    expect(parsePriceCents('88.')).toBe(8800);
  });

  it('refuses negative, over-precise or non-numeric prices', () => {
    expect(parsePriceCents('-1')).toBeNull();
    expect(parsePriceCents('1.005')).toBeNull();
    expect(parsePriceCents('')).toBeNull();
    expect(parsePriceCents('abc')).toBeNull();
  });

  it('shows cents back with two decimals', () => {
    expect(priceText(8805)).toBe('88.05');
    expect(priceText(0)).toBe('0.00');
  });

  it('takes whole quantities of at least one', () => {
    expect(parseQuantity('3')).toBe(3);
    expect(parseQuantity('0')).toBeNull();
    expect(parseQuantity('1.5')).toBeNull();
    expect(parseQuantity('-2')).toBeNull();
    expect(parseQuantity('')).toBeNull();
  });
});
