/** The adaptive throttle's arithmetic: multiplicative decrease with a floor, additive recovery, a ceiling of 1. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AimdPolicy,
  decreased,
  effectiveWindows,
  factorAt,
  recoveredAt,
  type ThrottleState,
} from '../../../functions/core/aimd';
import { DEFAULTS } from '../../../functions/core/defaults';

const P: AimdPolicy = DEFAULTS.adaptiveThrottle;
const policyArb = fc.record({
  decrease: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  floor: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
  increasePerMinute: fc.double({ min: 0.001, max: 1, noNaN: true }),
  holdSeconds: fc.integer({ min: 0, max: 60 }),
});
/** A run of events: a throttle, or time passing (ms). */
const eventsArb = fc.array(fc.oneof(fc.constant('throttle' as const), fc.integer({ min: 0, max: 600_000 })), {
  maxLength: 60,
});

describe('adaptive throttle (AIMD)', () => {
  it('stays within floor..1 through any run of throttles and time (property)', () => {
    fc.assert(
      fc.property(policyArb, eventsArb, (p, events) => {
        let state: ThrottleState | undefined;
        let now = 1_000_000;
        for (const e of events) {
          if (e === 'throttle') state = decreased(state, now, p) ?? state;
          else now += e;
          const f = factorAt(state, now, p);
          expect(f).toBeGreaterThanOrEqual(p.floor - 1e-12);
          expect(f).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('a throttle multiplies the rate by `decrease` (not below the floor); throttles within the hold do not (property)', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 3_600_000 }), (p, gap) => {
        const first = decreased(undefined, 0, p) as ThrottleState;
        expect(first.factor).toBeCloseTo(Math.max(p.floor, p.decrease), 12);
        const before = factorAt(first, gap, p);
        const second = decreased(first, gap, p);
        if (gap < p.holdSeconds * 1000) expect(second).toBeUndefined();
        else expect(second?.factor).toBeCloseTo(Math.max(p.floor, before * p.decrease), 12);
      }),
    );
  });

  it('recovers additively: `increasePerMinute` of the declared rate per minute without a throttle, up to 1 (property)', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 600_000 }), (p, a, b) => {
        const s = decreased(undefined, 0, p) as ThrottleState;
        const fa = factorAt(s, a, p);
        const fb = factorAt(s, a + b, p);
        expect(fb).toBeGreaterThanOrEqual(fa);
        expect(fb - fa).toBeLessThanOrEqual((p.increasePerMinute * b) / 60_000 + 1e-9);
        const done = recoveredAt(s, p) as number;
        expect(factorAt(s, done, p)).toBe(1);
      }),
    );
  });

  it('with the defaults: halves, floors at 10 %, and is back at full rate 5 minutes after a halving', () => {
    const s = decreased(undefined, 0, P) as ThrottleState;
    expect(factorAt(s, 0, P)).toBe(0.5);
    expect(factorAt(s, 60_000, P)).toBeCloseTo(0.6, 12);
    expect(factorAt(s, 300_000, P)).toBe(1);
    let low: ThrottleState = s;
    for (let t = 0; t < 10; t++) low = decreased(low, (t + 1) * 5_000, P) ?? low;
    expect(low.factor).toBe(P.floor);
  });

  it('scales the declared windows, never above them and never below one per window', () => {
    const declared = [
      { limit: 14, windowSeconds: 1 },
      { limit: 50_000, windowSeconds: 86_400 },
    ];
    expect(effectiveWindows(declared, 0.5)).toEqual([
      { limit: 7, windowSeconds: 1 },
      { limit: 25_000, windowSeconds: 86_400 },
    ]);
    expect(effectiveWindows(declared, 1)).toEqual(declared);
    expect(effectiveWindows([{ limit: 1, windowSeconds: 1 }], 0.1)).toEqual([{ limit: 1, windowSeconds: 1 }]);
  });
});
