/**
 * The adaptive throttle (AIMD: additive increase, multiplicative decrease). When a provider
 * throttles without saying how long to wait (SES gives no Retry-After), its effective rate — a
 * factor (0-1] of its declared limits — is multiplied by `decrease` (at most once per `holdSeconds`,
 * so a burst of throttles seen by many dispatchers halves it once), never below `floor`; it then
 * grows back by `increasePerMinute` for every minute without a throttle, up to 1. The declared
 * limits are the ceiling: the factor never exceeds 1.
 *
 * The state is two numbers (the factor right after the last decrease, and when), so the current
 * factor is computed, never written: recovery costs no request.
 */
import type { RateWindow } from './rate-window';

export interface AimdPolicy {
  /** The factor a throttle multiplies the effective rate by (0-1). */
  readonly decrease: number;
  /** The lowest effective rate, as a share of the declared one (0-1). */
  readonly floor: number;
  /** Share of the declared rate won back per minute without a throttle. */
  readonly increasePerMinute: number;
  /** Throttles within this many seconds of a decrease do not decrease again. */
  readonly holdSeconds: number;
}

/** The factor right after the last decrease and when it happened; absent: never throttled (factor 1). */
export interface ThrottleState {
  readonly factor: number;
  readonly atMs: number;
}

/** The effective rate's factor (floor..1) at `nowMs`. */
export function factorAt(state: ThrottleState | undefined, nowMs: number, p: AimdPolicy): number {
  if (!state) return 1;
  const grown = state.factor + (p.increasePerMinute * Math.max(0, nowMs - state.atMs)) / 60_000;
  return Math.min(1, Math.max(p.floor, grown));
}

/** The state after a throttle at `nowMs`, or undefined when a decrease happened less than `holdSeconds` ago. */
export function decreased(state: ThrottleState | undefined, nowMs: number, p: AimdPolicy): ThrottleState | undefined {
  if (state && nowMs - state.atMs < p.holdSeconds * 1000) return undefined;
  return { factor: Math.max(p.floor, factorAt(state, nowMs, p) * p.decrease), atMs: nowMs };
}

/** When the factor is back at 1 (the time of the last decrease when it never dropped). */
export function recoveredAt(state: ThrottleState | undefined, p: AimdPolicy): number | undefined {
  if (!state) return undefined;
  if (p.increasePerMinute <= 0) return Number.POSITIVE_INFINITY;
  return state.atMs + Math.ceil(((1 - state.factor) / p.increasePerMinute) * 60_000);
}

/** The declared windows at `factor` of their limits (each at least 1 per window). */
export const effectiveWindows = (windows: readonly RateWindow[], factor: number): RateWindow[] =>
  windows.map((w) => ({
    limit: Math.max(1, Math.floor(w.limit * Math.min(1, factor))),
    windowSeconds: w.windowSeconds,
  }));
