// Who pays for a part. The form proposes a billing from the equipment's warranty and the work
// order's billing basis; choosing anything else is an override the technician must explain.

import type { AssetInfo } from '$lib/bindings/AssetInfo';
import type { BillingBasis } from '$lib/bindings/BillingBasis';
import type { PartBilling } from '$lib/bindings/PartBilling';
import type { PartOption } from '$lib/bindings/PartOption';

export type BillingType = PartBilling['type'];

export const billingTypes = ['warranty', 'contract', 'paid'] as const satisfies readonly BillingType[];

/** Why the form proposes what it does. */
export type ProposalReason = 'asset_in_warranty' | 'work_order_basis';

export interface BillingProposal {
  billing: PartBilling;
  reason: ProposalReason;
}

/**
 * Equipment in warranty gets its parts free (三包) whatever the work order says; otherwise the
 * work order's basis decides, and a paid part is charged at the catalogue price.
 */
export function proposeBilling(
  asset: Pick<AssetInfo, 'in_warranty'> | null,
  basis: BillingBasis,
  option: Pick<PartOption, 'unit_price_cents'>,
): BillingProposal {
  if (asset?.in_warranty) return { billing: { type: 'warranty' }, reason: 'asset_in_warranty' };
  return { billing: billingOf(basis, option.unit_price_cents), reason: 'work_order_basis' };
}

/** A billing of `type`; the price only matters when paid. */
export function billingOf(type: BillingType, unitPriceCents: number): PartBilling {
  return type === 'paid' ? { type: 'paid', unit_price_cents: unitPriceCents } : { type };
}

/** Whether `chosen` departs from the proposal: another basis, or another price when paid. */
export function isBillingOverride(proposed: PartBilling, chosen: PartBilling): boolean {
  if (proposed.type !== chosen.type) return true;
  return proposed.type === 'paid' && chosen.type === 'paid' && proposed.unit_price_cents !== chosen.unit_price_cents;
}

/**
 * A price typed in yuan ("88", "88.5", "88.50") as whole cents (分); null when it is not a
 * non-negative amount with at most two decimals.
 */
export function parsePriceCents(text: string): number | null {
  const trimmed = text.trim().replace(',', '.');
  const match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(trimmed);
  if (!match) return null;
  const yuan = Number(match[1]);
  const fraction = (match[2] ?? '').padEnd(2, '0');
  const cents = yuan * 100 + Number(fraction);
  return Number.isSafeInteger(cents) ? cents : null;
}

/** Cents as the price field shows them: "88.00". */
export function priceText(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** A quantity typed as text: a whole number of at least one, else null. */
export function parseQuantity(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const quantity = Number(trimmed);
  return quantity >= 1 && Number.isSafeInteger(quantity) ? quantity : null;
}
