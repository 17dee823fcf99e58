/**
 * Provider health and its circuit (DESIGN §3), as pure functions. Outcomes are counted in
 * buckets (10 s by default); a circuit opens on a high recent error rate (with a minimum volume) or at once on a
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
  /** Outcomes per bucket (epoch milliseconds / CircuitPolicy.bucketMs → counts). */
  readonly buckets: Readonly<Record<number, BucketCounts>>;
}

/**
 * How circuits count and when they move. Every option has today's production value in CIRCUIT;
 * tests and the local stack may pass shorter timings (ProviderChainDeps.circuit).
 */
export interface CircuitPolicy {
  /** Recent = the last this many minutes. */
  readonly windowMinutes: number;
  /** No circuit opens on fewer attempts than this (one bad send is not a pattern). */
  readonly minAttempts: number;
  /** Error share that opens the circuit. */
  readonly openAtErrorRate: number;
  /** How long an opened circuit stays open before a probe. */
  readonly coolDownSeconds: number;
  /** How long one dispatcher holds the probe before another may try. */
  readonly probeLeaseSeconds: number;
  /** When waiting on a probe's result, look again after this long. */
  readonly probeRecheckSeconds: number;
  /** Outcomes are counted in buckets of this many milliseconds. */
  readonly bucketMs: number;
}

/** The production circuit policy: the defaults of every option, defined once. */
export const CIRCUIT = {
  windowMinutes: 5,
  minAttempts: 5,
  openAtErrorRate: 0.5,
  coolDownSeconds: 30,
  probeLeaseSeconds: 60,
  probeRecheckSeconds: 5,
  bucketMs: 10_000,
} as const satisfies CircuitPolicy;

/** The policy with `overrides` over the defaults; refuses values that would stall every circuit. */
export function circuitPolicy(overrides: Partial<CircuitPolicy> = {}): CircuitPolicy {
  const policy = { ...CIRCUIT, ...overrides };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`circuit policy: ${name} must be a positive number`);
  }
  if (policy.openAtErrorRate > 1) throw new Error('circuit policy: openAtErrorRate must be at most 1');
  return policy;
}

export const HEALTHY: ProviderHealth = { state: 'closed', buckets: {} };

const windowBuckets = (p: CircuitPolicy) => Math.max(1, Math.round((p.windowMinutes * 60_000) / p.bucketMs));

export const bucketOf = (ms: number, bucketMs: number = CIRCUIT.bucketMs): number => Math.floor(ms / bucketMs);

/** Outcomes that count against a provider's health: it did not take a message it should have. */
export const isProviderError = (kind: SendOutcome['kind']): boolean =>
  kind === 'throttled' || kind === 'down' || kind === 'broken' || kind === 'ambiguous';

/** Attempts, errors and error rate over the recent buckets (since the circuit last closed). */
export function recent(
  h: ProviderHealth,
  nowMs: number,
  policy: CircuitPolicy = CIRCUIT,
): BucketCounts & { readonly errorRate: number } {
  const now = bucketOf(nowMs, policy.bucketMs);
  const size = windowBuckets(policy);
  // The bucket the circuit closed in holds outcomes from before: only later buckets count.
  const since = h.sinceMs === undefined ? Number.NEGATIVE_INFINITY : bucketOf(h.sinceMs, policy.bucketMs) + 1;
  let attempts = 0;
  let errors = 0;
  for (const [k, c] of Object.entries(h.buckets)) {
    const m = Number(k);
    if (m > now - size && m <= now && m >= since) {
      attempts += c.attempts;
      errors += c.errors;
    }
  }
  return { attempts, errors, errorRate: attempts === 0 ? 0 : errors / attempts };
}

/** Buckets that no longer count (safe to remove). */
export const staleBuckets = (h: ProviderHealth, nowMs: number, policy: CircuitPolicy = CIRCUIT): number[] =>
  Object.keys(h.buckets)
    .map(Number)
    .filter((m) => m <= bucketOf(nowMs, policy.bucketMs) - windowBuckets(policy));

/** Whether a closed circuit should open, given its counts. */
export function tooManyErrors(h: ProviderHealth, nowMs: number, policy: CircuitPolicy = CIRCUIT): boolean {
  const r = recent(h, nowMs, policy);
  return h.state === 'closed' && r.attempts >= policy.minAttempts && r.errorRate >= policy.openAtErrorRate;
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
export const openUntil = (nowMs: number, policy: CircuitPolicy = CIRCUIT): number =>
  nowMs + policy.coolDownSeconds * 1000;

/** How a circuit is shown (GET /v1/settings/providers). */
export interface CircuitView {
  readonly circuit: CircuitState;
  /** When an open circuit's cool-down ends (epoch ms); undefined unless it is open now. */
  readonly openUntilMs: number | undefined;
  /** Why it opened; undefined when closed. */
  readonly reason: string | undefined;
}

/**
 * The circuit as it is at `nowMs`, never stale: an open circuit whose cool-down is over is
 * half-open (the next message through it is the probe), with no past `openUntil` — also for a
 * provider taken out of the chain, which no message probes until it is put back.
 */
export function circuitView(h: ProviderHealth | undefined, nowMs: number): CircuitView {
  if (!h || h.state === 'closed') return { circuit: 'closed', openUntilMs: undefined, reason: undefined };
  if (h.state === 'open' && h.untilMs !== undefined && nowMs < h.untilMs) {
    return { circuit: 'open', openUntilMs: h.untilMs, reason: h.reason };
  }
  return { circuit: 'half-open', openUntilMs: undefined, reason: h.reason };
}
