import { describe, expect, it } from 'vitest';
import {
  JITTER,
  nextRetrySeconds,
  parseRetryAfter,
  RETRY_SCHEDULE_SECONDS,
} from '../../../functions/core/webhook-retry';

describe('the retry schedule', () => {
  it('is about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up, more than a day after the first attempt', () => {
    expect([...RETRY_SCHEDULE_SECONDS]).toEqual([5, 300, 1800, 7200, 18_000, 36_000, 36_000]);
    const total = RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
    expect(total / 3600).toBeGreaterThan(27);
    expect(total / 3600).toBeLessThan(36);
    expect(nextRetrySeconds(RETRY_SCHEDULE_SECONDS.length + 1, RETRY_SCHEDULE_SECONDS, 0.5)).toBeUndefined();
  });

  it('spreads each wait by jitter, within its bounds', () => {
    const low = nextRetrySeconds(2, RETRY_SCHEDULE_SECONDS, 0) as number;
    const high = nextRetrySeconds(2, RETRY_SCHEDULE_SECONDS, 0.999) as number;
    expect(low).toBe(Math.round(300 * (1 - JITTER)));
    expect(high).toBeLessThanOrEqual(Math.round(300 * (1 + JITTER)));
    expect(high).toBeGreaterThan(low);
  });

  it('waits at least as long as a Retry-After asks, up to a limit', () => {
    expect(nextRetrySeconds(1, RETRY_SCHEDULE_SECONDS, 0.5, 120)).toBe(120);
    expect(nextRetrySeconds(1, RETRY_SCHEDULE_SECONDS, 0.5, 10 ** 9)).toBe(36_000);
    expect(nextRetrySeconds(2, RETRY_SCHEDULE_SECONDS, 0.5, 1)).toBe(300);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Sun, 29 Nov 2026 10:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
