/**
 * Provider health and its circuit (DESIGN §3), as pure functions. Outcomes are counted in
 * 10-second buckets; a circuit opens on a high recent error rate (with a minimum volume) or at once on a
 * broken configuration, stays open for a cool-down, then lets exactly one dispatcher probe with
 * one message (half-open): success closes it, failure opens it again.
 */
import type { SendOutcome } from './dispatch';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface BucketCounts {
  readonly attempts: number;
  readonly errors: number;
}

export interface ProviderHealth {
  readonly state: CircuitState;
  /** open: when the cool-down ends; half-open: when the probe's lease ends. */
  readonly untilMs?: number | undefined;
  /** Why the circuit opened. */
  readonly reason?: string | undefined;
  /** When the circuit last closed: outcomes before it no longer count. */
  readonly sinceMs?: number | undefined;
  /** Outcomes per 10-second bucket (epoch milliseconds / 10 000 → counts). */
  readonly buckets: Readonly<Record<number, BucketCounts>>;
}

export const CIRCUIT = {
  /** Recent = the last 5 minutes. */
  windowMinutes: 5,
  /** No circuit opens on fewer attempts than this (one bad send is not a pattern). */
  minAttempts: 5,
  /** Error share that opens the circuit. */
  openAtErrorRate: 0.5,
  coolDownSeconds: 30,
  /** How long one dispatcher holds the probe before another may try. */
  probeLeaseSeconds: 60,
  /** When waiting on a probe's result, look again after this long. */
  probeRecheckSeconds: 5,
} as const;

export const HEALTHY: ProviderHealth = { state: 'closed', buckets: {} };

/** Outcomes are counted in 10-second buckets. */
export const BUCKET_MS = 10_000;
const WINDOW_BUCKETS = (CIRCUIT.windowMinutes * 60_000) / BUCKET_MS;

export const bucketOf = (ms: number): number => Math.floor(ms / BUCKET_MS);

/** Outcomes that count against a provider's health: it did not take a message it should have. */
export const isProviderError = (kind: SendOutcome['kind']): boolean =>
  kind === 'throttled' || kind === 'down' || kind === 'broken' || kind === 'ambiguous';

/** Attempts, errors and error rate over the recent buckets (since the circuit last closed). */
export function recent(h: ProviderHealth, nowMs: number): BucketCounts & { readonly errorRate: number } {
  const now = bucketOf(nowMs);
  // The bucket the circuit closed in holds outcomes from before: only later buckets count.
  const since = h.sinceMs === undefined ? Number.NEGATIVE_INFINITY : bucketOf(h.sinceMs) + 1;
  let attempts = 0;
  let errors = 0;
  for (const [k, c] of Object.entries(h.buckets)) {
    const m = Number(k);
    if (m > now - WINDOW_BUCKETS && m <= now && m >= since) {
      attempts += c.attempts;
      errors += c.errors;
    }
  }
  return { attempts, errors, errorRate: attempts === 0 ? 0 : errors / attempts };
}

/** Minutes that no longer count (safe to remove). */
export const staleBuckets = (h: ProviderHealth, nowMs: number): number[] =>
  Object.keys(h.buckets)
    .map(Number)
    .filter((m) => m <= bucketOf(nowMs) - WINDOW_BUCKETS);

/** Whether a closed circuit should open, given its counts. */
export function tooManyErrors(h: ProviderHealth, nowMs: number): boolean {
  const r = recent(h, nowMs);
  return h.state === 'closed' && r.attempts >= CIRCUIT.minAttempts && r.errorRate >= CIRCUIT.openAtErrorRate;
}

export type Availability =
  | { readonly kind: 'use' }
  /** Circuit open, or another dispatcher is probing: skip until `untilMs`. */
  | { readonly kind: 'skip'; readonly untilMs: number }
  /** The cool-down is over: whoever wins the probe may send one message. */
  | { readonly kind: 'probe' };

export function availability(h: ProviderHealth, nowMs: number): Availability {
  if (h.state === 'closed') return { kind: 'use' };
  const until = h.untilMs ?? 0;
  if (nowMs < until) return { kind: 'skip', untilMs: until };
  return { kind: 'probe' };
}

/** When a circuit opened now may be probed. */
export const openUntil = (nowMs: number): number => nowMs + CIRCUIT.coolDownSeconds * 1000;
