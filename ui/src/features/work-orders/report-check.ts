// How the signed-report card words what the server's ledger said about a report.

import type { ReportVersion } from '$lib/bindings/ReportVersion';
import type { ServerCheck } from '$lib/bindings/ServerCheck';

export type ServerTone = 'good' | 'bad' | 'waiting';

const VERDICTS = ['intact', 'revoked_device', 'tampered', 'not_in_ledger', 'unreachable'] as const;
export type ServerVerdict = (typeof VERDICTS)[number];

/** The message key, its ledger number and its tone; an unknown verdict reads as a mismatch. */
export function describeServerCheck(check: ServerCheck): { verdict: ServerVerdict; seq: number; tone: ServerTone } {
  const verdict: ServerVerdict = (VERDICTS as readonly string[]).includes(check.verdict)
    ? (check.verdict as ServerVerdict)
    : 'tampered';
  const tone: ServerTone =
    verdict === 'intact' ? 'good' : verdict === 'not_in_ledger' || verdict === 'unreachable' ? 'waiting' : 'bad';
  return { verdict, seq: check.ledger_seq ?? 0, tone };
}

/** Newest version first, as the card lists them. */
export function newestFirst(versions: readonly ReportVersion[]): ReportVersion[] {
  return [...versions].sort((a, b) => b.visit_version - a.visit_version || b.signed_at.localeCompare(a.signed_at));
}
