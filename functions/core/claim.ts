/**
 * A claim that did not take (DESIGN §2.2), as pure functions: whether the SQS delivery is a
 * duplicate, another dispatcher's live claim, a claim left by a dispatcher that stopped mid-send,
 * or a message that was never accepted.
 */
import { type Status, TERMINAL } from './message';

/** A claim that is older than this was left by a dispatcher that stopped mid-send. */
export const claimLeaseMs = (dispatchTimeoutSeconds: number): number => (dispatchTimeoutSeconds + 30) * 1000;

export type ClaimConflict =
  /** Already done: this SQS delivery is a duplicate; acknowledge it. */
  | { readonly kind: 'duplicate'; readonly status: Status }
  /** Another dispatcher holds a live claim: try again once its lease is over. */
  | { readonly kind: 'in-flight'; readonly retryInSeconds: number }
  /** A dispatcher died between claim and result: the send may have happened (ambiguous). */
  | { readonly kind: 'stale' }
  /** No record: the API never accepted this message (its request failed and was rolled back). */
  | { readonly kind: 'missing' }
  /** A scheduled firing that came before its time: it waits again on its queue. */
  | { readonly kind: 'not-due'; readonly waitSeconds: number }
  /** A firing of a schedule version that was rescheduled since: its newer firing sends it. */
  | { readonly kind: 'superseded' };

/** What a claim that did not take found on the record. */
export interface ClaimCurrent {
  readonly status: Status;
  readonly claimedAt?: number | undefined;
  readonly scheduledAt?: string | undefined;
  readonly scheduleRev?: number | undefined;
}

/** The schedule version a scheduled firing carries (absent for an email sent at once). */
export interface Due {
  readonly rev: number;
}

export function claimConflict(
  current: ClaimCurrent | undefined,
  nowMs: number,
  leaseMs: number,
  due?: Due,
): ClaimConflict {
  if (!current) return { kind: 'missing' };
  if (TERMINAL.has(current.status)) return { kind: 'duplicate', status: current.status };
  if (current.status === 'scheduled' || (due && current.scheduleRev !== due.rev)) {
    // Still waiting: a firing of another version (or an immediate copy of a scheduled email) sends
    // nothing; this version's firing before its time waits until then.
    if (!due || current.scheduleRev !== due.rev) return { kind: 'superseded' };
    const atMs = Date.parse(current.scheduledAt ?? '');
    return {
      kind: 'not-due',
      waitSeconds: Math.max(1, Math.ceil(((Number.isNaN(atMs) ? nowMs : atMs) - nowMs) / 1000)),
    };
  }
  const claimedAt = current.claimedAt ?? 0;
  const left = claimedAt + leaseMs - nowMs;
  if (current.status === 'sending' && left <= 0) return { kind: 'stale' };
  return { kind: 'in-flight', retryInSeconds: Math.max(1, Math.ceil(left / 1000)) };
}
