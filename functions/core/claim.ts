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
  | { readonly kind: 'missing' };

export function claimConflict(
  current: { status: Status; claimedAt?: number | undefined } | undefined,
  nowMs: number,
  leaseMs: number,
): ClaimConflict {
  if (!current) return { kind: 'missing' };
  if (TERMINAL.has(current.status)) return { kind: 'duplicate', status: current.status };
  const claimedAt = current.claimedAt ?? 0;
  const left = claimedAt + leaseMs - nowMs;
  if (current.status === 'sending' && left <= 0) return { kind: 'stale' };
  return { kind: 'in-flight', retryInSeconds: Math.max(1, Math.ceil(left / 1000)) };
}
