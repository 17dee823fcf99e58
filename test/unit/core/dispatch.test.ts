import { describe, expect, it } from 'vitest';
import { claimConflict } from '../../../functions/core/claim';
import { BACKOFF, backoffSeconds, decide } from '../../../functions/core/dispatch';

describe('decide', () => {
  const r = () => 0.5;
  it('maps acceptance to sent', () => {
    expect(decide({ kind: 'accepted', providerMessageId: 'p' }, 1, 5, r)).toEqual({
      kind: 'sent',
      providerMessageId: 'p',
    });
  });

  it('never retries a refused message', () => {
    expect(decide({ kind: 'rejected', reason: 'MessageRejected' }, 1, 5, r).kind).toBe('rejected');
  });

  it.each(['throttled', 'down', 'broken'] as const)('retries %s with a delay until the last receive', (kind) => {
    const first = decide({ kind, reason: 'x' }, 1, 5, r);
    expect(first.kind).toBe('retry');
    const last = decide({ kind, reason: 'x' }, 5, 5, r);
    expect(last).toEqual({ kind: 'failed', reason: `retries exhausted (${kind}: x)` });
  });

  it('treats an ambiguous outcome by the at-most-once policy, never as a retry', () => {
    expect(decide({ kind: 'ambiguous', reason: 'socket hang up' }, 1, 5, r)).toEqual({
      kind: 'ambiguous',
      reason: 'socket hang up',
    });
  });

  it('waits at least as long as a throttling provider asks', () => {
    const a = decide({ kind: 'throttled', reason: 'x', retryAfterSeconds: 120 }, 1, 5, () => 0);
    expect(a).toMatchObject({ kind: 'retry', delaySeconds: 120 });
  });
});

describe('backoffSeconds', () => {
  it('grows exponentially with jitter and stays within bounds', () => {
    expect(backoffSeconds(1, () => 0)).toBe(BACKOFF.baseSeconds);
    expect(backoffSeconds(3, () => 1)).toBe(BACKOFF.baseSeconds * 4);
    expect(backoffSeconds(30, () => 1)).toBe(BACKOFF.maxSeconds);
    for (let i = 0; i < 100; i++) {
      const s = backoffSeconds(4, Math.random);
      expect(s).toBeGreaterThanOrEqual(BACKOFF.baseSeconds);
      expect(s).toBeLessThanOrEqual(BACKOFF.baseSeconds * 8);
    }
  });
});

describe('claimConflict', () => {
  const lease = 60_000;
  it('acknowledges a duplicate delivery of a finished message', () => {
    expect(claimConflict({ status: 'sent' }, 0, lease)).toEqual({ kind: 'duplicate', status: 'sent' });
    expect(claimConflict({ status: 'suppressed' }, 0, lease).kind).toBe('duplicate');
  });

  it('waits for a live claim held by another dispatcher', () => {
    expect(claimConflict({ status: 'sending', claimedAt: 1_000 }, 11_000, lease)).toEqual({
      kind: 'in-flight',
      retryInSeconds: 50,
    });
  });

  it('calls a claim past its lease stale (the dispatcher stopped mid-send)', () => {
    expect(claimConflict({ status: 'sending', claimedAt: 1_000 }, 61_001, lease)).toEqual({ kind: 'stale' });
  });

  it('reports a message without a record as missing', () => {
    expect(claimConflict(undefined, 0, lease)).toEqual({ kind: 'missing' });
  });
});
