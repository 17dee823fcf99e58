/** The warm-up ramp: start, daily growth, the end at the declared limits. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayOf, perDayOf, rampAt, type WarmUp, warmUpWindow } from '../../../functions/core/warm-up';

const START = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const ramp: WarmUp = { startPerDay: 500, growth: 1.5, startDate: '2026-12-01' };

describe('warm-up', () => {
  it('allows startPerDay on the start date (and before it), × growth each day after', () => {
    expect(rampAt(ramp, START - DAY)).toBe(500);
    expect(rampAt(ramp, START + 3_600_000)).toBe(500);
    expect(rampAt(ramp, START + DAY)).toBe(750);
    expect(rampAt(ramp, START + 2 * DAY + 1)).toBe(1125);
    expect(dayOf(ramp, START + 10 * DAY - 1)).toBe(9);
  });

  it('never shrinks from one day to the next (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 400 }),
        (startPerDay, growth, day) => {
          const w = { startPerDay, growth, startDate: '2026-12-01' };
          expect(rampAt(w, START + (day + 1) * DAY)).toBeGreaterThanOrEqual(rampAt(w, START + day * DAY));
        },
      ),
    );
  });

  it('adds a rolling-day window for bulk mail until the ramp reaches the declared limits', () => {
    const declared = [{ limit: 50_000, windowSeconds: 86_400 }];
    expect(perDayOf(declared)).toBe(50_000);
    expect(warmUpWindow(ramp, declared, START)).toEqual({ limit: 500, windowSeconds: 86_400 });
    // 500 × 1.5^12 ≈ 64,873 > 50,000: warmed up.
    expect(warmUpWindow(ramp, declared, START + 12 * DAY)).toBeUndefined();
    expect(warmUpWindow(undefined, declared, START)).toBeUndefined();
    // Without declared limits the ramp keeps applying.
    expect(warmUpWindow(ramp, [], START + 12 * DAY)?.limit).toBe(Math.floor(500 * 1.5 ** 12));
  });
});
