/**
 * Provider outcomes and what each means for the message (DESIGN §3), as pure functions: sent,
 * refused, retried with back-off, failed once its retries ran out, or ambiguous.
 */

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
