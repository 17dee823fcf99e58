/**
 * Warm-up: a new sending provider (or a new IP or domain behind it) earns reputation slowly, so
 * bulk mail through it follows a daily ramp — `startPerDay` on the start date, multiplied by
 * `growth` every day after, until the ramp passes the provider's declared limits. The ramp is one
 * more rate window (a rolling day) that counts only bulk mail; mail over it waits for room, as
 * with any full window: deferred, never dropped. Critical and transactional mail ignore it.
 */
import type { RateWindow } from './rate-window';

export const DAY_SECONDS = 86_400;
const DAY_MS = DAY_SECONDS * 1000;
/** Ramps stop growing here (far above any provider's daily quota). */
const MAX_RAMP = 1_000_000_000;

export interface WarmUp {
  /** Bulk emails allowed on the start date. */
  readonly startPerDay: number;
  /** Factor the daily allowance grows by each day (e.g. 1.5). */
  readonly growth: number;
  /** The first day of the ramp, YYYY-MM-DD (UTC). */
  readonly startDate: string;
}

const startMs = (w: WarmUp): number => Date.parse(`${w.startDate}T00:00:00.000Z`);

/** Days since the start date at `nowMs` (0 on the start date and before it). */
export const dayOf = (w: WarmUp, nowMs: number): number => Math.max(0, Math.floor((nowMs - startMs(w)) / DAY_MS));

/** The bulk emails the ramp allows in the day around `nowMs`. */
export function rampAt(w: WarmUp, nowMs: number): number {
  const ramp = w.startPerDay * w.growth ** dayOf(w, nowMs);
  return Math.min(MAX_RAMP, Math.floor(ramp));
}

/** The most a provider's declared windows can admit in a day (Infinity without windows). */
export function perDayOf(windows: readonly RateWindow[]): number {
  let most = Number.POSITIVE_INFINITY;
  for (const w of windows) most = Math.min(most, w.limit * Math.ceil(DAY_SECONDS / w.windowSeconds));
  return most;
}

/** The bulk-only window the ramp adds at `nowMs`, or undefined once the ramp has reached the declared limits. */
export function warmUpWindow(
  w: WarmUp | undefined,
  declared: readonly RateWindow[],
  nowMs: number,
): RateWindow | undefined {
  if (!w) return undefined;
  const limit = rampAt(w, nowMs);
  if (limit >= perDayOf(declared)) return undefined;
  return { limit, windowSeconds: DAY_SECONDS };
}

/** YYYY-MM-DD (UTC) of `nowMs`: the start date a warm-up switched on without one gets. */
export const dateOf = (nowMs: number): string => new Date(nowMs).toISOString().slice(0, 10);
