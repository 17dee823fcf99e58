/**
 * Exact rate windows. Each window (limit L per W seconds) is cut into SLOTS slots of W/SLOTS; an
 * admission at time t counts every slot that meets (t − W, t] (SLOTS + 1 slots, the oldest only
 * partly inside), so for ANY interval of length W the admissions in it are at most L:
 * take the interval's last admission t*; everything else in the interval lies in (t* − W, t*]
 * and was counted when t* was admitted. The price is at most one slot of unused capacity:
 * under a steady backlog a window admits about SLOTS/(SLOTS + 1) of its limit.
 */

export interface RateWindow {
  readonly limit: number;
  readonly windowSeconds: number;
}

export const SLOTS = 20;

/** Admitted counts of one window, by slot index (slot k covers [k·d, (k+1)·d) ms). */
export type SlotCounts = Readonly<Record<number, number>>;

export const slotMs = (w: RateWindow): number => (w.windowSeconds * 1000) / SLOTS;
export const slotOf = (w: RateWindow, atMs: number): number => Math.floor(atMs / slotMs(w));

/** Admissions that count against a new one at `atMs`. */
export function used(counts: SlotCounts, w: RateWindow, atMs: number): number {
  const c = slotOf(w, atMs);
  let sum = 0;
  for (const [k, n] of Object.entries(counts)) {
    const slot = Number(k);
    if (slot >= c - SLOTS && slot <= c) sum += n;
  }
  return sum;
}

/** Slots that no longer count at `atMs` (safe to delete). */
export const expiredSlots = (counts: SlotCounts, w: RateWindow, atMs: number): number[] =>
  Object.keys(counts)
    .map(Number)
    .filter((k) => k < slotOf(w, atMs) - SLOTS);

/** Milliseconds from `atMs` until the window can admit `need` more (0 when it can now). */
export function waitMs(counts: SlotCounts, w: RateWindow, atMs: number, need = 1): number {
  if (w.limit - used(counts, w, atMs) >= need) return 0;
  const d = slotMs(w);
  const c = slotOf(w, atMs);
  for (let j = 1; j <= SLOTS + 1; j++) {
    const at = (c + j) * d;
    if (w.limit - used(counts, w, at) >= need) return Math.ceil(at - atMs);
  }
  return Math.ceil((c + SLOTS + 2) * d - atMs);
}

export interface Grant {
  /** How many sends may go now (0..wanted). */
  readonly granted: number;
  /** When nothing could be granted: how long until the fullest window has room again. */
  readonly retryAfterMs: number;
}

/** How many of `wanted` sends every window can take at `atMs`. */
export function grant(
  state: Readonly<Record<number, SlotCounts>>,
  windows: readonly RateWindow[],
  wanted: number,
  atMs: number,
): Grant {
  let granted = wanted;
  for (const w of windows)
    granted = Math.min(granted, Math.max(0, w.limit - used(state[w.windowSeconds] ?? {}, w, atMs)));
  const retryAfterMs = granted > 0 ? 0 : Math.max(...windows.map((w) => waitMs(state[w.windowSeconds] ?? {}, w, atMs)));
  return { granted, retryAfterMs };
}

/** The most admissions in any interval of `ms` milliseconds (for checking and measuring a limiter). */
export function maxInAnyInterval(times: readonly number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= ms) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** Share (0-1) of the fullest window in use at `atMs` once `adding` more are admitted. */
export function utilization(
  state: Readonly<Record<number, SlotCounts>>,
  windows: readonly RateWindow[],
  atMs: number,
  adding = 0,
): number {
  let most = 0;
  for (const w of windows) most = Math.max(most, (used(state[w.windowSeconds] ?? {}, w, atMs) + adding) / w.limit);
  return Math.min(1, most);
}
