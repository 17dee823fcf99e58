/** The capacity shares: exact windows, the reserve bulk mail leaves, and no waste with only bulk around. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxInAnyInterval, type RateWindow, SLOTS, slotOf } from '../../../functions/core/rate-window';
import {
  classOf,
  grantShares,
  RESERVE_HOLD_MARGIN_MS,
  reserveFor,
  reserveOf,
  type Wanted,
} from '../../../functions/core/shares';

interface Attempt {
  readonly at: number;
  readonly full: number;
  readonly bulk: number;
}

/** Replays reservations with the pure math; every admission time, per class. */
function simulate(windows: readonly RateWindow[], attempts: readonly Attempt[], bulkReserve: number) {
  const state: Record<number, Record<number, number>> = {};
  const fullCounts: Record<number, Record<number, number>> = {};
  const full: number[] = [];
  const bulk: number[] = [];
  let lastFullAtMs: number | undefined;
  for (const a of [...attempts].sort((x, y) => x.at - y.at)) {
    const g = grantShares(state, windows, { full: a.full, bulk: a.bulk }, a.at, {
      bulkReserve,
      lastFullAtMs,
      fullCounts,
    });
    const total = g.full.granted + g.bulk.granted;
    const count = (into: Record<number, Record<number, number>>, w: RateWindow, n: number) => {
      const counts = into[w.windowSeconds] ?? {};
      into[w.windowSeconds] = counts;
      const slot = slotOf(w, a.at);
      counts[slot] = (counts[slot] ?? 0) + n;
    };
    for (const w of windows) {
      count(state, w, total);
      if (g.full.granted > 0) count(fullCounts, w, g.full.granted);
    }
    for (let i = 0; i < g.full.granted; i++) full.push(a.at);
    for (let i = 0; i < g.bulk.granted; i++) bulk.push(a.at);
    if (g.full.granted > 0) lastFullAtMs = a.at;
  }
  return { full, bulk, all: [...full, ...bulk] };
}

const windowsArb = fc.uniqueArray(
  fc.record({ limit: fc.integer({ min: 1, max: 40 }), windowSeconds: fc.integer({ min: 1, max: 10 }) }),
  { minLength: 1, maxLength: 3, selector: (w) => w.windowSeconds },
);
const attemptsArb = fc.array(
  fc.record({
    at: fc.integer({ min: 0, max: 30_000 }),
    full: fc.integer({ min: 0, max: 12 }),
    bulk: fc.integer({ min: 0, max: 12 }),
  }),
  { maxLength: 150 },
);
const reserveArb = fc.integer({ min: 0, max: 90 }).map((p) => p / 100);

describe('grantShares', () => {
  it('never over-admits any window, whatever the mix of classes and the reserve (property)', () => {
    fc.assert(
      fc.property(windowsArb, attemptsArb, reserveArb, (windows, attempts, reserve) => {
        const { all } = simulate(windows, attempts, reserve);
        for (const w of windows) expect(maxInAnyInterval(all, w.windowSeconds * 1000)).toBeLessThanOrEqual(w.limit);
      }),
    );
  });

  it('grants critical/transactional mail whatever a window has left, before bulk mail (property)', () => {
    fc.assert(
      fc.property(windowsArb, fc.integer({ min: 0, max: 10_000 }), reserveArb, (windows, at, reserve) => {
        const wanted: Wanted = { full: 1_000, bulk: 1_000 };
        const g = grantShares({}, windows, wanted, at, { bulkReserve: reserve });
        // An empty window: full mail takes all of the tightest one, bulk nothing is left for.
        expect(g.full.granted).toBe(Math.min(...windows.map((w) => w.limit)));
        expect(g.bulk.granted).toBe(0);
      }),
    );
  });

  it('leaves the reserve free of bulk mail while critical/transactional mail was admitted within the window (property)', () => {
    fc.assert(
      fc.property(
        windowsArb,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 1_000 }),
        reserveArb,
        fc.integer({ min: 0, max: 999 }),
        (windows, usedBefore, wantedBulk, reserve, sinceFull) => {
          const at = 100_000;
          // Some admissions already in every window (one slot), the last full-class one `sinceFull` ms ago.
          const state: Record<number, Record<number, number>> = {};
          for (const w of windows) state[w.windowSeconds] = { [slotOf(w, at)]: Math.min(usedBefore, w.limit) };
          const g = grantShares(state, windows, { full: 0, bulk: wantedBulk }, at, {
            bulkReserve: reserve,
            lastFullAtMs: at - sinceFull,
          });
          for (const w of windows) {
            const free = w.limit - Math.min(usedBefore, w.limit);
            // Every window is at least 1 s long, so a full-class admission under 1 s ago holds every reserve.
            expect(free - g.bulk.granted).toBeGreaterThanOrEqual(Math.min(free, reserveOf(w, reserve)));
          }
          if (g.bulk.granted === 0) expect(g.bulk.retryAfterMs).toBeGreaterThan(0);
        },
      ),
    );
  });

  it('wastes nothing with only bulk mail around: a steady bulk backlog gets what the windows alone allow (property)', () => {
    fc.assert(
      fc.property(windowsArb, reserveArb, (windows, reserve) => {
        const tight = windows.reduce((a, b) => (a.limit / a.windowSeconds <= b.limit / b.windowSeconds ? a : b));
        const step = (tight.windowSeconds * 1000) / SLOTS;
        const horizon = Math.max(...windows.map((w) => w.windowSeconds)) * 1000 * 3;
        const attempts: Attempt[] = [];
        for (let t = 0; t < horizon; t += step) attempts.push({ at: t, full: 0, bulk: 10_000 });
        const withReserve = simulate(windows, attempts, reserve).bulk.length;
        const without = simulate(windows, attempts, 0).bulk.length;
        expect(withReserve).toBe(without);
      }),
      { numRuns: 25 },
    );
  });

  it('holds the reserve for one window length and the margin after a critical/transactional admission, then lets bulk fill it', () => {
    const w: RateWindow = { limit: 10, windowSeconds: 1 };
    // Transactional mail took 2 at t=0, toward the reserve of 3: bulk may take 10 - 3 = 7 (1 stays free).
    const first = grantShares({}, [w], { full: 2, bulk: 100 }, 0, { bulkReserve: 0.3 });
    expect(first).toEqual({ full: { granted: 2, retryAfterMs: 0 }, bulk: { granted: 7, retryAfterMs: 0 } });
    // 5 bulk and 2 transactional earlier: bulk may take 2 more, then the reserve's last one is left.
    const state = { 1: { 0: 7 } };
    const fullCounts = { 1: { 0: 2 } };
    const rule = { bulkReserve: 0.3, lastFullAtMs: 0, fullCounts };
    expect(grantShares(state, [w], { full: 0, bulk: 100 }, 500, rule).bulk.granted).toBe(2);
    // Within the window the reserve still holds: with 7 bulk in, nothing more for bulk.
    const held = grantShares({ 1: { 0: 9 } }, [w], { full: 0, bulk: 100 }, 500, rule);
    expect(held.bulk.granted).toBe(0);
    expect(held.bulk.retryAfterMs).toBeGreaterThan(0);
    // Transactional mail can still take what is left.
    expect(grantShares({ 1: { 0: 9 } }, [w], { full: 5, bulk: 0 }, 500, rule).full.granted).toBe(1);
    // A window later the reserve still holds, for a refused email coming back after SQS's shortest delay.
    const returning = grantShares({}, [w], { full: 0, bulk: 100 }, 1_000, { bulkReserve: 0.3, lastFullAtMs: 0 });
    expect(returning.bulk.granted).toBe(7);
    // A window and the margin later, with no critical/transactional mail since, bulk may take everything.
    const later = grantShares({}, [w], { full: 0, bulk: 100 }, 1_000 + RESERVE_HOLD_MARGIN_MS, {
      bulkReserve: 0.3,
      lastFullAtMs: 0,
    });
    expect(later.bulk.granted).toBe(10);
  });

  it('keeps bulk mail within the warm-up ramp, counting only bulk admissions against it', () => {
    const w: RateWindow = { limit: 100, windowSeconds: 1 };
    const ramp: RateWindow = { limit: 500, windowSeconds: 86_400 };
    const counts = { [slotOf(ramp, 0)]: 497 };
    const g = grantShares({}, [w], { full: 0, bulk: 50 }, 0, { bulkReserve: 0.3, warmUp: { window: ramp, counts } });
    expect(g.bulk.granted).toBe(3);
    const over = grantShares({}, [w], { full: 0, bulk: 50 }, 0, {
      bulkReserve: 0.3,
      warmUp: { window: ramp, counts: { [slotOf(ramp, 0)]: 500 } },
    });
    expect(over.bulk.granted).toBe(0);
    // Deferred until the ramp's oldest slot leaves the rolling day, never dropped.
    expect(over.bulk.retryAfterMs).toBeGreaterThan(86_400_000 - 86_400_000 / SLOTS);
    // Transactional mail ignores the ramp.
    expect(
      grantShares({}, [w], { full: 50, bulk: 0 }, 0, {
        bulkReserve: 0.3,
        warmUp: { window: ramp, counts: { [slotOf(ramp, 0)]: 500 } },
      }).full.granted,
    ).toBe(50);
  });

  it('grows the reserve with the critical/transactional demand the window saw, and a quarter more', () => {
    const w: RateWindow = { limit: 50, windowSeconds: 1 };
    const at = 10_000;
    const slot = slotOf(w, at);
    // 20 transactional and 10 bulk in the window: the reserve is 25, not 15, so bulk may take 15 more.
    const rule = { bulkReserve: 0.3, lastFullAtMs: at - 10, fullCounts: { 1: { [slot]: 20 } } };
    expect(reserveFor(w, 0.3, 20)).toBe(25);
    expect(grantShares({ 1: { [slot]: 30 } }, [w], { full: 0, bulk: 100 }, at, rule).bulk.granted).toBe(15);
    // Below the configured share, the share holds: 4 transactional keep 15 from bulk.
    const few = { ...rule, fullCounts: { 1: { [slot]: 4 } } };
    expect(grantShares({ 1: { [slot]: 4 } }, [w], { full: 0, bulk: 100 }, at, few).bulk.granted).toBe(35);
    // Never more than the window.
    expect(reserveFor(w, 0.3, 45)).toBe(50);
  });

  it('never starves a steady transactional stream above the configured share, and bulk keeps the rest', () => {
    // 20 transactional a second of a 50-a-second limit (the 30 % share is 15), a bulk backlog polling every 25 ms.
    const w: RateWindow = { limit: 50, windowSeconds: 1 };
    const attempts: Attempt[] = [];
    for (let t = 0; t < 10_000; t += 25) attempts.push({ at: t, full: t % 50 === 0 ? 1 : 0, bulk: 10 });
    const { full, bulk, all } = simulate([w], attempts, 0.3);
    // Once the first windows have sized the reserve, every transactional email is granted when it asks.
    const asked = attempts.filter((a) => a.full > 0 && a.at >= 3_000).length;
    expect(full.filter((t) => t >= 3_000)).toHaveLength(asked);
    // Bulk gets what the transactional stream and the reserve's quarter leave: over 40 % of the limit.
    expect(bulk.filter((t) => t >= 3_000).length / 7 / w.limit).toBeGreaterThan(0.4);
    expect(maxInAnyInterval(all, 1_000)).toBeLessThanOrEqual(w.limit);
  });

  it('maps priorities to classes: only bulk is held to its share', () => {
    expect([classOf('critical'), classOf('transactional'), classOf('bulk')]).toEqual(['full', 'full', 'bulk']);
  });
});
