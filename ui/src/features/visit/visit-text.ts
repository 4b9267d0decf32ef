// How the visit's records and errors read in the current language.

import type { BackendError } from '$lib/backend';
import type { PartBilling } from '$lib/bindings/PartBilling';
import { formatMoneyCents, t } from '$lib/i18n';

/**
 * A backend error as text: the backend's own message, which tells the user what to do; only
 * the two errors the UI makes itself are worded from the catalogue (as ErrorBanner does).
 */
export function errorText(error: BackendError): string {
  if (error.code === 'no_backend') return t('error.no_backend');
  if (error.code === 'unexpected') return t('error.unexpected', { detail: error.message });
  return error.message;
}

/** "Warranty", "Contract", "Paid, ¥88.00 each". */
export function billingLabel(billing: PartBilling): string {
  return billing.type === 'paid'
    ? t('part_billing.paid', { price: formatMoneyCents(billing.unit_price_cents) })
    : t(`part_billing.${billing.type}`);
}
