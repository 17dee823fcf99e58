/**
 * Capacity shares (DESIGN §2.4): bulk mail leaves a reserve of every provider rate window to
 * critical and transactional mail; critical and transactional mail may use all of it.
 *
 * The reserve of a window is the larger of a configured share of its limit and the critical and
 * transactional demand the window saw — what they were admitted in its length, plus a quarter —
 * so a steady stream of password resets bigger than the configured share is not starved by a
 * newsletter, and bulk mail keeps the rest. Bulk mail may take a window's capacity only while
 * its own admissions in that window stay within the limit less the reserve: what critical and
 * transactional mail already took counts toward their reserve, not against bulk's part.
 *
 * The reserve never wastes capacity: a window holds it back from bulk mail only while critical
 * or transactional mail was admitted through it — or asked and found it full — within the
 * window's length and a margin (`RESERVE_HOLD_MARGIN_MS`), or is admitted by the same
 * reservation. With only bulk mail around, bulk may fill every window. A transactional email
 * arriving behind a window that bulk mail filled is refused once, which marks the provider: from
 * then on bulk mail leaves the reserve, so the transactional email gets in as soon as the window
 * has room (within one slot, 1/20 of the window).
 *
 * One reservation grants both classes at once (one conditional write): critical/transactional
 * first, then bulk within its part, and within the warm-up ramp, if any. Every grant fits what
 * each window has left, so the windows stay exact whatever the shares.
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
  /** The share (0-0.9) of each window held back from bulk mail while the reserve is active (at least). */
  readonly bulkReserve: number;
  /** Critical/transactional admissions per window (a part of the state's counts; none when absent). */
  readonly fullCounts?: Readonly<Record<number, SlotCounts>> | undefined;
  /** When critical or transactional mail was last admitted or refused for room (undefined: never). */
  readonly lastFullAtMs?: number | undefined;
  /** The warm-up ramp's bulk-only window and its counts (bulk admissions only). */
  readonly warmUp?: { readonly window: RateWindow; readonly counts: SlotCounts } | undefined;
}

export interface SharesGrant {
  readonly full: Grant;
  readonly bulk: Grant;
}

/** Admissions of window `w` held back from bulk mail by the configured share alone. */
export const reserveOf = (w: RateWindow, share: number): number => Math.floor(w.limit * share);

/** How much more than the critical/transactional demand a window saw its reserve holds (a quarter). */
export const RESERVE_DEMAND_MARGIN = 1.25;

/**
 * The reserve of window `w`: the configured share of its limit, or more when critical and
 * transactional mail took more than that within the window (`fullUsed`, counting this reservation).
 */
export const reserveFor = (w: RateWindow, share: number, fullUsed: number): number =>
  Math.min(w.limit, Math.max(reserveOf(w, share), Math.ceil(fullUsed * RESERVE_DEMAND_MARGIN)));

/** Bulk admissions per slot: all admissions less the critical/transactional ones. */
function bulkCounts(all: SlotCounts, full: SlotCounts): SlotCounts {
  const out: Record<number, number> = {};
  for (const [k, n] of Object.entries(all)) out[Number(k)] = Math.max(0, n - (full[Number(k)] ?? 0));
  return out;
}

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
  const fullCounts = (w: RateWindow) => rule.fullCounts?.[w.windowSeconds] ?? {};
  const free = windows.map((w) => Math.max(0, w.limit - used(counts(w), w, atMs)));
  const full = Math.max(0, Math.min(wanted.full, ...free));
  const holds = windows.map((w) => full > 0 || reserveActive(w, rule.lastFullAtMs, atMs));
  // Per window: the reserve (0 when not held) and bulk's own admissions in it.
  const parts = windows.map((w, i) => {
    const fullUsed = used(fullCounts(w), w, atMs);
    const reserve = holds[i] ? reserveFor(w, rule.bulkReserve, fullUsed + full) : 0;
    const bulkUsed = Math.max(0, used(counts(w), w, atMs) - fullUsed);
    return { reserve, bulkUsed };
  });
  let bulk = Math.max(0, wanted.bulk);
  windows.forEach((w, i) => {
    const { reserve, bulkUsed } = parts[i] as { reserve: number; bulkUsed: number };
    bulk = Math.min(bulk, Math.max(0, (free[i] as number) - full), Math.max(0, w.limit - reserve - bulkUsed));
  });
  const ramp = rule.warmUp;
  if (ramp) bulk = Math.min(bulk, Math.max(0, ramp.window.limit - used(ramp.counts, ramp.window, atMs)));

  const fullWait = full > 0 || wanted.full <= 0 ? 0 : Math.max(0, ...windows.map((w) => waitMs(counts(w), w, atMs)));
  let bulkWait = 0;
  if (bulk === 0 && wanted.bulk > 0) {
    // Room for one bulk email in the window and in bulk's part (the reserve assumed to stay as it is).
    const waits = windows.flatMap((w, i) => {
      const { reserve } = parts[i] as { reserve: number };
      const part: RateWindow = { limit: Math.max(0, w.limit - reserve), windowSeconds: w.windowSeconds };
      return [waitMs(counts(w), w, atMs, 1 + full), waitMs(bulkCounts(counts(w), fullCounts(w)), part, atMs)];
    });
    if (ramp) waits.push(waitMs(ramp.counts, ramp.window, atMs));
    bulkWait = Math.max(1, ...waits);
  }
  return { full: { granted: full, retryAfterMs: fullWait }, bulk: { granted: bulk, retryAfterMs: bulkWait } };
}
