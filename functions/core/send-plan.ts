/**
 * The send plan: what becomes of one queue message once the dispatcher is done with it, as a
 * value (normal outcomes are never exceptions). The SQS batch adapter carries it out: `done`
 * acknowledges the message, `retry` makes it visible again later, `wait` puts a delayed copy on its
 * queue, `fail` reports it failed so that SQS moves it to the dead-letter queue.
 *
 * Also the pure rules that pick a plan: how long to wait for capacity, the retry delay that is no
 * sooner than a provider has room, the ambiguous-outcome policy, and what a recorded action or a
 * lost claim means for the queue message.
 */
import type { ClaimConflict } from './claim';
import { type Action, backoffSeconds } from './dispatch';

export type SendPlan =
  /** Finished (sent, refused, suppressed, ambiguous, a duplicate delivery): acknowledge the message. */
  | { readonly kind: 'done' }
  /** Another attempt later: the message becomes visible again after `seconds` (a receive is used). */
  | { readonly kind: 'retry'; readonly seconds: number; readonly reason: string }
  /**
   * No provider can take it now: a delayed copy goes on its queue after `seconds` and the message is
   * acknowledged (waiting is not failing: the copy starts with a fresh receive count).
   */
  | { readonly kind: 'wait'; readonly seconds: number; readonly reason: string }
  /** Its record is final (`failed`) or it cannot be read: reported failed, it ends in the dead-letter queue. */
  | { readonly kind: 'fail'; readonly reason: string };

export type WaitPlan = Extract<SendPlan, { kind: 'wait' }>;

export const DONE: SendPlan = { kind: 'done' };

/** SQS delivery delays are at most 15 minutes; a longer wait is taken in steps. */
export const MAX_WAIT_SECONDS = 900;

/** With no provider enabled there is no time to wait for: look again after this long. */
export const NO_PROVIDER_RECHECK_MS = 30_000;

const clampSeconds = (s: number, min: number) => Math.min(MAX_WAIT_SECONDS, Math.max(min, s));

/**
 * The wait until the first provider has room again (at least a second, at most SQS's longest
 * delay), given when each enabled candidate can be tried again; none: no provider is enabled.
 */
export function waitFor(untilMs: readonly number[], nowMs: number): WaitPlan {
  const soonest = untilMs.length > 0 ? Math.min(...untilMs) : nowMs + NO_PROVIDER_RECHECK_MS;
  return {
    kind: 'wait',
    seconds: clampSeconds(Math.ceil((soonest - nowMs) / 1000), 1),
    reason: untilMs.length > 0 ? 'every provider is full, open or slowing us down' : 'no provider is enabled',
  };
}

/**
 * The delay of a retry after every provider tried failed: the back-off, but no sooner than one of
 * them has room again (`untilMs`), and at most SQS's longest delay.
 */
export function retryDelaySeconds(backoff: number, untilMs: readonly number[], nowMs: number): number {
  if (untilMs.length === 0) return clampSeconds(backoff, 0);
  return clampSeconds(Math.max(backoff, Math.ceil((Math.min(...untilMs) - nowMs) / 1000)), 0);
}

export type AmbiguousDecision =
  /** Release the claim pinned to the provider and retry through it only, after `seconds`. */
  | { readonly kind: 'pinned-retry'; readonly seconds: number; readonly reason: string }
  /** Never send again: the message ends `failed` as ambiguous. */
  | { readonly kind: 'ambiguous'; readonly reason: string };

/**
 * The ambiguous-outcome policy (DESIGN §2.2). An idempotent provider (Azure's operation id, the
 * HTTP provider's Idempotency-Key) deduplicates a retry of the same message, so the message is
 * retried through that provider only (pinned), never another, while it has receives left. A
 * provider without such a key (SES) may have sent it: it is never sent again.
 */
export function ambiguousPolicy(input: {
  readonly idempotent: boolean;
  readonly reason: string;
  readonly receiveCount: number;
  readonly maxReceiveCount: number;
  readonly random: () => number;
}): AmbiguousDecision {
  if (input.idempotent && input.receiveCount < input.maxReceiveCount) {
    return {
      kind: 'pinned-retry',
      seconds: backoffSeconds(input.receiveCount, input.random),
      reason: `ambiguous: ${input.reason}`,
    };
  }
  return { kind: 'ambiguous', reason: input.idempotent ? `${input.reason} (retries exhausted)` : input.reason };
}

/** What a recorded action means for the queue message. */
export function planOf(action: Action): SendPlan {
  switch (action.kind) {
    case 'sent':
    case 'rejected':
    case 'ambiguous':
      return DONE;
    case 'failed':
      return { kind: 'fail', reason: action.reason };
    case 'retry':
      return { kind: 'retry', seconds: action.delaySeconds, reason: action.reason };
  }
}

/** What a claim that did not take means for the queue message (a stale claim is failed first). */
export function planOfConflict(conflict: ClaimConflict): SendPlan {
  switch (conflict.kind) {
    case 'in-flight':
      return { kind: 'retry', seconds: conflict.retryInSeconds, reason: 'another dispatcher holds the claim' };
    case 'not-due':
      // A delayed copy, as a wait: an early firing uses no receive.
      return { kind: 'wait', seconds: Math.min(MAX_WAIT_SECONDS, conflict.waitSeconds), reason: 'scheduled later' };
    default:
      return DONE;
  }
}
