/**
 * Capacity shares (DESIGN §2.4): bulk mail may take a provider's rate-window capacity only while
 * the window keeps more than a reserve (a share of its limit) free; critical and transactional
 * mail may use all of it.
 *
 * The rule, so the reserve never wastes capacity: a window holds its reserve back from bulk mail
 * only while critical or transactional mail was admitted through it — or asked and found it full —
 * within the window's length and a margin (`RESERVE_HOLD_MARGIN_MS`), or is admitted by the same
 * reservation. With only bulk mail around,
 * bulk may fill every window. A transactional email arriving behind a window that bulk mail filled
 * is refused once, which marks the provider: from then on bulk mail leaves the reserve free, so the
 * transactional email gets in as soon as the window has room (within one slot, 1/20 of the window).
 *
 * One reservation grants both classes at once (one conditional write): critical/transactional
 * first, then bulk from what is left above the reserve, and from the warm-up ramp, if any. Every
 * grant fits what each window has left, so the windows stay exact whatever the shares.
 */
import type { Priority } from './priority';
import { type Grant, type RateWindow, type SlotCounts, used, waitMs } from './rate-window';

/** How the rate windows treat a priority: `full` may use all of a window, `bulk` only its share. */
export type CapacityClass = 'full' | 'bulk';
export const classOf = (p: Priority): CapacityClass => (p === 'bulk' ? 'bulk' : 'full');

/** Admissions asked for, per class. */
export interface Wanted {
  readonly full: number;
  readonly bulk: number;
}

export interface ShareRule {
  /** The share (0-0.9) of each window held back from bulk mail while the reserve is active. */
  readonly bulkReserve: number;
  /** When critical or transactional mail was last admitted or refused for room (undefined: never). */
  readonly lastFullAtMs?: number | undefined;
  /** The warm-up ramp's bulk-only window and its counts (bulk admissions only). */
  readonly warmUp?: { readonly window: RateWindow; readonly counts: SlotCounts } | undefined;
}

export interface SharesGrant {
  readonly full: Grant;
  readonly bulk: Grant;
}

/** Admissions of window `w` held back from bulk mail. */
export const reserveOf = (w: RateWindow, share: number): number => Math.floor(w.limit * share);

/**
 * How much longer than its window a reserve stays held. A critical or transactional email refused
 * for room comes back after at least a second (SQS delays are whole seconds) and a receive: were the
 * reserve released after one window, bulk mail could take it just before that email returns.
 */
export const RESERVE_HOLD_MARGIN_MS = 2_000;

/** Whether `w` holds its reserve back at `atMs`, given the last critical/transactional admission. */
export const reserveActive = (w: RateWindow, lastFullAtMs: number | undefined, atMs: number): boolean =>
  lastFullAtMs !== undefined && atMs - lastFullAtMs < w.windowSeconds * 1000 + RESERVE_HOLD_MARGIN_MS;

/** How many of each class every window (and the warm-up ramp, for bulk) can take at `atMs`. */
export function grantShares(
  state: Readonly<Record<number, SlotCounts>>,
  windows: readonly RateWindow[],
  wanted: Wanted,
  atMs: number,
  rule: ShareRule,
): SharesGrant {
  const counts = (w: RateWindow) => state[w.windowSeconds] ?? {};
  const free = windows.map((w) => Math.max(0, w.limit - used(counts(w), w, atMs)));
  const full = Math.max(0, Math.min(wanted.full, ...free));
  const holds = windows.map((w) => full > 0 || reserveActive(w, rule.lastFullAtMs, atMs));
  let bulk = Math.max(0, wanted.bulk);
  windows.forEach((w, i) => {
    const reserve = holds[i] ? reserveOf(w, rule.bulkReserve) : 0;
    bulk = Math.min(bulk, Math.max(0, (free[i] as number) - full - reserve));
  });
  const ramp = rule.warmUp;
  if (ramp) bulk = Math.min(bulk, Math.max(0, ramp.window.limit - used(ramp.counts, ramp.window, atMs)));

  const fullWait = full > 0 || wanted.full <= 0 ? 0 : Math.max(0, ...windows.map((w) => waitMs(counts(w), w, atMs)));
  let bulkWait = 0;
  if (bulk === 0 && wanted.bulk > 0) {
    // Room for one bulk email above the reserve (assumed still held: it usually is when it matters).
    const waits = windows.map((w, i) =>
      waitMs(counts(w), w, atMs, 1 + (holds[i] ? reserveOf(w, rule.bulkReserve) : 0)),
    );
    if (ramp) waits.push(waitMs(ramp.counts, ramp.window, atMs));
    bulkWait = Math.max(1, ...waits);
  }
  return { full: { granted: full, retryAfterMs: fullWait }, bulk: { granted: bulk, retryAfterMs: bulkWait } };
}
