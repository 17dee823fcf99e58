/**
 * Dispatch decisions, as pure functions: what to do with a message whose claim failed, and what a
 * provider outcome means for the message and its SQS record.
 */
import { type Status, TERMINAL } from './message';

/** How a provider call ended. Adapters classify their errors into these kinds (DESIGN §3). */
export type SendOutcome =
  | { readonly kind: 'accepted'; readonly providerMessageId: string }
  /** Provider throttled us (429, TooManyRequests): not sent, safe to retry. */
  | { readonly kind: 'throttled'; readonly reason: string; readonly retryAfterSeconds?: number }
  /** Provider unavailable before it accepted the request (5xx, refused connection): not sent. */
  | { readonly kind: 'down'; readonly reason: string }
  /** Account or configuration broken (suspended, paused, unverified sender, 401/403): not sent. */
  | { readonly kind: 'broken'; readonly reason: string }
  /** The provider refused this message for good (invalid content): never retried. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** The request left and no answer came back: the provider may or may not have sent it. */
  | { readonly kind: 'ambiguous'; readonly reason: string };

export type Action =
  | { readonly kind: 'sent'; readonly providerMessageId: string }
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Release the claim and let SQS deliver the message again after delaySeconds. */
  | { readonly kind: 'retry'; readonly reason: string; readonly delaySeconds: number }
  /** Retries exhausted: terminal `failed`; SQS moves the message to the DLQ. */
  | { readonly kind: 'failed'; readonly reason: string }
  /**
   * Ambiguous-outcome policy for providers without an idempotency key (SES): never send again
   * (at most one send wins over at least one), end `failed` with the reason, count it.
   */
  | { readonly kind: 'ambiguous'; readonly reason: string };

export const BACKOFF = { baseSeconds: 10, maxSeconds: 900 } as const;

/** How the reason of a message whose retries ran out begins (such a message may be redriven). */
export const RETRIES_EXHAUSTED = 'retries exhausted';

/** Exponential back-off with full jitter: a delay in [base, base·2^(n-1)], capped. */
export function backoffSeconds(receiveCount: number, random: () => number, retryAfterSeconds?: number): number {
  const ceiling = Math.min(BACKOFF.maxSeconds, BACKOFF.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  const jittered = Math.round(BACKOFF.baseSeconds + random() * (ceiling - BACKOFF.baseSeconds));
  return Math.min(BACKOFF.maxSeconds, Math.max(jittered, Math.ceil(retryAfterSeconds ?? 0)));
}

export function decide(
  outcome: SendOutcome,
  receiveCount: number,
  maxReceiveCount: number,
  random: () => number,
): Action {
  switch (outcome.kind) {
    case 'accepted':
      return { kind: 'sent', providerMessageId: outcome.providerMessageId };
    case 'rejected':
      return { kind: 'rejected', reason: outcome.reason };
    case 'ambiguous':
      return { kind: 'ambiguous', reason: outcome.reason };
    case 'throttled':
    case 'down':
    case 'broken': {
      const reason = `${outcome.kind}: ${outcome.reason}`;
      if (receiveCount >= maxReceiveCount) return { kind: 'failed', reason: `${RETRIES_EXHAUSTED} (${reason})` };
      const retryAfter = outcome.kind === 'throttled' ? outcome.retryAfterSeconds : undefined;
      return { kind: 'retry', reason, delaySeconds: backoffSeconds(receiveCount, random, retryAfter) };
    }
  }
}

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
