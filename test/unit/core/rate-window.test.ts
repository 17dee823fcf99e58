import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  grant,
  maxInAnyInterval,
  type RateWindow,
  SLOTS,
  type SlotCounts,
  slotOf,
  used,
  waitMs,
} from '../../../functions/core/rate-window';

/** Replays reservations with the pure math and returns every admission time. */
function simulate(windows: readonly RateWindow[], attempts: readonly { at: number; wanted: number }[]): number[] {
  const state: Record<number, Record<number, number>> = {};
  const admitted: number[] = [];
  for (const a of attempts) {
    const g = grant(state, windows, a.wanted, a.at);
    for (const w of windows) {
      const counts = state[w.windowSeconds] ?? {};
      state[w.windowSeconds] = counts;
      const slot = slotOf(w, a.at);
      counts[slot] = (counts[slot] ?? 0) + g.granted;
    }
    for (let i = 0; i < g.granted; i++) admitted.push(a.at);
  }
  return admitted;
}

describe('rate windows', () => {
  it('never lets any interval of the window length hold more than the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 900 }), wanted: fc.integer({ min: 1, max: 12 }) }), {
          maxLength: 300,
        }),
        (limit, windowSeconds, steps) => {
          const w = { limit, windowSeconds };
          let t = 1_700_000_000_000;
          const attempts = steps.map((s) => {
            t += s.gap;
            return { at: t, wanted: s.wanted };
          });
          const admitted = simulate([w], attempts);
          expect(maxInAnyInterval(admitted, windowSeconds * 1000)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds every window of a provider at once (14/s and 50/10 s)', () => {
    const windows = [
      { limit: 14, windowSeconds: 1 },
      { limit: 50, windowSeconds: 10 },
    ];
    const attempts = Array.from({ length: 2000 }, (_, i) => ({ at: 1_000_000 + i * 13, wanted: 10 }));
    const admitted = simulate(windows, attempts);
    expect(maxInAnyInterval(admitted, 1000)).toBeLessThanOrEqual(14);
    expect(maxInAnyInterval(admitted, 10_000)).toBeLessThanOrEqual(50);
  });

  it('uses about SLOTS/(SLOTS+1) of the limit under a steady backlog', () => {
    const w = { limit: 100, windowSeconds: 10 };
    const attempts = Array.from({ length: 6000 }, (_, i) => ({ at: i * 10, wanted: 10 }));
    const admitted = simulate([w], attempts);
    const perWindow = admitted.length / 6; // 60 s of backlog
    expect(perWindow / w.limit).toBeGreaterThanOrEqual(SLOTS / (SLOTS + 1) - 0.02);
    expect(perWindow).toBeLessThanOrEqual(w.limit);
  });

  it('says how long until a full window has room', () => {
    const w = { limit: 2, windowSeconds: 20 }; // slots of 1 s
    const counts: SlotCounts = { 5: 2 };
    expect(used(counts, w, 5_500)).toBe(2);
    expect(waitMs(counts, w, 5_500)).toBe(26_000 - 5_500); // slot 5 stops counting at slot 26
    expect(grant({ 20: counts }, [w], 1, 5_500)).toEqual({ granted: 0, retryAfterMs: 20_500 });
    expect(grant({ 20: counts }, [w], 3, 26_000)).toEqual({ granted: 2, retryAfterMs: 0 });
  });
});
