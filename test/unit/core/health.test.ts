import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  CIRCUIT,
  circuitPolicy,
  circuitView,
  openUntil,
  type ProviderHealth,
  recent,
  staleBuckets,
  tooManyErrors,
} from '../../../functions/core/health';

const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('circuitPolicy', () => {
  it("is today's production policy when nothing is overridden", () => {
    expect(circuitPolicy()).toEqual({
      windowMinutes: 5,
      minAttempts: 5,
      openAtErrorRate: 0.5,
      coolDownSeconds: 30,
      probeLeaseSeconds: 60,
      probeRecheckSeconds: 5,
      bucketMs: 10_000,
    });
    expect(circuitPolicy()).toEqual(CIRCUIT);
  });

  it('takes shorter timings over the defaults', () => {
    expect(circuitPolicy({ coolDownSeconds: 2, probeLeaseSeconds: 3 })).toEqual({
      ...CIRCUIT,
      coolDownSeconds: 2,
      probeLeaseSeconds: 3,
    });
  });

  it('refuses values that would stall or never open a circuit', () => {
    expect(() => circuitPolicy({ coolDownSeconds: 0 })).toThrow(/coolDownSeconds/);
    expect(() => circuitPolicy({ bucketMs: Number.NaN })).toThrow(/bucketMs/);
    expect(() => circuitPolicy({ openAtErrorRate: 1.5 })).toThrow(/openAtErrorRate/);
  });
});

describe('timings from the policy', () => {
  it('opens for the cool-down of the policy', () => {
    expect(openUntil(NOW)).toBe(NOW + CIRCUIT.coolDownSeconds * 1000);
    expect(openUntil(NOW, circuitPolicy({ coolDownSeconds: 2 }))).toBe(NOW + 2_000);
  });

  it('counts outcomes in buckets of the policy, over its window', () => {
    const policy = circuitPolicy({ bucketMs: 1_000, windowMinutes: 1 });
    const now = bucketOf(NOW, policy.bucketMs);
    const h: ProviderHealth = {
      state: 'closed',
      buckets: {
        [now]: { attempts: 3, errors: 3 },
        [now - 59]: { attempts: 2, errors: 2 },
        [now - 60]: { attempts: 10, errors: 0 },
      },
    };
    expect(recent(h, NOW, policy)).toEqual({ attempts: 5, errors: 5, errorRate: 1 });
    expect(tooManyErrors(h, NOW, policy)).toBe(true);
    expect(staleBuckets(h, NOW, policy)).toEqual([now - 60]);
    // With the default 10 s buckets, the same keys lie in the future: nothing counts.
    expect(recent(h, NOW).attempts).toBe(0);
  });
});

describe('circuitView', () => {
  const open = (untilMs: number): ProviderHealth => ({ state: 'open', untilMs, reason: 'down: HTTP 503', buckets: {} });

  it('shows an open circuit with its cool-down and reason', () => {
    expect(circuitView(open(NOW + 1000), NOW)).toEqual({
      circuit: 'open',
      openUntilMs: NOW + 1000,
      reason: 'down: HTTP 503',
    });
  });

  it('never shows a past openUntil: once the cool-down is over the circuit is half-open, its reason kept', () => {
    expect(circuitView(open(NOW - 60_000), NOW)).toEqual({
      circuit: 'half-open',
      openUntilMs: undefined,
      reason: 'down: HTTP 503',
    });
    expect(circuitView(open(NOW), NOW).circuit).toBe('half-open');
  });

  it('shows closed without a reason, and a provider without health as closed', () => {
    expect(circuitView({ state: 'closed', reason: 'old', buckets: {} }, NOW)).toEqual({
      circuit: 'closed',
      openUntilMs: undefined,
      reason: undefined,
    });
    expect(circuitView(undefined, NOW).circuit).toBe('closed');
    expect(circuitView({ state: 'half-open', untilMs: NOW + 5000, reason: 'x', buckets: {} }, NOW)).toEqual({
      circuit: 'half-open',
      openUntilMs: undefined,
      reason: 'x',
    });
  });
});
