/**
 * When a failed webhook delivery is tried again: a fixed schedule (about 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h, then it fails, about 28 hours after the first attempt, 34 at most with jitter), each wait spread by jitter and
 * lengthened to a receiver's Retry-After; and the retries-queue message that carries a wait. Pure.
 */
import * as z from 'zod/mini';

/** Seconds before each retry: 7 retries after the first attempt. */
export const RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 36_000] as const;

/** Each wait is spread by ±this share, so receivers that recover are not hit by every retry at once. */
export const JITTER = 0.2;

/** The longest Retry-After honoured (longer asks wait this long). */
export const MAX_RETRY_AFTER_SECONDS = 36_000;

/**
 * Seconds to wait before the next attempt after `attempts` failed ones, or undefined when the schedule
 * is spent (the delivery fails). `random` is in [0, 1).
 */
export function nextRetrySeconds(
  attempts: number,
  schedule: readonly number[],
  random: number,
  retryAfterSeconds?: number,
): number | undefined {
  const base = schedule[attempts - 1];
  if (base === undefined) return undefined;
  const jittered = base * (1 - JITTER + 2 * JITTER * random);
  const asked = retryAfterSeconds === undefined ? 0 : Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS);
  return Math.max(1, Math.round(Math.max(jittered, asked)));
}

/** Parses a Retry-After header (seconds or an HTTP date) into seconds from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** SQS delays a message at most this long; longer waits are re-delayed in steps of it. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/** A retries-queue message: try this delivery again once it is due. */
export const RetryMessage = z.object({
  retry: z.object({
    endpointId: z.string(),
    deliveryId: z.string(),
    /** ISO time the attempt is due. */
    dueAt: z.string(),
    /** The delivery's attempts when this retry was planned: a retry that no longer matches is stale. */
    attempts: z.number(),
  }),
});
export type RetryMessage = z.infer<typeof RetryMessage>;

export const retryBody = (r: RetryMessage['retry']): string => JSON.stringify({ retry: r });

/** When an endpoint is disabled for failing, and how long deliveries are kept (overridable per deployment). */
export const WEBHOOK_DEFAULTS = {
  /** Failed attempts in a row (any event) that disable an endpoint… */
  failureLimit: 20,
  /** …once the first of them is at least this many hours old (an outage of minutes never disables). */
  failingHours: 24,
  /** Days a delivery (with its bytes) is kept for listing and replay. */
  retentionDays: 30,
} as const;
