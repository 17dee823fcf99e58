/**
 * Provider health and its circuit (DESIGN §3), as pure functions. Outcomes are counted per
 * minute; a circuit opens on a high recent error rate (with a minimum volume) or at once on a
 * broken configuration, stays open for a cool-down, then lets exactly one dispatcher probe with
 * one message (half-open): success closes it, failure opens it again.
 */
import type { SendOutcome } from './dispatch';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface MinuteCounts {
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
  /** Outcomes per minute (epoch minute → counts). */
  readonly minutes: Readonly<Record<number, MinuteCounts>>;
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
} as const;

export const HEALTHY: ProviderHealth = { state: 'closed', minutes: {} };

export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/** Outcomes that count against a provider's health: it did not take a message it should have. */
export const isProviderError = (kind: SendOutcome['kind']): boolean =>
  kind === 'throttled' || kind === 'down' || kind === 'broken' || kind === 'ambiguous';

/** Attempts, errors and error rate over the recent minutes (since the circuit last closed). */
export function recent(h: ProviderHealth, nowMs: number): MinuteCounts & { readonly errorRate: number } {
  const now = minuteOf(nowMs);
  const since = h.sinceMs === undefined ? Number.NEGATIVE_INFINITY : minuteOf(h.sinceMs);
  let attempts = 0;
  let errors = 0;
  for (const [k, c] of Object.entries(h.minutes)) {
    const m = Number(k);
    if (m > now - CIRCUIT.windowMinutes && m <= now && m >= since) {
      attempts += c.attempts;
      errors += c.errors;
    }
  }
  return { attempts, errors, errorRate: attempts === 0 ? 0 : errors / attempts };
}

/** Minutes that no longer count (safe to remove). */
export const staleMinutes = (h: ProviderHealth, nowMs: number): number[] =>
  Object.keys(h.minutes)
    .map(Number)
    .filter((m) => m <= minuteOf(nowMs) - CIRCUIT.windowMinutes);

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

/** Seconds or minutes, for reasons people read. */
export const openUntil = (nowMs: number): number => nowMs + CIRCUIT.coolDownSeconds * 1000;
